import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { jwkThumbprint, simpleJwt, type AsymmetricAlgorithm, type Options, type SimpleJwt } from '../../../lib';
import type { DemoUser } from '../../../demo-app/users';
import { makeApp, memoryLogger } from '../../helpers/app';
import { forge } from '../../helpers/jwt';
import { keyPairFor, listen, SECRETS, signRaw } from '../../helpers/keys';

const invalid = { detail: 'Token is invalid', code: 'token_not_valid' };
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

describe('auth.jwks(): the public keys, and nothing else', () => {
  const rsa = keyPairFor('RS256');
  const ec = keyPairFor('ES384');

  it('lists RSA and EC keys with kty, kid, use, alg and only their public members', () => {
    const { auth } = makeApp({
      keys: [
        { kid: 'rsa-1', algorithm: 'PS256', signingKey: rsa.privateKey, signing: true },
        { kid: 'ec-1', algorithm: 'ES384', signingKey: ec.privateKey },
      ],
    });
    const { keys } = auth.jwks();
    expect(keys.map((k) => Object.keys(k))).toEqual([
      ['kty', 'kid', 'use', 'alg', 'n', 'e'],
      ['kty', 'kid', 'use', 'alg', 'crv', 'x', 'y'],
    ]);
    expect(keys[0]).toMatchObject({ kty: 'RSA', kid: 'rsa-1', use: 'sig', alg: 'PS256', e: 'AQAB' });
    expect(keys[1]).toMatchObject({ kty: 'EC', kid: 'ec-1', use: 'sig', alg: 'ES384', crv: 'P-384' });
    const text = JSON.stringify(auth.jwks());
    for (const member of PRIVATE_MEMBERS) expect(text).not.toContain(`"${member}"`);
    const d = (rsa.privateKey.export({ format: 'jwk' }) as { d: string }).d;
    expect(text).not.toContain(d.slice(0, 40));
  });

  it('never lists an HMAC key, even in a mixed set', () => {
    const { auth } = makeApp({
      keys: [
        { kid: 'hs', secret: SECRETS.a, signing: true },
        { kid: 'ec', algorithm: 'ES384', verifyingKey: ec.publicKey },
      ],
    });
    expect(auth.jwks().keys.map((k) => k.kid)).toEqual(['ec']);
    expect(JSON.stringify(auth.jwks())).not.toContain(Buffer.from(SECRETS.a).toString('base64url').slice(0, 20));
    expect(makeApp({ secret: SECRETS.a }).auth.jwks()).toEqual({ keys: [] });
  });

  it('names a single key by its RFC 7638 thumbprint', () => {
    const { auth } = makeApp({ algorithm: 'RS256', signingKey: rsa.privateKey });
    const [jwk] = auth.jwks().keys;
    const canonical = `{"e":"${jwk!.e}","kty":"RSA","n":"${jwk!.n}"}`;
    expect(jwk!.kid).toBe(createHash('sha256').update(canonical).digest('base64url'));
    expect(jwkThumbprint(ec.publicKey)).toBe(
      createHash('sha256')
        .update(JSON.stringify((({ crv, kty, x, y }) => ({ crv, kty, x, y }))(ec.publicKey.export({ format: 'jwk' }) as Record<string, string>)))
        .digest('base64url'),
    );
  });

  it('hands out copies: changing one does not change what is served', async () => {
    const { auth } = makeApp({ algorithm: 'ES384', signingKey: ec.privateKey });
    const copy = auth.jwks();
    copy.keys.length = 0;
    expect(auth.jwks().keys).toHaveLength(1);
  });
});

describe('auth.jwksHandler', () => {
  const { auth } = makeApp({ algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey });
  const app = express();
  app.get('/.well-known/jwks.json', auth.jwksHandler);
  app.all('/any-method/jwks.json', auth.jwksHandler);

  it('serves the set as JSON with public cache headers', async () => {
    const res = await request(app).get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body).toEqual(auth.jwks());
  });

  it('answers HEAD without a body, and refuses other methods with 405', async () => {
    const head = await request(app).head('/any-method/jwks.json');
    expect(head.status).toBe(200);
    expect(head.text ?? '').toBe('');
    const post = await request(app).post('/any-method/jwks.json');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(post.body).toEqual({ detail: 'Method "POST" not allowed.' });
  });
});

/** An issuing service on 127.0.0.1: the token endpoints and its JWKS, as the demo mounts them. */
async function startIssuer(options: Partial<Options<DemoUser>>) {
  const { app, auth } = makeApp(options);
  app.get('/.well-known/jwks.json', auth.jwksHandler);
  let fetches = 0;
  const server = await listen((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/.well-known/jwks.json') fetches++;
    app(req, res);
  });
  return { ...server, auth, jwksUri: `${server.base}/.well-known/jwks.json`, fetches: () => fetches };
}

describe.each(['RS256', 'ES256', 'PS512', 'ES512'] as AsymmetricAlgorithm[])(
  'the JWKS round trip between two Express apps over HTTP (%s)',
  (algorithm) => {
    let issuer: Awaited<ReturnType<typeof startIssuer>>;
    let verifier: Awaited<ReturnType<typeof listen>>;
    let verifierAuth: SimpleJwt;

    beforeAll(async () => {
      issuer = await startIssuer({ algorithm, signingKey: keyPairFor(algorithm).privateKey });
      // The second app knows nothing but the first app's JWKS URL.
      const second = makeApp({ jwksUri: { uri: issuer.jwksUri, algorithms: [algorithm] } });
      verifierAuth = second.auth;
      verifier = await listen(second.app);
    });
    afterAll(async () => {
      await verifier.close();
      await issuer.close();
    });

    it('accepts the first app’s tokens in authenticate() and /verify/', async () => {
      const { access, refresh } = (await request(issuer.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
      const hello = await request(verifier.base).get('/hello/').set('Authorization', `Bearer ${access}`);
      expect(hello.status).toBe(200);
      expect(hello.body).toEqual({ message: 'Hello, World!' });
      expect((await request(verifier.base).post('/api/token/verify/').send({ token: refresh })).body).toEqual({});
      expect(verifierAuth.tokens.verify(access, 'access')).toBeInstanceOf(Promise);
    });

    it('fetches the JWKS once and then works from its cache', async () => {
      const { access } = (await request(issuer.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
      for (let i = 0; i < 5; i++) {
        expect((await request(verifier.base).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
      }
      expect(issuer.fetches()).toBe(1);
    });

    it('refuses a tampered token, another key’s token and an HMAC token', async () => {
      const { access } = (await request(issuer.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
      const [h, , s] = (access as string).split('.');
      const now = Math.floor(Date.now() / 1000);
      const otherPayload = Buffer.from(`{"token_type":"access","exp":${now + 300},"iat":${now},"jti":"x","user_id":"2"}`).toString('base64url');
      expect((await request(verifier.base).post('/api/token/verify/').send({ token: `${h}.${otherPayload}.${s}` })).body).toEqual(invalid);
      const other = keyPairFor(algorithm, 'attacker');
      const forged = signRaw(algorithm, `{"alg":"${algorithm}","typ":"JWT"}`, `{"token_type":"access","exp":${now + 300},"jti":"x","user_id":"1"}`, other.privateKey);
      expect((await request(verifier.base).post('/api/token/verify/').send({ token: forged })).body).toEqual(invalid);
      const hmac = forge('{"alg":"HS256","typ":"JWT"}', `{"token_type":"access","exp":${now + 300},"jti":"x","user_id":"1"}`, SECRETS.a);
      expect((await request(verifier.base).post('/api/token/verify/').send({ token: hmac })).body).toEqual(invalid);
    });

    it('does not issue tokens itself (verify-only)', async () => {
      const res = await request(verifier.base).post('/api/token/').send({ username: 'vitor', password: '123' });
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('verify_only');
    });
  },
);

describe('the remote JWKS client: kid look-ups, rate limit, outages, timeout', () => {
  const rsa = keyPairFor('RS256');
  const now = Math.floor(Date.now() / 1000);
  const payload = `{"token_type":"access","exp":${now + 300},"iat":${now},"jti":"x","user_id":"1"}`;

  it('refetches for an unknown kid at most requestsPerMinute times, then answers 503 until the minute is over', async () => {
    const issuer = await startIssuer({ keys: [{ kid: 'k1', algorithm: 'RS256', signingKey: rsa.privateKey, signing: true }] });
    const logger = memoryLogger();
    try {
      const { app } = makeApp({ jwksUri: { uri: issuer.jwksUri, algorithms: ['RS256'], requestsPerMinute: 2 }, logger });
      const good = signRaw('RS256', '{"alg":"RS256","typ":"JWT","kid":"k1"}', payload, rsa.privateKey);
      expect((await request(app).post('/api/token/verify/').send({ token: good })).status).toBe(200); // fetch 1
      const unknown = (kid: string) => signRaw('RS256', `{"alg":"RS256","typ":"JWT","kid":"${kid}"}`, payload, rsa.privateKey);
      expect((await request(app).post('/api/token/verify/').send({ token: unknown('nope-1') })).body).toEqual(invalid); // fetch 2
      const limited = await request(app).post('/api/token/verify/').send({ token: unknown('nope-2') });
      expect(limited.status).toBe(503);
      expect(limited.body).toEqual({ detail: 'The signing keys are unavailable; try again shortly.', code: 'keys_unavailable' });
      expect(limited.headers['retry-after']).toBe('5');
      expect(issuer.fetches()).toBe(2);
      // A known kid is still served from the cache.
      expect((await request(app).get('/hello/').set('Authorization', `Bearer ${good}`)).status).toBe(200);
      expect(logger.lines.join('\n')).toMatch(/JWKS_UNAVAILABLE: keys could not be fetched from .*JwksRateLimitError/);
    } finally {
      await issuer.close();
    }
  });

  it('fetches nothing for a token whose algorithm is not accepted or whose kid is no string', async () => {
    const issuer = await startIssuer({ keys: [{ kid: 'k1', algorithm: 'RS256', signingKey: rsa.privateKey, signing: true }] });
    try {
      const { app } = makeApp({ jwksUri: { uri: issuer.jwksUri, algorithms: ['RS256'] } });
      const ps = signRaw('PS256', '{"alg":"PS256","typ":"JWT","kid":"k1"}', payload, rsa.privateKey);
      expect((await request(app).post('/api/token/verify/').send({ token: ps })).body).toEqual(invalid);
      const none = `${Buffer.from('{"alg":"none","kid":"k1"}').toString('base64url')}.${Buffer.from(payload).toString('base64url')}.`;
      expect((await request(app).post('/api/token/verify/').send({ token: none })).body).toEqual(invalid);
      const numericKid = signRaw('RS256', '{"alg":"RS256","typ":"JWT","kid":7}', payload, rsa.privateKey);
      expect((await request(app).post('/api/token/verify/').send({ token: numericKid })).body).toEqual(invalid);
      expect(issuer.fetches()).toBe(0);
    } finally {
      await issuer.close();
    }
  });

  it('answers 503 keys_unavailable (not 401) when the JWKS cannot be reached, in authenticate() too', async () => {
    const closed = await listen((_req: IncomingMessage, res: ServerResponse) => res.end());
    const uri = `${closed.base}/.well-known/jwks.json`;
    await closed.close();
    const { app } = makeApp({ jwksUri: { uri, algorithms: ['RS256'] }, logger: memoryLogger() });
    const token = signRaw('RS256', '{"alg":"RS256","typ":"JWT","kid":"k1"}', payload, rsa.privateKey);
    const verify = await request(app).post('/api/token/verify/').send({ token });
    expect(verify.status).toBe(503);
    expect(verify.body.code).toBe('keys_unavailable');
    const hello = await request(app).get('/hello/').set('Authorization', `Bearer ${token}`);
    expect(hello.status).toBe(503);
    expect(hello.body).toEqual({ detail: 'The signing keys are unavailable; try again shortly.', code: 'keys_unavailable' });
  });

  it('gives up on a JWKS that does not answer after the timeout', async () => {
    const silent = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const { app } = makeApp({ jwksUri: { uri: `http://127.0.0.1:${port}/jwks.json`, algorithms: ['RS256'], timeout: 1 }, logger: memoryLogger() });
      const token = signRaw('RS256', '{"alg":"RS256","typ":"JWT","kid":"k1"}', payload, rsa.privateKey);
      const started = Date.now();
      const res = await request(app).post('/api/token/verify/').send({ token });
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('requires audience and issuer on remote tokens too when configured', async () => {
    const issuer = await startIssuer({ algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey, audience: 'orders-api', issuer: 'https://auth.test' });
    const plain = await startIssuer({ algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey });
    try {
      const strict = makeApp({ jwksUri: { uri: issuer.jwksUri, algorithms: ['ES256'] }, audience: 'orders-api', issuer: 'https://auth.test' }).app;
      const { access } = (await request(issuer.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
      expect((await request(strict).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
      const { access: bare } = (await request(plain.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
      expect((await request(strict).post('/api/token/verify/').send({ token: bare })).body).toEqual(invalid);
    } finally {
      await issuer.close();
      await plain.close();
    }
  });
});

describe('the jwksUri option', () => {
  const base = { findUserById: () => null, warnings: false as const };

  it.each([
    ['http://auth.example.com/jwks.json', 'RS256', /must be https: \(plain http: is only accepted for localhost\)/],
    ['ftp://auth.example.com/jwks.json', 'RS256', /must be an https: URL \(got ftp:\)/],
    ['not a url', 'RS256', /must be an absolute URL/],
    ['https://auth.example.com/jwks.json', undefined, /needs the algorithms it accepts/],
    ['https://auth.example.com/jwks.json', 'HS256', /HMAC secrets are never published in a JWKS/],
    ['https://auth.example.com/jwks.json', 'EdDSA', /EdDSA is not supported/],
  ])('refuses %s with algorithm %s', (uri, algorithm, message) => {
    expect(() => simpleJwt({ ...base, jwksUri: uri, algorithm: algorithm as never })).toThrow(message);
  });

  it('refuses bad fields', () => {
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', jwksUri: { uri: 'https://a.test/j', requestsPerMinute: 0 } })).toThrow(/requestsPerMinute/);
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', jwksUri: { uri: 'https://a.test/j', cacheAge: 5 } as never })).toThrow(/Unknown field "jwksUri.cacheAge"/);
    expect(() => simpleJwt({ ...base, jwksUri: { uri: 'https://a.test/j', algorithms: ['RS256', 'HS512' as never] } })).toThrow(/HMAC/);
  });

  it('accepts http to localhost, and elsewhere only with dangerouslyAllowHttp, with a warning', () => {
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', jwksUri: 'http://localhost:8000/jwks.json' })).not.toThrow();
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', jwksUri: 'http://127.0.0.1:8000/jwks.json' })).not.toThrow();
    const logger = memoryLogger();
    simpleJwt({ findUserById: () => null, logger, loginThrottle: '5/m', algorithm: 'RS256', jwksUri: { uri: 'http://auth.internal/jwks.json', dangerouslyAllowHttp: true } });
    expect(logger.lines.join('\n')).toMatch(/JWKS_HTTP: "jwksUri" fetches keys over plain http from auth.internal/);
  });
});
