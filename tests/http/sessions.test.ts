import request from 'supertest';
import type { Express } from 'express';
import { makeApp, manualClock } from '../helpers/app';
import { decodePart } from '../helpers/jwt';

async function login(app: Express, agent = 'agent-1') {
  const res = await request(app).post('/api/token/').set('User-Agent', agent).send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}
const bearer = (access: string) => ({ Authorization: `Bearer ${access}` });

describe('sessions', () => {
  const clock = manualClock(Date.UTC(2026, 10, 26, 10, 0, 0));
  const { app, auth } = makeApp({ clock: clock.now, rotateRefreshTokens: true });

  it('GET /api/token/sessions/ lists the caller\'s live sessions', async () => {
    const a = await login(app, 'phone');
    clock.advance(60);
    const b = await login(app, 'laptop');
    clock.advance(60);
    await request(app).post('/api/token/refresh/').send({ refresh: b.refresh });
    const res = await request(app).get('/api/token/sessions/').set(bearer(a.access));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual([
      { id: decodePart(a.refresh, 1).jti, created: '2026-11-26T10:00:00Z', last_used: '2026-11-26T10:00:00Z', expires: '2026-11-27T10:00:00Z', user_agent: 'phone', ip: expect.any(String) },
      { id: decodePart(b.refresh, 1).jti, created: '2026-11-26T10:01:00Z', last_used: '2026-11-26T10:02:00Z', expires: '2026-11-27T10:01:00Z', user_agent: 'laptop', ip: expect.any(String) },
    ]);
  });

  it('requires authentication', async () => {
    const res = await request(app).get('/api/token/sessions/');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Authentication credentials were not provided.' });
  });

  it('DELETE /api/token/sessions/<id>/ ends one session; another user\'s or an unknown id is 404', async () => {
    const a = await login(app);
    const b = await login(app);
    const id = decodePart(b.refresh, 1).jti as string;
    const res = await request(app).delete(`/api/token/sessions/${id}/`).set(bearer(a.access));
    expect(res.status).toBe(204);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: b.refresh })).body.detail).toBe('Token is blacklisted');
    expect((await request(app).post('/api/token/refresh/').send({ refresh: a.refresh })).status).toBe(200);
    const again = await request(app).delete(`/api/token/sessions/${id}/`).set(bearer(a.access));
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ detail: 'Not found.' });
  });

  it('DELETE /api/token/sessions/ logs out everywhere', async () => {
    const a = await login(app);
    const b = await login(app);
    expect((await request(app).delete('/api/token/sessions/').set(bearer(a.access))).status).toBe(204);
    for (const token of [a.refresh, b.refresh]) {
      expect((await request(app).post('/api/token/refresh/').send({ refresh: token })).body.detail).toBe('Token is blacklisted');
    }
    expect((await request(app).get('/api/token/sessions/').set(bearer(a.access))).body).toEqual([]);
    // Logging in again right away works.
    expect((await request(app).post('/api/token/refresh/').send({ refresh: (await login(app)).refresh })).status).toBe(200);
  });

  it('revokeUser(id) is the same from code', async () => {
    const a = await login(app);
    await auth.revokeUser(1);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: a.refresh })).body.detail).toBe('Token is blacklisted');
  });

  it('405 for other methods', async () => {
    const a = await login(app);
    const res = await request(app).post('/api/token/sessions/').set(bearer(a.access));
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, DELETE, OPTIONS');
  });
});

describe('the per-user session cap', () => {
  it('evicts the oldest session by default', async () => {
    const clock = manualClock();
    const { app } = makeApp({ clock: clock.now, maxSessionsPerUser: 2 });
    const first = await login(app);
    clock.advance(1);
    const second = await login(app);
    clock.advance(1);
    await login(app);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: second.refresh })).status).toBe(200);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: first.refresh })).body.detail).toBe('Token is blacklisted');
  });

  it("refuses the login with policy 'refuse'", async () => {
    const { app } = makeApp({ maxSessionsPerUser: 1, sessionLimitPolicy: 'refuse' });
    await login(app);
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('session_limit');
  });
});

describe('password change', () => {
  const CHANGED = { detail: "The user's password has been changed.", code: 'password_changed' };

  it('older tokens answer password_changed; a token issued after the change, in the same second, works', async () => {
    const clock = manualClock(Date.UTC(2026, 0, 1, 0, 0, 0, 100));
    const changed: { at?: number } = {};
    const { app } = makeApp({ clock: clock.now, getCredentialsChangedAt: () => changed.at });
    const before = await login(app);
    clock.advance(5);
    changed.at = clock.now() + 500; // later in the same second
    const same = await login(app);
    const res = await request(app).get('/hello/').set(bearer(before.access));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(CHANGED);
    const refreshed = await request(app).post('/api/token/refresh/').send({ refresh: before.refresh });
    expect(refreshed.status).toBe(401);
    expect(refreshed.body.code).toBe('password_changed');
    expect((await request(app).get('/hello/').set(bearer(same.access))).status).toBe(200);
    expect(decodePart(same.access, 1).credentials_changed_at).toBe(changed.at);
  });

  // Issue 14, finding 2: `iat < floor(changedAt / 1000)` let every token of the change's own second through.
  describe('no same-second hole (issue 14, finding 2)', () => {
    const start = Date.UTC(2026, 0, 1, 0, 0, 0, 100);

    it('a session begun earlier in the second of the change ends with it: access, refresh and refresh after refresh', async () => {
      const clock = manualClock(start);
      const changed: { at?: number } = {};
      const { app } = makeApp({ clock: clock.now, getCredentialsChangedAt: () => changed.at });
      const stolen = await login(app);
      clock.set(start + 200);
      const thiefAccess = (await request(app).post('/api/token/refresh/').send({ refresh: stolen.refresh })).body.access as string;
      clock.set(start + 500);
      changed.at = clock.now(); // the owner changes the password, 0.5 s after the login, in the same second
      clock.set(start + 550);
      expect((await request(app).get('/hello/').set(bearer(stolen.access))).body).toEqual(CHANGED);
      expect((await request(app).get('/hello/').set(bearer(thiefAccess))).body).toEqual(CHANGED);
      expect((await request(app).post('/api/token/refresh/').send({ refresh: stolen.refresh })).body).toEqual(CHANGED);
    });

    it('rotation carries the claim: a thief rotating every 50 ms around the change is cut off at the change', async () => {
      const clock = manualClock(start);
      const changed: { at?: number } = {};
      const { app } = makeApp({ clock: clock.now, rotateRefreshTokens: true, getCredentialsChangedAt: () => changed.at });
      let refresh = (await login(app)).refresh;
      for (let ms = 150; ms <= 450; ms += 50) {
        clock.set(start + ms);
        const res = await request(app).post('/api/token/refresh/').send({ refresh });
        expect(res.status).toBe(200);
        refresh = res.body.refresh as string;
      }
      changed.at = start + 480;
      for (const ms of [500, 550, 1_100, 60_000]) {
        clock.set(start + ms);
        expect((await request(app).post('/api/token/refresh/').send({ refresh })).body).toEqual(CHANGED);
      }
    });

    it('sliding tokens carry it too', async () => {
      const clock = manualClock(start);
      const changed: { at?: number } = {};
      const { app } = makeApp({ clock: clock.now, slidingTokens: true, getCredentialsChangedAt: () => changed.at });
      const login = await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' });
      clock.set(start + 100);
      const slid = (await request(app).post('/api/token/sliding/refresh/').send({ token: login.body.token })).body.token as string;
      changed.at = start + 300;
      clock.set(start + 400);
      expect((await request(app).post('/api/token/sliding/refresh/').send({ token: slid })).body).toEqual(CHANGED);
      expect((await request(app).get('/hello/').set(bearer(slid))).body).toEqual(CHANGED);
    });

    it('a login checked against the old password while the change lands gets a token the change has already ended', async () => {
      const clock = manualClock(start);
      const changed: { at?: number } = {};
      const { app } = makeApp({
        clock: clock.now,
        getCredentialsChangedAt: () => changed.at,
        // The change lands right after the kit read the (old) hash, while bcrypt is checking it.
        getPasswordHash: (user) => {
          const hash = user.password;
          if (changed.at === undefined) changed.at = start + 10;
          return hash;
        },
      });
      const raced = await login(app);
      expect((await request(app).get('/hello/').set(bearer(raced.access))).body).toEqual(CHANGED);
      expect((await request(app).post('/api/token/refresh/').send({ refresh: raced.refresh })).body).toEqual(CHANGED);
    });

    it('a token without the claim (minted before the option, or by simplejwt) is refused when issued in the change\'s second', async () => {
      const clock = manualClock(start);
      const changed: { at?: number } = {};
      const { app, auth } = makeApp({ clock: clock.now, getCredentialsChangedAt: () => changed.at });
      const bare = auth.tokens.issuePair(auth.tokens.userClaims(1, undefined));
      expect(decodePart(bare.access.token, 1)).not.toHaveProperty('credentials_changed_at');
      changed.at = start + 300;
      clock.set(start + 400);
      expect((await request(app).get('/hello/').set(bearer(bare.access.token))).body).toEqual(CHANGED);
      clock.set(start + 1_000);
      const later = auth.tokens.issuePair(auth.tokens.userClaims(1, undefined));
      expect((await request(app).get('/hello/').set(bearer(later.access.token))).status).toBe(200);
    });

    it('without getCredentialsChangedAt the tokens are unchanged on the wire; customClaims may not set the claim', async () => {
      const { app } = makeApp();
      const { access, refresh } = await login(app);
      expect(Object.keys(decodePart(access, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id']);
      expect(Object.keys(decodePart(refresh, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id']);
      const withHook = makeApp({ getCredentialsChangedAt: () => null, customClaims: () => ({ name: 'v' }) });
      expect(Object.keys(decodePart((await login(withHook.app)).access, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'credentials_changed_at', 'name']);
      const clash = makeApp({ getCredentialsChangedAt: () => null, customClaims: () => ({ credentials_changed_at: 0 }) });
      expect((await request(clash.app).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(500);
    });
  });
});
