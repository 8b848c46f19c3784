import { KeyObject, createSecretKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HmacAlgorithm } from '../config/options';
import type { WarningCode } from '../config/warnings';
import { MIN_SECRET_BYTES } from './algorithms';

/** How to make a good secret, appended to every refusal. */
export const GENERATE_HINT = 'generate one with: npx express-simplejwt generate-secret';

/**
 * Words that make up the secrets people paste from tutorials and defaults. A secret made only of these
 * (ignoring case, spaces, `-`, `_`, `.` and `:`) is refused however long it is.
 */
const WEAK_WORDS = [
  'secret', 'secrets', 'changeme', 'change', 'me', 'password', 'passwd', 'pass', 'passw0rd', 'your', 'my', 'the',
  'super', 'very', 'long', 'key', 'jwt', 'token', 'default', 'example', 'test', 'testing', 'dev', 'development',
  'prod', 'production', 'admin', 'root', 'qwerty', 'letmein', 'welcome', 'shhhhh', 'keyboard', 'cat', 'not', 'bit',
  '256', '384', '512', 'hs256', 'hs384', 'hs512', 'hmac', 'signing', 'insecure', 'django', 'express', 'simplejwt',
  'simple', 'this', 'is', 'please', 'replace', 'here', 'todo', 'foo', 'bar', 'baz', 'abc', 'xyz', '123', '1234',
  'in', 'on', 'for', 'and', 'to', 'of', 'use', 'only', 'do', 'dont', 'never', 'must', 'be', 'with', 'real', 'app',
  'api', 'auth', 'access', 'refresh', 'random', 'string', 'value', 'private', 'public', 'local', 'staging', 'hello',
  'world', 'some', 'it', 'now', 'new', 'strong', 'secure', 'safe', 'hard', 'guess', 'session', 'cookie', 'node',
  'sign', 'signature', 'encryption',
  '12345', '123456', '1234567', '12345678', '123456789', '1234567890', '0123456789', 'abcdefghijklmnopqrstuvwxyz',
] as const;
const WEAK = new Set<string>(WEAK_WORDS);
const LONGEST_WEAK = Math.max(...WEAK_WORDS.map((w) => w.length));

/** Fewer distinct bytes than this and the secret is refused (a random 32-byte secret has about 30). */
const MIN_DISTINCT_BYTES = 8;

/** `true` when the text consists only of weak words (a word break over the list). */
function madeOfWeakWords(text: string): boolean {
  const normalized = text.toLowerCase().replace(/[\s\-_.:]+/g, '');
  if (normalized.length === 0) return false;
  const reachable = new Array<boolean>(normalized.length + 1).fill(false);
  reachable[0] = true;
  for (let end = 1; end <= normalized.length; end++) {
    for (let start = Math.max(0, end - LONGEST_WEAK); start < end && !reachable[end]; start++) {
      if (reachable[start] && WEAK.has(normalized.slice(start, end))) reachable[end] = true;
    }
  }
  return reachable[normalized.length]!;
}

/** The smallest period of the bytes: `p` such that `b[i] === b[i - p]` for every `i >= p` (KMP prefix function). */
function smallestPeriod(bytes: Buffer): number {
  const n = bytes.length;
  const prefix = new Array<number>(n).fill(0);
  for (let i = 1; i < n; i++) {
    let k = prefix[i - 1]!;
    while (k > 0 && bytes[i] !== bytes[k]) k = prefix[k - 1]!;
    if (bytes[i] === bytes[k]) k++;
    prefix[i] = k;
  }
  return n - (prefix[n - 1] ?? 0);
}

/** Looks like key material rather than a secret: a PEM block, a JWK, an OpenSSH public key. */
function looksLikeKey(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text) || /^\s*\{[\s\S]*"kty"/.test(text) || /^(ssh-|ecdsa-sha2-)/.test(text);
}

/**
 * Why these secret bytes are weak, or `undefined` when they are not. The value itself is never quoted.
 * Checked in order: a key pasted as a secret, too short, well-known words, one repeated character, a repeated
 * pattern, too few distinct bytes.
 */
export function secretWeakness(bytes: Buffer, algorithm: HmacAlgorithm): string | undefined {
  const text = bytes.toString('utf8');
  if (looksLikeKey(text)) {
    return (
      'is a PEM/JWK/SSH key, not an HMAC secret: a public key must never be used as an HMAC secret (that is the ' +
      'algorithm-confusion attack). To sign with a key pair set "algorithm" to RS256, PS256 or ES256 and pass it as ' +
      '"signingKey"/"verifyingKey"'
    );
  }
  const min = MIN_SECRET_BYTES[algorithm];
  if (bytes.length < min) return `must be at least ${min} bytes for ${algorithm} (got ${bytes.length})`;
  if (madeOfWeakWords(text)) return 'is made of well-known weak words (such as "secret", "changeme", "password")';
  const period = smallestPeriod(bytes);
  if (period === 1) return 'is one character repeated';
  if (period <= bytes.length / 2) return `repeats a ${period}-byte pattern, so it is no stronger than ${period} bytes`;
  const distinct = new Set(bytes).size;
  if (distinct < MIN_DISTINCT_BYTES) return `uses only ${distinct} distinct characters`;
  return undefined;
}

/**
 * Turns a configured secret (string, Buffer or secret KeyObject) into a KeyObject, refusing weak ones with a
 * TypeError that names the option and says why. Never pads or truncates.
 */
export function checkSecret(value: unknown, algorithm: HmacAlgorithm, name: string, source?: string): KeyObject {
  let bytes: Buffer;
  let key: KeyObject | undefined;
  if (value instanceof KeyObject) {
    if (value.type !== 'secret') {
      throw new TypeError(
        `"${name}" must be a secret KeyObject for ${algorithm}; got a ${value.type} key (a public or private key is never an HMAC secret)`,
      );
    }
    key = value;
    bytes = value.export();
  } else if (typeof value === 'string') {
    bytes = Buffer.from(value, 'utf8');
  } else if (Buffer.isBuffer(value)) {
    bytes = value;
  } else {
    throw new TypeError(`"${name}" must be a string, a Buffer or a secret KeyObject; got ${value === null ? 'null' : typeof value}`);
  }
  const weakness = secretWeakness(bytes, algorithm);
  if (weakness !== undefined) {
    // Keep `(got N)` exactly as is for the option itself; name the environment variable otherwise.
    const withSource = source === undefined ? weakness : weakness.replace(/\(got (\d+)\)$/, `(got $1, from ${source})`);
    const suffix = source !== undefined && withSource === weakness ? ` (from ${source})` : '';
    throw new TypeError(`"${name}" ${withSource}${suffix}; ${GENERATE_HINT}`);
  }
  return key ?? createSecretKey(Buffer.from(bytes));
}

/** The secret from the environment: `JWT_SECRET`, or the contents of the file `JWT_SECRET_FILE` names. */
export function secretFromEnvironment(env: NodeJS.ProcessEnv = process.env): { value: string; source: string } | undefined {
  const direct = env.JWT_SECRET || undefined;
  const file = env.JWT_SECRET_FILE || undefined;
  if (direct !== undefined && file !== undefined) {
    throw new TypeError('JWT_SECRET and JWT_SECRET_FILE are both set; set only one of them');
  }
  if (direct !== undefined) return { value: direct, source: 'JWT_SECRET' };
  if (file === undefined) return undefined;
  let contents: string;
  try {
    contents = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TypeError(`JWT_SECRET_FILE names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
    });
  }
  // Docker and Kubernetes secrets, and `echo ... > file`, end with a newline that is not part of the secret.
  const value = contents.replace(/[\r\n]+$/, '');
  if (value === '') throw new TypeError('JWT_SECRET_FILE names an empty file');
  return { value, source: 'JWT_SECRET_FILE' };
}

/**
 * The HMAC key of a single-secret kit: the option, else `JWT_SECRET`, else `JWT_SECRET_FILE`. With none of them
 * a random secret is used with a loud warning, except when `NODE_ENV` is `production`, where that is refused.
 */
export function resolveSecret(
  secret: unknown,
  algorithm: HmacAlgorithm,
  warn: (code: WarningCode, message: string) => void,
): KeyObject {
  if (secret !== undefined && secret !== '') return checkSecret(secret, algorithm, 'secret');
  const fromEnv = secretFromEnvironment();
  if (fromEnv) return checkSecret(fromEnv.value, algorithm, 'secret', fromEnv.source);
  if (process.env.NODE_ENV === 'production') {
    throw new TypeError(
      'No "secret" is configured (nor JWT_SECRET or JWT_SECRET_FILE) and NODE_ENV is "production": refusing to sign ' +
        `with a random secret that dies with this process; set one (${GENERATE_HINT})`,
    );
  }
  warn(
    'RANDOM_SECRET',
    [
      '',
      '*'.repeat(78),
      '* NO SECRET CONFIGURED: signing with a RANDOM secret made for this process only.',
      '* Every token dies when this process restarts, and no other process accepts them.',
      '* Set the "secret" option, JWT_SECRET or JWT_SECRET_FILE; ' + GENERATE_HINT,
      '*'.repeat(78),
    ].join('\n'),
  );
  return createSecretKey(randomBytes(64));
}
