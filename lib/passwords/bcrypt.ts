import bcrypt from 'bcryptjs';

/** bcrypt reads at most this many bytes of a password; the rest would be silently ignored. */
export const BCRYPT_MAX_BYTES = 72;

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

const BCRYPT_HASH = /^\$2[abxy]?\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/**
 * Checks passwords so that a failed login costs the same whether or not the user exists: with no hash to
 * compare, it compares against a dummy hash of the same cost as the last real hash it saw.
 */
export function createPasswordChecker(defaultRounds: number, onBadHash: (message: string) => void) {
  const dummies = new Map<number, Promise<string>>();
  let lastRounds = defaultRounds;

  function dummyHash(rounds: number): Promise<string> {
    let hash = dummies.get(rounds);
    if (!hash) {
      hash = bcrypt.hash(`dummy-${Math.random()}`, rounds);
      dummies.set(rounds, hash);
    }
    return hash;
  }

  /**
   * Resolves `true` when `password` matches `hash`. `hash` undefined (unknown user) still costs one bcrypt
   * comparison. A password over 72 bytes never matches.
   */
  async function check(password: string, hash: string | null | undefined): Promise<boolean> {
    const tooLong = Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES;
    const match = typeof hash === 'string' ? BCRYPT_HASH.exec(hash) : null;
    if (typeof hash === 'string' && !match) onBadHash('a user has a password hash that is not bcrypt; the login was refused');
    if (match) lastRounds = Number(match[1]);
    const target = match ? hash! : await dummyHash(lastRounds);
    const ok = await bcrypt.compare(tooLong ? password.slice(0, 1) : password, target);
    return ok && match !== null && !tooLong;
  }

  /** Prepares the dummy hash so the first unknown-user login is not the slow one. */
  function warmUp(): Promise<unknown> {
    return dummyHash(lastRounds);
  }

  return { check, warmUp };
}

export type PasswordChecker = ReturnType<typeof createPasswordChecker>;
