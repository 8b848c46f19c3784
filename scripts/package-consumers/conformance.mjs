// The shipped conformance suite, run with node:test against the shipped MemoryStore, as a custom store's author would.
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MemoryStore } from 'express-simplejwt';
import { runStoreConformance } from 'express-simplejwt/testing';

runStoreConformance('MemoryStore', { describe, it, beforeEach, afterEach }, (clock) => ({
  store: new MemoryStore({ clock, purgeIntervalSeconds: 0 }),
}));
