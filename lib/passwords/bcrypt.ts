import bcrypt from 'bcryptjs';
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
import type { BcryptCompare } from './pool';

/** bcrypt reads at most this many bytes of a password; the rest would be silently ignored. */
export { BCRYPT_MAX_BYTES };

/**
 * Hashes a password with bcrypt (bcryptjs, async). Passwords longer than 72 bytes are refused rather than
 * truncated, so two passwords that share their first 72 bytes never share a hash.
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
  return bcrypt.hash(password, rounds);
}

/**
 * Checks passwords against the hashes the host stores: raw bcrypt (`$2b$...`) and Django's formats
 * (`pbkdf2_sha256$...`, `bcrypt_sha256$...`, `argon2$...`; see `verifyDjangoPassword`). A failed login costs the
 * same whether or not the user exists: with no hash to compare, it checks against a dummy hash of the same scheme
 * and cost as the last real hash it saw (bcrypt at `defaultRounds` until it has seen one).
 */
export function createPasswordChecker(defaultRounds: number, onBadHash: (message: string) => void, compare?: BcryptCompare) {
  let model: StoredHash = dummyLike({ scheme: 'bcrypt', algorithm: 'bcrypt', bcryptHash: '', rounds: defaultRounds });
  let modelCost = costOf(model);
  const reported = new Set<string>();

  /** Logs each kind of unusable hash once: a table full of them would otherwise flood the log. */
  function reportOnce(hash: string): void {
    const what = describeAlgorithm(hash);
    if (reported.has(what)) return;
    reported.add(what);
    onBadHash(`a user has a password hash that is not bcrypt or a Django hash the kit verifies (${what}); such logins are refused (logged once)`);
  }

  /**
   * Resolves `true` when `password` matches `hash`. `hash` undefined (unknown user), unusable (Django's `!...`)
   * or unrecognised still costs one check like a real one. A password over 72 bytes never matches a bcrypt
   * hash (it does match `bcrypt_sha256`, PBKDF2 and argon2 hashes, which have no such limit).
   */
  async function check(password: string, hash: string | null | undefined): Promise<boolean> {
    const stored = typeof hash === 'string' ? (parseBcryptHash(hash) ?? parseDjangoHash(hash)) : undefined;
    if (typeof hash === 'string' && stored === undefined && !hash.startsWith('!')) reportOnce(hash);
    const ok = await verifyStoredHash(password, stored ?? model, compare);
    if (stored !== undefined) {
      const cost = costOf(stored);
      if (cost !== modelCost) {
        model = dummyLike(stored);
        modelCost = cost;
      }
    }
    return ok && stored !== undefined;
  }

  /** Kept for callers that warm the checker up at start-up; dummy hashes now cost nothing to make. */
  function warmUp(): Promise<unknown> {
    return Promise.resolve();
  }

  return { check, warmUp };
}

export type PasswordChecker = ReturnType<typeof createPasswordChecker>;
