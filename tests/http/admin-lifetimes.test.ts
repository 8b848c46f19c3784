import { join } from 'node:path';
import request from 'supertest';
import type { Express } from 'express';
import { MemoryStore, NEVER_EXPIRES, RedisStore, SqliteStore, type TokenStore } from '../../lib';
import { makeApp, manualClock, memoryLogger, SECRET, type TestApp } from '../helpers/app';
import { decodePart, forge } from '../helpers/jwt';
import { useBackends } from '../helpers/backends';

const PATH = '/api/admin/token-lifetimes/';
const DENIED = { detail: 'You do not have permission to perform this action.', code: 'permission_denied' };
const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };

/** makeApp plus the admin router where the demo mounts it, and the demo's rule for who is admin. */
function adminApp(options: Parameters<typeof makeApp>[0] = {}): TestApp {
  const made = makeApp({ isAdmin: (user) => user.username === 'admin', ...options });
  made.app.use('/api/admin/token-lifetimes', made.auth.adminRouter);
  return made;
}

async function tokensOf(app: Express, username = 'admin', password = 'admin-demo-password') {
  const res = await request(app).post('/api/token/').send({ username, password });
  expect(res.status).toBe(200);
  return res.body as { refresh: string; access: string };
}

function lifetimeOf(token: string): number {
  const { exp, iat } = decodePart(token, 1) as { exp: number; iat: number };
  return exp - iat;
}

describe('the lifetimes router: GET', () => {
  const { app } = adminApp();
  let admin = '';
  let user = '';
  beforeAll(async () => {
    admin = (await tokensOf(app)).access;
    user = (await tokensOf(app, 'vitor', '123')).access;
  });

  it('shows the lifetimes as seconds and as text', async () => {
    const res = await request(app).get(PATH).set('Authorization', `Bearer ${admin}`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toBe(
      JSON.stringify({ access_token_lifetime: 300, refresh_token_lifetime: 86_400, text: { access_token_lifetime: '5m', refresh_token_lifetime: '1d' } }),
    );
  });

  it('401 without credentials, 403 permission_denied for a non-admin', async () => {
    const anonymous = await request(app).get(PATH);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toEqual({ detail: 'Authentication credentials were not provided.' });
    for (const method of ['get', 'put', 'patch'] as const) {
      const res = await request(app)[method](PATH).set('Authorization', `Bearer ${user}`).send({ access_token_lifetime: 1 });
      expect(res.status).toBe(403);
      expect(res.body).toEqual(DENIED);
    }
  });

  it('refuses everyone when no isAdmin is configured', async () => {
    const made = makeApp();
    made.app.use('/admin/lifetimes', made.auth.adminRouter);
    const res = await request(made.app).get('/admin/lifetimes/').set('Authorization', `Bearer ${(await tokensOf(made.app)).access}`);
    expect(res.status).toBe(403);
    expect(res.body).toEqual(DENIED);
  });

  it('a throwing isAdmin is a logged 500, never a pass', async () => {
    const logger = memoryLogger();
    const { app: broken } = adminApp({
      logger,
      isAdmin: () => {
        throw new Error('role service down');
      },
    });
    const res = await request(broken).get(PATH).set('Authorization', `Bearer ${(await tokensOf(broken)).access}`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ detail: 'Internal server error.', code: 'internal_error' });
    expect(logger.lines.join('\n')).toContain('role service down');
  });

  it('OPTIONS answers without credentials; other methods are 405 after authentication', async () => {
    const options = await request(app).options(PATH);
    expect(options.status).toBe(200);
    expect(options.headers.allow).toBe('GET, PUT, PATCH, OPTIONS');
    const del = await request(app).delete(PATH).set('Authorization', `Bearer ${admin}`);
    expect(del.status).toBe(405);
    expect(del.body).toEqual({ detail: 'Method "DELETE" not allowed.' });
    expect(del.headers.allow).toBe('GET, PUT, PATCH, OPTIONS');
    expect((await request(app).delete(PATH)).status).toBe(401);
    expect((await request(app).get('/api/admin/token-lifetimes/other/').set('Authorization', `Bearer ${admin}`)).status).toBe(404);
  });
});

describe('the lifetimes router: PUT and PATCH', () => {
  it('changes the lifetimes of every token issued afterwards: login, refresh, rotation, sliding', async () => {
    const clock = manualClock();
    const { app } = adminApp({ clock: clock.now, slidingTokens: true, rotateRefreshTokens: true });
    const { access: admin } = await tokensOf(app);
    const old = await tokensOf(app, 'vitor', '123');
    const res = await request(app)
      .put(PATH)
      .set('Authorization', `Bearer ${admin}`)
      .send({ access_token_lifetime: '10m', refresh_token_lifetime: 7200, sliding_token_lifetime: '2m', sliding_token_refresh_lifetime: '1h' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      access_token_lifetime: 600,
      refresh_token_lifetime: 7200,
      sliding_token_lifetime: 120,
      sliding_token_refresh_lifetime: 3600,
      text: { access_token_lifetime: '10m', refresh_token_lifetime: '2h', sliding_token_lifetime: '2m', sliding_token_refresh_lifetime: '1h' },
    });
    const fresh = await tokensOf(app, 'vitor', '123');
    expect(lifetimeOf(fresh.access)).toBe(600);
    expect(lifetimeOf(fresh.refresh)).toBe(7200);
    // A token issued before keeps its exp; what it is refreshed into follows the new lifetimes, and rotation
    // still never extends the session.
    expect(lifetimeOf(old.refresh)).toBe(86_400);
    const rotated = (await request(app).post('/api/token/refresh/').send({ refresh: old.refresh })).body;
    expect(lifetimeOf(rotated.access)).toBe(600);
    expect(lifetimeOf(rotated.refresh)).toBe(7200);
    const sliding = (await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' })).body.token;
    const claims = decodePart(sliding, 1) as { exp: number; iat: number; refresh_exp: number };
    expect([claims.exp - claims.iat, claims.refresh_exp - claims.iat]).toEqual([120, 3600]);
    expect(lifetimeOf((await request(app).post('/api/token/sliding/refresh/').send({ token: sliding })).body.token)).toBe(120);
  });

  it('PATCH changes some; the change is in the token store as one setting', async () => {
    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    const { app } = adminApp({ store });
    const { access: admin } = await tokensOf(app);
    const res = await request(app).patch(PATH).set('Authorization', `Bearer ${admin}`).send({ access_token_lifetime: 60 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ access_token_lifetime: 60, refresh_token_lifetime: 86_400 });
    expect(JSON.parse((await store.getSetting('lifetimes'))!)).toEqual({ access: 60, refresh: 86_400, sliding: 300, slidingRefresh: 86_400, retain: 86_400 });
    // Another app on the same store (another server) issues with it at once.
    const { app: other } = adminApp({ store });
    expect(lifetimeOf((await tokensOf(other, 'vitor', '123')).access)).toBe(60);
    expect((await request(other).get(PATH).set('Authorization', `Bearer ${admin}`)).body.access_token_lifetime).toBe(60);
  });

  it('accepts form bodies (HTTPie --form)', async () => {
    const { app } = adminApp();
    const { access: admin } = await tokensOf(app);
    const res = await request(app).put(PATH).set('Authorization', `Bearer ${admin}`).type('form').send('access_token_lifetime=2m&refresh_token_lifetime=12h');
    expect(res.status).toBe(200);
    expect(res.body.text).toEqual({ access_token_lifetime: '2m', refresh_token_lifetime: '12h' });
  });

  it.each([
    [{}, { access_token_lifetime: ['This field is required.'], refresh_token_lifetime: ['This field is required.'] }],
    [{ access_token_lifetime: 0, refresh_token_lifetime: -5 }, { access_token_lifetime: ['Ensure this value is greater than or equal to 1.'], refresh_token_lifetime: ['Ensure this value is greater than or equal to 1.'] }],
    [{ access_token_lifetime: 1.5, refresh_token_lifetime: 'soon' }, { access_token_lifetime: ['A valid integer is required.'], refresh_token_lifetime: ["Enter a positive number of seconds or a duration such as '5m', '1d' or '30d'."] }],
    [{ access_token_lifetime: true, refresh_token_lifetime: { s: 1 } }, { access_token_lifetime: ["Enter a positive number of seconds or a duration such as '5m', '1d' or '30d'."], refresh_token_lifetime: ["Enter a positive number of seconds or a duration such as '5m', '1d' or '30d'."] }],
    [{ access_token_lifetime: null, refresh_token_lifetime: '200y' }, { access_token_lifetime: ['Non-expiring lifetimes (null) need the dangerouslyAllowNonExpiringTokens option.'], refresh_token_lifetime: ['Ensure this value is less than or equal to 3155760000.'] }],
    [{ access_token_lifetime: '2d', refresh_token_lifetime: '1d' }, { non_field_errors: ['access_token_lifetime must not be longer than refresh_token_lifetime.'] }],
  ])('PUT %j answers 400 %j and changes nothing', async (body, errors) => {
    const { app } = adminApp();
    const { access: admin } = await tokensOf(app);
    const res = await request(app).put(PATH).set('Authorization', `Bearer ${admin}`).send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errors);
    expect((await request(app).get(PATH).set('Authorization', `Bearer ${admin}`)).body.access_token_lifetime).toBe(300);
  });

  it('PATCH is checked against the current values; malformed JSON and other media types are the usual errors', async () => {
    const { app } = adminApp({ slidingTokens: true });
    const { access: admin } = await tokensOf(app);
    const res = await request(app).patch(PATH).set('Authorization', `Bearer ${admin}`).send({ sliding_token_lifetime: '2d' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ non_field_errors: ['sliding_token_lifetime must not be longer than sliding_token_refresh_lifetime.'] });
    const broken = await request(app).put(PATH).set('Authorization', `Bearer ${admin}`).set('Content-Type', 'application/json').send('{"access_token_lifetime": ');
    expect(broken.status).toBe(400);
    expect(broken.body.detail).toMatch(/^JSON parse error - /);
    const text = await request(app).put(PATH).set('Authorization', `Bearer ${admin}`).set('Content-Type', 'text/plain').send('hi');
    expect(text.status).toBe(415);
  });

  it('with an access cookie, a PUT needs the CSRF token (a forged admin request is refused)', async () => {
    const { app } = adminApp({ cookies: { accessCookie: true } });
    const res = await request(app).post('/api/token/').send({ username: 'admin', password: 'admin-demo-password' });
    const cookies = (res.headers['set-cookie'] as unknown as string[]).map((line) => line.slice(0, line.indexOf(';')));
    const csrf = cookies.find((c) => c.startsWith('__Host-csrftoken='))!.split('=')[1]!;
    const jar = cookies.filter((c) => !c.startsWith('__Secure-refresh_token')).join('; ');
    expect((await request(app).get(PATH).set('Cookie', jar)).status).toBe(200);
    const forged = await request(app).put(PATH).set('Cookie', jar).send({ access_token_lifetime: 1, refresh_token_lifetime: 1 });
    expect(forged.status).toBe(403);
    expect(forged.body).toEqual({ detail: 'CSRF Failed: CSRF token missing.', code: 'csrf_failed' });
    const ok = await request(app).put(PATH).set('Cookie', jar).set('X-CSRFToken', csrf).send({ access_token_lifetime: 60, refresh_token_lifetime: 3600 });
    expect(ok.status).toBe(200);
  });

  it('a stored value this server cannot use falls back to the configured lifetimes, logged once', async () => {
    const logger = memoryLogger();
    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    const { app } = adminApp({ store, logger });
    await store.setSetting('lifetimes', JSON.stringify({ access: null, refresh: 60 }));
    expect(lifetimeOf((await tokensOf(app, 'vitor', '123')).access)).toBe(300);
    expect(lifetimeOf((await tokensOf(app, 'vitor', '123')).access)).toBe(300);
    expect(logger.lines.filter((l) => l.includes('stored token lifetimes are not usable'))).toHaveLength(1);
    await store.setSetting('lifetimes', '{not json');
    expect(lifetimeOf((await tokensOf(app, 'vitor', '123')).access)).toBe(300);
    expect(logger.lines.filter((l) => l.includes('stored token lifetimes are not usable'))).toHaveLength(2);
  });

  it('"log out everywhere" is kept as long as the longest lifetime ever set, so shortening it cannot resurrect a token', async () => {
    const clock = manualClock();
    const store = new MemoryStore({ purgeIntervalSeconds: 0 });
    const { app, auth } = adminApp({ clock: clock.now, store, refreshTokenLifetime: '1d' });
    const { access: admin } = await tokensOf(app);
    await request(app).put(PATH).set('Authorization', `Bearer ${admin}`).send({ access_token_lifetime: '5m', refresh_token_lifetime: '30d' });
    const long = await tokensOf(app, 'vitor', '123');
    await request(app).put(PATH).set('Authorization', `Bearer ${(await tokensOf(app)).access}`).send({ access_token_lifetime: '5m', refresh_token_lifetime: '1d' });
    await auth.revokeUser(1);
    clock.advance(3 * 86_400);
    await store.purgeExpired(clock.now() / 1000);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: long.refresh })).body).toEqual(BLACKLISTED);
  });
});

describe('non-expiring tokens (dangerouslyAllowNonExpiringTokens)', () => {
  it('needs the option; with it, a loud start-up warning that warnings: false does not silence', () => {
    expect(() => makeApp({ refreshTokenLifetime: null })).toThrow(/"refreshTokenLifetime" is null/);
    const logger = memoryLogger();
    makeApp({ logger, dangerouslyAllowNonExpiringTokens: true, warnings: false });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatch(/^warn \[express-simplejwt\] UNLIMITED_TOKENS: DANGER: dangerouslyAllowNonExpiringTokens is on/);
  });

  it('tokens without exp are refused unless the option is on', async () => {
    const payload = '{"token_type":"access","iat":1767268800,"jti":"00112233445566778899aabbccddeeff","user_id":"1"}';
    const token = forge('{"alg":"HS256","typ":"JWT"}', payload, SECRET);
    const { app } = makeApp();
    const refused = await request(app).get('/hello/').set('Authorization', `Bearer ${token}`);
    expect(refused.status).toBe(401);
    expect(refused.body.messages).toEqual([{ token_class: 'AccessToken', token_type: 'access', message: "Token has no 'exp' claim" }]);
    const { app: open } = makeApp({ dangerouslyAllowNonExpiringTokens: true });
    expect((await request(open).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });

  it('an admin can make tokens never expire (null, shown as "never"), only with the option', async () => {
    const logger = memoryLogger();
    const { app } = adminApp({ dangerouslyAllowNonExpiringTokens: true, logger });
    const { access: admin } = await tokensOf(app);
    const res = await request(app).put(PATH).set('Authorization', `Bearer ${admin}`).send({ access_token_lifetime: '1h', refresh_token_lifetime: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access_token_lifetime: 3600, refresh_token_lifetime: null, text: { access_token_lifetime: '1h', refresh_token_lifetime: 'never' } });
    expect(logger.lines.join('\n')).toMatch(/UNLIMITED_TOKENS: user "3" made tokens that never expire/);
    const pair = await tokensOf(app, 'vitor', '123');
    expect(Object.keys(decodePart(pair.refresh, 1))).toEqual(['token_type', 'iat', 'jti', 'user_id']);
    expect(lifetimeOf(pair.access)).toBe(3600);
    // access <= refresh with never as the longest
    const bad = await request(app).put(PATH).set('Authorization', `Bearer ${admin}`).send({ access_token_lifetime: null, refresh_token_lifetime: '1d' });
    expect(bad.body).toEqual({ non_field_errors: ['access_token_lifetime must not be longer than refresh_token_lifetime.'] });
  });

  it('a non-expiring sliding token has neither exp nor refresh_exp and slides for ever', async () => {
    const clock = manualClock();
    const { app } = makeApp({ clock: clock.now, dangerouslyAllowNonExpiringTokens: true, slidingTokens: true, slidingTokenLifetime: null, slidingTokenRefreshLifetime: null });
    const token = (await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' })).body.token;
    expect(Object.keys(decodePart(token, 1))).toEqual(['token_type', 'iat', 'jti', 'user_id']);
    clock.advance(10 * 365 * 86_400);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    expect((await request(app).post('/api/token/sliding/refresh/').send({ token })).status).toBe(200);
  });
});

describe('stores share the lifetimes and keep non-expiring tokens revocable', () => {
  const backends = useBackends('lifetimes');
  const redisClient = backends.redisClient;
  const track = backends.track;

  it('lifetimes changed on one server are used by another sharing Redis, for its next token', async () => {
    const prefix = `lifetimes${Math.random()}:`;
    const a = track(adminApp({ store: new RedisStore(await redisClient(), { prefix }), slidingTokens: true }));
    const b = track(adminApp({ store: new RedisStore(await redisClient(), { prefix }), slidingTokens: true }));
    expect(lifetimeOf((await tokensOf(b.app, 'vitor', '123')).access)).toBe(300);
    const { access: admin } = await tokensOf(a.app);
    const put = await request(a.app)
      .put(PATH)
      .set('Authorization', `Bearer ${admin}`)
      .send({ access_token_lifetime: '15m', refresh_token_lifetime: '7d', sliding_token_lifetime: '10m', sliding_token_refresh_lifetime: '2d' });
    expect(put.status).toBe(200);
    const pair = await tokensOf(b.app, 'vitor', '123');
    expect([lifetimeOf(pair.access), lifetimeOf(pair.refresh)]).toEqual([900, 604_800]);
    expect(lifetimeOf((await request(b.app).post('/api/token/refresh/').send({ refresh: pair.refresh })).body.access)).toBe(900);
    const sliding = (await request(b.app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' })).body.token;
    expect(lifetimeOf(sliding)).toBe(600);
    const shown = await request(b.app).get(PATH).set('Authorization', `Bearer ${admin}`);
    expect(shown.body.text).toEqual({ access_token_lifetime: '15m', refresh_token_lifetime: '7d', sliding_token_lifetime: '10m', sliding_token_refresh_lifetime: '2d' });
  });

  const stores: [string, () => TokenStore | Promise<TokenStore>][] = [
    ['MemoryStore', () => new MemoryStore({ purgeIntervalSeconds: 0 })],
    ['SqliteStore', () => new SqliteStore(join(backends.dir(), `never-${Math.random()}.sqlite3`))],
    ['RedisStore', async () => new RedisStore(await redisClient(), { prefix: `never${Math.random()}:` })],
  ];

  it.each(stores)('%s keeps a non-expiring session until 9999-12-31 and revokes it on logout, rotation and "everywhere"', async (_name, makeStore) => {
    const store = await makeStore();
    const { app, auth } = track(
      makeApp({ store, dangerouslyAllowNonExpiringTokens: true, accessTokenLifetime: null, refreshTokenLifetime: null, rotateRefreshTokens: true }),
    );
    const pair = await tokensOf(app, 'vitor', '123');
    expect(decodePart(pair.access, 1).exp).toBeUndefined();
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${pair.access}`)).status).toBe(200);
    const sessions = await request(app).get('/api/token/sessions/').set('Authorization', `Bearer ${pair.access}`);
    expect(sessions.body).toEqual([expect.objectContaining({ id: decodePart(pair.refresh, 1).jti, expires: '9999-12-31T23:59:59Z' })]);

    const rotated = await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh });
    expect(rotated.status).toBe(200);
    expect(decodePart(rotated.body.refresh, 1).exp).toBeUndefined();
    expect((await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh })).body).toEqual(BLACKLISTED); // reuse

    const second = await tokensOf(app, 'vitor', '123');
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: second.refresh })).status).toBe(200);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: second.refresh })).body).toEqual(BLACKLISTED);
    expect(await store.isRevoked({ now: 0, jti: decodePart(second.refresh, 1).jti as string, userId: '1', issuedAt: 0, mustBeKnown: false })).toBe(true);

    const third = await tokensOf(app, 'vitor', '123');
    await auth.revokeUser(1);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: third.refresh })).body).toEqual(BLACKLISTED);
    expect(NEVER_EXPIRES).toBe(Date.UTC(9999, 11, 31, 23, 59, 59) / 1000);
  });
});
