import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MemoryStore } from '../../lib/stores';
import { assertStore } from '../../lib/stores/types';
import { accessAt, login, loginRecord, newJti, presentedOf, runStoreConformance, T0 } from '../../lib/testing/conformance';

runStoreConformance('MemoryStore', { describe, it, beforeEach, afterEach }, (clock) => ({
  store: new MemoryStore({ clock, purgeIntervalSeconds: 0 }),
}));

/** Blacklists a fresh jti until `until` (a logout of a token the store does not know). */
function blacklist(store: MemoryStore, until: number): string {
  const jti = newJti();
  store.revokeToken({ jti, userId: '1', type: 'refresh', issuedAt: T0, expiresAt: until });
  return jti;
}

function isRevoked(store: MemoryStore, jti: string): boolean {
  return store.isRevoked({ now: T0, jti, userId: '1', issuedAt: T0, mustBeKnown: false });
}

describe('MemoryStore', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('passes the runtime store check and answers synchronously', () => {
    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    expect(() => assertStore(store)).not.toThrow();
    const jti = blacklist(store, T0 + 60);
    expect(isRevoked(store, jti)).toBe(true);
  });

  it('purges on its timer, reading the injected clock', async () => {
    jest.useFakeTimers();
    let now = T0 * 1000;
    const store = new MemoryStore({ clock: () => now, purgeIntervalSeconds: 60 });
    const jti = blacklist(store, T0 + 90);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(isRevoked(store, jti)).toBe(true);
    now = (T0 + 90) * 1000;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(isRevoked(store, jti)).toBe(false);
    await store.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('starts no timer when purgeIntervalSeconds is 0', () => {
    jest.useFakeTimers();
    new MemoryStore({ purgeIntervalSeconds: 0 });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never keeps the process alive', () => {
    const script = `const { MemoryStore } = require(${JSON.stringify(join(__dirname, '../../lib/stores/memory.ts'))});
      new MemoryStore({ purgeIntervalSeconds: 1 }).revokeToken({ jti: 'a', userId: '1', type: 'refresh', issuedAt: 0, expiresAt: 1 });`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect(child.error).toBeUndefined();
    expect(child.status).toBe(0);
  });

  it.each([
    [{ purgeIntervalSeconds: -1 }, 'MemoryStore: "purgeIntervalSeconds" must be a number of seconds >= 0 (0 turns purging off)'],
    [{ purgeIntervalSeconds: Number.NaN }, 'MemoryStore: "purgeIntervalSeconds" must be a number of seconds >= 0 (0 turns purging off)'],
    [{ clock: 5 as unknown as () => number }, 'MemoryStore: "clock" must be a function returning milliseconds, such as Date.now'],
    [{ maxRecords: 0 }, 'MemoryStore: "maxRecords" must be a whole number >= 1 (or Infinity)'],
  ])('rejects bad options %p with a TypeError saying how to fix them', (options, message) => {
    expect(() => new MemoryStore(options)).toThrow(TypeError);
    expect(() => new MemoryStore(options)).toThrow(message);
  });

  it('warns near its cap, refuses past it without evicting a revocation, and takes events again after a purge', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const store = new MemoryStore({ purgeIntervalSeconds: 0, maxRecords: 10 });
      const loggedOut = loginRecord({ expiresAt: T0 + 60, sessionExpiresAt: T0 + 60 });
      store.startSession(login(loggedOut));
      store.revokeToken(presentedOf(loggedOut));
      for (let i = 0; i < 3; i += 1) store.startSession(login(loginRecord({ issuedAt: T0 + 1 }), { access: accessAt(T0 + 1) }));
      expect(store.size).toBe(9);
      expect(warn.mock.calls.map(([, options]) => (options as { code?: string }).code)).toEqual(['SJWT_MEMORY_STORE_NEAR_CAP']);
      expect(() => store.startSession(login(loginRecord({ issuedAt: T0 + 2 })))).toThrow('MemoryStore is full (9 of maxRecords 10 entries)');
      expect(store.size).toBe(9);
      expect(isRevoked(store, loggedOut.jti)).toBe(true);
      store.purgeExpired(T0 + 400);
      expect(store.startSession(login(loginRecord({ issuedAt: T0 + 400 })))).toEqual({ status: 'ok', ended: [] });
    } finally {
      warn.mockRestore();
    }
  });
});
