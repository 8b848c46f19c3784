/**
 * Two app servers (two kits, each with its own ioredis Cluster client) on one real 3-master Redis Cluster, as
 * issue 12's "done when" asks: login, rotation across servers, logout on one refused on the other, concurrent
 * refreshes across both with exactly one winner, and the login limiter counting on the Cluster.
 */
import { Cluster } from 'ioredis';
import request from 'supertest';
import type { Express } from 'express';
import { RedisStore } from '../../lib';
import { makeApp, manualClock, type TestApp } from '../helpers/app';
import { startRedisCluster, type RedisCluster } from '../helpers/redis-cluster';

const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };

let cluster: RedisCluster;
const clients: Cluster[] = [];
const apps: TestApp[] = [];

async function clusterClient(): Promise<Cluster> {
  const client = new Cluster(cluster.nodes);
  client.on('error', () => undefined);
  clients.push(client);
  await new Promise((resolve) => client.once('ready', resolve));
  return client;
}

/** Two app servers sharing the Cluster under `prefix`. */
async function twoServers(prefix: string, options: Parameters<typeof makeApp>[0] = {}): Promise<[Express, Express]> {
  const made: Express[] = [];
  for (let i = 0; i < 2; i += 1) {
    const store = new RedisStore(await clusterClient(), { prefix, warnings: false });
    const app = makeApp({ store, rotateRefreshTokens: true, revokeAccessTokens: true, ...options });
    apps.push(app);
    made.push(app.app);
  }
  return made as [Express, Express];
}

async function login(app: Express) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}
const refresh = (app: Express, token: string) => request(app).post('/api/token/refresh/').send({ refresh: token });
const hello = (app: Express, access: string) => request(app).get('/hello/').set('Authorization', `Bearer ${access}`);

/** Which master serves `slot`, from CLUSTER SLOTS. */
let slotTable: [number, number, number][] = [];
function ownerPort(slot: number): number {
  return slotTable.find(([from, to]) => slot >= from && slot <= to)![2];
}

beforeAll(async () => {
  cluster = await startRedisCluster();
  const probe = await clusterClient();
  const slots = (await probe.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  slotTable = slots.map(([from, to, [, port]]) => [from, to, port]);
}, 120_000);

afterAll(async () => {
  for (const made of apps) await made.auth.close();
  for (const client of clients) client.disconnect();
  await cluster?.stop();
});

describe('two app servers on one Redis Cluster', () => {
  it('log in on one, rotate across both, log out on one: refused on the other, access token included', async () => {
    const [a, b] = await twoServers('across:');
    const pair = await login(a);
    expect((await hello(b, pair.access)).status).toBe(200);

    const first = await refresh(b, pair.refresh);
    expect(first.status).toBe(200);
    expect(typeof first.body.refresh).toBe('string');
    const second = await refresh(a, first.body.refresh as string);
    expect(second.status).toBe(200);
    expect((await hello(b, second.body.access as string)).status).toBe(200);

    expect((await request(b).post('/api/token/blacklist/').send({ refresh: second.body.refresh })).status).toBe(200);
    expect((await refresh(a, second.body.refresh as string)).body).toEqual(BLACKLISTED);
    const after = await hello(a, second.body.access as string);
    expect(after.status).toBe(401);
    expect(after.body.messages[0].message).toBe('Token is blacklisted');
  });

  it('gives exactly one winner among 10 concurrent refreshes of one token across both servers', async () => {
    const [a, b] = await twoServers('race:');
    for (let round = 0; round < 3; round += 1) {
      const pair = await login(a);
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => refresh(i % 2 === 0 ? a : b, pair.refresh)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 401)).toHaveLength(9);
    }
  });

  it('serves many users, whose keys spread over the three masters', async () => {
    const [a, b] = await twoServers('spread:');
    for (const { users } of apps.slice(-2)) {
      const hash = users.findByUsername('vitor')!.password; // "123"
      for (let i = 0; i < 12; i += 1) users.add({ id: 100 + i, username: `user${i}`, password: hash, isActive: true });
    }
    const logins = await Promise.all(
      Array.from({ length: 12 }, (_, i) => request(a).post('/api/token/').send({ username: `user${i}`, password: '123' })),
    );
    for (const res of logins) {
      expect(res.status).toBe(200);
      expect((await refresh(b, res.body.refresh as string)).status).toBe(200);
    }
    const slots = new Set(await Promise.all(Array.from({ length: 12 }, (_, i) => clients[0]!.call('CLUSTER', 'KEYSLOT', `spread:{u:${100 + i}}:t`))));
    expect(slots.size).toBeGreaterThan(1);
    const owners = await Promise.all(clients[0]!.nodes('master').map((node) => node.keys('spread:*')));
    expect(owners.filter((keys) => keys.length > 0).length).toBeGreaterThan(1);
  });

  it('counts failed logins of both servers together through the Cluster (rate-limit-redis routed by key)', async () => {
    const [a, b] = await twoServers('throttle:', { loginThrottle: '3/15m' });
    for (const app of [a, b, a]) {
      expect((await request(app).post('/api/token/').send({ username: 'vitor', password: 'bad' })).status).toBe(401);
    }
    expect((await request(b).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(429);
    expect((await request(a).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(429);
  });

  it("keeps a logged-out token refused after the shard holding the user's keys is flushed", async () => {
    const clock = manualClock(Date.now());
    const [a, b] = await twoServers('wiped:', { clock: clock.now });
    const loggedOut = await login(a);
    const other = await login(b);
    expect((await request(b).post('/api/token/blacklist/').send({ refresh: loggedOut.refresh })).status).toBe(200);
    clock.advance(60);
    // vitor is user 1: flush the master that owns his slot (the other shards keep their data).
    const slot = Number(await clients[0]!.call('CLUSTER', 'KEYSLOT', 'wiped:{u:1}:t'));
    const owner = clients[0]!.nodes('master').find((node) => node.options.port === ownerPort(slot));
    await owner!.flushall();
    expect((await refresh(a, loggedOut.refresh)).body).toEqual(BLACKLISTED);
    expect((await refresh(b, other.refresh)).body).toEqual(BLACKLISTED);
    expect((await hello(a, other.access)).status).toBe(401);
    const fresh = await login(b);
    expect((await refresh(a, fresh.refresh)).status).toBe(200);
  });
});
