import Redis from 'ioredis';
import { RedisStore } from '../../lib/stores';
import { accessRecord, newJti, refreshRecord, runStoreConformance, successorOf, T0 } from './conformance';
import { startRedisServer, type RedisServer } from './redis-server';

let server: RedisServer;
/** Several clients, each its own connection, so the race test really runs in parallel. */
const clients: Redis[] = [];
let prefixes = 0;

function connect(): Redis {
  const client = new Redis({ host: server.host, port: server.port, lazyConnect: false });
  clients.push(client);
  return client;
}

/** A store on `client` under a prefix no other test uses. */
function storeOn(client: Redis, prefix: string, clock = () => T0 * 1000): RedisStore {
  return new RedisStore({
    sendCommand: (args) => client.call(args[0], ...args.slice(1)),
    prefix,
    clock,
    purgeIntervalSeconds: 0,
  });
}

function freshPrefix(): string {
  prefixes += 1;
  return `test${prefixes}:`;
}

beforeAll(async () => {
  server = await startRedisServer();
  for (let i = 0; i < 4; i += 1) connect();
});

afterAll(async () => {
  // disconnect() also cancels a pending reconnect, which QUIT would not.
  for (const client of clients) client.disconnect();
  await server?.stop();
});

runStoreConformance('RedisStore', (clock) => {
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

describe('RedisStore', () => {
  it('gives every key but the expiry index and the settings a TTL taken from the store clock', async () => {
    const client = clients[0]!;
    const prefix = freshPrefix();
    const store = storeOn(client, prefix);
    const login = refreshRecord();
    await store.record(login);
    await store.record(accessRecord(login, T0));
    await store.revoke(newJti(), T0 + 600);
    await store.revokeFamily(newJti(), T0 + 600);
    await store.revokeUser('1', T0, 600);
    await store.setSetting('accessLifetime', '300');
    const keys = (await client.keys(`${prefix}*`)).sort();
    expect(keys.length).toBeGreaterThan(7);
    for (const key of keys) {
      const ttl = await client.ttl(key);
      if (key === `${prefix}x` || key === `${prefix}settings`) expect(ttl).toBe(-1);
      else expect(ttl).toBeGreaterThan(0);
    }
    const tokenTtl = await client.ttl(`${prefix}t:${login.jti}`);
    expect(tokenTtl).toBeGreaterThanOrEqual(login.expiresAt - T0 - 2);
    expect(tokenTtl).toBeLessThanOrEqual(login.expiresAt - T0);
  });

  it('accepts an ioredis client directly', async () => {
    const client = clients[1]!;
    const store = new RedisStore(client, { prefix: freshPrefix(), purgeIntervalSeconds: 0 });
    const login = refreshRecord();
    await store.record(login);
    expect(await store.familyOf(login.jti)).toBe(login.familyId);
    expect(await store.consume(login.jti, T0 + 1, successorOf(login, T0 + 1))).toStrictEqual({ status: 'ok', record: login });
  });

  it("builds every key itself, so an ioredis keyPrefix cannot split the store's keys", async () => {
    const prefixed = new Redis({ host: server.host, port: server.port, keyPrefix: 'host:' });
    clients.push(prefixed);
    const prefix = freshPrefix();
    const store = new RedisStore(prefixed, { prefix, purgeIntervalSeconds: 0 });
    const login = refreshRecord();
    await store.record(login);
    await store.setSetting('accessLifetime', '300');
    expect(await store.familyOf(login.jti)).toBe(login.familyId);
    expect(await store.getSetting('accessLifetime')).toBe('300');
    expect(await clients[0]!.keys('host:*')).toEqual([]);
  });

  it('keeps stores with different prefixes apart', async () => {
    const a = storeOn(clients[0]!, freshPrefix());
    const b = storeOn(clients[0]!, freshPrefix());
    const jti = newJti();
    await a.revoke(jti, T0 + 60);
    await a.setSetting('s', 'a');
    expect(await a.isRevoked(jti, '1', T0)).toBe(true);
    expect(await b.isRevoked(jti, '1', T0)).toBe(false);
    expect(await b.getSetting('s')).toBeUndefined();
  });

  it('loads its scripts again after SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const store = storeOn(clients[0]!, freshPrefix());
    await store.init();
    const login = refreshRecord();
    await store.record(login);
    await clients[0]!.script('FLUSH');
    expect((await store.consume(login.jti, T0 + 1, successorOf(login, T0 + 1))).status).toBe('ok');
  });

  it('purges more entries than one script batch handles', async () => {
    const store = storeOn(clients[0]!, freshPrefix());
    await Promise.all(Array.from({ length: 2500 }, (_, i) => store.revoke(newJti(), T0 + (i % 50))));
    expect(await store.purgeExpired(T0 + 100)).toBe(2500);
    expect(await store.purgeExpired(T0 + 100)).toBe(0);
  });

  it('leaves the client open on close()', async () => {
    const store = storeOn(clients[0]!, freshPrefix());
    await store.close();
    expect(await clients[0]!.ping()).toBe('PONG');
  });

  it.each([[undefined], [{}], [{ sendCommand: 'nope' }]])('rejects %p with a TypeError saying what to pass', (argument) => {
    const make = () => new RedisStore(argument as never);
    expect(make).toThrow(TypeError);
    expect(make).toThrow('RedisStore: pass { sendCommand: (args) => client.call(args[0], ...args.slice(1)) } for ioredis');
  });

  it('works again once Redis is back after a restart (scripts reloaded, data gone)', async () => {
    const store = storeOn(clients[2]!, freshPrefix());
    await store.init();
    await server.restart();
    const login = refreshRecord();
    await store.record(login);
    expect((await store.consume(login.jti, T0 + 1, successorOf(login, T0 + 1))).status).toBe('ok');
    expect(await Promise.all(clients.map((client) => client.ping()))).toEqual(clients.map(() => 'PONG'));
  });
});
