import express from 'express';
import request from 'supertest';
import type { Express } from 'express';
import { readCookie, simpleJwt } from '../../lib';
import { UserTable, type DemoUser } from '../../demo-app/users';
import { makeApp, manualClock, SECRET, type TestApp } from '../helpers/app';
import { decodePart } from '../helpers/jwt';

const REFRESH = '__Secure-refresh_token';
const ACCESS = '__Host-access_token';
const CSRF = '__Host-csrftoken';

interface SetCookie {
  name: string;
  value: string;
  /** The attributes after the value, exactly as sent. */
  attributes: string;
}

/** The Set-Cookie headers of a response, by cookie name. */
function setCookies(res: request.Response): Record<string, SetCookie> {
  const raw = res.headers['set-cookie'] as unknown as string[] | undefined;
  const out: Record<string, SetCookie> = {};
  for (const line of raw ?? []) {
    const semicolon = line.indexOf(';');
    const pair = line.slice(0, semicolon);
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes: line.slice(semicolon + 2) };
  }
  return out;
}

/** The `Cookie` header a browser would send back. */
function cookieHeader(cookies: Record<string, SetCookie>, names: string[]): string {
  return names.map((name) => `${name}=${cookies[name]!.value}`).join('; ');
}

async function login(app: Express) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return { res, cookies: setCookies(res) };
}

const CSRF_MISSING = { detail: 'CSRF Failed: CSRF token missing.', code: 'csrf_failed' };
const CSRF_NO_COOKIE = { detail: 'CSRF Failed: CSRF cookie not set.', code: 'csrf_failed' };
const CSRF_INCORRECT = { detail: 'CSRF Failed: CSRF token incorrect.', code: 'csrf_failed' };

describe('cookies: true (the refresh token in an HttpOnly cookie)', () => {
  const clock = manualClock();
  const { app } = makeApp({ clock: clock.now, cookies: true });

  it('login sets the refresh cookie (HttpOnly, Secure, SameSite=Strict, Path = the mount path, Max-Age = its lifetime) and the CSRF cookie; the body keeps only access', async () => {
    const { res, cookies } = await login(app);
    expect(Object.keys(res.body)).toEqual(['access']);
    expect(Object.keys(cookies)).toEqual([REFRESH, CSRF]);
    const refresh = cookies[REFRESH]!;
    expect(decodePart(refresh.value, 1).token_type).toBe('refresh');
    expect(refresh.attributes).toBe('Path=/api/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict');
    expect(cookies[CSRF]!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookies[CSRF]!.attributes).toBe('Path=/; Max-Age=86400; Secure; SameSite=Strict'); // readable by script
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refresh reads the cookie when the body has none, with the CSRF token; Max-Age is the remaining lifetime', async () => {
    const { cookies } = await login(app);
    clock.advance(1000);
    const res = await request(app)
      .post('/api/token/refresh/')
      .set('Cookie', cookieHeader(cookies, [REFRESH, CSRF]))
      .set('X-CSRFToken', cookies[CSRF]!.value);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['access']);
    const again = setCookies(res);
    expect(again[REFRESH]!.value).toBe(cookies[REFRESH]!.value);
    expect(again[REFRESH]!.attributes).toBe('Path=/api/token; Max-Age=85400; HttpOnly; Secure; SameSite=Strict');
    expect(again[CSRF]!.value).toBe(cookies[CSRF]!.value); // the CSRF token stays for the session
  });

  it('a cookie-borne refresh without the CSRF token is refused with 403 csrf_failed, whatever is missing', async () => {
    const { cookies } = await login(app);
    const url = '/api/token/refresh/';
    const missing = await request(app).post(url).set('Cookie', cookieHeader(cookies, [REFRESH, CSRF]));
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual(CSRF_MISSING);
    const noCookie = await request(app).post(url).set('Cookie', cookieHeader(cookies, [REFRESH])).set('X-CSRFToken', cookies[CSRF]!.value);
    expect(noCookie.status).toBe(403);
    expect(noCookie.body).toEqual(CSRF_NO_COOKIE);
    const wrong = await request(app).post(url).set('Cookie', cookieHeader(cookies, [REFRESH, CSRF])).set('X-CSRFToken', 'A'.repeat(43));
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual(CSRF_INCORRECT);
    expect(setCookies(wrong)).toEqual({});
  });

  it('a refresh token in the body needs no CSRF token (a forger cannot know it), and nothing at all is a field error', async () => {
    const { cookies } = await login(app);
    const res = await request(app).post('/api/token/refresh/').send({ refresh: cookies[REFRESH]!.value });
    expect(res.status).toBe(200);
    const none = await request(app).post('/api/token/refresh/').send({});
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ refresh: ['This field is required.'] });
  });

  it('logout reads the cookie (with the CSRF token) and clears every cookie', async () => {
    const { cookies } = await login(app);
    const header = cookieHeader(cookies, [REFRESH, CSRF]);
    expect((await request(app).post('/api/token/blacklist/').set('Cookie', header)).body).toEqual(CSRF_MISSING);
    const res = await request(app).post('/api/token/blacklist/').set('Cookie', header).set('X-CSRFToken', cookies[CSRF]!.value);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const cleared = setCookies(res);
    expect(cleared[REFRESH]).toEqual({ name: REFRESH, value: '', attributes: 'Path=/api/token; Max-Age=0; HttpOnly; Secure; SameSite=Strict' });
    expect(cleared[CSRF]).toEqual({ name: CSRF, value: '', attributes: 'Path=/; Max-Age=0; Secure; SameSite=Strict' });
    const after = await request(app).post('/api/token/refresh/').send({ refresh: cookies[REFRESH]!.value });
    expect(after.status).toBe(401);
    expect(after.body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });
  });

  it('a cookie sent twice (a copy planted by another subdomain) reads as absent', async () => {
    const { cookies } = await login(app);
    const res = await request(app)
      .post('/api/token/refresh/')
      .set('Cookie', `${REFRESH}=planted; ${cookieHeader(cookies, [REFRESH, CSRF])}`)
      .set('X-CSRFToken', cookies[CSRF]!.value);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ refresh: ['This field is required.'] });
  });

  it('a malformed cookie never yields a 500', async () => {
    for (const header of [`${REFRESH}=x; ${CSRF}=y`, `${REFRESH}="unterminated; ${CSRF}=y`, ';;;=;', `${REFRESH}=%00%ff`]) {
      const res = await request(app).post('/api/token/refresh/').set('Cookie', header).set('X-CSRFToken', 'y');
      expect([400, 401, 403]).toContain(res.status);
      expect(res.body.detail ?? res.body.refresh).toBeDefined();
    }
  });
});

describe('cookie options', () => {
  it('refreshInBody keeps the refresh token in the JSON body too; rotation sets the new refresh cookie', async () => {
    const { app } = makeApp({ cookies: { refreshInBody: true }, rotateRefreshTokens: true });
    const { res, cookies } = await login(app);
    expect(Object.keys(res.body)).toEqual(['refresh', 'access']);
    expect(res.body.refresh).toBe(cookies[REFRESH]!.value);
    const rotated = await request(app)
      .post('/api/token/refresh/')
      .set('Cookie', cookieHeader(cookies, [REFRESH, CSRF]))
      .set('X-CSRFToken', cookies[CSRF]!.value);
    expect(rotated.status).toBe(200);
    expect(Object.keys(rotated.body)).toEqual(['access', 'refresh']);
    const next = setCookies(rotated);
    expect(next[REFRESH]!.value).toBe(rotated.body.refresh);
    expect(next[REFRESH]!.value).not.toBe(cookies[REFRESH]!.value);
  });

  it('names, header, SameSite and Domain are configurable', async () => {
    // A frozen clock: Max-Age is the time left, and a busy machine may cross a second between issue and cookie.
    const { app } = makeApp({
      clock: manualClock().now,
      cookies: { refreshCookieName: 'rt', csrfCookieName: 'csrftoken', csrfHeaderName: 'X-XSRF-TOKEN', sameSite: 'Lax', domain: 'example.com' },
    });
    const { cookies } = await login(app);
    expect(cookies.rt!.attributes).toBe('Path=/api/token; Domain=example.com; Max-Age=86400; HttpOnly; Secure; SameSite=Lax');
    expect(cookies.csrftoken!.attributes).toBe('Path=/; Domain=example.com; Max-Age=86400; Secure; SameSite=Lax');
    const header = `rt=${cookies.rt!.value}; csrftoken=${cookies.csrftoken!.value}`;
    expect((await request(app).post('/api/token/refresh/').set('Cookie', header).set('X-CSRFToken', cookies.csrftoken!.value)).status).toBe(403);
    expect((await request(app).post('/api/token/refresh/').set('Cookie', header).set('X-XSRF-TOKEN', cookies.csrftoken!.value)).status).toBe(200);
  });

  it("the refresh cookie's Path is wherever the host mounts the router (req.baseUrl), on Express 4 and 5", async () => {
    const users = new UserTable();
    const auth = simpleJwt<DemoUser>({
      secret: SECRET,
      warnings: false,
      loginThrottle: false,
      bcryptRounds: 4,
      cookies: true,
      findUserByUsername: (name) => users.findByUsername(name),
      findUserById: (id) => users.findById(id),
    });
    const nested = express();
    const v2 = express.Router();
    v2.use('/jwt', auth.router);
    nested.use('/auth/v2', v2);
    const root = express();
    root.use(auth.router);
    const res = await request(nested).post('/auth/v2/jwt/').send({ username: 'vitor', password: '123' });
    expect(setCookies(res)[REFRESH]!.attributes).toMatch(/^Path=\/auth\/v2\/jwt;/);
    const atRoot = await request(root).post('/').send({ username: 'vitor', password: '123' });
    expect(setCookies(atRoot)[REFRESH]!.attributes).toMatch(/^Path=\/;/);
    const { app: four } = makeApp({ cookies: true }, { major: 4 });
    expect(setCookies((await login(four)).res)[REFRESH]!.attributes).toBe('Path=/api/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict');
  });

  it.each([
    [{ sameSite: 'None' }, /"cookies.sameSite" must be 'Strict' or 'Lax'/],
    [{ refreshCookieName: '__Host-rt' }, /"cookies.refreshCookieName" cannot start with __Host-/],
    [{ refreshCookieName: 'bad name' }, /"cookies.refreshCookieName" must be a cookie name/],
    [{ domain: 'example.com', accessCookie: true, csrfCookieName: 'c' }, /"cookies.accessCookieName" starts with __Host-/],
    [{ domain: 'example.com' }, /"cookies.csrfCookieName" starts with __Host-/],
    [{ domain: 'exa mple.com', csrfCookieName: 'c', accessCookieName: 'a' }, /"cookies.domain" must be a domain name/],
    [{ csrfCookieName: '__Secure-refresh_token' }, /three different names/],
    [{ accessCookie: 'yes' }, /"cookies.accessCookie" must be true or false/],
    [{ httpOnly: false }, /Unknown option "cookies.httpOnly"/],
    ['on', /"cookies" must be true, false or an object/],
  ])('refuses %j with a TypeError naming the option', (cookies, message) => {
    expect(() => makeApp({ cookies: cookies as never })).toThrow(message);
  });
});

describe('accessCookie: the access token in a cookie too, and CSRF on state-changing requests', () => {
  function appWithNotes(options: Parameters<typeof makeApp>[0] = {}): TestApp {
    const made = makeApp({ cookies: { accessCookie: true }, ...options });
    made.app.post('/notes/', made.auth.authenticate(), (req, res) => {
      res.json({ saved: true, by: (req.user as DemoUser).username });
    });
    return made;
  }

  it('login sets three cookies and the body carries no token; the access cookie lives as long as the token', async () => {
    const { app } = appWithNotes();
    const { res, cookies } = await login(app);
    expect(res.body).toEqual({});
    expect(Object.keys(cookies)).toEqual([REFRESH, ACCESS, CSRF]);
    expect(cookies[ACCESS]!.attributes).toBe('Path=/; Max-Age=300; HttpOnly; Secure; SameSite=Strict');
    expect(decodePart(cookies[ACCESS]!.value, 1).token_type).toBe('access');
  });

  it('authenticate() reads the cookie: GET passes without the CSRF token, POST needs it (403 csrf_failed)', async () => {
    const { app } = appWithNotes();
    const { cookies } = await login(app);
    const browser = cookieHeader(cookies, [ACCESS, CSRF]);
    const get = await request(app).get('/hello/').set('Cookie', browser);
    expect(get.status).toBe(200);
    expect(get.body).toEqual({ message: 'Hello, World!' });
    const forged = await request(app).post('/notes/').set('Cookie', browser);
    expect(forged.status).toBe(403);
    expect(forged.body).toEqual(CSRF_MISSING);
    const wrong = await request(app).post('/notes/').set('Cookie', browser).set('X-CSRFToken', `${cookies[CSRF]!.value.slice(1)}x`);
    expect(wrong.body).toEqual(CSRF_INCORRECT);
    const ok = await request(app).post('/notes/').set('Cookie', browser).set('X-CSRFToken', cookies[CSRF]!.value);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ saved: true, by: 'vitor' });
  });

  it('the Authorization header wins over the cookie and needs no CSRF token', async () => {
    const { app } = appWithNotes();
    const { cookies } = await login(app);
    const viaHeader = await request(app).post('/notes/').set('Authorization', `Bearer ${cookies[ACCESS]!.value}`).set('Cookie', `${ACCESS}=garbage`);
    expect(viaHeader.status).toBe(200);
    const badHeader = await request(app).get('/hello/').set('Authorization', 'Bearer nope').set('Cookie', cookieHeader(cookies, [ACCESS]));
    expect(badHeader.status).toBe(401);
    expect(badHeader.body.messages[0].message).toBe('Token is invalid');
  });

  it('without any cookie or header: 401 not provided; accessInBody puts the token back in the body', async () => {
    const { app } = appWithNotes({ cookies: { accessCookie: true, accessInBody: true } });
    expect((await request(app).get('/hello/')).body).toEqual({ detail: 'Authentication credentials were not provided.' });
    expect(Object.keys((await login(app)).res.body)).toEqual(['access']);
  });

  it('refresh re-sets the access cookie', async () => {
    const clock = manualClock();
    const { app } = appWithNotes({ clock: clock.now });
    const { cookies } = await login(app);
    clock.advance(400);
    const browser = cookieHeader(cookies, [REFRESH, CSRF]);
    const res = await request(app).post('/api/token/refresh/').set('Cookie', browser).set('X-CSRFToken', cookies[CSRF]!.value);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const access = setCookies(res)[ACCESS]!;
    expect(access.attributes).toBe('Path=/; Max-Age=300; HttpOnly; Secure; SameSite=Strict');
    expect((await request(app).get('/hello/').set('Cookie', `${ACCESS}=${access.value}`)).status).toBe(200);
  });

  it('sliding tokens ride in the access cookie until refresh_exp; sliding refresh and logout read it with the CSRF token', async () => {
    const clock = manualClock();
    const { app } = appWithNotes({ clock: clock.now, slidingTokens: true });
    const res = await request(app).post('/api/token/sliding/').send({ username: 'vitor', password: '123' });
    expect(res.body).toEqual({});
    const cookies = setCookies(res);
    expect(Object.keys(cookies)).toEqual([ACCESS, CSRF]);
    expect(cookies[ACCESS]!.attributes).toBe('Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Strict');
    const browser = cookieHeader(cookies, [ACCESS, CSRF]);
    clock.advance(600); // past exp
    expect((await request(app).get('/hello/').set('Cookie', browser)).status).toBe(401);
    expect((await request(app).post('/api/token/sliding/refresh/').set('Cookie', browser)).body).toEqual(CSRF_MISSING);
    const slid = await request(app).post('/api/token/sliding/refresh/').set('Cookie', browser).set('X-CSRFToken', cookies[CSRF]!.value);
    expect(slid.status).toBe(200);
    const next = setCookies(slid)[ACCESS]!;
    expect(next.attributes).toBe('Path=/; Max-Age=85800; HttpOnly; Secure; SameSite=Strict');
    const fresh = `${ACCESS}=${next.value}; ${CSRF}=${cookies[CSRF]!.value}`;
    expect((await request(app).get('/hello/').set('Cookie', fresh)).status).toBe(200);
    const out = await request(app).post('/api/token/blacklist/').set('Cookie', fresh).set('X-CSRFToken', cookies[CSRF]!.value);
    expect(out.status).toBe(200);
    expect(setCookies(out)[ACCESS]!.attributes).toBe('Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict');
    const dead = await request(app).get('/hello/').set('Cookie', fresh);
    expect(dead.status).toBe(401);
    expect(dead.body.messages[1].message).toBe('Token is blacklisted');
  });
});

describe('readCookie (strict Cookie header parsing)', () => {
  it.each([
    ['a=1; b=2', 'b', '2'],
    ['a=1;b=2', 'b', '2'],
    ['  a=1 ;\tb=2  ', 'b', '2'],
    ['b="quoted"', 'b', 'quoted'],
    ['b=', 'b', undefined],
    ['a=1', 'b', undefined],
    ['B=1', 'b', undefined],
    ['b=1; b=2', 'b', undefined],
    ['b=has space; c=3', 'b', undefined],
    ['b=a,b', 'b', undefined],
    ['=x; b=ok', 'b', 'ok'],
    ['nonsense; b=ok', 'b', 'ok'],
    ['b=%41', 'b', '%41'],
  ])('%j → %s: %j', (header, name, expected) => {
    expect(readCookie(header, name)).toBe(expected);
  });

  it('reads nothing from no header', () => {
    expect(readCookie(undefined, 'b')).toBeUndefined();
  });
});
