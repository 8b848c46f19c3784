import { join } from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { MemoryStore, RedisStore, SqliteStore, type TokenStore } from '../../lib';
import { makeApp, type TestApp } from '../helpers/app';
import { useBackends } from '../helpers/backends';

const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };

async function login(app: Express) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}
const refresh = (app: Express, token: string) => request(app).post('/api/token/refresh/').send({ refresh: token });

const backends = useBackends('backends');
const redisClient = backends.redisClient;

function appWith(store: TokenStore, options: Parameters<typeof makeApp>[0] = {}): TestApp {
  return backends.track(makeApp({ store, ...options }));
}

const stores: [string, () => TokenStore | Promise<TokenStore>][] = [
  ['MemoryStore', () => new MemoryStore()],
  ['SqliteStore', () => new SqliteStore(join(backends.dir(), `race-${Math.random()}.sqlite3`))],
  ['RedisStore', async () => new RedisStore(await redisClient(), { prefix: `t${Math.random()}:` })],
];

describe.each(stores)('over HTTP with %s', (_name, makeStore) => {
  it('logout kills the refresh token; 20 concurrent refreshes of one token give exactly one new token', async () => {
    const { app } = appWith(await makeStore(), { rotateRefreshTokens: true });
    const pair = await login(app);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(app, pair.refresh)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(19);
    const other = await login(app);
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: other.refresh })).status).toBe(200);
    expect((await refresh(app, other.refresh)).body).toEqual(BLACKLISTED);
  });
});

describe('SqliteStore across a restart', () => {
  it('a revoked token stays revoked, and a rotated one is still detected as reused', async () => {
    const file = join(backends.dir(), 'restart.sqlite3');
    const first = appWith(new SqliteStore(file), { rotateRefreshTokens: true });
    const loggedOut = await login(first.app);
    await request(first.app).post('/api/token/blacklist/').send({ refresh: loggedOut.refresh });
    const rotated = await login(first.app);
    expect((await refresh(first.app, rotated.refresh)).status).toBe(200);
    await first.auth.close();

    const second = appWith(new SqliteStore(file), { rotateRefreshTokens: true });
    expect((await refresh(second.app, loggedOut.refresh)).body).toEqual(BLACKLISTED);
    expect((await refresh(second.app, rotated.refresh)).body).toEqual(BLACKLISTED);
  });
});

describe('two app servers sharing one Redis', () => {
  it('logout on one is refused on the other, access tokens included', async () => {
    const prefix = 'shared:';
    const a = appWith(new RedisStore(await redisClient(), { prefix }), { revokeAccessTokens: true });
    const b = appWith(new RedisStore(await redisClient(), { prefix }), { revokeAccessTokens: true });
    const pair = await login(a.app);
    expect((await request(b.app).get('/hello/').set('Authorization', `Bearer ${pair.access}`)).status).toBe(200);
    expect((await request(a.app).post('/api/token/blacklist/').send({ refresh: pair.refresh })).status).toBe(200);
    expect((await refresh(b.app, pair.refresh)).body).toEqual(BLACKLISTED);
    const hello = await request(b.app).get('/hello/').set('Authorization', `Bearer ${pair.access}`);
    expect(hello.status).toBe(401);
    expect(hello.body.messages[0].message).toBe('Token is blacklisted');
  });

  it('count failed logins together (rate-limit-redis), so two servers do not double the attempts', async () => {
    const prefix = 'throttle:';
    const a = appWith(new RedisStore(await redisClient(), { prefix }), { loginThrottle: '3/15m' });
    const b = appWith(new RedisStore(await redisClient(), { prefix }), { loginThrottle: '3/15m' });
    for (const app of [a.app, b.app, a.app]) {
      expect((await request(app).post('/api/token/').send({ username: 'vitor', password: 'bad' })).status).toBe(401);
    }
    expect((await request(b.app).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(429);
  });
});

describe('a Redis outage', () => {
  it('fails closed with 503 store_unavailable, keeps access checks working, and recovers by itself', async () => {
    const { app, log } = appWith(new RedisStore(await redisClient(), { prefix: 'outage:' }), { storeTimeoutMs: 300 });
    const pair = await login(app);

    await backends.redis().down();
    for (const res of [
      await request(app).post('/api/token/').send({ username: 'vitor', password: '123' }),
      await refresh(app, pair.refresh),
      await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh }),
    ]) {
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' });
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body.access).toBeUndefined();
    }
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${pair.access}`)).status).toBe(200);
    expect(log.join('\n')).toContain('token store unavailable');

    await backends.redis().up();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).status;
    }
    expect(status).toBe(200);
  }, 30_000);

  it('a hung store times out (bounded) instead of hanging the request', async () => {
    const { app } = appWith(new RedisStore(await redisClient(), { prefix: 'hung:' }), { storeTimeoutMs: 300 });
    const pair = await login(app);
    backends.redis().freeze();
    try {
      const started = Date.now();
      const res = await refresh(app, pair.refresh);
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      backends.redis().thaw();
    }
  }, 30_000);
});
