import Redis, { Cluster, type RedisOptions } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { RedisStore } from '../../lib/stores';
import { assertStore } from '../../lib/stores/types';
import { accessAt, login, loginRecord, newJti, presentedOf, rotation, runStoreConformance, T0 } from '../../lib/testing/conformance';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster';
import { startRedisServer, type RedisServer } from './redis-server';

const runner = { describe, it, beforeEach, afterEach };

let server: RedisServer;
let cluster: RedisCluster;
/** Several clients, each its own connection, so the race tests really run in parallel. */
const clients: Redis[] = [];
const clusterClients: Cluster[] = [];
let prefixes = 0;

function connect(options: RedisOptions = {}): Redis {
  const client = new Redis({ host: server.host, port: server.port, ...options });
  client.on('error', () => undefined);
  clients.push(client);
  return client;
}

/** A store on `client` under a prefix no other test uses. */
function storeOn(client: Redis | Cluster, prefix = freshPrefix(), clock = () => T0 * 1000): RedisStore {
  return new RedisStore(client, { prefix, clock, purgeIntervalSeconds: 0, warnings: false });
}

function freshPrefix(): string {
  prefixes += 1;
  return `test${prefixes}:`;
}

/** Captures the process warnings the store emits while `fn` runs (jest's sandboxed process gets no 'warning' events). */
async function warningsDuring(fn: () => Promise<unknown>): Promise<{ code: string | undefined; message: string }[]> {
  const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  try {
    await fn();
    return spy.mock.calls
      .map(([message, options]) => ({ code: (options as { code?: string } | undefined)?.code, message: String(message) }))
      .filter((w) => w.code?.startsWith('SJWT_REDIS'));
  } finally {
    spy.mockRestore();
  }
}

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedisServer(), startRedisCluster()]);
  for (let i = 0; i < 4; i += 1) connect();
  for (let i = 0; i < 3; i += 1) {
    const client = new Cluster(cluster.nodes);
    clusterClients.push(client);
    await new Promise((resolve) => client.once('ready', resolve));
  }
}, 120_000);

afterAll(async () => {
  // QUIT, so every socket is closed by the time the servers stop; disconnect() where it cannot be sent.
  await Promise.all([...clients, ...clusterClients].map((client) => client.quit().catch(() => client.disconnect())));
  await server?.stop();
  await cluster?.stop();
});

runStoreConformance('RedisStore (standalone, ioredis)', runner, (clock) => {
  const prefix = freshPrefix();
  const peers = clients.slice(0, 4).map((client) => storeOn(client, prefix, clock));
  return {
    store: peers[0]!,
    peers,
    async close() {
      for (const peer of peers) await peer.close();
    },
  };
});

runStoreConformance('RedisStore (3-master Cluster, ioredis)', runner, (clock) => {
  const prefix = freshPrefix();
  const peers = clusterClients.map((client) => storeOn(client, prefix, clock));
  return {
    store: peers[0]!,
    peers,
    async close() {
      for (const peer of peers) await peer.close();
    },
  };
});

describe('RedisStore through node-redis', () => {
  let single: ReturnType<typeof createClient>;
  let onCluster: ReturnType<typeof createCluster>;

  beforeAll(async () => {
    single = createClient({ socket: { host: server.host, port: server.port } });
    onCluster = createCluster({ rootNodes: cluster.nodes.map(({ host, port }) => ({ socket: { host, port } })) });
    await single.connect();
    await onCluster.connect();
  });

  afterAll(async () => {
    single.destroy();
    onCluster.destroy();
  });

  runStoreConformance('RedisStore (standalone, node-redis)', runner, (clock) => ({
    store: new RedisStore({ sendCommand: (args) => single.sendCommand(args), prefix: freshPrefix(), clock, purgeIntervalSeconds: 0 }),
  }));

  runStoreConformance('RedisStore (3-master Cluster, node-redis)', runner, (clock) => ({
    store: new RedisStore({
      sendCommand: (args, key) => onCluster.sendCommand(key, false, args),
      prefix: freshPrefix(),
      clock,
      purgeIntervalSeconds: 0,
    }),
  }));

  it('initialises on the cluster (CONFIG GET and SCRIPT LOAD go to any node)', async () => {
    const store = new RedisStore({ sendCommand: (args, key) => onCluster.sendCommand(key, false, args), purgeIntervalSeconds: 0, configCheckIntervalSeconds: 0 });
    const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      await store.init();
      expect(spy.mock.calls.map(([, options]) => (options as { code?: string }).code)).toEqual(['SJWT_REDIS_NO_PERSISTENCE']);
    } finally {
      spy.mockRestore();
    }
  });

  it('shares the login limiter through sendCommand on the cluster (rate-limit-redis keys routed by key)', async () => {
    const store = new RedisStore({ sendCommand: (args, key) => onCluster.sendCommand(key, false, args), purgeIntervalSeconds: 0 });
    const keys = Array.from({ length: 20 }, (_, i) => `${store.prefix}rl:key${i}`);
    for (const key of keys) expect(await store.sendCommand(['SET', key, '1', 'EX', '60'])).toBe('OK');
    for (const key of keys) expect(await store.sendCommand(['EVAL', "return redis.call('GET', KEYS[1])", '1', key])).toBe('1');
  });
});

describe('RedisStore', () => {
  it('passes the runtime store check', () => {
    expect(() => assertStore(storeOn(clients[0]!))).not.toThrow();
  });

  it("keeps a user's keys in one hash tag, every one with a TTL taken from the store clock", async () => {
    const client = clients[0]!;
    const prefix = freshPrefix();
    const store = storeOn(client, prefix);
    const session = loginRecord();
    await store.startSession(login(session, { access: accessAt(T0) }));
    await store.revokeToken(presentedOf(loginRecord({ expiresAt: T0 + 600 })));
    await store.revokeUser({ userId: '1', before: T0, retainUntil: T0 + 600 });
    await store.setSetting('accessLifetime', '300');
    const keys = (await client.keys(`${prefix}*`)).sort();
    const userKeys = ['b', 'f', 'fr', 'since', 't', 'ur', 'x'].map((name) => `${prefix}{u:1}:${name}`);
    expect(keys.filter((key) => key.startsWith(`${prefix}{u:1}:`))).toEqual(userKeys);
    expect(keys.filter((key) => !key.startsWith(`${prefix}{u:1}:`))).toEqual([`${prefix}{sched:${keys.find((k) => k.includes('sched'))!.match(/sched:(\d+)/)![1]}}`, `${prefix}{settings}`]);
    for (const key of userKeys) {
      const ttl = await client.ttl(key);
      expect(ttl).toBeGreaterThanOrEqual(session.expiresAt - T0 - 2);
      expect(ttl).toBeLessThanOrEqual(session.sessionExpiresAt - T0);
    }
    expect(await client.ttl(`${prefix}{settings}`)).toBe(-1);
  });

  it('keeps the keys of a user whose tokens never expire without a TTL', async () => {
    const client = clients[0]!;
    const prefix = freshPrefix();
    const store = storeOn(client, prefix);
    const session = loginRecord({ userId: '9', expiresAt: Infinity, sessionExpiresAt: Infinity });
    await store.startSession(login(session, { access: accessAt(T0) }));
    const next = { jti: newJti(), type: 'refresh', issuedAt: T0 + 5, expiresAt: Infinity };
    expect(await store.rotate(rotation(session, T0 + 5, { successor: next }))).toMatchObject({ status: 'ok' });
    for (const name of ['t', 'f', 'x', 'since']) expect(await client.ttl(`${prefix}{u:9}:${name}`)).toBe(-1);
    expect(await store.sessions('9', T0 + 10 * 365 * 86_400)).toHaveLength(1);
  });

  it('escapes user ids, so braces and colons in an id neither move the hash tag nor collide', async () => {
    const client = clients[0]!;
    const prefix = freshPrefix();
    const store = storeOn(client, prefix);
    const odd = loginRecord({ userId: 'a}:t:b' });
    const plain = loginRecord({ userId: 'a' });
    await store.startSession(login(odd));
    await store.startSession(login(plain));
    expect((await client.keys(`${prefix}*:t`)).sort()).toEqual([`${prefix}{u:a%7D%3At%3Ab}:t`, `${prefix}{u:a}:t`]);
    await store.revokeToken(presentedOf(odd, odd.userId));
    expect(await store.sessions('a}:t:b', T0)).toEqual([]);
    expect(await store.sessions('a', T0)).toHaveLength(1);
  });

  it("accepts an ioredis client directly; the client's keyPrefix applies to every key alike (all are in KEYS)", async () => {
    const prefixed = connect({ keyPrefix: 'host:' });
    const prefix = freshPrefix();
    const store = new RedisStore(prefixed, { prefix, purgeIntervalSeconds: 0, warnings: false });
    const session = loginRecord();
    await store.startSession(login(session));
    await store.setSetting('accessLifetime', '300');
    expect(await store.rotate(rotation(session, T0 + 1))).toMatchObject({ status: 'ok' });
    expect(await store.getSetting('accessLifetime')).toBe('300');
    const keys = await clients[0]!.keys(`*${prefix}*`);
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) expect(key.startsWith(`host:${prefix}`)).toBe(true);
  });

  it('keeps stores with different prefixes apart', async () => {
    const a = storeOn(clients[0]!);
    const b = storeOn(clients[0]!);
    const token = presentedOf(loginRecord());
    await a.revokeToken(token);
    await a.setSetting('s', 'a');
    const query = { now: T0, jti: token.jti, userId: '1', issuedAt: T0, mustBeKnown: false };
    expect(await a.isRevoked(query)).toBe(true);
    expect(await b.isRevoked(query)).toBe(false);
    expect(await b.getSetting('s')).toBeUndefined();
  });

  it('loads its scripts again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const store = storeOn(clients[0]!);
    await store.init();
    const session = loginRecord();
    await store.startSession(login(session));
    await clients[0]!.script('FLUSH');
    expect(await store.rotate(rotation(session, T0 + 1))).toMatchObject({ status: 'ok' });
  });

  it('purges more entries, of more users, than one batch handles, without SCAN', async () => {
    const client = clients[0]!;
    const prefix = freshPrefix();
    const store = storeOn(client, prefix);
    const users = Array.from({ length: 150 }, (_, i) => String(i));
    await Promise.all(
      users.map(async (userId, i) => {
        const count = i === 0 ? 2500 : 10;
        for (let k = 0; k < count; k += 1) {
          await store.revokeToken({ jti: newJti(), userId, type: 'refresh', issuedAt: T0, expiresAt: T0 + 1 + (k % 50) });
        }
      }),
    );
    // Each logout blacklists the jti and ends its (unknown) session: two entries.
    expect(await store.purgeExpired(T0 + 100)).toBe(2 * (2500 + 149 * 10));
    expect(await store.purgeExpired(T0 + 100)).toBe(0);
    for (let i = 0; i < 16; i += 1) expect(await client.zcard(`${prefix}{sched:${i}}`)).toBe(0);
  });

  it('leaves the client open on close()', async () => {
    const store = storeOn(clients[0]!);
    await store.close();
    expect(await clients[0]!.ping()).toBe('PONG');
  });

  it.each([[undefined], [{}], [{ sendCommand: 'nope' }]])('rejects %p with a TypeError saying what to pass', (argument) => {
    const make = () => new RedisStore(argument as never);
    expect(make).toThrow(TypeError);
    expect(make).toThrow('RedisStore: pass an ioredis client (Redis or Cluster), or { sendCommand: (args) => client.sendCommand(args) }');
  });

  it.each([
    [{ configCheckIntervalSeconds: -1 }, '"configCheckIntervalSeconds" must be a number of seconds >= 0'],
    [{ warnings: 'no' }, '"warnings" must be true, false or an object'],
    [{ prefix: 5 }, '"prefix" must be a string'],
  ])('rejects the option %p', (options, message) => {
    expect(() => new RedisStore(clients[0]!, options as never)).toThrow(message);
  });

  describe('a Redis that forgot (restart without persistence, FLUSHALL)', () => {
    it.each([
      ['FLUSHALL', () => clients[1]!.flushall()],
      ['a restart, empty', () => server.restart()],
    ])('keeps a logged-out token refused after %s', async (_name, wipe) => {
      const store = storeOn(clients[1]!);
      const now = T0 + 3600;
      const session = loginRecord({ issuedAt: T0, expiresAt: T0 + 86_400 });
      const other = loginRecord({ issuedAt: T0, expiresAt: T0 + 86_400 });
      await store.startSession(login(session, { now: T0 }));
      await store.startSession(login(other, { now: T0 }));
      await store.revokeToken(presentedOf(session));
      expect(await store.rotate(rotation(session, now))).toEqual({ status: 'revoked' });

      await wipe();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await clients[1]!.ping().catch(() => undefined);

      // The store does not know the tokens any more: it says so instead of answering "not revoked".
      expect(await store.rotate(rotation(session, now))).toEqual({ status: 'unknown' });
      expect(await store.isRevoked({ now, jti: session.jti, userId: '1', issuedAt: T0, mustBeKnown: true })).toBe(true);
      // The live session of another device goes the same way: forgotten means refused, never resurrected.
      expect(await store.rotate(rotation(other, now))).toEqual({ status: 'unknown' });
      // A new login starts the user's memory again and works.
      const fresh = loginRecord({ issuedAt: now, expiresAt: now + 600 });
      expect(await store.startSession(login(fresh, { now }))).toEqual({ status: 'ok', ended: [] });
      expect(await store.rotate(rotation(fresh, now + 1))).toMatchObject({ status: 'ok' });
      expect(await store.rotate(rotation(session, now + 1))).toEqual({ status: 'unknown' });
    });

    it('adopts the forgotten token only with adoptUnknown', async () => {
      const store = storeOn(clients[1]!);
      const session = loginRecord({ issuedAt: T0, expiresAt: T0 + 86_400 });
      await store.startSession(login(session, { now: T0 }));
      await clients[1]!.flushall();
      expect(await store.rotate(rotation(session, T0 + 60, { adoptUnknown: true }))).toMatchObject({ status: 'ok' });
    });
  });

  describe('configuration warnings', () => {
    let config: Redis;
    beforeAll(() => {
      config = connect();
    });
    afterEach(async () => {
      await config.config('SET', 'maxmemory-policy', 'noeviction');
    });

    it('warns at init() about allkeys-lru and about no persistence, once per condition', async () => {
      await config.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const store = new RedisStore(config, { purgeIntervalSeconds: 0, configCheckIntervalSeconds: 0 });
      const first = await warningsDuring(() => store.init());
      expect(first.map((w) => w.code).sort()).toEqual(['SJWT_REDIS_EVICTION', 'SJWT_REDIS_NO_PERSISTENCE']);
      expect(first.find((w) => w.code === 'SJWT_REDIS_EVICTION')!.message).toContain('maxmemory-policy is allkeys-lru');
      expect(await warningsDuring(() => store.init())).toEqual([]);
      await store.close();
    });

    it('warns about volatile-lru too (every key of the store has a TTL), and not about noeviction', async () => {
      await config.config('SET', 'maxmemory-policy', 'volatile-lru');
      const store = new RedisStore(config, { purgeIntervalSeconds: 0, configCheckIntervalSeconds: 0, warnings: { persistence: false } });
      expect((await warningsDuring(() => store.init())).map((w) => w.code)).toEqual(['SJWT_REDIS_EVICTION']);
      await config.config('SET', 'maxmemory-policy', 'noeviction');
      const quiet = new RedisStore(config, { purgeIntervalSeconds: 0, configCheckIntervalSeconds: 0, warnings: { persistence: false } });
      expect(await warningsDuring(() => quiet.init())).toEqual([]);
    });

    it('checks again on its timer, warning when a condition appears and again after it cleared', async () => {
      const spy = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
      const evictions = () => spy.mock.calls.filter(([, options]) => (options as { code?: string })?.code === 'SJWT_REDIS_EVICTION').length;
      /** Waits until `evictions()` is `count` (or fails after 5 s), then a few more checks to see it stays there. */
      const settle = async (count: number) => {
        for (let waited = 0; evictions() < count && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
        await new Promise((resolve) => setTimeout(resolve, 250));
        expect(evictions()).toBe(count);
      };
      const store = new RedisStore(config, { purgeIntervalSeconds: 0, configCheckIntervalSeconds: 0.05, warnings: { persistence: false } });
      try {
        await store.init();
        await settle(0);
        await config.config('SET', 'maxmemory-policy', 'allkeys-lfu');
        await settle(1); // once, though the timer checked several times
        await config.config('SET', 'maxmemory-policy', 'noeviction');
        await settle(1);
        await config.config('SET', 'maxmemory-policy', 'allkeys-lfu');
        await settle(2); // the condition came back
      } finally {
        await store.close();
        spy.mockRestore();
      }
    });

    it('says once, informationally, when CONFIG is not allowed (managed Redis), and still works', async () => {
      await config.call('ACL', 'SETUSER', 'limited', 'on', '>limited-password', '~*', '&*', '+@all', '-config');
      const limited = connect({ username: 'limited', password: 'limited-password' });
      const store = new RedisStore(limited, { purgeIntervalSeconds: 0, configCheckIntervalSeconds: 0 });
      const seen = await warningsDuring(() => store.init());
      expect(seen.map((w) => w.code)).toEqual(['SJWT_REDIS_CONFIG_UNAVAILABLE']);
      expect(await warningsDuring(() => store.init())).toEqual([]);
      const session = loginRecord();
      expect(await store.startSession(login(session))).toEqual({ status: 'ok', ended: [] });
    });

    it('rejects init() when Redis cannot be reached', async () => {
      const nowhere = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      nowhere.on('error', () => undefined);
      const store = new RedisStore(nowhere, { purgeIntervalSeconds: 0 });
      await expect(store.init()).rejects.toThrow();
      nowhere.disconnect();
    });
  });

  it('works again once Redis is back after a restart (scripts reloaded, data gone)', async () => {
    const store = storeOn(clients[2]!);
    await store.init();
    await server.restart();
    const session = loginRecord({ issuedAt: T0 });
    await clients[2]!.ping().catch(() => undefined);
    await store.startSession(login(session));
    expect(await store.rotate(rotation(session, T0 + 1))).toMatchObject({ status: 'ok' });
    expect(await Promise.all(clients.slice(0, 4).map((client) => client.ping()))).toEqual(['PONG', 'PONG', 'PONG', 'PONG']);
  });
});
