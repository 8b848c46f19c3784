import request from 'supertest';
import { makeApp, manualClock, SECRET } from '../helpers/app';
import { decodePart, forge } from '../helpers/jwt';

const invalid = { detail: 'Token is invalid', code: 'token_not_valid' };
const expired = { detail: 'Token is expired', code: 'token_not_valid' };
const wrongType = { detail: 'Token has wrong type', code: 'token_not_valid' };

async function login(app: Parameters<typeof request>[0]) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  return res.body as { access: string; refresh: string };
}

describe('POST /api/token/refresh/', () => {
  const clock = manualClock();
  const { app, users } = makeApp({ clock: clock.now });

  it('answers {"access"}: a new jti, iat = now, every other claim copied', async () => {
    const pair = await login(app);
    clock.advance(60);
    const res = await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body)).toEqual(['access']);
    const refreshClaims = decodePart(pair.refresh, 1);
    const access = decodePart(res.body.access, 1);
    expect(Object.keys(access)).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id']);
    expect(access.iat).toBe(Math.floor(clock.now() / 1000));
    expect(access.exp).toBe((access.iat as number) + 300);
    expect(access.jti).not.toBe(refreshClaims.jti);
    expect(access.user_id).toBe('1');
  });

  it('can be used any number of times without rotation', async () => {
    const pair = await login(app);
    for (let i = 0; i < 3; i++) {
      expect((await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh })).status).toBe(200);
    }
  });

  it.each([
    [{}, { refresh: ['This field is required.'] }],
    [{ refresh: '' }, { refresh: ['This field may not be blank.'] }],
    [{ refresh: null }, { refresh: ['This field may not be null.'] }],
  ])('field errors: %j', async (body, expected) => {
    const res = await request(app).post('/api/token/refresh/').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(expected);
  });

  it('refuses garbage, a bad signature and alg none as invalid', async () => {
    const pair = await login(app);
    const [h, p] = pair.refresh.split('.');
    for (const token of ['garbage', `${h}.${p}.${'A'.repeat(43)}`, `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`]) {
      const res = await request(app).post('/api/token/refresh/').send({ refresh: token });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(invalid);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    }
  });

  it('refuses an expired refresh token (exp equal to now is expired)', async () => {
    const pair = await login(app);
    clock.advance(86_400);
    const res = await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(expired);
  });

  it('refuses an access token: wrong type', async () => {
    const pair = await login(app);
    const res = await request(app).post('/api/token/refresh/').send({ refresh: pair.access });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(wrongType);
  });

  it('refuses the refresh of a user deleted or deactivated since', async () => {
    users.add({ id: 7, username: 'temp', password: users.findByUsername('vitor')!.password, isActive: true });
    const res = await request(app).post('/api/token/').send({ username: 'temp', password: '123' });
    users.findById('7')!.isActive = false;
    const refused = await request(app).post('/api/token/refresh/').send({ refresh: res.body.refresh });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ detail: 'No active account found for the given token.', code: 'no_active_account' });
  });

  it('reports missing claims in WIRE order: exp, id, type', async () => {
    const now = Math.floor(clock.now() / 1000);
    const header = '{"alg":"HS256","typ":"JWT"}';
    const cases: [string, string][] = [
      [`{"token_type":"refresh","jti":"a","user_id":"1"}`, "Token has no 'exp' claim"],
      [`{"token_type":"refresh","exp":${now + 60},"user_id":"1"}`, 'Token has no id'],
      [`{"exp":${now + 60},"jti":"a","user_id":"1"}`, 'Token has no type'],
    ];
    for (const [payload, message] of cases) {
      const res = await request(app).post('/api/token/refresh/').send({ refresh: forge(header, payload, SECRET) });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: message, code: 'token_not_valid' });
    }
  });
});

describe('rotation (rotateRefreshTokens)', () => {
  const clock = manualClock();
  const { app } = makeApp({ clock: clock.now, rotateRefreshTokens: true });

  it('answers {"access", "refresh"}; the new refresh token is the old payload with a new jti, iat and exp', async () => {
    const pair = await login(app);
    clock.advance(100);
    const res = await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['access', 'refresh']);
    const before = decodePart(pair.refresh, 1);
    const after = decodePart(res.body.refresh, 1);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(after.jti).not.toBe(before.jti);
    expect(after.iat).toBe((before.iat as number) + 100);
    expect(after.user_id).toBe(before.user_id);
  });
});

describe('POST /api/token/verify/', () => {
  const clock = manualClock();
  const { app } = makeApp({ clock: clock.now });

  it('answers {} for a good token of any type', async () => {
    const pair = await login(app);
    for (const token of [pair.access, pair.refresh]) {
      const res = await request(app).post('/api/token/verify/').send({ token });
      expect(res.status).toBe(200);
      expect(res.text).toBe('{}');
    }
  });

  it('answers field errors on the "token" field', async () => {
    const res = await request(app).post('/api/token/verify/').send({ refresh: 'x' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ token: ['This field is required.'] });
  });

  it('refuses invalid and expired tokens', async () => {
    const pair = await login(app);
    expect((await request(app).post('/api/token/verify/').send({ token: 'a.b.c' })).body).toEqual(invalid);
    clock.advance(300);
    expect((await request(app).post('/api/token/verify/').send({ token: pair.access })).body).toEqual(expired);
  });

  it('answers "Token has no id" (not a 500) for a token without jti', async () => {
    const now = Math.floor(clock.now() / 1000);
    const token = forge('{"alg":"HS256","typ":"JWT"}', `{"token_type":"access","exp":${now + 60},"user_id":"1"}`, SECRET);
    const res = await request(app).post('/api/token/verify/').send({ token });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Token has no id', code: 'token_not_valid' });
  });
});
