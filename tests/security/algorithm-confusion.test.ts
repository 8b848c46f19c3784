import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { b64url, forge } from '../helpers/jwt';
import { makeApp } from '../helpers/app';
import { countingServer, keyPairFor, listen, pem, SECRETS, signRaw } from '../helpers/keys';

const invalid = { detail: 'Token is invalid', code: 'token_not_valid' };
const now = Math.floor(Date.now() / 1000);
const payload = `{"token_type":"access","exp":${now + 300},"iat":${now},"jti":"0123456789abcdef0123456789abcdef","user_id":"1"}`;

describe('algorithm confusion: an RS256 service', () => {
  const { privateKey, publicKey } = keyPairFor('RS256');
  const { app } = makeApp({ algorithm: 'RS256', signingKey: privateKey });
  const publicPem = pem(publicKey);

  async function verify(token: string) {
    return request(app).post('/api/token/verify/').send({ token });
  }
  async function hello(token: string) {
    return request(app).get('/hello/').set('Authorization', `Bearer ${token}`);
  }

  it('accepts its own RS256 token (the control)', async () => {
    const token = signRaw('RS256', '{"alg":"RS256","typ":"JWT"}', payload, privateKey);
    expect((await verify(token)).status).toBe(200);
  });

  it.each([
    ['the public key PEM', publicPem],
    ['the PEM without its trailing newline', publicPem.trimEnd()],
    ['the PKCS#1 PEM', publicKey.export({ type: 'pkcs1', format: 'pem' }) as string],
    ['the DER bytes', publicKey.export({ type: 'spki', format: 'der' })],
    ['the JWK JSON', JSON.stringify(publicKey.export({ format: 'jwk' }))],
  ])('refuses an HS256 token signed with %s as the HMAC secret', async (_what, secret) => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const token = forge(`{"alg":"${alg}","typ":"JWT"}`, payload, secret, `sha${alg.slice(2)}`);
      expect((await verify(token)).body).toEqual(invalid);
      expect((await hello(token)).status).toBe(401);
    }
  });

  it.each([
    ['alg none, empty signature', '{"alg":"none","typ":"JWT"}', ''],
    ['alg None', '{"alg":"None","typ":"JWT"}', ''],
    ['alg NONE', '{"alg":"NONE","typ":"JWT"}', ''],
    ['alg nOnE', '{"alg":"nOnE","typ":"JWT"}', ''],
    ['alg none with a signature', '{"alg":"none","typ":"JWT"}', 'c2lnbmF0dXJl'],
    ['no alg at all', '{"typ":"JWT"}', ''],
    ['alg null', '{"alg":null,"typ":"JWT"}', ''],
  ])('refuses %s', async (_what, header, signature) => {
    const token = `${b64url(header)}.${b64url(payload)}.${signature}`;
    expect((await verify(token)).body).toEqual(invalid);
    expect((await hello(token)).status).toBe(401);
  });

  it('refuses an alg none token whose signature part was kept from a real token', async () => {
    const real = signRaw('RS256', '{"alg":"RS256","typ":"JWT"}', payload, privateKey);
    const token = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(payload)}.${real.split('.')[2]}`;
    expect((await verify(token)).body).toEqual(invalid);
  });

  it('refuses other algorithms with the same key: RS384, PS256 (same RSA key), ES256', async () => {
    expect((await verify(signRaw('RS384', '{"alg":"RS384","typ":"JWT"}', payload, privateKey))).body).toEqual(invalid);
    expect((await verify(signRaw('PS256', '{"alg":"PS256","typ":"JWT"}', payload, privateKey))).body).toEqual(invalid);
    const ec = keyPairFor('ES256');
    expect((await verify(signRaw('ES256', '{"alg":"ES256","typ":"JWT"}', payload, ec.privateKey))).body).toEqual(invalid);
  });

  it('refuses a PS256 signature under an RS256 header', async () => {
    const ps = signRaw('PS256', '{"alg":"PS256","typ":"JWT"}', payload, privateKey).split('.')[2];
    expect((await verify(`${b64url('{"alg":"RS256","typ":"JWT"}')}.${b64url(payload)}.${ps}`)).body).toEqual(invalid);
  });
});

describe('header keys are never trusted: jwk, jku, x5u, x5c', () => {
  const ours = keyPairFor('ES256');
  const attacker = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const attackerJwk = JSON.stringify(attacker.publicKey.export({ format: 'jwk' }));
  let spy: Awaited<ReturnType<typeof countingServer>>;

  beforeAll(async () => {
    spy = await countingServer();
  });
  afterAll(async () => {
    await spy.close();
  });

  const apps = {
    'a single ES256 key': () => makeApp({ algorithm: 'ES256', signingKey: ours.privateKey }).app,
    'a key set': () => makeApp({ keys: [{ kid: 'k1', algorithm: 'ES256', signingKey: ours.privateKey, signing: true }] }).app,
  };

  describe.each(Object.entries(apps))('with %s', (_name, build) => {
    const app = build();
    const headers = () => [
      ['an embedded jwk (the attacker key)', `{"alg":"ES256","typ":"JWT","jwk":${attackerJwk}}`],
      ['an embedded jwk and kid', `{"alg":"ES256","typ":"JWT","kid":"k1","jwk":${attackerJwk}}`],
      ['jku pointing at the attacker', `{"alg":"ES256","typ":"JWT","jku":"${spy.url}/jwks.json"}`],
      ['x5u pointing at the attacker', `{"alg":"ES256","typ":"JWT","x5u":"${spy.url}/cert.pem"}`],
      ['x5c with a made-up chain', `{"alg":"ES256","typ":"JWT","x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}`],
      ['kid as a URL', `{"alg":"ES256","typ":"JWT","kid":"${spy.url}/key"}`],
    ];

    it('refuses tokens signed with the attacker key whatever the header says, and fetches nothing', async () => {
      for (const [, header] of headers()) {
        const token = signRaw('ES256', header!, payload, attacker.privateKey);
        expect((await request(app).post('/api/token/verify/').send({ token })).body).toEqual(invalid);
        expect((await request(app).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(401);
      }
      expect(spy.count()).toBe(0);
    });

    it('ignores those headers on a token signed with our key (they neither help nor hurt)', async () => {
      const token = signRaw('ES256', `{"alg":"ES256","typ":"JWT","kid":"k1","jku":"${spy.url}/jwks.json","x5u":"${spy.url}/x"}`, payload, ours.privateKey);
      expect((await request(app).post('/api/token/verify/').send({ token })).status).toBe(200);
      expect(spy.count()).toBe(0);
    });
  });

  it('a remote-JWKS verifier fetches only its configured URL, never a header URL', async () => {
    const issuer = makeApp({ keys: [{ kid: 'k1', algorithm: 'ES256', signingKey: ours.privateKey, signing: true }] });
    let jwksHits = 0;
    const served = await listen((req: IncomingMessage, res: ServerResponse) => {
      jwksHits++;
      issuer.auth.jwksHandler(req as never, res as never);
    });
    try {
      const { app } = makeApp({ jwksUri: { uri: `${served.base}/.well-known/jwks.json`, algorithms: ['ES256'] } });
      const forged = signRaw('ES256', `{"alg":"ES256","typ":"JWT","kid":"k1","jku":"${spy.url}/jwks.json","jwk":${attackerJwk}}`, payload, attacker.privateKey);
      expect((await request(app).post('/api/token/verify/').send({ token: forged })).body).toEqual(invalid);
      const good = signRaw('ES256', `{"alg":"ES256","typ":"JWT","kid":"k1","jku":"${spy.url}/jwks.json"}`, payload, ours.privateKey);
      expect((await request(app).post('/api/token/verify/').send({ token: good })).status).toBe(200);
      expect(spy.count()).toBe(0);
      expect(jwksHits).toBe(1);
    } finally {
      await served.close();
    }
  });
});

describe('an HMAC service refuses asymmetric tokens', () => {
  const { app } = makeApp({ secret: SECRETS.a });

  it('refuses RS256 and ES256 tokens, even carrying a key', async () => {
    const rsa = keyPairFor('RS256');
    const token = signRaw('RS256', '{"alg":"RS256","typ":"JWT"}', payload, rsa.privateKey);
    expect((await request(app).post('/api/token/verify/').send({ token })).body).toEqual(invalid);
    const ec = keyPairFor('ES256');
    const withJwk = signRaw('ES256', `{"alg":"ES256","jwk":${JSON.stringify(ec.publicKey.export({ format: 'jwk' }))}}`, payload, ec.privateKey);
    expect((await request(app).post('/api/token/verify/').send({ token: withJwk })).body).toEqual(invalid);
  });
});
