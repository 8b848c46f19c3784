import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forge } from '../helpers/jwt';
import { makeApp } from '../helpers/app';
import { keyPairFor, pem, SECRETS, signRaw } from '../helpers/keys';
import { cli, expectNoStack } from './run';

/** The HS256 example token of the simplejwt docs: `{"exp": 946684800}` signed with `not_secret`. */
const VECTOR = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk0NjY4NDgwMH0.jvxQgXCSDToR8uKoRJcMT-LmMJJn2-NM76nfSR2FOgs';
const dir = mkdtempSync(join(tmpdir(), 'sjwt-cli-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function liveToken(secret: string): string {
  const now = Math.floor(Date.now() / 1000);
  return forge('{"alg":"HS256","typ":"JWT"}', `{"token_type":"access","exp":${now + 290},"iat":${now - 10},"jti":"x","user_id":"1"}`, secret);
}

describe('inspect', () => {
  it('shows header, claims, a valid signature and an expired token for the documented vector', async () => {
    const run = await cli(['inspect', VECTOR, '--secret', 'not_secret']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('header:    {"alg":"HS256","typ":"JWT"}');
    expect(run.stdout).toContain('"exp": 946684800');
    expect(run.stdout).toContain('signature: valid (HS256, checked with --secret)');
    expect(run.stdout).toMatch(/expires: +2000-01-01T00:00:00Z \(\d+d( \d+h)?( \d+m)?( \d+s)? ago\): EXPIRED/);
    expect(run.stdout + run.stderr).not.toContain('not_secret');
  });

  it('says how long a live token has left, and never prints the secret', async () => {
    const run = await cli(['inspect', liveToken(SECRETS.a), '--secret', SECRETS.a]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/expires: +\S+ \(in 4m \d+s\)\n/);
    expect(run.stdout).toMatch(/issued: +\S+ \(1\ds ago\)/);
    expect(run.stdout + run.stderr).not.toContain(SECRETS.a);
  });

  describe('secrets kept out of shell history', () => {
    it('reads the secret from standard input with --secret -, ignoring the trailing newline', async () => {
      const run = await cli(['inspect', liveToken(SECRETS.a), '--secret', '-'], { stdin: `${SECRETS.a}\n` });
      expect(run.stdout).toContain('signature: valid (HS256, checked with --secret)');
      expect(run.code).toBe(0);
      expect(run.stdout + run.stderr).not.toContain(SECRETS.a);
    });

    it('reads the secret from --secret-file (as `generate-secret > file` writes it)', async () => {
      const file = join(dir, 'secret');
      writeFileSync(file, `${SECRETS.a}\r\n`, { mode: 0o600 });
      const run = await cli(['inspect', liveToken(SECRETS.a), '--secret-file', file]);
      expect(run.stdout).toContain('signature: valid (HS256, checked with --secret)');
      expect(run.code).toBe(0);
      const wrong = await cli(['inspect', liveToken(SECRETS.b), '--secret-file', file]);
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toContain('signature: INVALID (invalid signature)');
      const empty = join(dir, 'empty');
      writeFileSync(empty, '\n');
      expect((await cli(['inspect', VECTOR, '--secret-file', empty])).stderr).toMatch(/--secret-file: .*empty is empty/);
    });

    it('reads the token from standard input with "-"', async () => {
      const run = await cli(['inspect', '-', '--secret', 'not_secret'], { stdin: `${VECTOR}\n` });
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('signature: valid (HS256, checked with --secret)');
    });
  });

  it('reports a bad signature with exit 1', async () => {
    const run = await cli(['inspect', VECTOR, '--secret', 'wrong_secret']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/signature: INVALID \(invalid signature\)/);
    expect(run.stdout).not.toContain('wrong_secret');
  });

  it('decodes without checking when no key is given', async () => {
    const run = await cli(['inspect', VECTOR]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('signature: not checked (give --secret, --secret-file or --key)');
  });

  it('checks RS256 and ES256 tokens with a public PEM or a JWKS file, by kid', async () => {
    const rsa = keyPairFor('RS256');
    const now = Math.floor(Date.now() / 1000);
    const claims = `{"token_type":"access","exp":${now + 60},"jti":"x","user_id":"1"}`;
    const pemPath = join(dir, 'rsa.pem');
    writeFileSync(pemPath, pem(rsa.publicKey));
    const rs = signRaw('RS256', '{"alg":"RS256","typ":"JWT"}', claims, rsa.privateKey);
    const ok = await cli(['inspect', rs, '--key', pemPath]);
    expect(ok.stdout).toContain('signature: valid (RS256, checked with --key)');
    expect(ok.code).toBe(0);

    const ec = keyPairFor('ES256');
    const jwksPath = join(dir, 'jwks.json');
    const { auth } = makeApp({ keys: [{ kid: 'e1', algorithm: 'ES256', verifyingKey: ec.publicKey }], warnings: false });
    writeFileSync(jwksPath, JSON.stringify(auth.jwks()));
    await auth.close();
    const es = signRaw('ES256', '{"alg":"ES256","typ":"JWT","kid":"e1"}', claims, ec.privateKey);
    const byKid = await cli(['inspect', es, '--key', jwksPath]);
    expect(byKid.stdout).toContain('signature: valid (ES256, checked with --key)');
  });

  describe('an HS token with --key: a secret is needed', () => {
    const needsSecret =
      /signature: INVALID: refused to check HS256 with this key \(the token says HS256 \(HMAC\), so it needs the secret: --secret, --secret-file or --secret -\)/;

    it('says so for a public PEM (the algorithm-confusion attack), exit 1', async () => {
      const rsa = keyPairFor('RS256');
      const pemText = pem(rsa.publicKey);
      const pemPath = join(dir, 'confused.pem');
      writeFileSync(pemPath, pemText);
      const token = forge('{"alg":"HS256","typ":"JWT"}', '{"exp":4102444800}', pemText);
      const run = await cli(['inspect', token, '--key', pemPath]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(needsSecret);
    });

    it('says so before reading the key file: a JWKS without its kid, or no file at all', async () => {
      const jwksPath = join(dir, 'two-keys.json');
      const one = makeApp({ keys: [{ kid: 'a', algorithm: 'ES256', verifyingKey: keyPairFor('ES256').publicKey }], warnings: false });
      const two = makeApp({ keys: [{ kid: 'b', algorithm: 'ES256', verifyingKey: keyPairFor('ES256', 'other').publicKey }], warnings: false });
      writeFileSync(jwksPath, JSON.stringify({ keys: [...one.auth.jwks().keys, ...two.auth.jwks().keys] }));
      await Promise.all([one.auth.close(), two.auth.close()]);
      for (const key of [jwksPath, join(dir, 'missing.pem')]) {
        const run = await cli(['inspect', VECTOR, '--key', key]);
        expect(run.code).toBe(1);
        expect(run.stdout).toMatch(needsSecret);
        expect(run.stderr).toBe('');
      }
    });
  });

  it('reports a malformed token with exit 1 and no stack trace', async () => {
    for (const token of ['not-a-token', 'a.b.c', `${Buffer.from('[1]').toString('base64url')}.e30.x`]) {
      const run = await cli(['inspect', token]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^express-simplejwt inspect: not a JWT/);
      expectNoStack(run.stderr);
    }
  });
});
