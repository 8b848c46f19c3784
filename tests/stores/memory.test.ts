import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MemoryStore } from '../../lib/stores';
import { assertStore } from '../../lib/stores/types';
import { newJti, runStoreConformance, T0 } from './conformance';

runStoreConformance('MemoryStore', (clock) => ({ store: new MemoryStore({ clock, purgeIntervalSeconds: 0 }) }));

describe('MemoryStore', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('passes the runtime store check and answers synchronously', () => {
    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    expect(() => assertStore(store)).not.toThrow();
    store.revoke('a', T0 + 60);
    expect(store.isRevoked('a', '1', T0)).toBe(true);
  });

  it('purges on its timer, reading the injected clock', async () => {
    jest.useFakeTimers();
    let now = T0 * 1000;
    const store = new MemoryStore({ clock: () => now, purgeIntervalSeconds: 60 });
    const jti = newJti();
    store.revoke(jti, T0 + 90);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(store.isRevoked(jti, '1', T0)).toBe(true);
    now = (T0 + 90) * 1000;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(store.isRevoked(jti, '1', T0)).toBe(false);
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
      new MemoryStore({ purgeIntervalSeconds: 1 }).revoke('a', 1);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect(child.error).toBeUndefined();
    expect(child.status).toBe(0);
  });

  it.each([
    [{ purgeIntervalSeconds: -1 }, 'MemoryStore: "purgeIntervalSeconds" must be a number of seconds >= 0 (0 turns purging off)'],
    [{ purgeIntervalSeconds: Number.NaN }, 'MemoryStore: "purgeIntervalSeconds" must be a number of seconds >= 0 (0 turns purging off)'],
    [{ clock: 5 as unknown as () => number }, 'MemoryStore: "clock" must be a function returning milliseconds, such as Date.now'],
  ])('rejects bad options %p with a TypeError saying how to fix them', (options, message) => {
    expect(() => new MemoryStore(options)).toThrow(TypeError);
    expect(() => new MemoryStore(options)).toThrow(message);
  });
});
