import request from 'supertest';
import { kitOptionsFromEnv } from '../../../demo-app/settings';
import { SEED_USERS } from '../../../demo-app/users';
import bcrypt from 'bcryptjs';
import { startDemo, type Demo } from '../../helpers/demo';
import { decodePart } from '../../helpers/jwt';

const SECRET = 'demo-sessions-secret-7c1e9a3f5b2d4086-e4c2a0f8d6b41937-5a3c1e0f9d7b';

describe('the demo switches (kitOptionsFromEnv)', () => {
  it.each([
    [{ JWT_SLIDING_TOKENS: 'true' }, { slidingTokens: true }],
    [{ JWT_REFRESH_BY_BEARER: 'true' }, { refreshByBearer: true }],
    [{ JWT_COOKIES: 'true' }, { cookies: true }],
    [{ JWT_COOKIES: 'access' }, { cookies: { accessCookie: true } }],
    [{ JWT_COOKIES: 'off', JWT_SLIDING_TOKENS: 'no' }, { cookies: false, slidingTokens: false }],
  ])('%j', (env, expected) => {
    expect(kitOptionsFromEnv([], env)).toEqual(expected);
  });

  it('refuses a value it does not know', () => {
    expect(() => kitOptionsFromEnv([], { JWT_COOKIES: 'maybe' })).toThrow('JWT_COOKIES must be true, false or access (got "maybe")');
    expect(() => kitOptionsFromEnv([], { JWT_SLIDING_TOKENS: 'sure' })).toThrow(/JWT_SLIDING_TOKENS must be true or false/);
  });

  it('seeds admin / admin-demo-password as user 3 (bcrypt, cost 10)', async () => {
    const admin = SEED_USERS.find((u) => u.username === 'admin')!;
    expect(admin).toMatchObject({ id: 3, isActive: true });
    expect(admin.password).toMatch(/^\$2b\$10\$/);
    expect(await bcrypt.compare('admin-demo-password', admin.password)).toBe(true);
  });
});

describe('the demo with JWT_SLIDING_TOKENS, JWT_REFRESH_BY_BEARER and JWT_COOKIES', () => {
  let demo: Demo;

  beforeAll(async () => {
    demo = await startDemo([], { JWT_SECRET: SECRET, JWT_SLIDING_TOKENS: 'true', JWT_REFRESH_BY_BEARER: 'true', JWT_COOKIES: 'true' });
  }, 30_000);

  afterAll(async () => {
    await demo?.stop();
  });

  it('prints an HTTPie example for each feature', () => {
    const out = demo.output();
    expect(out).toContain('admin / admin-demo-password');
    expect(out).toContain(`http post ${demo.base}/api/token/sliding/ username=vitor password=123`);
    expect(out).toContain(`http post ${demo.base}/api/token/refresh/ "Authorization: Bearer <refresh>"`);
    expect(out).toContain('X-CSRFToken:<csrf>');
    expect(out).toContain(`http put ${demo.base}/api/admin/token-lifetimes/`);
  });

  it('serves sliding tokens', async () => {
    const login = await request(demo.base).post('/api/token/sliding/').send({ username: 'vitor', password: '123' });
    expect(login.status).toBe(200);
    expect(decodePart(login.body.token, 1).token_type).toBe('sliding');
    expect((await request(demo.base).get('/hello/').set('Authorization', `Bearer ${login.body.token}`)).body).toEqual({ message: 'Hello, World!' });
    expect((await request(demo.base).post('/api/token/sliding/refresh/').send({ token: login.body.token })).status).toBe(200);
  });

  it('keeps the refresh token in a cookie, refreshes from it with the CSRF token, and by Bearer', async () => {
    const login = await request(demo.base).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(Object.keys(login.body)).toEqual(['access']);
    const cookies = (login.headers['set-cookie'] as unknown as string[]).map((line) => line.slice(0, line.indexOf(';')));
    expect(login.headers['set-cookie']![0]).toMatch(/^__Secure-refresh_token=[^;]+; Path=\/api\/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict$/);
    const csrf = cookies.find((c) => c.startsWith('__Host-csrftoken='))!.split('=')[1]!;
    const jar = cookies.join('; ');
    const forged = await request(demo.base).post('/api/token/refresh/').set('Cookie', jar);
    expect(forged.status).toBe(403);
    expect(forged.body.code).toBe('csrf_failed');
    expect((await request(demo.base).post('/api/token/refresh/').set('Cookie', jar).set('X-CSRFToken', csrf)).status).toBe(200);
    const refresh = cookies.find((c) => c.startsWith('__Secure-refresh_token='))!.split('=')[1]!;
    const bearer = await request(demo.base).post('/api/token/refresh/').set('Authorization', `Bearer ${refresh}`);
    expect(bearer.status).toBe(200);
    expect(Object.keys(bearer.body)).toEqual(['access']);
  });

  it('lets admin (and only admin) change the lifetimes at /api/admin/token-lifetimes/', async () => {
    const admin = (await request(demo.base).post('/api/token/').send({ username: 'admin', password: 'admin-demo-password' })).body.access;
    const vitor = (await request(demo.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body.access;
    expect((await request(demo.base).get('/api/admin/token-lifetimes/').set('Authorization', `Bearer ${vitor}`)).status).toBe(403);
    const put = await request(demo.base)
      .put('/api/admin/token-lifetimes/')
      .set('Authorization', `Bearer ${admin}`)
      .send({ access_token_lifetime: '2m', refresh_token_lifetime: '1d', sliding_token_lifetime: '5m', sliding_token_refresh_lifetime: '1d' });
    expect(put.status).toBe(200);
    const access = (await request(demo.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body.access;
    const claims = decodePart(access, 1) as { exp: number; iat: number };
    expect(claims.exp - claims.iat).toBe(120);
  });
});
