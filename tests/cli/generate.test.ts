import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { simpleJwt } from '../../lib';
import { makeApp } from '../helpers/app';
import { cli, expectNoStack } from './run';

const dir = mkdtempSync(join(tmpdir(), 'sjwt-cli-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generate-secret', () => {
  it('prints 64 random bytes in base64url by default, a secret the kit accepts', async () => {
    const [a, b] = await Promise.all([cli(['generate-secret']), cli(['generate-secret'])]);
    expect(a.code).toBe(0);
    const secret = a.stdout.trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(b.stdout.trim()).not.toBe(secret);
    expect(() => simpleJwt({ findUserById: () => null, warnings: false, algorithm: 'HS512', secret })).not.toThrow();
  });

  it('takes --bytes', async () => {
    const run = await cli(['generate-secret', '--bytes', '32']);
    expect(run.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('generate-keys', () => {
  it('writes the private key (mode 600), the public key and a JWKS, which the kit then uses', async () => {
    const out = join(dir, 'keys');
    const run = await cli(['generate-keys', '--alg', 'ES256', '--kid', 'k1', '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`wrote ${join(out, 'k1.private.pem')}`);
    const privatePath = join(out, 'k1.private.pem');
    expect(statSync(privatePath).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'k1.public.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const jwks = JSON.parse(readFileSync(join(out, 'jwks.json'), 'utf8'));
    expect(JSON.parse(run.stdout)).toEqual(jwks);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', kid: 'k1', use: 'sig', alg: 'ES256', crv: 'P-256' });
    expect(jwks.keys[0].d).toBeUndefined();

    // The files work as they are: sign with the key set, verify with the public PEM.
    const issuer = makeApp({ keys: [{ kid: 'k1', algorithm: 'ES256', signingKey: privatePath, signing: true }] });
    expect(issuer.auth.jwks()).toEqual(jwks);
    const verifier = makeApp({ algorithm: 'ES256', verifyingKey: join(out, 'k1.public.pem') });
    const { access } = (await request(issuer.app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await request(verifier.app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
    await Promise.all([issuer.auth.close(), verifier.auth.close()]);

    // A second key for rotation joins the same JWKS; nothing is overwritten.
    const second = await cli(['generate-keys', '--alg', 'RS256', '--kid', 'k2', '--out', out]);
    expect(second.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'jwks.json'), 'utf8')).keys.map((k: { kid: string }) => k.kid)).toEqual(['k1', 'k2']);
    const again = await cli(['generate-keys', '--alg', 'ES256', '--kid', 'k1', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already has a key with kid "k1"/);
    expectNoStack(again.stderr);
  });

  it('prints the private key, the public key and the JWKS without --out; the kid defaults to the thumbprint', async () => {
    const run = await cli(['generate-keys', '--alg', 'PS256']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^-----BEGIN PRIVATE KEY-----[\s\S]+-----BEGIN PUBLIC KEY-----[\s\S]+\{/);
    const jwks = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'PS256', use: 'sig' });
    expect(jwks.keys[0].kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(existsSync(join(process.cwd(), 'jwks.json'))).toBe(false);
  });

  describe('--out inside a git work tree', () => {
    const repo = join(dir, 'repo');
    beforeAll(() => {
      mkdirSync(repo);
      execFileSync('git', ['init', '--quiet', repo]);
    });
    const warning = /warning: .*k\d\.private\.pem is in a git work tree and not git-ignored: add .* to \.gitignore/;

    it('warns when git would commit the private key', async () => {
      const run = await cli(['generate-keys', '--alg', 'ES256', '--kid', 'k1', '--out', join(repo, 'keys')]);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(warning);
      expect(run.stderr).toContain(`add ${join(repo, 'keys')} to .gitignore`);
    });

    it('says nothing when the folder (or the key files) are ignored, or outside any work tree', async () => {
      writeFileSync(join(repo, '.gitignore'), 'secrets/\n*.private.pem\n');
      for (const [out, kid] of [[join(repo, 'secrets'), 'k2'], [join(repo, 'keys'), 'k3'], [join(dir, 'elsewhere'), 'k4']] as const) {
        const run = await cli(['generate-keys', '--alg', 'ES256', '--kid', kid, '--out', out]);
        expect(run.code).toBe(0);
        expect(run.stderr).not.toMatch(/warning/);
      }
    });
  });
});
