/**
 * One store step per session event, seen over HTTP: retries within reuseInterval get the same successor, a failed
 * step changes nothing, consumed tokens are refused everywhere, and revocations outlive the leeway.
 */
import request from 'supertest';
import type { Express } from 'express';
import { MemoryStore, type SessionStart } from '../../lib';
import { makeApp, manualClock } from '../helpers/app';
import { decodePart } from '../helpers/jwt';

const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };
const UNAVAILABLE = { detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' };

async function login(app: Express) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}

const refresh = (app: Express, token: string) => request(app).post('/api/token/refresh/').send({ refresh: token });
const sessions = (app: Express, access: string) => request(app).get('/api/token/sessions/').set('Authorization', `Bearer ${access}`);

/** A MemoryStore whose next `failures` logins throw before touching anything, as an unreachable store does. */
class FlakyStore extends MemoryStore {
  failures = 0;
  override startSession(start: SessionStart) {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('connection reset');
    }
    return super.startSession(start);
  }
}

describe('refresh retries within reuseInterval', () => {
  it('gives the same refresh token back (new access tokens) and never a second branch; past it, reuse ends the session', async () => {
    const clock = manualClock();
    const { app } = makeApp({ clock: clock.now, rotateRefreshTokens: true, reuseInterval: '30s' });
    const pair = await login(app);
    clock.advance(5);
    const first = await refresh(app, pair.refresh);
    expect(first.status).toBe(200);
    clock.advance(5);
    const retry = await refresh(app, pair.refresh); // the client never saw `first` (a lost reply) and retries
    clock.advance(5);
    const again = await refresh(app, pair.refresh);
    for (const res of [retry, again]) {
      expect(res.status).toBe(200);
      expect(res.body.refresh).toBe(first.body.refresh); // HS256 signing is deterministic: the very same token
      expect(decodePart(res.body.access, 1).jti).not.toBe(decodePart(first.body.access, 1).jti);
    }
    expect((await sessions(app, again.body.access)).body).toHaveLength(1);
    const next = await refresh(app, first.body.refresh); // the client goes on with the successor
    expect(next.status).toBe(200);
    clock.advance(30);
    expect((await refresh(app, pair.refresh)).body).toEqual(BLACKLISTED); // past the interval: reuse
    expect((await refresh(app, next.body.refresh)).body).toEqual(BLACKLISTED); // the session ended
  });

  it('with the default 0, refuses the rotated token at once and ends the session', async () => {
    const { app } = makeApp({ rotateRefreshTokens: true });
    const pair = await login(app);
    const first = await refresh(app, pair.refresh);
    expect(first.status).toBe(200);
    expect((await refresh(app, pair.refresh)).body).toEqual(BLACKLISTED);
    expect((await refresh(app, first.body.refresh)).body).toEqual(BLACKLISTED);
  });

  it('10 concurrent refreshes of one token: one rotation, nine retries naming the same successor', async () => {
    const { app } = makeApp({ rotateRefreshTokens: true, reuseInterval: 30 });
    const pair = await login(app);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(app, pair.refresh)));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(results.map((r) => r.body.refresh)).size).toBe(1);
    expect((await sessions(app, results[0]!.body.access)).body).toHaveLength(1);
  });
});

describe('a failed store step changes nothing', () => {
  it('a login whose store step failed answers 503 and leaves no session; the next login works', async () => {
    const store = new FlakyStore({ purgeIntervalSeconds: 0 });
    const { app } = makeApp({ store, maxSessionsPerUser: 1, sessionLimitPolicy: 'refuse' });
    store.failures = 1;
    const failed = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(failed.status).toBe(503);
    expect(failed.body).toEqual(UNAVAILABLE);
    const pair = await login(app); // the cap of 1 would refuse it had the failed login left a session
    expect((await sessions(app, pair.access)).body).toHaveLength(1);
  });
});

describe('consumed tokens and leeway', () => {
  it('/verify/ refuses a rotated refresh token as blacklisted (as simplejwt does)', async () => {
    const { app } = makeApp({ rotateRefreshTokens: true, blacklistAfterRotation: true });
    const pair = await login(app);
    expect((await refresh(app, pair.refresh)).status).toBe(200);
    const verify = await request(app).post('/api/token/verify/').send({ token: pair.refresh });
    expect(verify.status).toBe(401);
    expect(verify.body).toEqual(BLACKLISTED);
  });

  it('keeps a logout until the token can no longer verify, leeway included, even after a purge', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    const { app } = makeApp({ clock: clock.now, store, leeway: 60, refreshTokenLifetime: 600 });
    const pair = await login(app);
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh })).status).toBe(200);
    clock.advance(630); // past exp, within the leeway
    store.purgeExpired(Math.floor(clock.now() / 1000));
    expect((await refresh(app, pair.refresh)).body).toEqual(BLACKLISTED);
  });

  it('keeps a session ended for as long as its access tokens live, even when they outlive its refresh token', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    const { app } = makeApp({ clock: clock.now, store, revokeAccessTokens: true, accessTokenLifetime: 300, refreshTokenLifetime: 600 });
    const pair = await login(app);
    clock.advance(500);
    const late = await refresh(app, pair.refresh); // an access token living until 800 s, past the refresh token's 600 s
    expect(late.status).toBe(200);
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh })).status).toBe(200);
    clock.advance(200);
    store.purgeExpired(Math.floor(clock.now() / 1000));
    const hello = await request(app).get('/hello/').set('Authorization', `Bearer ${late.body.access}`);
    expect(hello.status).toBe(401);
  });
});
