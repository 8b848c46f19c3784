import { createSecretKey } from 'node:crypto';
import request from 'supertest';
import { createCodec, type DecodedToken } from '../../lib/tokens/codec';
import { makeApp, manualClock, SECRET } from '../helpers/app';
import { b64url, decodePart, forge } from '../helpers/jwt';

const HS256 = '{"alg":"HS256","typ":"JWT"}';

describe('the codec', () => {
  it('reproduces WIRE.md test vector byte for byte', () => {
    const codec = createCodec({ algorithm: 'HS256', key: createSecretKey(Buffer.from('not_secret')), leeway: 0 });
    expect(codec.sign({ exp: 946684800 })).toBe(
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk0NjY4NDgwMH0.jvxQgXCSDToR8uKoRJcMT-LmMJJn2-NM76nfSR2FOgs',
    );
  });
});

describe('claims', () => {
  const clock = manualClock(Date.UTC(2026, 5, 1, 8, 0, 0, 750));
  const { app } = makeApp({
    clock: clock.now,
    accessTokenLifetime: '10m',
    refreshTokenLifetime: '30d',
    customClaims: (user) => ({ username: user.username, roles: ['reader'] }),
  });

  it('carries exactly simplejwt claims in order, then custom claims, with the configured lifetimes', async () => {
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    const now = Math.floor(clock.now() / 1000);
    const refresh = decodePart(res.body.refresh, 1);
    const access = decodePart(res.body.access, 1);
    expect(Object.keys(refresh)).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'username', 'roles']);
    expect(Object.keys(access)).toEqual(Object.keys(refresh));
    expect(refresh).toMatchObject({ token_type: 'refresh', iat: now, exp: now + 30 * 86_400, user_id: '1', username: 'vitor' });
    expect(access).toMatchObject({ token_type: 'access', iat: now, exp: now + 600, user_id: '1', roles: ['reader'] });
    expect(refresh.jti).toMatch(/^[0-9a-f]{32}$/);
    expect(access.jti).toMatch(/^[0-9a-f]{32}$/);
    expect(access.jti).not.toBe(refresh.jti);
  });

  it('carries custom claims into access tokens on refresh', async () => {
    const { refresh } = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    const res = await request(app).post('/api/token/refresh/').send({ refresh });
    expect(decodePart(res.body.access, 1)).toMatchObject({ username: 'vitor', roles: ['reader'] });
  });

  it('uses configured claim names', async () => {
    const { app: other } = makeApp({ userIdClaim: 'uid', tokenTypeClaim: 'typ', jtiClaim: 'id' });
    const res = await request(other).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(Object.keys(decodePart(res.body.access, 1))).toEqual(['typ', 'exp', 'iat', 'id', 'uid']);
    expect((await request(other).get('/hello/').set('Authorization', `Bearer ${res.body.access}`)).status).toBe(200);
  });

  it('refuses custom claims that would overwrite reserved ones (500, logged)', async () => {
    const { app: other } = makeApp({ customClaims: () => ({ exp: 1 }), logger: { warn() {}, error() {} } });
    const res = await request(other).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(500);
  });

  it('signs with HS384 and HS512 when chosen', async () => {
    for (const algorithm of ['HS384', 'HS512'] as const) {
      const { app: other } = makeApp({ algorithm, secret: 'hs-512-test-secret-Vq8Lr2Xw7Nc4Tb9Jm1Hd6Kp3Zs5Yf0Ug-Ra7Ee2Qi4Wo9Pl3Xk8Mn6Bv' });
      const res = await request(other).post('/api/token/').send({ username: 'vitor', password: '123' });
      expect(decodePart(res.body.access, 0)).toEqual({ alg: algorithm, typ: 'JWT' });
      expect((await request(other).get('/hello/').set('Authorization', `Bearer ${res.body.access}`)).status).toBe(200);
    }
  });
});

describe('interoperability with djangorestframework-simplejwt', () => {
  const { app } = makeApp();
  const now = Math.floor(Date.now() / 1000);

  it('accepts a token as simplejwt 5 (PyJWT, sorted header, string user id) would mint it', async () => {
    const token = forge(HS256, `{"token_type":"access","exp":${now + 300},"iat":${now},"jti":"7f5997b7150d46579dc2b49167097e7b","user_id":"1"}`, SECRET);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });

  it("accepts an older simplejwt token: header {typ, alg}, integer user_id, no iat", async () => {
    const token = forge('{"typ":"JWT","alg":"HS256"}', `{"token_type":"access","exp":${now + 300},"jti":"e0d1d66219874e679f4634ee6546a200","user_id":1}`, SECRET);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });

  it('mints tokens simplejwt accepts: plain HS256 over the compact JSON, verifiable with the key alone', async () => {
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    const [h, p, s] = (res.body.access as string).split('.');
    const header = Buffer.from(h!, 'base64url').toString();
    const payload = Buffer.from(p!, 'base64url').toString();
    expect(forge(header, payload, SECRET).split('.')[2]).toBe(s);
    expect(header).toBe(HS256);
    expect(payload).toMatch(/^\{"token_type":"access","exp":\d+,"iat":\d+,"jti":"[0-9a-f]{32}","user_id":"1"\}$/);
  });
});

describe('what jsonwebtoken lets through and the kit does not', () => {
  const clock = manualClock();
  const { app } = makeApp({ clock: clock.now });
  const now = Math.floor(clock.now() / 1000);
  const invalid = { detail: 'Token is invalid', code: 'token_not_valid' };

  async function verify(token: string) {
    return request(app).post('/api/token/verify/').send({ token });
  }

  it.each([
    ['a string payload', '"hello"'],
    ['an array payload', '[1,2]'],
    ['a number payload', '42'],
    ['null', 'null'],
    ['a non-integer exp', `{"token_type":"access","exp":${now + 60}.5,"jti":"x"}`],
    ['a string exp', `{"token_type":"access","exp":"${now + 60}","jti":"x"}`],
    ['a future iat', `{"token_type":"access","exp":${now + 60},"iat":${now + 30},"jti":"x"}`],
    ['a future nbf', `{"token_type":"access","exp":${now + 60},"nbf":${now + 30},"jti":"x"}`],
  ])('refuses %s as invalid', async (_name, payload) => {
    const res = await verify(forge(HS256, payload, SECRET));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(invalid);
  });

  it('refuses a payload that is not JSON as invalid, never a 500', async () => {
    const token = `${b64url(HS256)}.${b64url('not json')}`;
    const signed = forge(HS256, 'not json', SECRET);
    expect((await verify(signed)).body).toEqual(invalid);
    expect((await verify(`${token}.xyz`)).body).toEqual(invalid);
  });

  it('refuses an unknown crit header', async () => {
    const token = forge('{"alg":"HS256","typ":"JWT","crit":["exp"]}', `{"token_type":"access","exp":${now + 60},"jti":"x"}`, SECRET);
    expect((await verify(token)).body).toEqual(invalid);
  });

  it('reports a missing exp (after signature and expiry checks)', async () => {
    const token = forge(HS256, '{"token_type":"access","jti":"x"}', SECRET);
    expect((await verify(token)).body).toEqual({ detail: "Token has no 'exp' claim", code: 'token_not_valid' });
  });

  it('reports invalid before expired: a token both expired and with a future iat is invalid', async () => {
    const token = forge(HS256, `{"token_type":"access","exp":${now - 10},"iat":${now + 100},"jti":"x"}`, SECRET);
    expect((await verify(token)).body).toEqual(invalid);
  });

  it('honours leeway for exp, nbf and iat', async () => {
    const { app: lenient } = makeApp({ clock: clock.now, leeway: '30s' });
    const within = forge(HS256, `{"token_type":"access","exp":${now - 10},"iat":${now + 20},"jti":"x"}`, SECRET);
    expect((await request(lenient).post('/api/token/verify/').send({ token: within })).status).toBe(200);
    const beyond = forge(HS256, `{"token_type":"access","exp":${now - 30},"jti":"x"}`, SECRET);
    expect((await request(lenient).post('/api/token/verify/').send({ token: beyond })).body.detail).toBe('Token is expired');
  });
});

describe('the verified-token cache', () => {
  it('keeps verifying every token as tokens pass through its generations, and never lets an altered one in', () => {
    const codec = createCodec({ algorithm: 'HS256', key: createSecretKey(Buffer.from(SECRET)), leeway: 0 });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    // More tokens than the cache holds (two generations of 5,000), presented twice round-robin: misses, then hits
    // in the newer and the older generation, then misses again of tokens dropped with the older one.
    const tokens = Array.from({ length: 12_000 }, (_, i) => codec.sign({ token_type: 'access', exp, jti: `j${i}`, user_id: '1' }));
    const now = exp - 60;
    const wrong: number[] = [];
    for (let pass = 0; pass < 2; pass++) {
      tokens.forEach((token, i) => {
        const { header, claims } = codec.decode(token, now) as DecodedToken;
        if (header.alg !== 'HS256' || claims.jti !== `j${i}` || claims.exp !== exp || Object.keys(claims).length !== 4) wrong.push(i);
      });
    }
    expect(wrong).toEqual([]);
    expect(codec.decode(tokens[0]!, now)).toEqual({ header: { alg: 'HS256', typ: 'JWT' }, claims: { token_type: 'access', exp, jti: 'j0', user_id: '1' } });
    // The last token is cached; the same claims with another signature, or another spelling of it, are not that token.
    const last = tokens.at(-1)!;
    const [header, payload, signature] = last.split('.');
    const otherBits = signature!.slice(0, -1) + String.fromCharCode(signature!.charCodeAt(signature!.length - 1) ^ 1);
    expect(() => codec.decode(`${header}.${payload}.${otherBits}`, now)).toThrow('Token is invalid');
    expect(() => codec.decode(forge(HS256, Buffer.from(payload!, 'base64url').toString(), 'another-secret-of-thirty-two-bytes!!'), now)).toThrow('Token is invalid');
    expect((codec.decode(last, now) as DecodedToken).claims.jti).toBe('j11999');
  });

  it('re-checks time on every use and never shares a host change to req.auth between requests', async () => {
    const clock = manualClock();
    const { app, auth } = makeApp({ clock: clock.now, customClaims: () => ({ roles: ['reader'] }) });
    app.get('/mutate/', auth.authenticate({ stateless: true }), (req, res) => {
      (req.auth as Record<string, unknown>).extra = 'added by the host';
      res.json({ frozen: Object.isFrozen(req.auth!.roles) });
    });
    const { access } = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    const bearer = { Authorization: `Bearer ${access}` };
    expect((await request(app).get('/mutate/').set(bearer)).body).toEqual({ frozen: true });
    const seen = await request(app).get('/stateless/').set(bearer);
    expect(seen.body.auth.extra).toBeUndefined();
    expect(seen.body.auth.roles).toEqual(['reader']);
    clock.advance(300);
    const expired = await request(app).get('/stateless/').set(bearer);
    expect(expired.status).toBe(401);
    expect(expired.body.messages[0].message).toBe('Token is expired');
  });
});

describe('the revocation check', () => {
  it('is given to the verifier at construction: auth.tokens offers no way to replace it', () => {
    const { auth } = makeApp();
    expect(Object.keys(auth.tokens).sort()).toEqual(['accessFrom', 'canSign', 'issuePair', 'issueSliding', 'userClaims', 'verify']);
    expect(Object.isFrozen(auth.tokens)).toBe(true);
  });
});
