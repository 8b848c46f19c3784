/**
 * `express-simplejwt/testing`: the store contract's conformance suite, for authors of custom token stores.
 *
 * @example
 * import { runStoreConformance } from 'express-simplejwt/testing';
 * runStoreConformance('MyStore', { describe, it, beforeEach, afterEach }, () => ({ store: new MyStore() }));
 */
export * from './conformance';
