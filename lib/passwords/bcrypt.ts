import {
  BCRYPT_MAX_BYTES,
  costOf,
  describeAlgorithm,
  dummyLike,
  parseBcryptHash,
  parseDjangoHash,
  verifyStoredHash,
  type StoredHash,
} from './django';
import { bcryptBackend } from './native';
import type { BcryptCompare } from './pool';

/** bcrypt reads at most this many bytes of a password; the rest would be silently ignored. */
export { BCRYPT_MAX_BYTES };

/**
 * Hashes a password with bcrypt (`$2b$`, async: `@node-rs/bcrypt` in libuv's threads when it is installed, else
 * bcryptjs). Passwords longer than 72 bytes are refused rather than truncated, so two passwords that share their
 * first 72 bytes never share a hash.
 *
 * @example
 * const hash = await hashPassword('correct horse battery staple');
 */
export async function hashPassword(password: string, rounds = 12): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) {
    throw new TypeError('hashPassword() takes a non-empty string');
  }
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES) {
    throw new TypeError(`passwords longer than ${BCRYPT_MAX_BYTES} bytes are refused: bcrypt would ignore the rest`);
  }
  // bcryptjs would clamp an out-of-range cost and @node-rs/bcrypt would reject it: one answer for both.
  if (!Number.isInteger(rounds) || rounds < 4 || rounds > 31) {
    throw new TypeError(`hashPassword() takes rounds from 4 to 31 (got ${String(rounds)})`);
  }
  return bcryptBackend().hash(password, rounds);
}

/**
 * What a hash of `stored`'s kind can be topped up with: hashes of one family differ only in a cost that more work
 * at the same parameters makes up for. bcrypt and `bcrypt_sha256` share one (the SHA-256 is nothing next to
 * bcrypt); each PBKDF2 digest is its own; an argon2 hash has no ordered cost and is never topped up (as Django).
 */
function familyOf(stored: StoredHash): string {
  return stored.scheme === 'bcrypt' ? 'bcrypt' : stored.scheme === 'pbkdf2' ? stored.algorithm : costOf(stored);
}

/** The work checking against `stored` costs, in units comparable within its family (argon2: none). */
function workOf(stored: StoredHash): number {
  return stored.scheme === 'bcrypt' ? 2 ** stored.rounds : stored.scheme === 'pbkdf2' ? stored.iterations : 0;
}

/**
 * Checks passwords against the hashes the host stores: raw bcrypt (`$2b$...`) and Django's formats
 * (`pbkdf2_sha256$...`, `bcrypt_sha256$...`, `argon2$...`; see `verifyDjangoPassword`). A failed login costs the
 * same whether the user is unknown or the password wrong, whatever the cost of the user's own hash:
 * - per family of hashes (bcrypt, each PBKDF2 digest) it keeps the highest cost it has seen, for bcrypt at least
 *   `defaultRounds`; an unknown user is checked against a dummy hash of the family of the last real hash seen, at
 *   that highest cost;
 * - a wrong password against a cheaper hash of the family (an account left from before a cost change) is topped
 *   up to that cost, as Django's `harden_runtime()` does: the missing PBKDF2 iterations, or for bcrypt one
 *   comparison at each cost from the hash's up to the highest (2^r + ... + 2^(h-1) = 2^h - 2^r).
 */
export function createPasswordChecker(defaultRounds: number, onBadHash: (message: string) => void, compare?: BcryptCompare) {
  const initial = dummyLike({ scheme: 'bcrypt', algorithm: 'bcrypt', bcryptHash: '', rounds: defaultRounds });
  /** Family → a dummy hash at the highest cost seen in it. */
  const highest = new Map<string, StoredHash>([[familyOf(initial), initial]]);
  let lastFamily = familyOf(initial);
  const reported = new Set<string>();

  /** Logs each kind of unusable hash once: a table full of them would otherwise flood the log. */
  function reportOnce(hash: string): void {
    const what = describeAlgorithm(hash);
    if (reported.has(what)) return;
    reported.add(what);
    onBadHash(`a user has a password hash that is not bcrypt or a Django hash the kit verifies (${what}); such logins are refused (logged once)`);
  }

  /** Records a real hash: its family becomes the model for unknown users, its cost may raise the family's. */
  function learn(stored: StoredHash): void {
    const family = familyOf(stored);
    lastFamily = family;
    const known = highest.get(family);
    if (known === undefined || workOf(stored) > workOf(known)) highest.set(family, dummyLike(stored));
  }

  /** After a wrong password against `stored`: the work that brings its check up to its family's highest cost. */
  async function harden(stored: StoredHash): Promise<void> {
    const target = highest.get(familyOf(stored));
    if (target === undefined) return;
    if (stored.scheme === 'pbkdf2' && target.scheme === 'pbkdf2' && target.iterations > stored.iterations) {
      await verifyStoredHash('', { ...target, iterations: target.iterations - stored.iterations }, compare);
    } else if (stored.scheme === 'bcrypt' && target.scheme === 'bcrypt') {
      for (let rounds = stored.rounds; rounds < target.rounds; rounds++) {
        await verifyStoredHash('', dummyLike({ ...target, algorithm: 'bcrypt', rounds }), compare);
      }
    }
  }

  /**
   * Resolves `true` when `password` matches `hash`. `hash` undefined (unknown user), unusable (Django's `!...`)
   * or unrecognised still costs one check at the highest cost. A password over 72 bytes never matches a bcrypt
   * hash (it does match `bcrypt_sha256`, PBKDF2 and argon2 hashes, which have no such limit).
   */
  async function check(password: string, hash: string | null | undefined): Promise<boolean> {
    const stored = typeof hash === 'string' ? (parseBcryptHash(hash) ?? parseDjangoHash(hash)) : undefined;
    if (typeof hash === 'string' && stored === undefined && !hash.startsWith('!')) reportOnce(hash);
    if (stored === undefined) {
      await verifyStoredHash(password, highest.get(lastFamily)!, compare);
      return false;
    }
    learn(stored);
    const ok = await verifyStoredHash(password, stored, compare);
    if (!ok) await harden(stored);
    return ok;
  }

  return { check };
}

export type PasswordChecker = ReturnType<typeof createPasswordChecker>;
