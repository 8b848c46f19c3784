/**
 * A Redis that forgot (restarted empty, flushed) must not resurrect logged-out tokens: the store knows when each
 * user's memory began, so tokens it does not know that are older are refused, over HTTP as in the store.
 */
import request from 'supertest';
import type { Express } from 'express';
import { RedisStore } from '../../lib';
import { makeApp, manualClock } from '../helpers/app';
import { useBackends } from '../helpers/backends';

const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };
const backends = useBackends('redis-wipe');

async function login(app: Express) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}
const refresh = (app: Express, token: string) => request(app).post('/api/token/refresh/').send({ refresh: token });

describe('RedisStore after Redis forgot everything', () => {
  it.each([
    ['restarts empty', () => backends.redis().restart()],
    ['is flushed (FLUSHALL)', async () => void (await (await backends.redisClient()).flushall())],
  ])('keeps a logged-out token refused when Redis %s, and lets users log in again', async (_name, wipe) => {
    const client = await backends.redisClient();
    const clock = manualClock(Date.now());
    const store = new RedisStore(client, { prefix: `wipe${Math.random()}:`, clock: clock.now, warnings: false });
    const { app } = backends.track(makeApp({ store, clock: clock.now, rotateRefreshTokens: true, revokeAccessTokens: true }));
    const loggedOut = await login(app);
    const other = await login(app);
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: loggedOut.refresh })).status).toBe(200);
    expect((await refresh(app, loggedOut.refresh)).body).toEqual(BLACKLISTED);

    // The wipe comes a minute later: the store's new memory begins after these tokens were issued.
    clock.advance(60);
    await wipe();
    let res = await refresh(app, loggedOut.refresh);
    for (let i = 0; i < 50 && res.status === 503; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await refresh(app, loggedOut.refresh);
    }
    expect(res.status).toBe(401);
    expect(res.body).toEqual(BLACKLISTED);
    expect((await refresh(app, other.refresh)).body).toEqual(BLACKLISTED);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${other.access}`)).status).toBe(401);

    const fresh = await login(app);
    expect((await refresh(app, fresh.refresh)).status).toBe(200);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${fresh.access}`)).status).toBe(200);
  }, 30_000);
});
