import type { Options } from '../../lib';
import { resolveOptions } from '../../lib/config/resolve';
import { createResources } from '../../lib/config/resources';
import { MemoryStore } from '../../lib/stores';
import { createTokenService } from '../../lib/tokens/service';
import { manualClock, SECRET } from '../helpers/app';

/** A user of the unit tests' user table. */
export interface UnitUser {
  id: string;
  active: boolean;
  changedAt: number | null;
}

/**
 * The token layer alone (codec, issuer, session manager on a MemoryStore, verifier), on a clock the test moves,
 * with a user table the test edits. No HTTP.
 */
export function makeFlow(options: Partial<Options<UnitUser>> = {}) {
  const clock = manualClock();
  const users = new Map<string, UnitUser>([['1', { id: '1', active: true, changedAt: null }]]);
  const store = new MemoryStore();
  const config = createResources(resolveOptions<UnitUser>({
    secret: SECRET,
    warnings: false,
    loginThrottle: false,
    logger: { warn: () => undefined, error: () => undefined },
    clock: clock.now,
    store,
    findUserById: (id) => users.get(id) ?? null,
    isUserActive: (user) => user.active,
    ...options,
  }));
  const layer = createTokenService(config);
  /** Releases what createResources() made (the store's timer, a password pool). */
  async function close(): Promise<void> {
    await store.close();
    if (config.ownsHashingPool) await config.hashingPool.close();
  }
  return { ...layer, clock, users, store, config, close };
}

/** A fake request, enough for the session manager (client address and user agent). */
export const REQ = { headers: { 'user-agent': 'jest' }, ip: '127.0.0.1' } as never;

/** Runs `fn` and returns what it threw (or the rejection), for asserting on error bodies. */
export async function failure(fn: () => unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  try {
    await fn();
  } catch (err) {
    return err as { status: number; body: Record<string, unknown> };
  }
  throw new Error('expected a failure');
}
