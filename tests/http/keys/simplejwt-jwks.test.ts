/**
 * Interoperability with the real djangorestframework-simplejwt as a resource server (issue 14, finding 8): a
 * one-file Django app whose SIMPLE_JWT `JWK_URL` points at our `/.well-known/jwks.json` must accept our access
 * tokens. PyJWT's PyJWKClient, behind `JWK_URL`, selects the key by the token's `kid` (jwks-rsa and most gateways
 * do the same), so a token signed by a single key pair must name it: its RFC 7638 thumbprint, as the JWKS does.
 * Runs Debian's python3-djangorestframework-simplejwt with /usr/bin/python3 (installed by scripts/provision.mjs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import request from 'supertest';
import type { AsymmetricAlgorithm } from '../../../lib';
import { decodePart } from '../../helpers/jwt';
import { makeApp } from '../../helpers/app';
import { keyPairFor, listen, signRaw } from '../../helpers/keys';

const SERVER = join(__dirname, '..', '..', 'helpers', 'simplejwt-resource-server.py');
const NOT_VALID = 'Given token not valid for any token type';

/** Starts the Django resource server trusting `jwksUrl`; resolves once it listens. */
function startDjango(jwksUrl: string, algorithm: string): Promise<{ base: string; child: ChildProcess; stderr: () => string }> {
  const child = spawn('/usr/bin/python3', [SERVER, jwksUrl, algorithm], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Django resource server did not start: ${stderr}`)), 20_000);
    child.on('exit', (code) => reject(new Error(`the Django resource server exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const port = /^port (\d+)$/.exec(line)?.[1];
      if (port) resolve({ base: `http://127.0.0.1:${port}`, child, stderr: () => stderr });
      else reject(new Error(`unexpected first line from the Django resource server: ${line}`));
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

// PS* is not in simplejwt 5.2's ALLOWED_ALGORITHMS, so RS and ES are what it can be pointed at.
describe.each(['RS256', 'ES256'] as AsymmetricAlgorithm[])('a simplejwt resource server with JWK_URL = our JWKS (%s)', (algorithm) => {
  const { privateKey } = keyPairFor(algorithm);
  const { app, auth } = makeApp({ algorithm, signingKey: privateKey });
  app.get('/.well-known/jwks.json', auth.jwksHandler);
  let issuer: Awaited<ReturnType<typeof listen>>;
  let django: Awaited<ReturnType<typeof startDjango>>;

  beforeAll(async () => {
    issuer = await listen(app);
    django = await startDjango(`${issuer.base}/.well-known/jwks.json`, algorithm);
  }, 30_000);
  afterAll(async () => {
    if (django) await stop(django.child);
    if (issuer) await issuer.close();
  });

  it('accepts our access token: the header names the JWKS key by its kid', async () => {
    const login = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(login.status).toBe(200);
    const { access } = login.body as { access: string };
    const res = await request(django.base).get('/hello/').set('Authorization', `Bearer ${access}`);
    expect([res.status, res.body]).toEqual([200, { user_id: '1' }]);
    expect(decodePart(access, 0)).toEqual({ alg: algorithm, typ: 'JWT', kid: auth.jwks().keys[0]!.kid });
  });

  it('refuses our refresh token as an access token, as simplejwt does', async () => {
    const { refresh } = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body as { refresh: string };
    const res = await request(django.base).get('/hello/').set('Authorization', `Bearer ${refresh}`);
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe(NOT_VALID);
  });

  it('refuses a token without kid, as every token was before: why the kid is needed', async () => {
    const now = Math.floor(Date.now() / 1000);
    const bare = signRaw(algorithm, `{"alg":"${algorithm}","typ":"JWT"}`, `{"token_type":"access","exp":${now + 60},"iat":${now},"jti":"abc","user_id":"1"}`, privateKey);
    // The kit itself still accepts it (one key: the kid plays no part)...
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${bare}`)).status).toBe(200);
    // ...but PyJWKClient finds no key for kid None.
    const res = await request(django.base).get('/hello/').set('Authorization', `Bearer ${bare}`);
    expect(res.status).toBe(401);
    expect(res.body.detail).toBe(NOT_VALID);
  });
});
