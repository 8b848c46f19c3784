/**
 * The demo's JWT_REUSE_INTERVAL and JWT_STORE_TIMEOUT switches: parsed as durations, mapped to the kit's
 * `reuseInterval` and `storeTimeoutMs`, refused with the variable's name when malformed, and in effect in a
 * running demo (a rotated token presented again within the interval does not end the session; a stopped Redis
 * answers 503 within the configured timeout).
 */
import request from 'supertest';
import { parseDurationMs } from '../../../lib/config/duration';
import { kitOptionsFromEnv } from '../../../demo-app/settings';
import { startDemo, type Demo } from '../../helpers/demo';
import { startRedisServer, type RedisServer } from '../../stores/redis-server';

const SECRET = 'demo-switches-secret-3b8f0d2e6a4c1975-f0e1d2c3b4a59687-aa11bb22cc33';

describe('parseDurationMs', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['3', 3000],
    [2, 2000],
    ['1m', 60_000],
    ['250 milliseconds', 250],
  ])('%j is %d ms', (value, ms) => {
    expect(parseDurationMs(value, 'X')).toBe(ms);
  });

  it.each(['0', '0ms', '-1s', 'soon', '1.5ms', '', 'NaN'])('refuses %j, naming the option', (value) => {
    expect(() => parseDurationMs(value, 'JWT_STORE_TIMEOUT')).toThrow(/^"JWT_STORE_TIMEOUT" must be a positive duration such as '500ms'/);
  });
});

describe('JWT_REUSE_INTERVAL and JWT_STORE_TIMEOUT (kitOptionsFromEnv)', () => {
  it.each([
    [{ JWT_REUSE_INTERVAL: '30s' }, { reuseInterval: 30 }],
    [{ JWT_REUSE_INTERVAL: '2m' }, { reuseInterval: 120 }],
    [{ JWT_REUSE_INTERVAL: '45' }, { reuseInterval: 45 }],
    [{ JWT_REUSE_INTERVAL: '0' }, { reuseInterval: 0 }],
    [{ JWT_STORE_TIMEOUT: '500ms' }, { storeTimeoutMs: 500 }],
    [{ JWT_STORE_TIMEOUT: '2s' }, { storeTimeoutMs: 2000 }],
    [{ JWT_STORE_TIMEOUT: '3' }, { storeTimeoutMs: 3000 }],
    [{ JWT_REUSE_INTERVAL: '', JWT_STORE_TIMEOUT: '' }, {}],
  ])('%j', (env, expected) => {
    expect(kitOptionsFromEnv([], env)).toEqual(expected);
  });

  it('refuses a malformed value, naming the variable', () => {
    expect(() => kitOptionsFromEnv([], { JWT_REUSE_INTERVAL: 'a while' })).toThrow(/"JWT_REUSE_INTERVAL" must be a number of seconds or a duration/);
    expect(() => kitOptionsFromEnv([], { JWT_REUSE_INTERVAL: '1.5s' })).toThrow(/"JWT_REUSE_INTERVAL" must be a positive whole number of seconds/);
    expect(() => kitOptionsFromEnv([], { JWT_STORE_TIMEOUT: '0ms' })).toThrow(/"JWT_STORE_TIMEOUT" must be a positive duration/);
  });

  it('a malformed value stops the demo at start with the message', async () => {
    await expect(startDemo([], { JWT_SECRET: SECRET, JWT_STORE_TIMEOUT: 'later' })).rejects.toThrow(/demo-app: "JWT_STORE_TIMEOUT" must be a positive duration/);
  }, 30_000);
});

describe('the switches in a running demo', () => {
  const demos: Demo[] = [];
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await startRedisServer();
  }, 130_000);

  afterAll(async () => {
    for (const demo of demos) await demo.stop();
    await redis?.stop();
  });

  async function login(demo: Demo): Promise<{ access: string; refresh: string }> {
    const res = await request(demo.base).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(200);
    return res.body as { access: string; refresh: string };
  }

  it('JWT_REUSE_INTERVAL=30s: a rotated token presented again at once does not end the session (without it, it does)', async () => {
    const env = { JWT_SECRET: SECRET, JWT_ROTATE_REFRESH_TOKENS: 'true', JWT_STORE: 'memory', JWT_LOGIN_THROTTLE: 'off' };
    const [withInterval, without] = await Promise.all([startDemo([], { ...env, JWT_REUSE_INTERVAL: '30s' }), startDemo([], env)]);
    demos.push(withInterval, without);
    for (const [demo, survives] of [
      [withInterval, true],
      [without, false],
    ] as const) {
      const { refresh } = await login(demo);
      const rotated = await request(demo.base).post('/api/token/refresh/').send({ refresh });
      expect(rotated.status).toBe(200);
      // The client's retry: the old token again (the answer to it is the kit's business; the session's fate is ours).
      await request(demo.base).post('/api/token/refresh/').send({ refresh });
      const next = await request(demo.base).post('/api/token/refresh/').send({ refresh: rotated.body.refresh });
      expect(next.status).toBe(survives ? 200 : 401);
    }
  }, 60_000);

  it('JWT_STORE_TIMEOUT=200ms: with Redis stopped, login answers 503 store_unavailable within the timeout, not the default 1 s', async () => {
    const demo = await startDemo([], { JWT_SECRET: SECRET, JWT_STORE: `redis://${redis.host}:${redis.port}/0`, JWT_STORE_TIMEOUT: '200ms' });
    demos.push(demo);
    await login(demo);
    await redis.down();
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const res = await request(demo.base).post('/api/token/').send({ username: 'vitor', password: '123' });
        const ms = Date.now() - started;
        expect(res.status).toBe(503);
        expect(res.body).toEqual({ detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' });
        expect(ms).toBeLessThan(900);
      }
    } finally {
      await redis.up();
    }
  }, 60_000);
});
