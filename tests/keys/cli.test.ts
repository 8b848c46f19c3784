import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { simpleJwt } from '../../lib';
import { forge } from '../helpers/jwt';
import { keyPairFor, makeKeyApp, pem, runCli, SECRETS, signRaw } from '../helpers/keys';

/** The CLI never shows a stack trace: no `    at ...` lines, no file:line positions. */
function expectNoStack(output: string): void {
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toMatch(/\.ts:\d+:\d+/);
}

const VECTOR = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk0NjY4NDgwMH0.jvxQgXCSDToR8uKoRJcMT-LmMJJn2-NM76nfSR2FOgs';

describe('the express-simplejwt CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simplejwt-cli-'));

  it('is declared as the package bin, pointing at the built CLI, which starts with a shebang', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ 'express-simplejwt': './dist/cjs/cli/index.js' });
    expect(readFileSync(join(__dirname, '../../lib/cli/index.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  describe('usage', () => {
    it('lists the commands on --help (exit 0) and with no command (exit 2)', async () => {
      const help = await runCli(['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/usage: express-simplejwt <command> \[options\]/);
      expect(help.stdout).toMatch(/generate-secret .*\n.*generate-keys .*\n.*inspect /);
      const none = await runCli([]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/usage: express-simplejwt <command>/);
    });

    const cases: [string[], RegExp, RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/, /usage: express-simplejwt <command>/],
      [['generate-secret', '--bytes', '8'], /--bytes must be a whole number from 32 to 1024 \(got "8"\)/, /usage: express-simplejwt generate-secret \[--bytes 64\]/],
      [['generate-secret', '--bytes', 'lots'], /--bytes must be a whole number/, /usage: express-simplejwt generate-secret/],
      [['generate-secret', '--nope'], /Unknown option '--nope'/, /usage: express-simplejwt generate-secret/],
      [['generate-secret', 'extra'], /unexpected argument "extra"/, /usage:/],
      [['generate-keys'], /--alg is required/, /usage: express-simplejwt generate-keys --alg ES256/],
      [['generate-keys', '--alg', 'HS256'], /HS256 uses a shared secret, not a key pair: run "express-simplejwt generate-secret"/, /usage:/],
      [['generate-keys', '--alg', 'EdDSA'], /EdDSA is not supported/, /usage:/],
      [['generate-keys', '--alg', 'ES256', '--kid', '../evil'], /--kid must be 1 to 64 letters/, /usage:/],
      [['generate-keys', '--alg', 'ES256', '--bits', '4096'], /--bits is for RSA/, /usage:/],
      [['generate-keys', '--alg', 'RS256', '--bits', '1024'], /--bits must be a whole number from 2048/, /usage:/],
      [['inspect'], /missing <token>/, /usage: express-simplejwt inspect <token>/],
      [['inspect', VECTOR, '--secret', 'x', '--key', 'y'], /give --secret or --key, not both/, /usage:/],
    ];
    // The processes run side by side; each case then checks its own outcome.
    let outcomes: Promise<Awaited<ReturnType<typeof runCli>>[]>;
    beforeAll(() => {
      outcomes = Promise.all(cases.map(([args]) => runCli(args)));
    });

    it.each(cases.map((c, i) => [...c, i] as const))('%j: exit 2, the reason and a usage line, no stack trace', async (_args, reason, usage, i) => {
      const res = (await outcomes)[i]!;
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(reason);
      expect(res.stderr).toMatch(usage);
      expectNoStack(res.stderr + res.stdout);
    });
  });

  describe('generate-secret', () => {
    it('prints 64 random bytes in base64url by default, a secret the kit accepts', async () => {
      const [a, b] = await Promise.all([runCli(['generate-secret']), runCli(['generate-secret'])]);
      expect(a.code).toBe(0);
      const secret = a.stdout.trim();
      expect(secret).toMatch(/^[A-Za-z0-9_-]{86}$/);
      expect(b.stdout.trim()).not.toBe(secret);
      expect(() => simpleJwt({ findUserById: () => null, warnings: false, algorithm: 'HS512', secret })).not.toThrow();
    });

    it('takes --bytes', async () => {
      const res = await runCli(['generate-secret', '--bytes', '32']);
      expect(res.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });
  });

  describe('generate-keys', () => {
    it('writes the private key (mode 600), the public key and a JWKS, which the kit then uses', async () => {
      const out = join(dir, 'keys');
      const res = await runCli(['generate-keys', '--alg', 'ES256', '--kid', 'k1', '--out', out]);
      expect(res.code).toBe(0);
      expect(res.stderr).toContain(`wrote ${join(out, 'k1.private.pem')}`);
      const privatePath = join(out, 'k1.private.pem');
      expect(statSync(privatePath).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(out, 'k1.public.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
      const jwks = JSON.parse(readFileSync(join(out, 'jwks.json'), 'utf8'));
      expect(JSON.parse(res.stdout)).toEqual(jwks);
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0]).toMatchObject({ kty: 'EC', kid: 'k1', use: 'sig', alg: 'ES256', crv: 'P-256' });
      expect(jwks.keys[0].d).toBeUndefined();

      // The files work as they are: sign with the key set, verify with the public PEM.
      const issuer = makeKeyApp({ keys: [{ kid: 'k1', algorithm: 'ES256', signingKey: privatePath, signing: true }] });
      expect(issuer.auth.jwks()).toEqual(jwks);
      const verifier = makeKeyApp({ algorithm: 'ES256', verifyingKey: join(out, 'k1.public.pem') });
      const { access } = (await request(issuer.app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
      expect((await request(verifier.app).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);

      // A second key for rotation joins the same JWKS; nothing is overwritten.
      const second = await runCli(['generate-keys', '--alg', 'RS256', '--kid', 'k2', '--out', out]);
      expect(second.code).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'jwks.json'), 'utf8')).keys.map((k: { kid: string }) => k.kid)).toEqual(['k1', 'k2']);
      const again = await runCli(['generate-keys', '--alg', 'ES256', '--kid', 'k1', '--out', out]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/already has a key with kid "k1"/);
      expectNoStack(again.stderr);
    });

    it('prints the private key, the public key and the JWKS without --out; the kid defaults to the thumbprint', async () => {
      const res = await runCli(['generate-keys', '--alg', 'PS256']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/^-----BEGIN PRIVATE KEY-----[\s\S]+-----BEGIN PUBLIC KEY-----[\s\S]+\{/);
      const jwks = JSON.parse(res.stdout.slice(res.stdout.indexOf('{')));
      expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'PS256', use: 'sig' });
      expect(jwks.keys[0].kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(existsSync(join(process.cwd(), 'jwks.json'))).toBe(false);
    });
  });

  describe('inspect', () => {
    it('shows header, claims, a valid signature and an expired token for the WIRE.md vector', async () => {
      const res = await runCli(['inspect', VECTOR, '--secret', 'not_secret']);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('header:    {"alg":"HS256","typ":"JWT"}');
      expect(res.stdout).toContain('"exp": 946684800');
      expect(res.stdout).toContain('signature: valid (HS256, checked with --secret)');
      expect(res.stdout).toMatch(/expires: +2000-01-01T00:00:00Z \(\d+d( \d+h)?( \d+m)?( \d+s)? ago\): EXPIRED/);
      expect(res.stdout + res.stderr).not.toContain('not_secret');
    });

    it('says how long a live token has left, and never prints the secret', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = forge('{"alg":"HS256","typ":"JWT"}', `{"token_type":"access","exp":${now + 290},"iat":${now - 10},"jti":"x","user_id":"1"}`, SECRETS.a);
      const res = await runCli(['inspect', token, '--secret', SECRETS.a]);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/expires: +\S+ \(in 4m \d+s\)\n/);
      expect(res.stdout).toMatch(/issued: +\S+ \(1\ds ago\)/);
      expect(res.stdout + res.stderr).not.toContain(SECRETS.a);
    });

    it('reports a bad signature with exit 1', async () => {
      const res = await runCli(['inspect', VECTOR, '--secret', 'wrong_secret']);
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/signature: INVALID \(invalid signature\)/);
      expect(res.stdout).not.toContain('wrong_secret');
    });

    it('decodes without checking when no key is given', async () => {
      const res = await runCli(['inspect', VECTOR]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('signature: not checked (give --secret or --key)');
    });

    it('checks RS256 and ES256 tokens with a public PEM or a JWKS file, by kid', async () => {
      const rsa = keyPairFor('RS256');
      const now = Math.floor(Date.now() / 1000);
      const claims = `{"token_type":"access","exp":${now + 60},"jti":"x","user_id":"1"}`;
      const pemPath = join(dir, 'rsa.pem');
      writeFileSync(pemPath, pem(rsa.publicKey));
      const rs = signRaw('RS256', '{"alg":"RS256","typ":"JWT"}', claims, rsa.privateKey);
      const ok = await runCli(['inspect', rs, '--key', pemPath]);
      expect(ok.stdout).toContain('signature: valid (RS256, checked with --key)');
      expect(ok.code).toBe(0);

      const ec = keyPairFor('ES256');
      const jwksPath = join(dir, 'jwks.json');
      writeFileSync(jwksPath, JSON.stringify(makeKeyApp({ keys: [{ kid: 'e1', algorithm: 'ES256', verifyingKey: ec.publicKey }], warnings: false }).auth.jwks()));
      const es = signRaw('ES256', '{"alg":"ES256","typ":"JWT","kid":"e1"}', claims, ec.privateKey);
      const byKid = await runCli(['inspect', es, '--key', jwksPath]);
      expect(byKid.stdout).toContain('signature: valid (ES256, checked with --key)');
    });

    it('refuses to check an HS256 token with a public key (algorithm confusion) and exits 1', async () => {
      const rsa = keyPairFor('RS256');
      const pemText = pem(rsa.publicKey);
      const pemPath = join(dir, 'confused.pem');
      writeFileSync(pemPath, pemText);
      const token = forge('{"alg":"HS256","typ":"JWT"}', '{"exp":4102444800}', pemText);
      const res = await runCli(['inspect', token, '--key', pemPath]);
      expect(res.code).toBe(1);
      expect(res.stdout).toMatch(/signature: INVALID: refused to check HS256 with this key \(the token says HS256 \(HMAC\), so it needs --secret\)/);
    });

    it('reports a malformed token with exit 1 and no stack trace', async () => {
      const tokens = ['not-a-token', 'a.b.c', `${Buffer.from('[1]').toString('base64url')}.e30.x`];
      for (const res of await Promise.all(tokens.map((token) => runCli(['inspect', token])))) {
        expect(res.code).toBe(1);
        expect(res.stderr).toMatch(/^express-simplejwt inspect: not a JWT/);
        expectNoStack(res.stderr);
      }
    });
  });
});
