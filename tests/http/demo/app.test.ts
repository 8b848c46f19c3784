import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo, type Demo } from '../../helpers/demo';
import { startRedisServer, type RedisServer } from '../../stores/redis-server';
import request from 'supertest';
import { decodePart, forge } from '../../helpers/jwt';

const scratch = mkdtempSync(join(tmpdir(), 'sjwt-demo-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const FLAG_SECRET = 'flag-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0-abcdefghijklmnop';
const ENV_SECRET = 'env-secret-0a1b2c3d4e5f60718293a4b5c6d7e8f9-qrstuvwxyzabcdef';

describe('the demo app, started as npm start starts it', () => {
  let demo: Demo;

  beforeAll(async () => {
    demo = await startDemo(['--jwt-secret', FLAG_SECRET], {
      JWT_SECRET: ENV_SECRET,
      JWT_ACCESS_TOKEN_LIFETIME: '2m',
      JWT_REFRESH_TOKEN_LIFETIME: '30d',
      JWT_LOGIN_THROTTLE: '5/m',
    });
  }, 20_000);

  afterAll(() => {
    demo?.child.kill('SIGTERM');
  });

  it('prints copy-paste HTTPie and curl commands', () => {
    const out = demo.output();
    expect(out).toContain(`http post ${demo.base}/api/token/ username=vitor password=123`);
    expect(out).toContain(`curl -X POST ${demo.base}/api/token/`);
  });

  it('serves the tutorial session: obtain (HTTPie sends JSON), /hello/, refresh', async () => {
    const login = await request(demo.base).post('/api/token/').set('Content-Type', 'application/json').send('{"username": "vitor", "password": "123"}');
    expect(login.status).toBe(200);
    const hello = await request(demo.base).get('/hello/').set('Authorization', `Bearer ${login.body.access}`);
    expect(hello.body).toEqual({ message: 'Hello, World!' });
    const refreshed = await request(demo.base).post('/api/token/refresh/').send({ refresh: login.body.refresh });
    expect(Object.keys(refreshed.body)).toEqual(['access']);
  });

  it('signs with the --jwt-secret flag, which wins over JWT_SECRET, and reads the lifetimes', async () => {
    const { access, refresh } = (await request(demo.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    const [h, p] = (access as string).split('.');
    const header = Buffer.from(h!, 'base64url').toString();
    const payload = Buffer.from(p!, 'base64url').toString();
    expect(forge(header, payload, FLAG_SECRET)).toBe(access);
    const a = decodePart(access, 1) as { exp: number; iat: number };
    const r = decodePart(refresh, 1) as { exp: number; iat: number };
    expect(a.exp - a.iat).toBe(120);
    expect(r.exp - r.iat).toBe(30 * 86_400);
  });

  it('refuses the inactive user sleeper', async () => {
    const res = await request(demo.base).post('/api/token/').send({ username: 'sleeper', password: '123' });
    expect(res.status).toBe(401);
  });
});

describe('the demo app refuses bad configuration', () => {
  it('exits with a clear message for a short secret', async () => {
    await expect(startDemo([], { JWT_SECRET: 'short' })).rejects.toThrow(/"secret" must be at least 32 bytes/);
  }, 20_000);
});

describe('two demo processes sharing one Redis (JWT_STORE=redis://...)', () => {
  let redis: RedisServer;
  const demos: Demo[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = { JWT_SECRET: ENV_SECRET, JWT_STORE: `redis://${redis.host}:${redis.port}/0`, JWT_REVOKE_ACCESS_TOKENS: 'true' };
    demos.push(await startDemo([], env), await startDemo([], env));
  }, 60_000);

  afterAll(async () => {
    for (const demo of demos) demo.child.kill('SIGTERM');
    await redis?.stop();
  });

  it('a logout on one is refused by the other at once (its next request)', async () => {
    const [a, b] = demos as [Demo, Demo];
    const pair = (await request(a.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await request(b.base).get('/hello/').set('Authorization', `Bearer ${pair.access}`)).status).toBe(200);
    expect((await request(a.base).post('/api/token/blacklist/').send({ refresh: pair.refresh })).status).toBe(200);
    const refused = await request(b.base).post('/api/token/refresh/').send({ refresh: pair.refresh });
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toBe('Token is blacklisted');
    expect((await request(b.base).get('/hello/').set('Authorization', `Bearer ${pair.access}`)).status).toBe(401);
  });
});

describe('the demo keeps users and tokens in one SQLite file (the default store)', () => {
  it('a logout survives a restart of the demo', async () => {
    const env = { JWT_SECRET: ENV_SECRET, DEMO_DB: join(scratch, 'restart.sqlite3') };
    const first = await startDemo([], env);
    const pair = (await request(first.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await request(first.base).post('/api/token/blacklist/').send({ refresh: pair.refresh })).status).toBe(200);
    first.child.kill('SIGTERM');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const second = await startDemo([], env);
    try {
      const res = await request(second.base).post('/api/token/refresh/').send({ refresh: pair.refresh });
      expect(res.body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });
    } finally {
      second.child.kill('SIGTERM');
    }
  }, 30_000);
});
