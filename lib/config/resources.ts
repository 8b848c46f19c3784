import { announceHashingPool, createHashingPool, sharedHashingPool, type BcryptCompare, type HashingPool } from '../passwords/pool';
import { MemoryStore } from '../stores/memory';
import type { TokenStore } from '../stores/types';
import type { Config, ResolvedOptions } from './resolve';

/** What the kit holds while it runs; made by `createResources()` when `simpleJwt()` starts, released by `close()`. */
export interface Resources {
  /** The `store` option, or a MemoryStore (with its purge timer) made for this kit. */
  store: TokenStore;
  /** bcrypt comparisons: the shared worker pool, a custom one, or the main thread. */
  bcryptCompare: BcryptCompare;
  /** The pool behind `bcryptCompare` (its capacity is checked before the login limiter). */
  hashingPool: HashingPool;
  /** Whether this kit made `hashingPool` (and `close()` stops it); the process-wide shared pool is never stopped. */
  ownsHashingPool: boolean;
}

/** Makes the store and the password pool the resolved options ask for, and returns the complete `Config`. */
export function createResources<U>(resolved: ResolvedOptions<U>): Config<U> {
  const { givenStore, passwordHashing, ...settings } = resolved;
  const hashingPool =
    passwordHashing === undefined
      ? sharedHashingPool()
      : createHashingPool(passwordHashing === false ? { threads: 0, maxPending: Number.MAX_SAFE_INTEGER } : passwordHashing);
  announceHashingPool(hashingPool, settings.logger);
  return {
    ...settings,
    store: givenStore ?? new MemoryStore({ clock: settings.clock }),
    bcryptCompare: hashingPool.compare,
    hashingPool,
    ownsHashingPool: passwordHashing !== undefined,
  };
}
