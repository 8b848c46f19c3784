/**
 * The token store: where revocation state lives. Small on purpose; three implementations ship (MemoryStore,
 * SqliteStore, RedisStore) and one conformance suite (`tests/stores/conformance.ts`) runs against each.
 *
 * Times are whole seconds since the epoch (the kit's clock, which tests inject). Methods may return a value or
 * a promise. Every method must be safe to call concurrently from many processes sharing the store; the ones
 * marked ATOMIC must behave as one indivisible step (a transaction, MULTI/EXEC or a Lua script).
 *
 * Nothing in a store is keyed by a raw token: only by `jti` (RS* and ES* signatures are malleable, so one token
 * has many spellings, but one `jti`).
 */

/**
 * A value or a promise of it.
 *
 * @example
 * isRevoked(jti: string, userId: string, issuedAt: number): Awaitable<boolean>; // a boolean, or a promise of one
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * One issued token the store knows about: refresh and sliding tokens always, access tokens when recorded.
 *
 * @example
 * await store.record({ jti, userId: '1', familyId: jti, type: 'refresh', issuedAt: iat, expiresAt: exp, sessionStartedAt: iat, sessionExpiresAt: exp });
 */
export interface TokenRecord {
  /** The token's `jti`. */
  jti: string;
  /** The user id claim, as a string. */
  userId: string;
  /** The session: the `jti` of the refresh (or sliding) token the login issued; rotation keeps it. */
  familyId: string;
  /** `'refresh'`, `'sliding'` or `'access'`. */
  type: string;
  /** `iat` of this token. */
  issuedAt: number;
  /** `exp` of this token; the record may be purged after it. */
  expiresAt: number;
  /** When the session started (`iat` of the login), kept across rotations. */
  sessionStartedAt: number;
  /** Hard end of the session: rotation never issues a token expiring later. */
  sessionExpiresAt: number;
  /** The client's `User-Agent` at login, truncated to 256 characters. */
  userAgent?: string;
  /** The client's address at login. */
  ip?: string;
}

/**
 * The outcome of `consume()`.
 *
 * @example
 * const result: ConsumeResult = await store.consume(jti, now, successor);
 * if (result.status === 'reused') await store.revokeFamily(result.record.familyId, result.record.sessionExpiresAt);
 */
export type ConsumeResult =
  /** The token was live and is now marked rotated; `successor` was recorded in the same step. */
  | { status: 'ok'; record: TokenRecord }
  /** The token had already been rotated `rotatedAt`; nothing was changed. */
  | { status: 'reused'; record: TokenRecord; rotatedAt: number }
  /** The token, its family or its user was revoked. */
  | { status: 'revoked' }
  /** The store has no record of the token (issued before the store was set up, or purged). */
  | { status: 'unknown' };

/**
 * One live session of a user, for `GET /api/token/sessions/`.
 *
 * @example
 * const sessions: SessionInfo[] = await auth.store.sessions('1', Math.floor(Date.now() / 1000));
 */
export interface SessionInfo {
  /** The family id. */
  id: string;
  /** When the session started (login). */
  createdAt: number;
  /** When a token of the session was last issued (login or refresh). */
  lastUsedAt: number;
  /** When the session's newest token expires. */
  expiresAt: number;
  userAgent?: string;
  ip?: string;
}

/**
 * The interface every store implements.
 *
 * @example
 * const store: TokenStore = new MemoryStore();
 * const auth = simpleJwt({ store, ... });
 */
export interface TokenStore {
  /** Opens connections, creates or migrates tables. Called once before first use. */
  init?(): Promise<void>;
  /** Releases connections and timers so the process can exit. */
  close?(): Promise<void>;

  /** Records an issued token. Recording an existing `jti` again is a no-op. */
  record(record: TokenRecord): Awaitable<void>;

  /**
   * ATOMIC compare-and-set for rotation: if `jti` is recorded, live, not rotated and not revoked (by jti,
   * family or user), marks it rotated at `now` and records `successor` (same family), all in one step.
   * Of N concurrent calls with the same `jti`, exactly one gets `ok`; the others get `reused`.
   */
  consume(jti: string, now: number, successor: TokenRecord): Awaitable<ConsumeResult>;

  /** Blacklists one `jti` until `expiresAt` (whether or not it was recorded). */
  revoke(jti: string, expiresAt: number): Awaitable<void>;

  /** Revokes every token of a family (a session), now and in the future; kept until `expiresAt`. */
  revokeFamily(familyId: string, expiresAt: number): Awaitable<void>;

  /**
   * Revokes every token of a user issued before `before` ("log out everywhere"): a later call with a larger
   * `before` wins; tokens with `issuedAt >= before` stay valid. Kept for `retainSeconds`.
   */
  revokeUser(userId: string, before: number, retainSeconds: number): Awaitable<void>;

  /**
   * Whether a token is revoked: its `jti` blacklisted, its family revoked (when the store has a record of the
   * jti or `familyId` is given), or its user revoked at or after its `issuedAt`.
   * This is on the hot path of `authenticate()` when access-token revocation is on.
   */
  isRevoked(jti: string, userId: string, issuedAt: number, familyId?: string): Awaitable<boolean>;

  /** The family a recorded token belongs to, or `undefined`. */
  familyOf(jti: string): Awaitable<string | undefined>;

  /** A user's live (unexpired, unrevoked) sessions, oldest first. */
  sessions(userId: string, now: number): Awaitable<SessionInfo[]>;

  /** Removes expired records and blacklist entries; returns how many were removed. */
  purgeExpired(now: number): Awaitable<number>;

  /** A shared setting (e.g. lifetimes changed at run time), or `undefined`. */
  getSetting(name: string): Awaitable<string | undefined>;
  /** Stores a shared setting for every process using the store. */
  setSetting(name: string, value: string): Awaitable<void>;
}

/**
 * The method names a store must have; checked at run time for JavaScript users.
 *
 * @example
 * const missing = STORE_METHODS.filter((name) => typeof (candidate as any)[name] !== 'function');
 */
export const STORE_METHODS = [
  'record',
  'consume',
  'revoke',
  'revokeFamily',
  'revokeUser',
  'isRevoked',
  'familyOf',
  'sessions',
  'purgeExpired',
  'getSetting',
  'setSetting',
] as const satisfies readonly (keyof TokenStore)[];

/**
 * Throws a TypeError naming what a store object lacks.
 *
 * @example
 * assertStore(myStore); // TypeError: "store" ... when a method is missing
 */
export function assertStore(store: unknown, optionName = 'store'): asserts store is TokenStore {
  if (typeof store !== 'object' || store === null) {
    throw new TypeError(`"${optionName}" must be a token store such as new MemoryStore() or new SqliteStore('./tokens.sqlite3')`);
  }
  const missing = STORE_METHODS.filter((name) => typeof (store as Record<string, unknown>)[name] !== 'function');
  if (missing.length > 0) {
    throw new TypeError(`"${optionName}" is missing ${missing.map((m) => `${m}()`).join(', ')}; see "Custom stores" in the README`);
  }
}
