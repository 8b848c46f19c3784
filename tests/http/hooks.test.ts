import request from 'supertest';
import type { Request } from 'express';
import type { LoginFailedEvent } from '../../lib';
import type { DemoUser } from '../../demo-app/users';
import { makeApp, manualClock, memoryLogger } from '../helpers/app';
import { decodePart } from '../helpers/jwt';

const NO_ACCOUNT = { detail: 'No active account found with the given credentials', code: 'no_active_account' };
const INTERNAL = { detail: 'Internal server error.', code: 'internal_error' };

/** Lets fire-and-forget hooks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('customClaims (simplejwt get_token override)', () => {
  const claims = (u: DemoUser) => ({ username: u.username, roles: ['reader'] });

  it('are in both tokens of a login and carried into the access tokens of later refreshes and rotations', async () => {
    const clock = manualClock();
    const { app } = makeApp({ clock: clock.now, customClaims: claims, rotateRefreshTokens: true });
    const pair = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    for (const token of [pair.refresh, pair.access]) {
      expect(Object.keys(decodePart(token, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'username', 'roles']);
      expect(decodePart(token, 1)).toMatchObject({ username: 'vitor', roles: ['reader'] });
    }
    clock.advance(60);
    const rotated = (await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh })).body;
    for (const token of [rotated.access, rotated.refresh]) {
      expect(decodePart(token, 1)).toMatchObject({ user_id: '1', username: 'vitor', roles: ['reader'] });
    }
    const { app: plain } = makeApp({ customClaims: claims });
    const first = (await request(plain).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    const access = (await request(plain).post('/api/token/refresh/').send({ refresh: first.refresh })).body.access;
    expect(Object.keys(decodePart(access, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'username', 'roles']);
    const me = await request(plain).get('/stateless/').set('Authorization', `Bearer ${access}`);
    expect(me.body.auth).toMatchObject({ username: 'vitor', roles: ['reader'] });
  });
});

describe('loginResponse (extra login fields, simplejwt #256)', () => {
  const profile = (u: DemoUser) => ({ user: { id: u.id, username: u.username } });

  it('merges the fields after refresh and access, and after token for sliding logins', async () => {
    const { app } = makeApp({ loginResponse: profile, slidingTokens: true });
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['refresh', 'access', 'user']);
    expect(res.body.user).toEqual({ id: 1, username: 'vitor' });
    const sliding = await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' });
    expect(Object.keys(sliding.body)).toEqual(['token', 'user']);
    // A refresh is not a login: no extra fields.
    expect(Object.keys((await request(app).post('/api/token/refresh/').send({ refresh: res.body.refresh })).body)).toEqual(['access']);
  });

  it('in cookie mode the fields follow what the body still carries', async () => {
    const { app } = makeApp({ loginResponse: profile, cookies: true });
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(Object.keys(res.body)).toEqual(['access', 'user']);
  });

  it('may not replace a token (500, logged, and no session started); a non-object is a 500 too', async () => {
    const logger = memoryLogger();
    const clock = manualClock();
    const { app, auth } = makeApp({ logger, clock: clock.now, loginResponse: () => ({ access: 'mine' }) });
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(500);
    expect(res.body).toEqual(INTERNAL);
    expect(logger.lines.join('\n')).toContain('loginResponse() may not set "access"');
    expect(await auth.store.sessions('1', clock.now() / 1000)).toEqual([]);
    const { app: other } = makeApp({ logger, loginResponse: (() => 'profile') as never });
    expect((await request(other).post('/api/token/').send({ username: 'vitor', password: '123' })).body).toEqual(INTERNAL);
  });
});

describe('onLoginSuccess', () => {
  it('is awaited with the user and the request before the answer (e.g. last login), once per login', async () => {
    const seen: { id: number; path: string; at: number }[] = [];
    const { app } = makeApp({
      slidingTokens: true,
      onLoginSuccess: async (user, req) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push({ id: user.id, path: req.originalUrl, at: Date.now() });
      },
    });
    const before = Date.now();
    await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(seen).toEqual([{ id: 1, path: '/api/token/', at: expect.any(Number) }]);
    expect(seen[0]!.at).toBeGreaterThanOrEqual(before);
    await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' });
    await request(app).post('/api/token/').send({ username: 'vitor', password: 'wrong' });
    expect(seen.map((s) => s.path)).toEqual(['/api/token/', '/api/token/sliding/']);
  });

  it('a throw is logged and the login still succeeds', async () => {
    const logger = memoryLogger();
    const { app } = makeApp({
      logger,
      onLoginSuccess: () => {
        throw new Error('audit database down');
      },
    });
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(200);
    expect(logger.lines.join('\n')).toContain('onLoginSuccess threw: Error: audit database down');
  });
});

describe('onLoginFailed (audit): the reason reaches the hook, never the wire', () => {
  function recorder() {
    const events: { event: LoginFailedEvent; req: Request }[] = [];
    return { events, hook: (event: LoginFailedEvent, req: Request) => void events.push({ event, req }) };
  }

  it('tells unknown user, wrong password and inactive apart; every answer is the same 401; no password anywhere', async () => {
    const { events, hook } = recorder();
    const { app } = makeApp({ onLoginFailed: hook });
    const attempts = [
      { username: 'nobody', password: 'secret-guess-1' },
      { username: 'vitor', password: 'secret-guess-2' },
      { username: 'sleeper', password: '123' },
      { username: 'sleeper', password: 'secret-guess-3' },
    ];
    for (const body of attempts) {
      const res = await request(app).post('/api/token/').send(body);
      expect(res.status).toBe(401);
      expect(res.text).toBe(JSON.stringify(NO_ACCOUNT));
    }
    await settle();
    expect(events.map((e) => e.event)).toEqual([
      { username: 'nobody', reason: 'unknown_user', ip: expect.any(String) },
      { username: 'vitor', reason: 'wrong_password', ip: expect.any(String) },
      { username: 'sleeper', reason: 'inactive', ip: expect.any(String) },
      { username: 'sleeper', reason: 'wrong_password', ip: expect.any(String) },
    ]);
    expect(events[0]!.req.originalUrl).toBe('/api/token/');
    expect(JSON.stringify(events.map((e) => e.event))).not.toMatch(/secret-guess|"123"|"password"/);
  });

  it('throttled, invalid_credentials (verifyCredentials) and session_limit', async () => {
    const { events, hook } = recorder();
    const { app } = makeApp({ onLoginFailed: hook, loginThrottle: '1/15m' });
    await request(app).post('/api/token/').send({ username: 'vitor', password: 'bad' });
    const limited = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(limited.status).toBe(429);
    const { app: ldap } = makeApp({ onLoginFailed: hook, verifyCredentials: () => null });
    expect((await request(ldap).post('/api/token/').send({ username: 'vitor', password: 'x' })).body).toEqual(NO_ACCOUNT);
    const { app: capped } = makeApp({ onLoginFailed: hook, maxSessionsPerUser: 1, sessionLimitPolicy: 'refuse' });
    await request(capped).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect((await request(capped).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(403);
    await settle();
    expect(events.map((e) => e.event.reason)).toEqual(['wrong_password', 'throttled', 'invalid_credentials', 'session_limit']);
  });

  it('is not awaited: a slow or failing hook delays nothing and is logged', async () => {
    const logger = memoryLogger();
    let release: () => void = () => undefined;
    const { app } = makeApp({
      logger,
      onLoginFailed: () =>
        new Promise<void>((_resolve, reject) => {
          release = () => reject(new Error('audit log full'));
        }),
    });
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: 'bad' });
    expect(res.status).toBe(401);
    release();
    await settle();
    expect(logger.lines.join('\n')).toContain('onLoginFailed threw: Error: audit log full');
  });

  it('field errors are not login attempts', async () => {
    const { events, hook } = recorder();
    const { app } = makeApp({ onLoginFailed: hook });
    expect((await request(app).post('/api/token/').send({ username: 'vitor' })).status).toBe(400);
    await settle();
    expect(events).toEqual([]);
  });
});

describe('usernameField, authHeaderTypes, authHeaderName (USERNAME_FIELD, AUTH_HEADER_TYPES, AUTH_HEADER_NAME)', () => {
  it("logs in with an 'email' field", async () => {
    const made = makeApp({ usernameField: 'email', findUserByUsername: (email) => (email === 'vitor@example.com' ? made.users.findByUsername('vitor') : undefined) });
    const { app } = made;
    const res = await request(app).post('/api/token/').send({ email: 'vitor@example.com', password: '123' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['refresh', 'access']);
    const old = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(old.status).toBe(400);
    expect(old.body).toEqual({ email: ['This field is required.'] });
    const wrong = await request(app).post('/api/token/').send({ email: 'vitor@example.com', password: 'x' });
    expect(wrong.body).toEqual(NO_ACCOUNT);
  });

  it("accepts the 'JWT' scheme only, and names it in WWW-Authenticate", async () => {
    const { app } = makeApp({ authHeaderTypes: ['JWT'] });
    const { access } = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await request(app).get('/hello/').set('Authorization', `JWT ${access}`)).status).toBe(200);
    const bearer = await request(app).get('/hello/').set('Authorization', `Bearer ${access}`);
    expect(bearer.status).toBe(401);
    expect(bearer.body).toEqual({ detail: 'Authentication credentials were not provided.' });
    expect(bearer.headers['www-authenticate']).toBe('JWT realm="api"');
  });

  it('reads the token from X-Access-Token and ignores Authorization', async () => {
    const { app } = makeApp({ authHeaderName: 'X-Access-Token', authHeaderTypes: ['Bearer', 'JWT'] });
    const { access } = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await request(app).get('/hello/').set('X-Access-Token', `Bearer ${access}`)).status).toBe(200);
    expect((await request(app).get('/hello/').set('X-Access-Token', `JWT ${access}`)).status).toBe(200);
    const ignored = await request(app).get('/hello/').set('Authorization', `Bearer ${access}`);
    expect(ignored.status).toBe(401);
    expect(ignored.body).toEqual({ detail: 'Authentication credentials were not provided.' });
    const bad = await request(app).get('/hello/').set('X-Access-Token', 'Bearer');
    expect(bad.body.code).toBe('bad_authorization_header');
  });
});

describe('the new options are validated', () => {
  it.each([
    [{ loginResponse: 'profile' }, /"loginResponse" must be a function/],
    [{ onLoginSuccess: {} }, /"onLoginSuccess" must be a function/],
    [{ onLoginFailed: 1 }, /"onLoginFailed" must be a function/],
    [{ isAdmin: true }, /"isAdmin" must be a function/],
    [{ slidingTokens: 'yes' }, /"slidingTokens" must be true or false/],
    [{ refreshByBearer: 1 }, /"refreshByBearer" must be true or false/],
    [{ authTokenClasses: [] }, /"authTokenClasses" must be a non-empty list/],
    [{ authTokenClasses: ['refresh'] }, /"authTokenClasses"/],
    [{ authTokenClasses: ['access', 'access'] }, /without repeats/],
    [{ slidingTokenLifetime: '2d' }, /"slidingTokenLifetime" \(172800s\) must not be longer than "slidingTokenRefreshLifetime"/],
    [{ slidingTokenRefreshLifetime: 'soon' }, /"slidingTokenRefreshLifetime" must be a number of seconds or a duration/],
    [{ accessTokenLifetime: null }, /"accessTokenLifetime" is null .*dangerouslyAllowNonExpiringTokens: true/],
    [{ refreshTokenLifetime: '200y' }, /"refreshTokenLifetime" must be at most 100 years/],
    [{ dangerouslyAllowNonExpiringTokens: 'true' }, /"dangerouslyAllowNonExpiringTokens" must be true or false/],
    [{ slidingToken: true }, /Unknown option "slidingToken". Did you mean "slidingTokens"\?/],
  ])('%j', (options, message) => {
    expect(() => makeApp(options as never)).toThrow(message);
  });
});
