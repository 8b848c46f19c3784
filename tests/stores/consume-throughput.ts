/**
 * Rough consume() throughput of each store (one process, tokens recorded first, each consumed once):
 *   node --import tsx tests/stores/consume-throughput.ts [count]
 * Starts its own redis-server through the test harness. Numbers are for comparing stores, not a benchmark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { MemoryStore, RedisStore, SqliteStore } from '../../lib/stores';
import type { TokenStore } from '../../lib/stores/types';
import { refreshRecord, successorOf, T0 } from './conformance';
import { startRedisServer } from './redis-server';

const count = Number(process.argv[2] ?? 20_000);

async function measure(name: string, store: TokenStore, parallel: number): Promise<void> {
  const logins = Array.from({ length: count }, () => refreshRecord());
  const successors = logins.map((login) => successorOf(login, T0 + 1));
  for (const login of logins) await store.record(login);
  const started = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < logins.length) {
        const i = next++;
        const result = await store.consume(logins[i]!.jti, T0 + 1, successors[i]!);
        if (result.status !== 'ok') throw new Error(`unexpected ${result.status}`);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`${name.padEnd(34)} ${Math.round(count / seconds).toLocaleString('en-US').padStart(9)} consume/s`);
  await store.close?.();
}

async function main(): Promise<void> {
  await measure('MemoryStore', new MemoryStore({ purgeIntervalSeconds: 0 }), 1);
  const dir = mkdtempSync(join(tmpdir(), 'sjwt-bench-'));
  try {
    await measure('SqliteStore (WAL file)', new SqliteStore(join(dir, 'tokens.sqlite3'), { purgeIntervalSeconds: 0 }), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const server = await startRedisServer();
  const client = new Redis({ host: server.host, port: server.port });
  try {
    const options = { clock: () => T0 * 1000, purgeIntervalSeconds: 0 };
    await measure('RedisStore (ioredis, sequential)', new RedisStore(client, { ...options, prefix: 'a:' }), 1);
    await measure('RedisStore (ioredis, 32 in flight)', new RedisStore(client, { ...options, prefix: 'b:' }), 32);
  } finally {
    client.disconnect();
    await server.stop();
  }
}

void main();
