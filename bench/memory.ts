/**
 * Memory of the token stores, one store per process (run by bench/run.ts, or alone):
 *   node --expose-gc --import tsx bench/memory.ts memory 1000000
 *   node --expose-gc --import tsx bench/memory.ts sqlite 100000
 *   BENCH_REDIS_URL=redis://127.0.0.1:6379 node --expose-gc --import tsx bench/memory.ts redis 100000
 * Prints one JSON line: revoked count, heap bytes per revoked token, and the process's RSS before and after.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore } from '../lib/stores/memory';
import { SqliteStore } from '../lib/stores/sqlite';
import { RedisStore } from '../lib/stores/redis';
import type { TokenStore } from '../lib/stores/types';

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const kind = process.argv[2] ?? 'memory';
  const count = Number(process.argv[3] ?? 1_000_000);
  const now = Math.floor(Date.now() / 1000);
  let store: TokenStore;
  let done = async () => {};
  // Room for every revocation (the default cap, 1M records, would refuse the last ones).
  if (kind === 'memory') store = new MemoryStore({ purgeIntervalSeconds: 0, maxRecords: count * 3 });
  else if (kind === 'sqlite') store = new SqliteStore(path.join(mkdtempSync(path.join(os.tmpdir(), 'sjwt-mem-')), 't.sqlite3'), { purgeIntervalSeconds: 0 });
  else {
    const { default: Redis } = await import('ioredis');
    const client = new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
    store = new RedisStore(client, { purgeIntervalSeconds: 0, prefix: `mem-${process.pid}:` });
    done = async () => client.disconnect();
  }
  gc();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i += 1) {
    const jti = randomBytes(16).toString('hex');
    const result = store.revokeToken({ jti, userId: String(i % 10_000), type: 'refresh', issuedAt: now, expiresAt: now + 300 + (i % 86_400) });
    if (result instanceof Promise) pending.push(result);
    if (pending.length >= 1000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  console.log(JSON.stringify({ kind, count, bytesPerToken: (heapUsed - heapBefore) / count, rssBefore, rssAfter: rss }));
  await store.close?.();
  await done();
}

main().catch((err: unknown) => {
  console.error(`memory: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
