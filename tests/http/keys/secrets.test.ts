import { createSecretKey, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { simpleJwt } from '../../../lib';
import { makeApp, memoryLogger } from '../../helpers/app';
import { forge } from '../../helpers/jwt';
import { SECRETS } from '../../helpers/keys';

const base = { findUserById: () => null, warnings: false as const };
const ENV_NAMES = ['JWT_SECRET', 'JWT_SECRET_FILE', 'NODE_ENV'] as const;
const saved = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
const dir = mkdtempSync(join(tmpdir(), 'simplejwt-secret-'));

afterEach(() => {
  for (const name of ENV_NAMES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** The message simpleJwt() throws for a secret, checking it never quotes the secret. */
function refusal(secret: string | Buffer, algorithm: 'HS256' | 'HS512' = 'HS256'): string {
  try {
    simpleJwt({ ...base, algorithm, secret });
  } catch (err) {
    const message = (err as Error).message;
    expect(err).toBeInstanceOf(TypeError);
    if (typeof secret === 'string') expect(message).not.toContain(secret);
    return message;
  }
  throw new Error('the secret was accepted');
}

describe('weak secrets are refused at construction, saying why', () => {
  it.each([
    'secret'.repeat(6),
    'changeme'.repeat(4),
    'password'.repeat(4),
    'your-256-bit-secret'.repeat(2),
    'Your-256-Bit-Secret-Your-256-Bit-Secret',
    'supersecretpasswordchangemesecretkey',
    'my-super-secret-jwt-key-change-me-in-production',
    'django-insecure-secret-key-change-me-please-now',
    'keyboard cat keyboard cat keyboard cat keyboard cat',
    'THIS_IS_MY_SECRET_KEY_PLEASE_CHANGE_IT_FOR_PRODUCTION',
  ])('%s: made of well-known words', (secret) => {
    expect(refusal(secret)).toMatch(/^"secret" is made of well-known weak words .*; generate one with: npx express-simplejwt generate-secret$/);
  });

  it('a single repeated character', () => {
    expect(refusal('x'.repeat(64))).toMatch(/"secret" is one character repeated/);
    expect(refusal(Buffer.alloc(64))).toMatch(/one character repeated/);
  });

  it('a short repeated pattern, whole or cut to length', () => {
    expect(refusal('Kx9!'.repeat(10))).toMatch(/"secret" repeats a 4-byte pattern, so it is no stronger than 4 bytes/);
    expect(refusal('a7Q_z1Lm3P'.repeat(4) + 'a7Q')).toMatch(/repeats a 10-byte pattern/);
    expect(refusal(randomBytes(20).toString('hex').repeat(2))).toMatch(/repeats a 40-byte pattern/);
  });

  it('too few distinct characters', () => {
    expect(refusal('k'.repeat(40) + 'x'.repeat(30), 'HS512')).toMatch(/"secret" uses only 2 distinct characters/);
    expect(refusal('0110100110010110100101100110100110010110011010010110100110010110')).toMatch(/uses only 2 distinct characters/);
  });

  it('too short, in bytes (the first check after a pasted key)', () => {
    expect(refusal('changeme')).toMatch(/"secret" must be at least 32 bytes for HS256 \(got 8\)/);
  });

  it('a weak secret KeyObject too', () => {
    expect(() => simpleJwt({ ...base, secret: createSecretKey(Buffer.from('secret'.repeat(8))) })).toThrow(/well-known weak words/);
  });

  it('accepts random secrets of every encoding', () => {
    for (const secret of [randomBytes(32), randomBytes(32).toString('hex'), randomBytes(48).toString('base64'), randomBytes(64).toString('base64url')]) {
      expect(() => simpleJwt({ ...base, secret })).not.toThrow();
    }
    expect(() => simpleJwt({ ...base, algorithm: 'HS512', secret: randomBytes(64) })).not.toThrow();
  });
});

describe('where the secret comes from: option, JWT_SECRET, JWT_SECRET_FILE', () => {
  const now = Math.floor(Date.now() / 1000);
  const payload = `{"token_type":"access","exp":${now + 60},"iat":${now},"jti":"x","user_id":"1"}`;

  async function acceptsTokenSignedWith(secret: string): Promise<boolean> {
    const { app } = makeApp({ secret: undefined });
    const res = await request(app).post('/api/token/verify/').send({ token: forge('{"alg":"HS256","typ":"JWT"}', payload, secret) });
    return res.status === 200;
  }

  it('reads JWT_SECRET_FILE, trimming the trailing newline docker and echo leave', async () => {
    delete process.env.JWT_SECRET;
    for (const ending of ['\n', '\r\n', '']) {
      const file = join(dir, `secret-${ending.length}`);
      writeFileSync(file, SECRETS.a + ending);
      process.env.JWT_SECRET_FILE = file;
      expect(await acceptsTokenSignedWith(SECRETS.a)).toBe(true);
      expect(await acceptsTokenSignedWith(SECRETS.a + ending + 'x')).toBe(false);
    }
  });

  it('reads JWT_SECRET', async () => {
    delete process.env.JWT_SECRET_FILE;
    process.env.JWT_SECRET = SECRETS.b;
    expect(await acceptsTokenSignedWith(SECRETS.b)).toBe(true);
  });

  it('applies the same rules to a secret from a file, naming the source', () => {
    delete process.env.JWT_SECRET;
    const file = join(dir, 'weak');
    writeFileSync(file, 'changeme'.repeat(5) + '\n');
    process.env.JWT_SECRET_FILE = file;
    expect(() => simpleJwt(base)).toThrow(/"secret" is made of well-known weak words .* \(from JWT_SECRET_FILE\)/);
    writeFileSync(file, 'tooshort\n');
    expect(() => simpleJwt(base)).toThrow(/"secret" must be at least 32 bytes for HS256 \(got 8, from JWT_SECRET_FILE\)/);
  });

  it('refuses a missing or empty file, and both variables at once', () => {
    delete process.env.JWT_SECRET;
    process.env.JWT_SECRET_FILE = join(dir, 'missing');
    expect(() => simpleJwt(base)).toThrow(/JWT_SECRET_FILE names a file that cannot be read \(ENOENT\)/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    process.env.JWT_SECRET_FILE = empty;
    expect(() => simpleJwt(base)).toThrow(/JWT_SECRET_FILE names an empty file/);
    process.env.JWT_SECRET = SECRETS.a;
    expect(() => simpleJwt(base)).toThrow(/JWT_SECRET and JWT_SECRET_FILE are both set; set only one of them/);
  });

  it('lets the option win over the environment', () => {
    process.env.JWT_SECRET = 'short';
    process.env.JWT_SECRET_FILE = join(dir, 'missing');
    expect(() => simpleJwt({ ...base, secret: SECRETS.a })).not.toThrow();
  });

  it('refuses to start without a secret when NODE_ENV is production', () => {
    delete process.env.JWT_SECRET;
    delete process.env.JWT_SECRET_FILE;
    process.env.NODE_ENV = 'production';
    expect(() => simpleJwt(base)).toThrow(
      /No "secret" is configured \(nor JWT_SECRET or JWT_SECRET_FILE\) and NODE_ENV is "production": refusing to sign with a random secret/,
    );
    expect(() => simpleJwt({ ...base, secret: SECRETS.a })).not.toThrow();
    const file = join(dir, 'prod');
    writeFileSync(file, `${SECRETS.b}\n`);
    process.env.JWT_SECRET_FILE = file;
    expect(() => simpleJwt(base)).not.toThrow();
  });

  it('outside production, warns loudly and uses a random secret', () => {
    delete process.env.JWT_SECRET;
    delete process.env.JWT_SECRET_FILE;
    process.env.NODE_ENV = 'development';
    const logger = memoryLogger();
    simpleJwt({ findUserById: () => null, logger, loginThrottle: '5/m' });
    expect(logger.lines.join('\n')).toMatch(/RANDOM_SECRET.*RANDOM secret.*JWT_SECRET_FILE/s);
  });
});

describe('changing the secret invalidates every token', () => {
  it('refuses access and refresh tokens signed with the old secret', async () => {
    const before = makeApp({ secret: SECRETS.a }).app;
    const after = makeApp({ secret: SECRETS.b }).app;
    const { access, refresh } = (await request(before).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await request(before).get('/hello/').set('Authorization', `Bearer ${access}`)).status).toBe(200);
    const hello = await request(after).get('/hello/').set('Authorization', `Bearer ${access}`);
    expect(hello.status).toBe(401);
    expect(hello.body.messages[0].message).toBe('Token is invalid');
    expect((await request(after).post('/api/token/refresh/').send({ refresh })).body).toEqual({ detail: 'Token is invalid', code: 'token_not_valid' });
    expect((await request(after).post('/api/token/verify/').send({ token: access })).status).toBe(401);
  });
});
