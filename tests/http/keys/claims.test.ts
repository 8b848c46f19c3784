import request from 'supertest';
import { simpleJwt } from '../../../lib';
import { makeApp, manualClock } from '../../helpers/app';
import { decodePart, forge } from '../../helpers/jwt';
import { keyPairFor, SECRETS } from '../../helpers/keys';

const invalid = { detail: 'Token is invalid', code: 'token_not_valid' };

describe('audience and issuer', () => {
  const clock = manualClock();
  const now = Math.floor(clock.now() / 1000);
  const { app } = makeApp({
    secret: SECRETS.a,
    clock: clock.now,
    audience: 'orders-api',
    issuer: 'https://auth.example.com',
    customClaims: (user) => ({ username: user.username }),
  });
  const claims = (extra: string) => `{"token_type":"access","exp":${now + 60},"iat":${now},"jti":"0123456789abcdef0123456789abcdef","user_id":"1"${extra}}`;
  const verify = (payload: string) => request(app).post('/api/token/verify/').send({ token: forge('{"alg":"HS256","typ":"JWT"}', payload, SECRETS.a) });

  it("appends aud then iss after simplejwt's claims and the custom claims", async () => {
    const { access, refresh } = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect(Object.keys(decodePart(refresh, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'username', 'aud', 'iss']);
    expect(Object.keys(decodePart(access, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'username', 'aud', 'iss']);
    expect(decodePart(access, 1)).toMatchObject({ aud: 'orders-api', iss: 'https://auth.example.com' });
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
  });

  it('keeps them last, once, on refresh and rotation', async () => {
    const { refresh } = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    const res = await request(app).post('/api/token/refresh/').send({ refresh });
    expect(Object.keys(decodePart(res.body.access, 1))).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'username', 'aud', 'iss']);
  });

  it('accepts aud as a string or as an array holding ours (RFC 7519 §4.1.3)', async () => {
    expect((await verify(claims(',"aud":"orders-api","iss":"https://auth.example.com"'))).status).toBe(200);
    expect((await verify(claims(',"aud":["billing-api","orders-api"],"iss":"https://auth.example.com"'))).status).toBe(200);
  });

  it.each([
    ['no aud', ',"iss":"https://auth.example.com"'],
    ['another aud', ',"aud":"billing-api","iss":"https://auth.example.com"'],
    ['an array without ours', ',"aud":["billing-api"],"iss":"https://auth.example.com"'],
    ['an empty array', ',"aud":[],"iss":"https://auth.example.com"'],
    ['an array with a non-string', ',"aud":["orders-api",1],"iss":"https://auth.example.com"'],
    ['aud as a number', ',"aud":1,"iss":"https://auth.example.com"'],
    ['no iss', ',"aud":"orders-api"'],
    ['another iss', ',"aud":"orders-api","iss":"https://evil.example.com"'],
    ['iss differing in case', ',"aud":"orders-api","iss":"https://Auth.example.com"'],
  ])('refuses %s as invalid', async (_what, extra) => {
    expect((await verify(claims(extra))).body).toEqual(invalid);
  });

  it('refuses a token naming an audience when the service has none (RFC 7519 §4.1.3), ignores iss then', async () => {
    const { app: plain } = makeApp({ secret: SECRETS.a, clock: clock.now });
    const token = (extra: string) => forge('{"alg":"HS256","typ":"JWT"}', claims(extra), SECRETS.a);
    expect((await request(plain).post('/api/token/verify/').send({ token: token(',"aud":"orders-api"') })).body).toEqual(invalid);
    expect((await request(plain).post('/api/token/verify/').send({ token: token(',"iss":"anyone"') })).status).toBe(200);
  });

  it('issues an array audience as configured and accepts tokens for any of them', async () => {
    const { app: multi } = makeApp({ algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey, audience: ['orders-api', 'billing-api'] });
    const { access } = (await request(multi).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect(decodePart(access, 1).aud).toEqual(['orders-api', 'billing-api']);
    expect((await request(multi).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
  });

  it('reports invalid before expired: a wrong audience on an expired token is invalid', async () => {
    const payload = `{"token_type":"access","exp":${now - 60},"jti":"x","user_id":"1","aud":"billing-api","iss":"https://auth.example.com"}`;
    expect((await verify(payload)).body).toEqual(invalid);
  });

  it('refuses empty or malformed audience and issuer options', () => {
    const base = { findUserById: () => null, warnings: false as const, secret: SECRETS.a };
    expect(() => simpleJwt({ ...base, audience: '' })).toThrow(/"audience" must be a non-empty string/);
    expect(() => simpleJwt({ ...base, audience: [] })).toThrow(/"audience"/);
    expect(() => simpleJwt({ ...base, audience: ['a', 2 as never] })).toThrow(/"audience"/);
    expect(() => simpleJwt({ ...base, issuer: '' })).toThrow(/"issuer" must be a non-empty string/);
  });

  it('keeps customClaims from setting aud or iss', async () => {
    const { app: bad } = makeApp({ secret: SECRETS.a, audience: 'x', customClaims: () => ({ aud: 'evil' }), logger: { warn() {}, error() {} } });
    expect((await request(bad).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(500);
  });
});
