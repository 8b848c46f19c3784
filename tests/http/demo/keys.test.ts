import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startDemo as startAnyDemo, type Demo } from '../../helpers/demo';
import { decodePart, forge } from '../../helpers/jwt';
import { makeApp } from '../../helpers/app';
import { keyPairFor, pem, SECRETS } from '../../helpers/keys';

/** The demo with login throttling off: these tests log in often. */
const startDemo = (args: string[], env: Record<string, string>) => startAnyDemo(args, { JWT_LOGIN_THROTTLE: 'off', ...env });

const login = (base: string) => request(base).post('/api/token/').send({ username: 'vitor', password: '123' });

describe('the demo app with keys from its environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplejwt-demo-'));
  const { privateKey, publicKey } = keyPairFor('ES256');
  const privatePath = join(dir, 'jwt.private.pem');
  const publicPath = join(dir, 'jwt.public.pem');
  const secretPath = join(dir, 'jwt-secret');
  writeFileSync(privatePath, pem(privateKey));
  writeFileSync(publicPath, pem(publicKey));
  writeFileSync(secretPath, `${SECRETS.a}\n`);
  const claimsEnv = { JWT_AUDIENCE: 'orders-api', JWT_ISSUER: 'https://demo.test' };
  const demos: Record<string, Demo> = {};

  beforeAll(async () => {
    const [signer, verifier, fromFile, flagWins] = await Promise.all([
      startDemo([], { JWT_ALGORITHM: 'ES256', JWT_SIGNING_KEY_FILE: privatePath, JWT_SECRET: 'ignored-for-es256', ...claimsEnv }),
      startDemo([], { JWT_ALGORITHM: 'ES256', JWT_VERIFYING_KEY_FILE: publicPath, ...claimsEnv }),
      startDemo([], { JWT_SECRET_FILE: secretPath }),
      startDemo(['--jwt-secret', SECRETS.b], { JWT_SECRET_FILE: secretPath }),
    ]);
    Object.assign(demos, { signer, verifier, fromFile, flagWins });
  }, 30_000);

  afterAll(() => {
    for (const demo of Object.values(demos)) demo.child.kill('SIGTERM');
  });

  it('signs ES256 with JWT_SIGNING_KEY_FILE, with aud and iss last', async () => {
    const res = await login(demos.signer!.base);
    expect(res.status).toBe(200);
    const jwks = await request(demos.signer!.base).get('/.well-known/jwks.json');
    expect(decodePart(res.body.access, 0)).toEqual({ alg: 'ES256', typ: 'JWT', kid: jwks.body.keys[0].kid });
    const claims = decodePart(res.body.access, 1);
    expect(Object.keys(claims).slice(-2)).toEqual(['aud', 'iss']);
    expect(claims).toMatchObject({ aud: 'orders-api', iss: 'https://demo.test' });
    expect((await request(demos.signer!.base).get('/hello/').set('Authorization', `Bearer ${res.body.access}`)).status).toBe(200);
  });

  it('serves its JWKS at /.well-known/jwks.json, which another service verifies with', async () => {
    const res = await request(demos.signer!.base).get('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(res.body.keys[0].d).toBeUndefined();
    const { app } = makeApp({ jwksUri: `${demos.signer!.base}/.well-known/jwks.json`, algorithm: 'ES256', audience: 'orders-api', issuer: 'https://demo.test' });
    const { access } = (await login(demos.signer!.base)).body;
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
  });

  it('only verifies with JWT_VERIFYING_KEY_FILE alone: login is 404 verify_only, /hello/ accepts the signer’s tokens', async () => {
    const refused = await login(demos.verifier!.base);
    expect(refused.status).toBe(404);
    expect(refused.body.code).toBe('verify_only');
    const { access } = (await login(demos.signer!.base)).body;
    expect((await request(demos.verifier!.base).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
  });

  it('reads the HMAC secret from JWT_SECRET_FILE (trailing newline trimmed)', async () => {
    const { access } = (await login(demos.fromFile!.base)).body;
    const [h, p] = (access as string).split('.');
    expect(forge(Buffer.from(h!, 'base64url').toString(), Buffer.from(p!, 'base64url').toString(), SECRETS.a)).toBe(access);
  });

  it('lets --jwt-secret win over JWT_SECRET_FILE', async () => {
    const { access } = (await login(demos.flagWins!.base)).body;
    const [h, p] = (access as string).split('.');
    expect(forge(Buffer.from(h!, 'base64url').toString(), Buffer.from(p!, 'base64url').toString(), SECRETS.b)).toBe(access);
  });

  it('refuses to start without a secret under NODE_ENV=production, and with a mismatched key', async () => {
    await expect(startDemo([], { NODE_ENV: 'production' })).rejects.toThrow(/demo-app: No "secret" is configured .* NODE_ENV is "production"/);
    await expect(startDemo([], { JWT_ALGORITHM: 'ES384', JWT_SIGNING_KEY_FILE: privatePath })).rejects.toThrow(
      /"signingKey" is an EC private key on curve prime256v1, but ES384 needs an EC key on curve P-384/,
    );
  }, 30_000);
});
