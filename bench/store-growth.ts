/**
 * Per-operation cost of each token store as it grows: the same isRevoked (the authenticate() hot path with
 * access-token revocation) and rotate (refresh with rotation) measured with 1k and with 100k live sessions in the
 * store, sequentially, on distinct tokens. Starts its own redis-server, 3-master Redis Cluster and PostgreSQL
 * (ports from SJWT_CLUSTER_PORTS and SJWT_PG_PORTS). `npm run bench` runs it and reports its rows; `--json`
 * prints them as one JSON line at the end (an array of `GrowthRow`).
 *   node --import tsx bench/store-growth.ts [small] [large] [samples] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { Cluster } from 'ioredis';
import { MemoryStore, PostgresStore, RedisStore, SqliteStore, type TokenStore } from '../lib';
import { login, loginRecord, rotation, T0 } from '../lib/testing/conformance';
import { startPostgres } from '../tests/helpers/postgres';
import { startRedisCluster } from '../tests/helpers/redis-cluster';
import { startRedisServer } from '../tests/stores/redis-server';

const JSON_OUT = process.argv.includes('--json');
const [smallArg, largeArg, samplesArg] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const SMALL = Number(smallArg ?? 1_000);
const LARGE = Number(largeArg ?? 100_000);
const SAMPLES = Number(samplesArg ?? 2_000);

/** One store's figures: median and 95th percentile µs per call at each size. */
export interface GrowthRow {
  store: string;
  sizes: { sessions: number; isRevoked: { p50: number; p95: number }; rotate: { p50: number; p95: number } }[];
}
const rows: GrowthRow[] = [];

/** Adds sessions of distinct users (10 sessions per user) until the store holds `total`. */
async function fill(store: TokenStore, from: number, total: number): Promise<void> {
  const inFlight: Promise<unknown>[] = [];
  for (let i = from; i < total; i += 1) {
    inFlight.push(Promise.resolve(store.startSession(login(loginRecord({ userId: `u${Math.floor(i / 10)}`, issuedAt: T0 })))));
    if (inFlight.length >= 64) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
}

/** Median and 95th percentile of `samples` sequential calls, in microseconds. */
async function measure(op: (i: number) => unknown): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const started = process.hrtime.bigint();
    await op(i);
    times.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p95: times[Math.floor(times.length * 0.95)]! };
}

async function row(name: string, store: TokenStore): Promise<void> {
  const figures: string[] = [];
  const sizes: GrowthRow['sizes'] = [];
  // Warm-up on sessions of their own, so the first size does not also pay for compiling the store's code.
  const warm = Array.from({ length: Math.min(SAMPLES, 500) }, (_, i) => loginRecord({ userId: `warm-${i}`, issuedAt: T0 }));
  for (const s of warm) await store.startSession(login(s));
  for (const s of warm) await store.isRevoked({ now: T0 + 1, jti: s.jti, userId: s.userId, issuedAt: T0, mustBeKnown: true });
  for (const s of warm) await store.rotate(rotation(s, T0 + 1));
  let filled = 0;
  for (const size of [SMALL, LARGE]) {
    await fill(store, filled, size);
    filled = size;
    const sessions = Array.from({ length: SAMPLES }, (_, i) => loginRecord({ userId: `probe${size}-${i}`, issuedAt: T0 }));
    for (const s of sessions) await store.startSession(login(s));
    const revoked = await measure((i) => store.isRevoked({ now: T0 + 1, jti: sessions[i]!.jti, userId: sessions[i]!.userId, issuedAt: T0, mustBeKnown: true }));
    const rotated = await measure((i) => store.rotate(rotation(sessions[i]!, T0 + 1)));
    sizes.push({ sessions: size, isRevoked: revoked, rotate: rotated });
    figures.push(`${String(size).padStart(7)} sessions: isRevoked p50 ${revoked.p50.toFixed(0).padStart(5)} µs p95 ${revoked.p95.toFixed(0).padStart(5)} · rotate p50 ${rotated.p50.toFixed(0).padStart(5)} µs p95 ${rotated.p95.toFixed(0).padStart(5)}`);
  }
  console.log(`${name}\n  ${figures.join('\n  ')}`);
  rows.push({ store: name, sizes });
  await store.close?.();
}

async function main(): Promise<void> {
  console.log(`store growth: ${SAMPLES} sequential calls on distinct tokens, at ${SMALL} and ${LARGE} live sessions`);
  await row('MemoryStore', new MemoryStore({ purgeIntervalSeconds: 0 }));
  const dir = mkdtempSync(join(tmpdir(), 'sjwt-growth-'));
  try {
    await row('SqliteStore', new SqliteStore(join(dir, 'tokens.sqlite3'), { purgeIntervalSeconds: 0 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const redis = await startRedisServer();
  const client = new Redis({ host: redis.host, port: redis.port });
  try {
    await row('RedisStore', new RedisStore(client, { purgeIntervalSeconds: 0, warnings: false, clock: () => T0 * 1000 }));
  } finally {
    client.disconnect();
    await redis.stop();
  }
  const cluster = await startRedisCluster();
  const clusterClient = new Cluster(cluster.nodes);
  try {
    await row('RedisStore, 3-master Cluster', new RedisStore(clusterClient, { purgeIntervalSeconds: 0, warnings: false, clock: () => T0 * 1000 }));
  } finally {
    clusterClient.disconnect();
    await cluster.stop();
  }
  const pg = await startPostgres();
  try {
    await row('PostgresStore', new PostgresStore(pg.connectionString, { purgeIntervalSeconds: 0 }));
  } finally {
    await pg.stop();
  }
  if (JSON_OUT) console.log(JSON.stringify(rows));
}

void main();
