import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { bcryptBackend } from './native';
import type { BcryptCompare } from './pool';
import type * as Argon2 from '@node-rs/argon2';

/**
 * Django's stored password hashes (`<algorithm>$<fields>`, as `make_password()` writes them), verified the way
 * Django's hashers do, so a Django users table works unchanged. Raw bcrypt hashes (`$2b$...`) parse too: Django's
 * `bcrypt$` form is exactly `bcrypt$` before one.
 */

/**
 * The Django hashers this module verifies.
 *
 * @example
 * const algorithm = row.password.split('$')[0] as DjangoAlgorithm; // 'pbkdf2_sha256' for Django's default hasher
 */
export type DjangoAlgorithm = 'pbkdf2_sha256' | 'pbkdf2_sha1' | 'bcrypt_sha256' | 'bcrypt' | 'argon2';

/**
 * bcrypt reads at most this many bytes of a password; the rest would be silently ignored.
 *
 * @example
 * if (Buffer.byteLength(password) > BCRYPT_MAX_BYTES) throw new Error('Choose a password of at most 72 bytes');
 */
export const BCRYPT_MAX_BYTES = 72;

/** A stored hash, parsed: what to compute to check a password against it. */
export type StoredHash =
  | { scheme: 'pbkdf2'; algorithm: 'pbkdf2_sha256' | 'pbkdf2_sha1'; iterations: number; salt: string; hash: Buffer }
  | {
      scheme: 'bcrypt';
      /** `bcrypt` for raw and Django `bcrypt$` hashes: passwords over 72 bytes never match. */
      algorithm: 'bcrypt' | 'bcrypt_sha256';
      bcryptHash: string;
      rounds: number;
    }
  | { scheme: 'argon2'; algorithm: 'argon2'; phc: string; variant: string; params: string; hashLength: number };

const PBKDF2 = /^(pbkdf2_sha256|pbkdf2_sha1)\$([1-9]\d{0,8})\$([^$]*)\$([A-Za-z0-9+/]+={0,2})$/;
const PBKDF2_BYTES = { pbkdf2_sha256: 32, pbkdf2_sha1: 20 } as const;
/** A bcrypt hash bcryptjs can check: revisions a, b and y, cost 04 to 31. */
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
const DJANGO_BCRYPT = /^(bcrypt_sha256|bcrypt)\$(\$2.*)$/;
/** `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>`; Django before 1.10.1 wrote no `v=`. */
const ARGON2 = /^argon2(\$(argon2id|argon2i|argon2d)\$((?:v=\d+\$)?m=\d+,t=\d+,p=\d+)\$[A-Za-z0-9+/]+\$([A-Za-z0-9+/]+))$/;

/** Parses a raw bcrypt hash (`$2b$12$...`), or returns `undefined`. */
export function parseBcryptHash(hash: string, algorithm: 'bcrypt' | 'bcrypt_sha256' = 'bcrypt'): StoredHash | undefined {
  const match = BCRYPT.exec(hash);
  return match ? { scheme: 'bcrypt', algorithm, bcryptHash: hash, rounds: Number(match[1]) } : undefined;
}

/** Parses a Django-format hash of one of the supported algorithms, or returns `undefined`. */
export function parseDjangoHash(encoded: string): StoredHash | undefined {
  let match = PBKDF2.exec(encoded);
  if (match) {
    const algorithm = match[1] as 'pbkdf2_sha256' | 'pbkdf2_sha1';
    const hash = Buffer.from(match[4]!, 'base64');
    if (hash.length !== PBKDF2_BYTES[algorithm]) return undefined;
    return { scheme: 'pbkdf2', algorithm, iterations: Number(match[2]), salt: match[3]!, hash };
  }
  match = DJANGO_BCRYPT.exec(encoded);
  if (match) {
    return parseBcryptHash(match[2]!, match[1] as 'bcrypt' | 'bcrypt_sha256');
  }
  match = ARGON2.exec(encoded);
  if (match) {
    const hashLength = Buffer.from(match[4]!, 'base64').length;
    return { scheme: 'argon2', algorithm: 'argon2', phc: match[1]!, variant: match[2]!, params: match[3]!, hashLength };
  }
  return undefined;
}

let argon2: typeof Argon2 | Error | undefined;

/** Loads the optional peer dependency `@node-rs/argon2` on first use, with an error that says how to get it. */
function loadArgon2(): typeof Argon2 {
  if (argon2 === undefined) {
    try {
      argon2 = require('@node-rs/argon2') as typeof Argon2;
    } catch (cause) {
      argon2 = new Error(
        'verifying Django argon2 hashes needs the optional peer dependency "@node-rs/argon2": run `npm install @node-rs/argon2`',
        { cause },
      );
    }
  }
  if (argon2 instanceof Error) throw argon2;
  return argon2;
}

function pbkdf2Async(password: string, salt: string, iterations: number, bytes: number, digest: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, bytes, digest, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * Checks `password` against a parsed hash. Every scheme costs what the hash says, whether or not it matches:
 * PBKDF2 compares in constant time, bcrypt and argon2 compare their own way. Without `compare`, bcrypt is
 * `bcryptBackend()`'s: native when installed.
 */
export async function verifyStoredHash(password: string, stored: StoredHash, compare: BcryptCompare = bcryptBackend().compare): Promise<boolean> {
  switch (stored.scheme) {
    case 'pbkdf2': {
      const digest = stored.algorithm === 'pbkdf2_sha256' ? 'sha256' : 'sha1';
      const key = await pbkdf2Async(password, stored.salt, stored.iterations, stored.hash.length, digest);
      return timingSafeEqual(key, stored.hash);
    }
    case 'bcrypt': {
      if (stored.algorithm === 'bcrypt_sha256') {
        // Django's BCryptSHA256PasswordHasher: bcrypt over the hex SHA-256 digest, so no 72-byte limit.
        return compare(createHash('sha256').update(password, 'utf8').digest('hex'), stored.bcryptHash);
      }
      const tooLong = Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES;
      // A password bcrypt would truncate never matches, but still costs one comparison.
      const ok = await compare(tooLong ? password.slice(0, 1) : password, stored.bcryptHash);
      return ok && !tooLong;
    }
    case 'argon2':
      return loadArgon2().verify(stored.phc, password);
  }
}

/** A key naming what checking against `stored` costs: equal keys, equal work. */
export function costOf(stored: StoredHash): string {
  switch (stored.scheme) {
    case 'pbkdf2':
      return `${stored.algorithm}$${stored.iterations}`;
    case 'bcrypt':
      return `${stored.algorithm}$${stored.rounds}`;
    case 'argon2':
      return `argon2$${stored.variant}$${stored.params}$${stored.hashLength}`;
  }
}

/**
 * A hash that no password matches and that costs as much to check as `stored`: same scheme and parameters,
 * random salt and digest. Cheap to make (nothing is hashed).
 */
export function dummyLike(stored: StoredHash): StoredHash {
  switch (stored.scheme) {
    case 'pbkdf2':
      return { ...stored, salt: randomBytes(16).toString('base64url'), hash: randomBytes(stored.hash.length) };
    case 'bcrypt': {
      // A digest of 23 random bytes in bcrypt's base64, canonical: @node-rs/bcrypt answers `false` at once, with no
      // hashing at all, for a digest whose last character has unused bits set (3 random characters in 4 do).
      const bcryptHash = `${bcrypt.genSaltSync(stored.rounds)}${bcrypt.encodeBase64(Array.from(randomBytes(23)), 23)}`;
      return { ...stored, bcryptHash };
    }
    case 'argon2': {
      const salt = randomBytes(16).toString('base64').replace(/=+$/, '');
      const digest = randomBytes(stored.hashLength).toString('base64').replace(/=+$/, '');
      return { ...stored, phc: `$${stored.variant}$${stored.params}$${salt}$${digest}` };
    }
  }
}

/**
 * Verifies a password against a hash from Django's `auth_user.password` column: `pbkdf2_sha256`, `pbkdf2_sha1`,
 * `bcrypt_sha256`, `bcrypt` and `argon2` (the last needs the optional peer dependency `@node-rs/argon2`).
 * Resolves `false` on a mismatch, for a Django unusable password (`!...`), and for a password over 72 bytes
 * against a plain `bcrypt$` hash (bcrypt would ignore the rest); throws a `TypeError` for any other format.
 *
 * @example
 * const row = await db.one('SELECT password FROM auth_user WHERE username = $1', [username]);
 * if (await verifyDjangoPassword(password, row.password)) {
 *   // the password is right
 * }
 */
export async function verifyDjangoPassword(password: string, encoded: string): Promise<boolean> {
  if (typeof password !== 'string') throw new TypeError('verifyDjangoPassword() takes the password as a string');
  if (typeof encoded !== 'string') throw new TypeError('verifyDjangoPassword() takes the stored hash as a string');
  if (encoded.startsWith('!')) return false;
  const stored = parseDjangoHash(encoded);
  if (stored === undefined) {
    throw new TypeError(
      `verifyDjangoPassword() reads pbkdf2_sha256, pbkdf2_sha1, bcrypt_sha256, bcrypt and argon2 hashes; ${describeAlgorithm(encoded)}`,
    );
  }
  return verifyStoredHash(password, stored);
}

/** Django hashers this module verifies, and those it does not; naming one in a message reveals nothing. */
const DJANGO_ALGORITHMS = new Set<string>(['pbkdf2_sha256', 'pbkdf2_sha1', 'bcrypt_sha256', 'bcrypt', 'argon2'] satisfies DjangoAlgorithm[]);
const OTHER_DJANGO_ALGORITHMS = new Set(['scrypt', 'md5', 'sha1', 'crypt', 'unsalted_md5', 'unsalted_sha1']);

/**
 * Says what a stored hash is without quoting it (it could be a plain-text password): the algorithm's name when
 * it is one of Django's, else only that the format is not recognised.
 */
export function describeAlgorithm(encoded: string): string {
  const name = encoded.slice(0, Math.max(0, encoded.indexOf('$')));
  if (OTHER_DJANGO_ALGORITHMS.has(name)) return `Django's "${name}" hasher is not supported`;
  if (DJANGO_ALGORITHMS.has(name)) return `this "${name}" hash is malformed`;
  return 'this hash is in no format the kit recognises';
}
