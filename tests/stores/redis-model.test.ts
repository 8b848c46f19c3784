/**
 * RedisStore against the reference semantics: random sequences of session events run on a MemoryStore (which
 * runs lib/stores/operations.ts as written) and on RedisStore, on standalone Redis and on a 3-master Redis
 * Cluster, and every answer must be the same. Seeded, so a failure names its seed and replays.
 */
import Redis, { Cluster } from 'ioredis';
import { MemoryStore } from '../../lib/stores/memory';
import { RedisStore } from '../../lib/stores/redis';
import type { NewToken, TokenRecord, TokenStore } from '../../lib/stores/types';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster';
import { startRedisServer, type RedisServer } from './redis-server';

const T0 = Date.UTC(2026, 5, 1) / 1000;
const SEQUENCES = Number(process.env.SJWT_MODEL_SEQUENCES ?? 40);
const STEPS = 80;

/** mulberry32: a small seeded generator. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick<T>(items: readonly T[]): T {
      return items[Math.floor(next() * items.length)]!;
    },
    chance: (p: number) => next() < p,
  };
}

interface Issued {
  jti: string;
  userId: string;
  type: string;
  issuedAt: number;
  expiresAt: number;
}

type Op = { name: string; run: (store: TokenStore) => unknown };

/** One random sequence of operations; `issued` is shared bookkeeping, updated as the reference answers. */
function* sequence(seed: number): Generator<Op, void, unknown> {
  // The reference's answer to each operation comes back from `yield`, so only tokens really recorded are tracked.
  const r = rng(seed);
  let now = T0;
  let counter = 0;
  const issued: Issued[] = [];
  const sessionsSeen: { userId: string; id: string }[] = [];
  const users = ['1', '2', 'a:{b}%'];
  const jti = () => `j${seed}-${(counter += 1)}`;
  const newToken = (type: string, lifetime: number): NewToken => ({ jti: jti(), type, issuedAt: now, expiresAt: now + lifetime });
  const live = () => issued.filter((t) => t.expiresAt > now);

  for (let step = 0; step < STEPS; step += 1) {
    if (r.chance(0.3)) now += r.pick([1, 30, 200, 400]);
    const kind = r.int(10);
    if (kind <= 1 || issued.length === 0) {
      const userId = r.pick(users);
      const id = jti();
      const lifetime = r.pick([600, 900]);
      const session: TokenRecord = {
        jti: id,
        userId,
        familyId: id,
        type: r.chance(0.8) ? 'refresh' : 'sliding',
        issuedAt: now,
        expiresAt: now + lifetime,
        sessionStartedAt: now,
        sessionExpiresAt: now + 2000,
      };
      if (r.chance(0.5)) session.userAgent = r.pick(['HTTPie/3', '', 'ü {x}']);
      if (r.chance(0.5)) session.ip = '203.0.113.7';
      const access = r.chance(0.6) ? newToken('access', 300) : undefined;
      const maxSessions = r.pick([Infinity, Infinity, 1, 2, 3]);
      const whenFull = r.pick(['refuse', 'evict-oldest'] as const);
      const start = { now, session, ...(access ? { access } : {}), maxSessions, whenFull };
      const result = (yield { name: `startSession ${JSON.stringify(start)}`, run: (s) => s.startSession(start) }) as { status: string };
      if (result.status === 'ok') {
        issued.push({ jti: id, userId, type: session.type, issuedAt: now, expiresAt: session.expiresAt });
        if (access) issued.push({ ...access, userId });
        sessionsSeen.push({ userId, id });
      }
    } else if (kind <= 4) {
      const foreign = r.chance(0.15);
      const pool = live().filter((t) => t.type !== 'access');
      const presented: Issued | undefined = foreign
        ? { jti: jti(), userId: r.pick(users), type: 'refresh', issuedAt: r.pick([now, T0 - 100]), expiresAt: now + 600 }
        : pool.length > 0
          ? r.pick(pool)
          : undefined;
      if (!presented) continue;
      const successor = presented.type === 'refresh' && r.chance(0.8) ? newToken('refresh', 600) : undefined;
      const access = r.chance(0.6) ? newToken('access', 300) : undefined;
      const rotation = {
        now,
        token: { jti: presented.jti, userId: presented.userId, type: presented.type, issuedAt: presented.issuedAt, expiresAt: presented.expiresAt },
        ...(successor ? { successor } : {}),
        consume: successor !== undefined && r.chance(0.9),
        ...(access ? { access } : {}),
        reuseInterval: r.pick([0, 30, 300]),
        reuseDetection: r.chance(0.7),
        adoptUnknown: r.chance(0.3),
        ...(r.chance(0.5) ? { userAgent: 'curl/8' } : {}),
        ...(r.chance(0.5) ? { ip: '198.51.100.1' } : {}),
      };
      const result = (yield { name: `rotate ${JSON.stringify(rotation)}`, run: (s) => s.rotate(rotation) }) as { status: string };
      if (foreign && (result.status === 'ok' || result.status === 'reused' || result.status === 'retry')) issued.push(presented);
      if (result.status === 'ok' && successor) issued.push({ ...successor, userId: presented.userId });
      if ((result.status === 'ok' || result.status === 'retry') && access) issued.push({ ...access, userId: presented.userId });
    } else if (kind === 5) {
      const pool = live();
      if (pool.length === 0) continue;
      const t = r.pick(pool);
      const token = { jti: t.jti, userId: t.userId, type: t.type, issuedAt: t.issuedAt, expiresAt: t.expiresAt };
      yield { name: `revokeToken ${JSON.stringify(token)}`, run: (s) => s.revokeToken(token) };
    } else if (kind === 6) {
      const pool = live();
      const t = pool.length > 0 && r.chance(0.9) ? r.pick(pool) : { jti: jti(), userId: r.pick(users), issuedAt: r.pick([now, T0 - 100]) };
      const query = { now, jti: t.jti, userId: t.userId, issuedAt: t.issuedAt, mustBeKnown: r.chance(0.5) };
      yield { name: `isRevoked ${JSON.stringify(query)}`, run: (s) => s.isRevoked(query) };
    } else if (kind === 7) {
      const userId = r.pick(users);
      yield { name: `sessions ${userId} @${now}`, run: (s) => s.sessions(userId, now) };
    } else if (kind === 8) {
      if (r.chance(0.5)) {
        const revocation = { userId: r.pick(users), before: now, retainUntil: now + 2000 };
        yield { name: `revokeUser ${JSON.stringify(revocation)}`, run: (s) => s.revokeUser(revocation) };
      } else if (sessionsSeen.length > 0) {
        const { userId, id } = r.pick(sessionsSeen);
        const other = r.chance(0.2) ? r.pick(users) : userId;
        yield { name: `endSession ${other} ${id} @${now}`, run: (s) => s.endSession(other, id, now) };
      }
    } else {
      const at = now;
      yield { name: `purgeExpired @${at}`, run: (s) => s.purgeExpired(at) };
    }
  }
}

async function compare(seed: number, reference: TokenStore, store: TokenStore, seen: Set<string>): Promise<void> {
  const log: string[] = [];
  // MemoryStore's memory begins at its first check; begin it at T0, as each Redis user's begins at their first event.
  await reference.isRevoked({ now: T0, jti: 'prime', userId: 'prime', issuedAt: T0, mustBeKnown: true });
  const ops = sequence(seed);
  let expected: unknown;
  for (let next = ops.next(); !next.done; next = ops.next(expected)) {
    const op = next.value;
    expected = await op.run(reference);
    const status = (expected as { status?: unknown } | undefined)?.status;
    seen.add(`${op.name.split(' ')[0]}:${typeof status === 'string' ? status : JSON.stringify(expected) === '[]' ? 'none' : typeof expected}`);
    const actual = await op.run(store);
    log.push(`${op.name} -> ${JSON.stringify(expected)}`);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new Error(`seed ${seed}: ${op.name}\nexpected ${JSON.stringify(expected)}\nreceived ${JSON.stringify(actual)}\nafter:\n${log.slice(-12).join('\n')}`);
    }
  }
}

function modelSuite(name: string, connect: () => Promise<{ client: Redis | Cluster; flush: () => Promise<unknown> }>) {
  describe(`RedisStore on ${name} answers as the reference operations`, () => {
    let client: Redis | Cluster;
    beforeAll(async () => {
      ({ client } = await connect());
    }, 120_000);
    afterAll(() => client?.disconnect());

    it(`agrees with MemoryStore on ${SEQUENCES} random sequences of ${STEPS} events`, async () => {
      const seen = new Set<string>();
      for (let seed = 1; seed <= SEQUENCES; seed += 1) {
        const clock = () => T0 * 1000;
        const reference = new MemoryStore({ purgeIntervalSeconds: 0, clock });
        const store = new RedisStore(client, { prefix: `model${seed}:`, purgeIntervalSeconds: 0, clock, warnings: false });
        await compare(seed, reference, store, seen);
        await reference.close();
        await store.close();
      }
      // The sequences reach every answer the contract has.
      for (const outcome of ['startSession:ok', 'startSession:full', 'rotate:ok', 'rotate:retry', 'rotate:reused', 'rotate:revoked', 'rotate:unknown', 'isRevoked:boolean', 'sessions:object', 'sessions:none', 'purgeExpired:number', 'endSession:boolean']) {
        expect([...seen]).toContain(outcome);
      }
    }, 120_000);
  });
}

let server: RedisServer | undefined;
let cluster: RedisCluster | undefined;
afterAll(async () => {
  await server?.stop();
  await cluster?.stop();
});

modelSuite('standalone Redis', async () => {
  server = await startRedisServer();
  const client = new Redis({ host: server.host, port: server.port });
  return { client, flush: () => client.flushall() };
});

modelSuite('a 3-master Redis Cluster', async () => {
  cluster = await startRedisCluster();
  const client = new Cluster(cluster.nodes);
  await new Promise((resolve) => client.once('ready', resolve));
  return { client, flush: () => cluster!.onEveryNode(['FLUSHALL']) };
});
