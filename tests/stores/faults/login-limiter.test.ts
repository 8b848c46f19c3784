/**
 * The login limiter sharing a real Redis with the token store, under injected faults (the fault proxy between the
 * app and redis-server). A Redis that is stopped or blackholed makes login answer 503 `store_unavailable` within
 * 3 s with the default throttle, never 500 or a hang; once Redis is back, logins succeed again within 5 s without
 * restarting anything. The client is ioredis with its defaults (offline queue, 20 retries), as a host would have it.
 */
import request from 'supertest';
import Redis from 'ioredis';
import { RedisStore } from '../../../lib';
import { makeApp, type TestApp } from '../../helpers/app';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy';
import { useBackends } from '../../helpers/backends';

const backends = useBackends('faults-login');
let proxy: FaultProxy;
const clients: Redis[] = [];

beforeAll(async () => {
  proxy = await startFaultProxy({ port: backends.redis().port });
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await proxy.close();
});

/** Whether a test stopped redis-server (and afterEach must start it again). */
let stopped = false;

afterEach(async () => {
  proxy.heal();
  if (stopped) await backends.redis().up();
  stopped = false;
});

async function stopRedis(): Promise<void> {
  stopped = true;
  await backends.redis().down();
}

async function startRedis(): Promise<void> {
  await backends.redis().up();
  stopped = false;
}

const UNAVAILABLE = { detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' };

/** A kit on Redis through the proxy, with the default login throttle and store timeout. */
function appThroughProxy(prefix: string): TestApp {
  const client = new Redis({ host: proxy.host, port: proxy.port, disconnectTimeout: 100 });
  client.on('error', () => undefined);
  clients.push(client);
  return backends.track(makeApp({ store: new RedisStore(client, { prefix }), loginThrottle: undefined }));
}

async function timedLogin(app: TestApp['app'], password = '123') {
  const started = Date.now();
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password });
  return { res, ms: Date.now() - started };
}

/** Logs in every 100 ms until it answers 200; returns how long that took. */
async function msUntilLoginWorks(app: TestApp['app'], budgetMs = 8000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { res } = await timedLogin(app);
    if (res.status === 200) return Date.now() - started;
    expect(res.status).toBe(503);
    if (Date.now() - started > budgetMs) throw new Error(`login still ${res.status} after ${budgetMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function expectUnavailableFast(app: TestApp['app']): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const { res, ms } = await timedLogin(app, i === 1 ? 'wrong' : '123');
    expect(res.status).toBe(503);
    expect(res.body).toEqual(UNAVAILABLE);
    expect(res.headers['retry-after']).toBe('1');
    expect(ms).toBeLessThan(3000);
  }
}

describe('login limiter on Redis under faults', () => {
  it('Redis stopped: 503 store_unavailable within 3 s; back to 200 within 5 s of Redis returning', async () => {
    const { app } = appThroughProxy('stopped:');
    expect((await timedLogin(app)).res.status).toBe(200);
    await stopRedis();
    await expectUnavailableFast(app);
    await startRedis();
    expect(await msUntilLoginWorks(app)).toBeLessThan(5000);
  });

  it('Redis blackholed (connections hang): 503 within 3 s; back within 5 s after the link heals', async () => {
    const { app } = appThroughProxy('blackhole:');
    expect((await timedLogin(app)).res.status).toBe(200);
    proxy.stall();
    await expectUnavailableFast(app);
    proxy.heal();
    expect(await msUntilLoginWorks(app)).toBeLessThan(5000);
  });

  it('Redis down when the kit starts (the limiter cannot load its scripts): 503, then works once Redis is up', async () => {
    await stopRedis();
    const { app } = appThroughProxy('cold:');
    await expectUnavailableFast(app);
    await startRedis();
    expect(await msUntilLoginWorks(app)).toBeLessThan(5000);
    // The limiter counts again: failures still lead to 429.
    for (let i = 0; i < 10; i++) expect((await timedLogin(app, 'wrong')).res.status).toBe(401);
    expect((await timedLogin(app)).res.status).toBe(429);
  });

  it("a limiter reply lost on a link that then hangs: 503 within 3 s; once the link breaks, logins work again", async () => {
    const { app } = appThroughProxy('lost:');
    expect((await timedLogin(app)).res.status).toBe(200);
    const dropped = proxy.dropReplyOf(1, { then: 'stall' });
    const { res, ms } = await timedLogin(app);
    expect(await dropped).toBe('EVALSHA');
    expect(res.status).toBe(503);
    expect(res.body).toEqual(UNAVAILABLE);
    expect(ms).toBeLessThan(3000);
    proxy.cut();
    expect(await msUntilLoginWorks(app)).toBeLessThan(5000);
  });
});
