import request from 'supertest';
import type { Express } from 'express';
import { MemoryStore } from '../../lib';
import { makeApp, manualClock, SECRET } from '../helpers/app';
import { decodePart, forge } from '../helpers/jwt';
import { keyPairFor, pem } from '../helpers/keys';

const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };
const REFRESH_EXPIRED = { detail: "Token 'refresh_exp' claim has expired", code: 'token_not_valid' };

async function slidingLogin(app: Express, username = 'vitor'): Promise<string> {
  const res = await request(app).post('/api/token/sliding/').send({ username, password: '123' });
  expect(res.status).toBe(200);
  expect(Object.keys(res.body)).toEqual(['token']);
  return res.body.token as string;
}
const slide = (app: Express, token: string) => request(app).post('/api/token/sliding/refresh/').send({ token });
const hello = (app: Express, token: string) => request(app).get('/hello/').set('Authorization', `Bearer ${token}`);

function failure(...messages: [string, string, string][]) {
  return {
    detail: 'Given token not valid for any token type',
    code: 'token_not_valid',
    messages: messages.map(([token_class, token_type, message]) => ({ token_class, token_type, message })),
  };
}

describe('sliding tokens: POST /api/token/sliding/', () => {
  const clock = manualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const { app } = makeApp({ clock: clock.now, slidingTokens: true, customClaims: (u) => ({ name: u.username }) });

  it("answers {token} with simplejwt's claims in simplejwt's order and the default lifetimes (5m / 1d)", async () => {
    const token = await slidingLogin(app);
    const claims = decodePart(token, 1);
    expect(Object.keys(claims)).toEqual(['token_type', 'exp', 'iat', 'jti', 'refresh_exp', 'user_id', 'name']);
    const now = clock.now() / 1000;
    expect(claims).toMatchObject({ token_type: 'sliding', iat: now, exp: now + 300, refresh_exp: now + 86_400, user_id: '1', name: 'vitor' });
    expect(claims.jti).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses bad credentials with the login body, and has the login field errors', async () => {
    const wrong = await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ detail: 'No active account found with the given credentials', code: 'no_active_account' });
    const empty = await request(app).post('/api/token/sliding/').send({});
    expect(empty.status).toBe(400);
    expect(empty.body).toEqual({ username: ['This field is required.'], password: ['This field is required.'] });
  });

  it('405 for GET with Allow, and OPTIONS answers', async () => {
    const res = await request(app).get('/api/token/sliding/refresh/');
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ detail: 'Method "GET" not allowed.' });
    expect(res.headers.allow).toBe('POST, OPTIONS');
    expect((await request(app).options('/api/token/sliding/')).body.name).toBe('Token Obtain Sliding');
  });
});

describe('sliding refresh across the time boundaries (injected clock)', () => {
  const clock = manualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const { app } = makeApp({
    clock: clock.now,
    slidingTokens: true,
    slidingTokenLifetime: '5m',
    slidingTokenRefreshLifetime: '1h',
    customClaims: (u) => ({ name: u.username }),
  });

  it('before exp: a new exp and iat, the same jti, refresh_exp and claims, in the same order', async () => {
    const token = await slidingLogin(app);
    const first = decodePart(token, 1);
    clock.advance(60);
    const res = await slide(app, token);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['token']);
    const next = decodePart(res.body.token, 1);
    expect(Object.keys(next)).toEqual(Object.keys(first));
    expect(next).toEqual({ ...first, iat: (first.iat as number) + 60, exp: (first.iat as number) + 60 + 300 });
  });

  it('after exp (simplejwt #154): authenticate refuses the token, but the refresh still works', async () => {
    const token = await slidingLogin(app);
    const login = decodePart(token, 1);
    clock.advance(300); // exp == now: expired
    const expired = await hello(app, token);
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual(failure(['AccessToken', 'access', 'Token is expired'], ['SlidingToken', 'sliding', 'Token is expired']));
    clock.advance(600);
    const res = await slide(app, token);
    expect(res.status).toBe(200);
    const next = decodePart(res.body.token, 1);
    expect(next.refresh_exp).toBe(login.refresh_exp);
    expect(next.exp).toBe((login.iat as number) + 900 + 300);
    expect((await hello(app, res.body.token)).status).toBe(200);
  });

  it('refresh_exp never moves, exp never passes it, and at refresh_exp the refresh answers 401', async () => {
    let token = await slidingLogin(app);
    const { refresh_exp: refreshExp, iat } = decodePart(token, 1) as { refresh_exp: number; iat: number };
    for (let i = 0; i < 11; i++) {
      clock.advance(290);
      const res = await slide(app, token);
      expect(res.status).toBe(200);
      token = res.body.token;
      expect(decodePart(token, 1).refresh_exp).toBe(refreshExp);
    }
    // 3490 s after login: now + 5m would be 3790, past refresh_exp (3600), so exp is capped at refresh_exp.
    clock.advance(300);
    const capped = await slide(app, token);
    expect(capped.status).toBe(200);
    expect(decodePart(capped.body.token, 1).exp).toBe(refreshExp);
    expect(refreshExp - iat).toBe(3600);

    clock.set((refreshExp - 1) * 1000);
    expect((await slide(app, capped.body.token)).status).toBe(200);
    clock.set(refreshExp * 1000);
    const refused = await slide(app, capped.body.token);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual(REFRESH_EXPIRED);
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it('field errors, garbage, the wrong type', async () => {
    const pair = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await request(app).post('/api/token/sliding/refresh/').send({})).body).toEqual({ token: ['This field is required.'] });
    expect((await request(app).post('/api/token/sliding/refresh/').send({ token: '' })).body).toEqual({ token: ['This field may not be blank.'] });
    const garbage = await slide(app, 'x.y.z');
    expect(garbage.status).toBe(401);
    expect(garbage.body).toEqual({ detail: 'Token is invalid', code: 'token_not_valid' });
    for (const token of [pair.refresh, pair.access]) {
      const res = await slide(app, token);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
    }
    // and a sliding token is not a refresh token
    const sliding = await slidingLogin(app);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: sliding })).body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
  });

  it("a forged sliding token without refresh_exp, or with a non-integer one, is refused", async () => {
    const now = clock.now() / 1000;
    const body = (extra: string) =>
      `{"token_type":"sliding","exp":${now + 300},"iat":${now},"jti":"0123456789abcdef0123456789abcdef"${extra},"user_id":"1"}`;
    const missing = await slide(app, forge('{"alg":"HS256","typ":"JWT"}', body(''), SECRET));
    expect(missing.body).toEqual({ detail: "Token has no 'refresh_exp' claim", code: 'token_not_valid' });
    const fractional = await slide(app, forge('{"alg":"HS256","typ":"JWT"}', body(`,"refresh_exp":${now + 10}.5`), SECRET));
    expect(fractional.body).toEqual({ detail: 'Token is invalid', code: 'token_not_valid' });
  });

  it('refuses a user deactivated since, like the refresh endpoint', async () => {
    const { app: other, users } = makeApp({ slidingTokens: true });
    users.add({ id: 30, username: 'quitter', password: users.findByUsername('vitor')!.password, isActive: true });
    const token = await slidingLogin(other, 'quitter');
    users.findById('30')!.isActive = false;
    const res = await slide(other, token);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'No active account found for the given token.', code: 'no_active_account' });
  });
});

describe('authenticate() with sliding tokens (AUTH_TOKEN_CLASSES)', () => {
  it('accepts access and sliding tokens; a failure lists one message per class, in order', async () => {
    const { app } = makeApp({ slidingTokens: true });
    const sliding = await slidingLogin(app);
    const pair = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await hello(app, sliding)).status).toBe(200);
    expect((await hello(app, pair.access)).status).toBe(200);
    const stateless = await request(app).get('/stateless/').set('Authorization', `Bearer ${sliding}`);
    expect(stateless.body.auth).toMatchObject({ token_type: 'sliding', user_id: '1' });
    const refresh = await hello(app, pair.refresh);
    expect(refresh.status).toBe(401);
    expect(refresh.text).toBe(
      JSON.stringify(failure(['AccessToken', 'access', 'Token has wrong type'], ['SlidingToken', 'sliding', 'Token has wrong type'])),
    );
    const garbage = await hello(app, 'nope');
    expect(garbage.body).toEqual(failure(['AccessToken', 'access', 'Token is invalid'], ['SlidingToken', 'sliding', 'Token is invalid']));
  });

  it('authTokenClasses picks the classes and their order', async () => {
    const { app } = makeApp({ slidingTokens: true, authTokenClasses: ['sliding'] });
    const pair = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    const res = await hello(app, pair.access);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(failure(['SlidingToken', 'sliding', 'Token has wrong type']));
    expect((await hello(app, await slidingLogin(app))).status).toBe(200);

    const { app: reversed } = makeApp({ slidingTokens: true, authTokenClasses: ['sliding', 'access'] });
    expect((await hello(reversed, 'x')).body.messages.map((m: { token_class: string }) => m.token_class)).toEqual(['SlidingToken', 'AccessToken']);
  });

  it('without slidingTokens the endpoints do not exist and sliding tokens do not authenticate', async () => {
    const { app: issuer } = makeApp({ slidingTokens: true });
    const token = await slidingLogin(issuer);
    const { app } = makeApp();
    expect((await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' })).status).toBe(404);
    const res = await hello(app, token);
    expect(res.body).toEqual(failure(['AccessToken', 'access', 'Token has wrong type']));
  });
});

describe('sliding tokens are sessions: recorded, listed, revocable', () => {
  it('logout through /blacklist/ ends the token for authenticate() and refresh, even after its exp', async () => {
    const clock = manualClock();
    const { app } = makeApp({ clock: clock.now, slidingTokens: true });
    const token = await slidingLogin(app);
    const other = await slidingLogin(app);
    clock.advance(400); // past exp, before refresh_exp: still a live session
    const out = await request(app).post('/api/token/blacklist/').send({ refresh: token });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({});
    expect((await slide(app, token)).body).toEqual(BLACKLISTED);
    const fresh = (await slide(app, other)).body.token as string;
    expect((await hello(app, fresh)).status).toBe(200);
    // A slid token keeps its jti: logging it out kills every copy.
    await request(app).post('/api/token/blacklist/').send({ refresh: fresh });
    const res = await hello(app, fresh);
    expect(res.status).toBe(401);
    expect(res.body.messages[1]).toEqual({ token_class: 'SlidingToken', token_type: 'sliding', message: 'Token is blacklisted' });
    expect((await slide(app, other)).body).toEqual(BLACKLISTED);
  });

  it('a sliding token past refresh_exp cannot be logged out (nothing left to end)', async () => {
    const clock = manualClock();
    const { app } = makeApp({ clock: clock.now, slidingTokens: true, slidingTokenRefreshLifetime: '1h' });
    const token = await slidingLogin(app);
    clock.advance(3600);
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: token })).body).toEqual(REFRESH_EXPIRED);
  });

  it('is listed by GET /sessions/ until refresh_exp, and DELETE /sessions/ ends it', async () => {
    const clock = manualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    const { app, auth } = makeApp({ clock: clock.now, slidingTokens: true, store });
    const token = await slidingLogin(app);
    const jti = decodePart(token, 1).jti;
    expect(store.sessions('1', Math.floor(clock.now() / 1000)).map((s) => s.id)).toEqual([jti]);
    const list = await request(app).get('/api/token/sessions/').set('Authorization', `Bearer ${token}`);
    expect(list.status).toBe(200);
    expect(list.body).toEqual([
      { id: jti, created: '2026-06-01T08:00:00Z', last_used: '2026-06-01T08:00:00Z', expires: '2026-06-02T08:00:00Z', user_agent: null, ip: expect.any(String) },
    ]);
    const ended = await request(app).delete('/api/token/sessions/').set('Authorization', `Bearer ${token}`);
    expect(ended.status).toBe(204);
    expect((await slide(app, token)).body).toEqual(BLACKLISTED);
    await auth.close();
  });

  it('refuses a sliding token the store has never seen that predates it, unless adoptUnknownTokens', async () => {
    const clock = manualClock(Date.UTC(2026, 5, 1, 8, 0, 0));
    const { app: before } = makeApp({ clock: clock.now, slidingTokens: true });
    const token = await slidingLogin(before);
    clock.advance(60);
    const { app: wiped } = makeApp({ clock: clock.now, slidingTokens: true, store: new MemoryStore({ purgeIntervalSeconds: 0 }) });
    expect((await slide(wiped, token)).body).toEqual(BLACKLISTED);

    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    const { app } = makeApp({ clock: clock.now, slidingTokens: true, store, adoptUnknownTokens: true });
    expect((await slide(app, token)).status).toBe(200);
    expect(store.sessions('1', Math.floor(clock.now() / 1000)).map((s) => s.id)).toEqual([decodePart(token, 1).jti]);
    await request(app).post('/api/token/blacklist/').send({ refresh: token });
    expect((await slide(app, token)).body).toEqual(BLACKLISTED);
  });

  it('count toward maxSessionsPerUser', async () => {
    const { app } = makeApp({ slidingTokens: true, maxSessionsPerUser: 1, sessionLimitPolicy: 'refuse' });
    await slidingLogin(app);
    const res = await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ detail: 'Too many active sessions for this account; log out elsewhere first.', code: 'session_limit' });
  });
});

describe('verify-only servers', () => {
  it('answer 404 verify_only on the sliding endpoints and accept sliding tokens in authenticate()', async () => {
    const pair = keyPairFor('ES256');
    const issuer = makeApp({ algorithm: 'ES256', signingKey: pair.privateKey, slidingTokens: true });
    const token = await slidingLogin(issuer.app);
    const { app } = makeApp({ algorithm: 'ES256', verifyingKey: pem(pair.publicKey), slidingTokens: true });
    for (const path of ['/api/token/sliding/', '/api/token/sliding/refresh/']) {
      const res = await request(app).post(path).send({ token });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('verify_only');
    }
    expect((await hello(app, token)).status).toBe(200);
  });
});
