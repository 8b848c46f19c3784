/**
 * Faults injected between the app and a real redis-server (tests/helpers/fault-proxy.ts): a refresh whose reply
 * is lost, a blackholed Redis. One store step per event, so a failed request changes nothing and a retry behaves
 * as if the first had never run, or (with reuseInterval) gets the successor the first one issued.
 */
import Redis from 'ioredis';
import request from 'supertest';
import type { Express } from 'express';
import { RedisStore } from '../../../lib';
import { makeApp } from '../../helpers/app';
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy';
import { startRedisServer, type RedisServer } from '../redis-server';

let server: RedisServer;
let proxy: FaultProxy;
const clients: Redis[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startFaultProxy({ port: server.port });
}, 130_000);

afterAll(async () => {
  for (const close of closers) await close();
  for (const client of clients) client.disconnect();
  await proxy?.close();
  await server?.stop();
});

afterEach(() => proxy.heal());

/** An app on a RedisStore whose client goes through the proxy, failing fast while the link is down (no queue, no resend). */
async function appThroughProxy(options: Parameters<typeof makeApp>[0] = {}) {
  const client = new Redis({ host: proxy.host, port: proxy.port, enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, retryStrategy: () => 50 });
  client.on('error', () => undefined);
  clients.push(client);
  await new Promise((resolve) => client.once('ready', resolve));
  const store = new RedisStore(client, { purgeIntervalSeconds: 0, warnings: false });
  await store.init();
  const made = makeApp({ store, rotateRefreshTokens: true, ...options });
  closers.push(() => made.auth.close());
  return { ...made, client };
}

async function ready(client: Redis): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise((resolve) => client.once('ready', resolve));
}

/** Logs in, then lets the store's best-effort bookkeeping after the event (its purge schedule) reach Redis. */
async function login(app: Express) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  await settle();
  return res.body as { access: string; refresh: string };
}

/** Waits until no command has gone through the proxy for 100 ms. */
async function settle(): Promise<void> {
  for (let seen = -1; seen !== proxy.requests; ) {
    seen = proxy.requests;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const refresh = (app: Express, token: string) => request(app).post('/api/token/refresh/').send({ refresh: token });

describe('a refresh whose reply was lost', () => {
  it('answers 503; with reuseInterval the retries get the same successor, twice, and no session ends', async () => {
    const { app, client } = await appThroughProxy({ reuseInterval: '30s' });
    const pair = await login(app);
    // A refresh reads the shared lifetimes, then rotates: the 2nd command is the rotation script. It runs in
    // Redis; its reply never comes back.
    const dropped = proxy.dropReplyOf(2);
    const lost = await refresh(app, pair.refresh);
    expect(await dropped).toBe('EVALSHA');
    expect(lost.status).toBe(503);
    expect(lost.body).toEqual({ detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' });
    await ready(client);
    const first = await refresh(app, pair.refresh);
    const second = await refresh(app, pair.refresh);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.refresh).toBe(first.body.refresh); // the successor the lost rotation issued
    const sessions = await request(app).get('/api/token/sessions/').set('Authorization', `Bearer ${second.body.access}`);
    expect(sessions.body).toHaveLength(1);
    expect((await refresh(app, first.body.refresh)).status).toBe(200); // the session goes on
  }, 30_000);

  it('without reuseInterval, the retry is refused as reuse (simplejwt\'s default), as the rotation did happen', async () => {
    const { app, client } = await appThroughProxy();
    const pair = await login(app);
    const dropped = proxy.dropReplyOf(2);
    expect((await refresh(app, pair.refresh)).status).toBe(503);
    expect(await dropped).toBe('EVALSHA');
    await ready(client);
    expect((await refresh(app, pair.refresh)).body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });
  }, 30_000);
});

describe('a blackholed Redis', () => {
  it('answers 503 within the store timeout, and serves again once Redis answers, without a restart', async () => {
    const { app } = await appThroughProxy({ storeTimeoutMs: 1000 });
    const pair = await login(app);
    proxy.stall();
    const started = Date.now();
    const res = await refresh(app, pair.refresh);
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
    proxy.heal();
    const deadline = Date.now() + 5000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await refresh(app, pair.refresh)).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  }, 30_000);
});
