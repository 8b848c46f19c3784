import request from 'supertest';
import type { Express } from 'express';
import { makeApp, manualClock, memoryLogger } from '../helpers/app';
import { decodePart } from '../helpers/jwt';

const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };

async function login(app: Express, username = 'vitor', agent = 'jest-agent') {
  const res = await request(app).post('/api/token/').set('User-Agent', agent).send({ username, password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}

const refresh = (app: Express, token: string) => request(app).post('/api/token/refresh/').send({ refresh: token });
const hello = (app: Express, access: string) => request(app).get('/hello/').set('Authorization', `Bearer ${access}`);

describe('POST /api/token/blacklist/ (logout)', () => {
  const { app, users } = makeApp();

  it('answers {} and the refresh token is dead for refresh, verify and blacklist', async () => {
    const pair = await login(app);
    const out = await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh });
    expect(out.status).toBe(200);
    expect(out.text).toBe('{}');
    expect(out.headers['cache-control']).toBe('no-store');
    for (const path of ['refresh', 'blacklist']) {
      const res = await request(app).post(`/api/token/${path}/`).send({ refresh: pair.refresh });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(BLACKLISTED);
    }
    const verify = await request(app).post('/api/token/verify/').send({ token: pair.refresh });
    expect(verify.status).toBe(401);
    expect(verify.body).toEqual(BLACKLISTED);
  });

  it('ends the session but not the others', async () => {
    const a = await login(app);
    const b = await login(app);
    await request(app).post('/api/token/blacklist/').send({ refresh: a.refresh });
    expect((await refresh(app, b.refresh)).status).toBe(200);
  });

  it('field errors, wrong type, garbage', async () => {
    const pair = await login(app);
    expect((await request(app).post('/api/token/blacklist/').send({})).body).toEqual({ refresh: ['This field is required.'] });
    const wrong = await request(app).post('/api/token/blacklist/').send({ refresh: pair.access });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: 'x' })).body.detail).toBe('Token is invalid');
  });

  it('logs out a user deactivated since (200: logout checks no user)', async () => {
    users.add({ id: 20, username: 'leaver', password: users.findByUsername('vitor')!.password, isActive: true });
    const pair = await login(app, 'leaver');
    users.findById('20')!.isActive = false;
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh })).status).toBe(200);
  });

  it('405 for GET', async () => {
    const res = await request(app).get('/api/token/blacklist/');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST, OPTIONS');
  });
});

describe('access tokens after logout', () => {
  it('stay valid until they expire by default (no store look-up per request)', async () => {
    const { app } = makeApp();
    const pair = await login(app);
    await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh });
    expect((await hello(app, pair.access)).status).toBe(200);
  });

  it('die at once with revokeAccessTokens, including those from refreshes of the session', async () => {
    const { app } = makeApp({ revokeAccessTokens: true });
    const pair = await login(app);
    const other = await login(app);
    const refreshed = (await refresh(app, pair.refresh)).body.access as string;
    expect((await hello(app, refreshed)).status).toBe(200);
    await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh });
    for (const access of [pair.access, refreshed]) {
      const res = await hello(app, access);
      expect(res.status).toBe(401);
      expect(res.body.messages[0].message).toBe('Token is blacklisted');
    }
    expect((await hello(app, other.access)).status).toBe(200);
  });
});

describe('rotation with blacklist-after-rotation and reuse detection', () => {
  const clock = manualClock();
  const logger = memoryLogger();
  const reused: unknown[] = [];
  const { app } = makeApp({ clock: clock.now, rotateRefreshTokens: true, logger, onTokenReuse: (event) => void reused.push(event) });

  it('consumes the presented token; presenting it again revokes the whole session', async () => {
    const pair = await login(app);
    clock.advance(10);
    const first = await refresh(app, pair.refresh);
    expect(first.status).toBe(200);
    clock.advance(10);
    const second = await refresh(app, first.body.refresh);
    expect(second.status).toBe(200);
    // The stolen original comes back: the session dies, including the newest token.
    const replay = await refresh(app, pair.refresh);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual(BLACKLISTED);
    expect((await refresh(app, second.body.refresh)).body).toEqual(BLACKLISTED);
    expect(reused).toHaveLength(1);
    expect(reused[0]).toMatchObject({ userId: '1', jti: decodePart(pair.refresh, 1).jti, familyId: decodePart(pair.refresh, 1).jti });
    expect(logger.lines.join('\n')).toContain('TOKEN_REUSE');
    expect(logger.lines.join('\n')).not.toContain(pair.refresh);
  });

  it('never extends the session past the login refresh lifetime', async () => {
    const pair = await login(app);
    const loginExp = decodePart(pair.refresh, 1).exp;
    let token = pair.refresh;
    for (let i = 0; i < 3; i++) {
      clock.advance(6 * 3600);
      const res = await refresh(app, token);
      expect(res.status).toBe(200);
      token = res.body.refresh;
      expect(decodePart(token, 1).exp).toBe(loginExp);
    }
    clock.advance(6 * 3600);
    expect((await refresh(app, token)).body.detail).toBe('Token is expired');
  });
});

describe('rotation options', () => {
  it('without blacklist-after-rotation the old token keeps working (simplejwt default)', async () => {
    const { app } = makeApp({ rotateRefreshTokens: true, blacklistAfterRotation: false });
    const pair = await login(app);
    expect((await refresh(app, pair.refresh)).status).toBe(200);
    expect((await refresh(app, pair.refresh)).status).toBe(200);
  });

  it('a reuse interval tolerates a client retrying within N seconds', async () => {
    const clock = manualClock();
    const { app } = makeApp({ clock: clock.now, rotateRefreshTokens: true, reuseInterval: 5 });
    const pair = await login(app);
    const first = await refresh(app, pair.refresh);
    clock.advance(3);
    const retry = await refresh(app, pair.refresh);
    expect(retry.status).toBe(200);
    expect((await refresh(app, first.body.refresh)).status).toBe(200);
    clock.advance(10);
    expect((await refresh(app, pair.refresh)).body).toEqual(BLACKLISTED);
  });

  it('reuse detection off: a replay is refused but the session lives', async () => {
    const { app } = makeApp({ rotateRefreshTokens: true, reuseDetection: false });
    const pair = await login(app);
    const first = await refresh(app, pair.refresh);
    expect((await refresh(app, pair.refresh)).body).toEqual(BLACKLISTED);
    expect((await refresh(app, first.body.refresh)).status).toBe(200);
  });

  it('20 concurrent refreshes of one token produce exactly one new token', async () => {
    const { app } = makeApp({ rotateRefreshTokens: true });
    const pair = await login(app);
    const results = await Promise.all(Array.from({ length: 20 }, () => refresh(app, pair.refresh)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401 && r.body.detail === 'Token is blacklisted')).toHaveLength(19);
  });
});
