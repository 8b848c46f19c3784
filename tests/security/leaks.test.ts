/**
 * Information leakage (OWASP Error Handling and Logging cheat sheets; CWE-209, CWE-532, CWE-598; ASVS 5.0 V16):
 * a battery of failing requests of every kind, run against the demo app in development and in production mode
 * (`NODE_ENV=production`, which Express reads when the app is made), with host callbacks and a token store that
 * fail. No response and no log line may hold a stack trace, the secret, a password, or a token a client sent.
 * (Every other file of the suite ends with the same check over its own responses and log lines.)
 */
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { createDemoApp, type UserLookup } from '../../demo-app/app';
import { SEED_USERS, UserTable, type DemoUser } from '../../demo-app/users';
import { MemoryStore, type TokenStore } from '../../lib';
import { b64url } from '../helpers/jwt';
import { claims, itLeaksNothing, login, recorded, recorder, SECRET, signed, userWithPassword, type Recorder } from './harness';

const PASSWORD = 'Leak-Check-Password-4b7d';

/** The tutorial's users plus dana, whose password must never show up; "boom" makes the look-up throw. */
async function users(rec: Recorder): Promise<UserLookup> {
  const table = new UserTable([...SEED_USERS, await userWithPassword(rec, 6, 'dana', PASSWORD)]);
  return {
    findByUsername(username: string): DemoUser | undefined {
      if (username === 'boom') throw new Error('users table is locked');
      return table.findByUsername(username);
    },
    findById(id: string): DemoUser | undefined {
      if (id === '666') throw new TypeError('cannot read users row');
      return table.findById(id);
    },
  };
}

/** A token store that is down: every call throws, as a lost Redis connection would. */
function downStore(): TokenStore {
  const real = new MemoryStore();
  return new Proxy(real, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || name === 'close' || name === 'init') return value;
      return () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      };
    },
  });
}

describe.each(['development', 'production'])('NODE_ENV=%s', (mode) => {
  const rec = recorder();
  let app: RequestListener;
  let broken: RequestListener;
  let saved: string | undefined;

  beforeAll(async () => {
    saved = process.env.NODE_ENV;
    process.env.NODE_ENV = mode;
    const lookup = await users(rec);
    const made = createDemoApp(lookup, { secret: SECRET, logger: rec.logger, loginThrottle: '3/15m', revokeAccessTokens: true });
    expect(made.app.get('env')).toBe(mode);
    app = recorded(made.app as unknown as RequestListener, rec);
    const down = createDemoApp(lookup, { secret: SECRET, logger: rec.logger, store: downStore(), revokeAccessTokens: true });
    broken = recorded(down.app as unknown as RequestListener, rec);
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  });

  it('every login failure: field errors, bad JSON quoting the password, 413, 415, 405, 401, 429', async () => {
    const answers = [
      await request(app).post('/api/token/').send({}),
      await request(app).post('/api/token/').set('Content-Type', 'application/json').send(`{"username":"dana","password": ${PASSWORD}}`),
      await request(app).post('/api/token/').set('Content-Type', 'application/json').send(`password=${PASSWORD}`),
      await request(app).post('/api/token/').send({ username: 'dana', password: PASSWORD, pad: 'x'.repeat(20_000) }),
      await request(app).post('/api/token/').set('Content-Type', 'text/plain').send(JSON.stringify({ username: 'dana', password: PASSWORD })),
      await request(app).get(`/api/token/?username=dana&password=${PASSWORD}`),
      await request(app).post('/api/token/').send({ username: 'nobody', password: PASSWORD }),
      ...(await Promise.all([1, 2, 3, 4].map(() => request(app).post('/api/token/').send({ username: 'dana', password: `${PASSWORD}-wrong` })))),
      await request(app).post('/api/token/').send({ username: 'dana', password: PASSWORD }),
    ];
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 413, 415, 405, 401, 401, 401, 401, 429, 429]);
  });

  it('every token failure: invalid, forged, expired, wrong type, no user, inactive user', async () => {
    const now = Math.floor(Date.now() / 1000);
    const pair = await login(app);
    rec.protect(pair.access, pair.refresh);
    const forged = [
      `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(claims(now)))}.`,
      signed(claims(now, { exp: now - 10 })),
      signed(claims(now, { user_id: '99' })),
      signed(claims(now, { user_id: '2' })),
      signed(claims(now, {}, 'refresh')),
      `${pair.access.slice(0, -4)}AAAA`,
      pair.refresh,
    ];
    for (const token of forged) {
      rec.protect(token);
      expect((await request(app).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(401);
      expect([200, 401]).toContain((await request(app).post('/api/token/verify/').send({ token })).status);
      expect([200, 401]).toContain((await request(app).post('/api/token/refresh/').send({ refresh: token })).status);
    }
    expect((await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh })).status).toBe(200);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh })).status).toBe(401);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${pair.access}`)).status).toBe(401);
  });

  it('host callbacks that throw: a generic 500 and one log line naming the error, without a stack', async () => {
    const before = rec.log.length;
    const login500 = await request(app).post('/api/token/').send({ username: 'boom', password: PASSWORD });
    expect(login500.status).toBe(500);
    expect(login500.body).toEqual({ detail: 'Internal server error.', code: 'internal_error' });
    const token = signed(claims(Math.floor(Date.now() / 1000), { user_id: '666' }));
    rec.protect(token);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(500);
    expect(rec.log.slice(before)).toEqual([
      expect.stringMatching(/^error \[express-simplejwt\] POST \/api\/token\/: Error: users table is locked$/),
      expect.stringMatching(/^error \[express-simplejwt\] GET \/hello\/: TypeError: cannot read users row$/),
    ]);
  });

  it('a 500 on a URL carrying credentials or a token logs the path only, never the query string (CWE-598, CWE-532)', async () => {
    const token = signed(claims(Math.floor(Date.now() / 1000)));
    rec.protect(token);
    const before = rec.log.length;
    const res = await request(app).post(`/api/token/?password=${PASSWORD}&token=${token}`).send({ username: 'boom', password: PASSWORD });
    expect(res.status).toBe(500);
    expect(rec.log.slice(before)).toEqual([expect.stringMatching(/^error \[express-simplejwt\] POST \/api\/token\/: Error: users table is locked$/)]);
  });

  it('a token store that is down: 503 store_unavailable with Retry-After, logged without a stack', async () => {
    const res = await request(broken).post('/api/token/').send({ username: 'dana', password: PASSWORD });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' });
    expect(res.headers['retry-after']).toBe('1');
    expect(rec.log.some((line) => line.includes('token store unavailable: Error: connect ECONNREFUSED'))).toBe(true);
  });

  it('what Express answers itself: unknown paths and methods, odd encodings, the sessions and JWKS endpoints', async () => {
    const answers = [
      await request(app).get('/nope/'),
      await request(app).post('/hello/'),
      await request(app).get('/hello/%E0%A4%A'),
      await request(app).get('/api/token/%ZZ/'),
      await request(app).get('/api/token/sessions/'),
      await request(app).delete('/api/token/sessions/0123456789abcdef0123456789abcdef/'),
      await request(app).post('/.well-known/jwks.json'),
      await request(app).get('/.well-known/jwks.json'),
    ];
    expect(answers.map((a) => a.status)).toEqual([404, 404, 404, 404, 401, 401, 404, 200]);
    for (const answer of answers) expect(answer.text).not.toMatch(/\bat .*\(|node_modules|\.ts:\d+/);
  });

  itLeaksNothing(rec);
});
