import { createPublicKey, createSecretKey, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { jwkThumbprint, simpleJwt, type AsymmetricAlgorithm } from '../../../lib';
import { decodePart } from '../../helpers/jwt';
import { makeApp } from '../../helpers/app';
import { joseHash, joseKey, keyPairFor, pem, SECRETS, signRaw } from '../../helpers/keys';

const ASYMMETRIC: AsymmetricAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const base = { findUserById: () => null, warnings: false as const };
const invalid = { detail: 'Token is invalid', code: 'token_not_valid' };

async function login(app: Parameters<typeof request>[0]) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}

/** Checks a token's signature with node:crypto alone, as any other JOSE library would. */
function signatureHolds(token: string, algorithm: AsymmetricAlgorithm, publicKey: ReturnType<typeof createPublicKey>): boolean {
  const [h, p, s] = token.split('.');
  return cryptoVerify(joseHash(algorithm), Buffer.from(`${h}.${p}`), joseKey(algorithm, publicKey), Buffer.from(s!, 'base64url'));
}

describe('every algorithm round trip (login, /hello/, refresh, verify) on a real Express app', () => {
  it.each(['HS256', 'HS384', 'HS512'] as const)('%s with a secret', async (algorithm) => {
    const { app } = makeApp({ algorithm, secret: SECRETS.a });
    const { access, refresh } = await login(app);
    expect(decodePart(access, 0)).toEqual({ alg: algorithm, typ: 'JWT' });
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
    const refreshed = await request(app).post('/api/token/refresh/').send({ refresh });
    expect(refreshed.status).toBe(200);
    expect((await request(app).post('/api/token/verify/').send({ token: refreshed.body.access })).body).toEqual({});
  });

  it.each(ASYMMETRIC)('%s with a private key', async (algorithm) => {
    const { privateKey, publicKey } = keyPairFor(algorithm);
    const { app, auth } = makeApp({ algorithm, signingKey: privateKey });
    const { access, refresh } = await login(app);
    // The JWKS `kid` (the key's RFC 7638 thumbprint) even with one key, so JWKS consumers that select by kid find it.
    const [jwk] = auth.jwks().keys;
    expect(jwk!.kid).toBe(jwkThumbprint(publicKey));
    expect(decodePart(access, 0)).toEqual({ alg: algorithm, typ: 'JWT', kid: jwk!.kid });
    expect(decodePart(refresh, 0)).toEqual({ alg: algorithm, typ: 'JWT', kid: jwk!.kid });
    expect(signatureHolds(access, algorithm, publicKey)).toBe(true);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${access}`)).body).toEqual({ message: 'Hello, World!' });
    const refreshed = await request(app).post('/api/token/refresh/').send({ refresh });
    expect(refreshed.status).toBe(200);
    expect((await request(app).post('/api/token/verify/').send({ token: refreshed.body.access })).status).toBe(200);
    // Local keys verify synchronously (only a remote JWKS makes verification wait).
    expect(auth.tokens.verify(access, 'access')).not.toBeInstanceOf(Promise);
  });

  it.each(ASYMMETRIC)('%s accepts a token signed elsewhere (node:crypto) with the same key', async (algorithm) => {
    const { privateKey } = keyPairFor(algorithm);
    const { app } = makeApp({ algorithm, signingKey: privateKey });
    const now = Math.floor(Date.now() / 1000);
    const token = signRaw(algorithm, `{"alg":"${algorithm}","typ":"JWT"}`, `{"token_type":"access","exp":${now + 60},"iat":${now},"jti":"abc","user_id":"1"}`, privateKey);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(200);
  });

  it('a single key pair\'s tokens (kid = thumbprint) still verify after a move to a key set that names the key otherwise', async () => {
    const { privateKey } = keyPairFor('ES256');
    const before = makeApp({ algorithm: 'ES256', signingKey: privateKey });
    const { access } = await login(before.app);
    const after = makeApp({
      keys: [
        { kid: '2026-01', algorithm: 'ES256', signingKey: privateKey },
        { kid: '2026-04', algorithm: 'ES256', signingKey: keyPairFor('ES256', 'next').privateKey, signing: true },
      ],
    });
    expect((await request(after.app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
    const other = makeApp({ keys: [{ kid: 'only', algorithm: 'ES256', signingKey: keyPairFor('ES256', 'next').privateKey, signing: true }] });
    expect((await request(other.app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(401);
  });

  it('runs on Express 4 as well', async () => {
    const { app } = makeApp({ algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey }, { major: 4 });
    const { access } = await login(app);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
  });
});

describe('keys given as PEM text, file path, or KeyObject', () => {
  const { privateKey, publicKey } = keyPairFor('ES256');
  const dir = mkdtempSync(join(tmpdir(), 'simplejwt-keys-'));
  const privatePath = join(dir, 'private.pem');
  const publicPath = join(dir, 'public.pem');
  writeFileSync(privatePath, pem(privateKey));
  writeFileSync(publicPath, pem(publicKey));

  it.each([
    ['PEM text', pem(privateKey), pem(publicKey)],
    ['file paths', privatePath, publicPath],
    ['PEM buffers', Buffer.from(pem(privateKey)), Buffer.from(pem(publicKey))],
    ['KeyObjects', privateKey, publicKey],
  ])('%s', async (_how, signingKey, verifyingKey) => {
    const signer = makeApp({ algorithm: 'ES256', signingKey });
    const verifier = makeApp({ algorithm: 'ES256', verifyingKey });
    const { access } = await login(signer.app);
    expect((await request(verifier.app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
  });

  it('reads a PKCS#1 "RSA PUBLIC KEY" PEM as well as SPKI', () => {
    const rsa = keyPairFor('RS256');
    const pkcs1 = rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', verifyingKey: pkcs1 })).not.toThrow();
  });

  it('reports a missing file without echoing the value', () => {
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', signingKey: join(dir, 'nope.pem') })).toThrow(
      /"signingKey" is not PEM text \(no -----BEGIN line\), so it was read as a file path, which failed \(ENOENT\)/,
    );
  });
});

describe('the key type is checked against the algorithm at construction', () => {
  const rsa = keyPairFor('RS256');
  const ec256 = keyPairFor('ES256');
  const ec384 = keyPairFor('ES384');

  it('refuses an RSA key under 2048 bits', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', signingKey: small.privateKey })).toThrow(
      /"signingKey" is a 1024-bit RSA key; RS256 needs at least 2048 bits/,
    );
    expect(() => simpleJwt({ ...base, algorithm: 'PS256', verifyingKey: small.publicKey })).toThrow(/needs at least 2048 bits/);
  });

  it.each([
    ['ES256', ec384.privateKey, /on curve secp384r1, but ES256 needs an EC key on curve P-256/],
    ['ES384', ec256.privateKey, /on curve prime256v1, but ES384 needs an EC key on curve P-384/],
    ['ES512', ec256.privateKey, /ES512 needs an EC key on curve P-521/],
    ['ES256', rsa.privateKey, /is an RSA private key, but ES256 needs an EC key/],
    ['RS256', ec256.privateKey, /is an EC private key, but RS256 needs an RSA key/],
    ['PS256', ec256.privateKey, /is an EC private key, but PS256 needs an RSA key/],
  ] as const)('%s refuses the wrong key kind', (algorithm, key, message) => {
    expect(() => simpleJwt({ ...base, algorithm, signingKey: key })).toThrow(message);
  });

  it('refuses secp256k1 (that is ES256K, not ES256)', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', signingKey: k1.privateKey })).toThrow(/on curve secp256k1/);
  });

  it('refuses an RSA-PSS-only key, pointing to a plain RSA key', () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    expect(() => simpleJwt({ ...base, algorithm: 'PS256', signingKey: pss.privateKey })).toThrow(/RFC 7518 uses ordinary RSA keys/);
  });

  it('never takes an HMAC secret where a public key is expected', () => {
    const secret = createSecretKey(Buffer.from(SECRETS.a));
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', verifyingKey: secret })).toThrow(
      /"verifyingKey" is an HMAC secret; an HMAC secret never stands in for a public key/,
    );
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', signingKey: secret })).toThrow(/"signingKey" is an HMAC secret/);
    // A secret string is not PEM, so it could only be a path, and is refused without being echoed.
    let message = '';
    try {
      simpleJwt({ ...base, algorithm: 'RS256', verifyingKey: SECRETS.a });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/"verifyingKey" is not PEM text/);
    expect(message).not.toContain(SECRETS.a);
    expect(() => simpleJwt({ ...base, algorithm: 'RS256', secret: SECRETS.a })).toThrow(/"secret" is for HS256\/384\/512; RS256 takes "signingKey"/);
  });

  it('never takes a PEM public key (or any key) as an HMAC secret', () => {
    expect(() => simpleJwt({ ...base, algorithm: 'HS256', secret: pem(rsa.publicKey) })).toThrow(
      /"secret" is a PEM\/JWK\/SSH key, not an HMAC secret: a public key must never be used as an HMAC secret/,
    );
    expect(() => simpleJwt({ ...base, secret: JSON.stringify(rsa.publicKey.export({ format: 'jwk' })) })).toThrow(/not an HMAC secret/);
    expect(() => simpleJwt({ ...base, secret: rsa.publicKey })).toThrow(/"secret" must be a secret KeyObject for HS256; got a public key/);
    expect(() => simpleJwt({ ...base, algorithm: 'HS256', verifyingKey: rsa.publicKey })).toThrow(
      /"signingKey" and "verifyingKey" are for RS\/PS\/ES algorithms, but "algorithm" is HS256/,
    );
  });

  it('keeps each half in its place: no public key to sign, no private key to verify, a matching pair', () => {
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', signingKey: ec256.publicKey })).toThrow(/"signingKey" is an EC public key; it must be a private key/);
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', signingKey: pem(ec256.publicKey) })).toThrow(/holds a PUBLIC KEY, but signing needs a private key/);
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', verifyingKey: ec256.privateKey })).toThrow(/private keys stay with the signer/);
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', verifyingKey: pem(ec256.privateKey) })).toThrow(/holds a private key/);
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', signingKey: ec256.privateKey, verifyingKey: other.publicKey })).toThrow(
      /"verifyingKey" is not the public half of "signingKey"/,
    );
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', signingKey: ec256.privateKey, verifyingKey: ec256.publicKey })).not.toThrow();
  });

  it('needs a key for an asymmetric algorithm', () => {
    expect(() => simpleJwt({ ...base, algorithm: 'RS256' })).toThrow(/RS256 needs "signingKey" .* or "verifyingKey"/);
  });

  it('refuses EdDSA, saying it is not supported, for the algorithm and for an Ed25519 key', () => {
    expect(() => simpleJwt({ ...base, algorithm: 'EdDSA' as never })).toThrow(/EdDSA is not supported/);
    const ed = generateKeyPairSync('ed25519');
    expect(() => simpleJwt({ ...base, algorithm: 'ES256', signingKey: ed.privateKey })).toThrow(/EdDSA is not supported/);
  });

  it.each(['none', 'None', 'HS1024', 'RSA-OAEP', ''])('refuses algorithm %j', (algorithm) => {
    expect(() => simpleJwt({ ...base, secret: SECRETS.a, algorithm: algorithm as never })).toThrow(/"algorithm" must be one of .*"none" is never accepted/);
  });
});

describe('verify-only mode (only a public key): a resource server', () => {
  const { privateKey, publicKey } = keyPairFor('RS256');
  const issuer = makeApp({ algorithm: 'RS256', signingKey: privateKey });
  const resource = makeApp({ algorithm: 'RS256', verifyingKey: publicKey });
  const verifyOnly = {
    detail: 'This server only verifies tokens; it has no signing key. Obtain tokens from the service that issues them.',
    code: 'verify_only',
  };

  it('authenticates and verifies tokens from the issuer', async () => {
    const { access } = await login(issuer.app);
    expect((await request(resource.app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
    expect((await request(resource.app).post('/api/token/verify/').send({ token: access })).body).toEqual({});
    expect(resource.auth.tokens.canSign).toBe(false);
  });

  it('answers login and refresh with 404 verify_only, before reading a body or checking a password', async () => {
    for (const path of ['/api/token/', '/api/token/refresh/', '/api/token/refresh']) {
      const res = await request(resource.app).post(path).send({ username: 'vitor', password: '123' });
      expect(res.status).toBe(404);
      expect(res.body).toEqual(verifyOnly);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('refuses to issue through the token service too', () => {
    expect(() => resource.auth.tokens.issuePair({ user_id: '1' })).toThrow(expect.objectContaining({ code: 'verify_only', status: 404 }));
  });

  it('still refuses a bad token', async () => {
    const { access } = await login(issuer.app);
    const tampered = access.slice(0, -4) + (access.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await request(resource.app).post('/api/token/verify/').send({ token: tampered })).body).toEqual(invalid);
  });
});
