/**
 * The token store: where revocation state lives. One method per session event; three implementations ship
 * (MemoryStore, SqliteStore, RedisStore) and one conformance suite (`express-simplejwt/testing`) runs against each.
 *
 * Times are whole seconds since the epoch (the kit's clock, which tests inject). Methods may return a value or
 * a promise. Every method must be safe to call concurrently from many processes sharing the store; the ones
 * marked ATOMIC must behave as one indivisible step (a transaction, one Lua script, one synchronous block).
 *
 * Nothing in a store is keyed by a raw token: only by `jti` (RS* and ES* signatures are malleable, so one token
 * has many spellings, but one `jti`).
 */

/**
 * A value or a promise of it.
 *
 * @example
 * isRevoked(query: RevocationQuery): Awaitable<boolean>; // a boolean, or a promise of one
 */
export type Awaitable<T> = T | Promise<T>;

/**
 * One issued token the store knows about: refresh and sliding tokens always, access tokens when recorded.
 *
 * @example
 * const session: TokenRecord = { jti, userId: '1', familyId: jti, type: 'refresh', issuedAt: iat, expiresAt: exp, sessionStartedAt: iat, sessionExpiresAt: exp };
 * await store.startSession({ now: iat, session, maxSessions: Infinity, whenFull: 'refuse' });
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
  /** When this token can no longer verify (`exp` plus leeway); the record may be purged after it. */
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
 * A token a session event issues, as the store keeps it (the rest is the session's).
 *
 * @example
 * const access: NewToken = { jti, type: 'access', issuedAt: iat, expiresAt: exp + leeway };
 */
export interface NewToken {
  jti: string;
  /** `'refresh'`, `'sliding'` or `'access'`. */
  type: string;
  issuedAt: number;
  /** When the token can no longer verify (its `exp` plus the verification leeway); the store keeps it until then. */
  expiresAt: number;
}

/**
 * `startSession()`: a login. The per-user cap, the session's token and its access token, in one step.
 *
 * @example
 * await store.startSession({ now, session: record, access, maxSessions: 5, whenFull: 'evict-oldest' });
 */
export interface SessionStart {
  /** The kit's clock, in seconds. */
  now: number;
  /** The login's refresh (or sliding) token; `familyId` is its own `jti`. */
  session: TokenRecord;
  /** The login's access token, recorded in the session when access tokens are revocable. */
  access?: NewToken;
  /** Live sessions a user may have, this one included; `Infinity` for no cap. */
  maxSessions: number;
  /** At the cap: refuse the login, or end the oldest sessions to make room. */
  whenFull: 'refuse' | 'evict-oldest';
}

/**
 * The outcome of `startSession()`.
 *
 * @example
 * if ((await store.startSession(start)).status === 'full') throw new AuthError('session_limit');
 */
export type SessionStartResult =
  /** Recorded; `ended` lists the sessions the cap ended (oldest first). */
  | { status: 'ok'; ended: string[] }
  /** The user is at the cap and `whenFull` is `'refuse'`; nothing was changed. */
  | { status: 'full' };

/**
 * The verified refresh (or sliding) token a client presents, as `rotate()` and `revokeToken()` take it.
 *
 * @example
 * const presented: PresentedToken = { jti, userId: '1', type: 'refresh', issuedAt: iat, expiresAt: exp + leeway };
 */
export interface PresentedToken {
  jti: string;
  userId: string;
  type: string;
  issuedAt: number;
  /** When it can no longer be used (its `exp`, or a sliding token's `refresh_exp`, plus leeway). */
  expiresAt: number;
}

/**
 * `rotate()`: a refresh. Checks the presented token, adopts it if allowed, consumes it, records its successor
 * and the new access token, in one step.
 *
 * @example
 * await store.rotate({ now, token, successor, consume: true, access, reuseInterval: 0, reuseDetection: true, adoptUnknown: false });
 */
export interface Rotation {
  now: number;
  token: PresentedToken;
  /** The new refresh token (rotation); absent for a refresh without rotation and for a sliding refresh. */
  successor?: NewToken;
  /** The presented token stops working (blacklist after rotation); it is remembered as rotated to `successor`. */
  consume: boolean;
  /** The new access token, recorded in the session when access tokens are revocable. */
  access?: NewToken;
  /**
   * Seconds after its rotation during which a consumed token presented again gets its successor back
   * (`status: 'retry'`) instead of counting as reuse; `0` for none.
   */
  reuseInterval: number;
  /** A consumed token presented again (past `reuseInterval`) ends its whole session. */
  reuseDetection: boolean;
  /**
   * A token the store has no record of, issued before the store's memory began (`rememberedSince`): adopt it as
   * a new session (`true`) or answer `unknown` (`false`, the safe choice after a wipe). Tokens issued since are
   * always adopted (another issuer, such as a Django app, may share the keys).
   */
  adoptUnknown: boolean;
  /** The client, kept on a session the store adopts. */
  userAgent?: string;
  ip?: string;
}

/**
 * The session a token belongs to, as `rotate()` reports it.
 *
 * @example
 * const { id, startedAt, expiresAt }: SessionRef = result.session;
 */
export interface SessionRef {
  /** The family id. */
  id: string;
  userId: string;
  /** When the session started. */
  startedAt: number;
  /** Hard end of the session. */
  expiresAt: number;
}

/**
 * The outcome of `rotate()`.
 *
 * @example
 * const result = await store.rotate(rotation);
 * if (result.status === 'retry') reissue(result.successor);
 */
export type RotationResult =
  /** Done: the presented token was live; the successor and access token are recorded in `session`. */
  | { status: 'ok'; session: SessionRef }
  /**
   * The presented token had been rotated within `reuseInterval` and its successor is still live: nothing is
   * consumed again; `successor` is the token that rotation issued (the access token, if given, is recorded).
   */
  | { status: 'retry'; session: SessionRef; successor: NewToken }
  /** The presented token had been rotated at `rotatedAt`: reuse. Its session was ended if `reuseDetection`. */
  | { status: 'reused'; session: SessionRef; rotatedAt: number }
  /** The token, its session or its user was revoked; nothing was changed. */
  | { status: 'revoked' }
  /** The store does not know the token, which predates its memory, and `adoptUnknown` is off; nothing changed. */
  | { status: 'unknown' };

/**
 * `isRevoked()`: the check `authenticate()` and every endpoint run on a verified token.
 *
 * @example
 * await store.isRevoked({ now, jti, userId: '1', issuedAt: iat, mustBeKnown: true });
 */
export interface RevocationQuery {
  /** The kit's clock, in seconds. */
  now: number;
  jti: string;
  userId: string;
  issuedAt: number;
  /**
   * The kit records every token of this kind (refresh and sliding tokens always, access tokens when they are
   * revocable), so a token the store does not know that predates its memory was forgotten (a wiped Redis) and
   * counts as revoked.
   */
  mustBeKnown: boolean;
}

/**
 * `revokeUser()`: "log out everywhere".
 *
 * @example
 * await store.revokeUser({ userId: '1', before: now, retainUntil: now + longestLifetime });
 */
export interface UserRevocation {
  userId: string;
  /** Every token of the user issued before this time is revoked; a later call with a larger value wins. */
  before: number;
  /** Until when the cutoff is kept: the last moment a token issued before `before` could verify. */
  retainUntil: number;
}

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
 * The interface every store implements: one method per session event, each ONE atomic step in the store (a
 * transaction, one Lua script, one synchronous block), so a request that fails changes nothing and concurrent
 * requests on many servers see each event whole. The conformance suite `express-simplejwt/testing` checks it.
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

  /** ATOMIC. A login: applies the per-user cap, records the session's token and its access token. */
  startSession(start: SessionStart): Awaitable<SessionStartResult>;

  /**
   * ATOMIC. A refresh: of N concurrent rotations of one token exactly one gets `ok`; the others get `retry`
   * (within `reuseInterval`) or `reused`. Also used without a successor (refresh without rotation, sliding
   * refresh) to check the token and record the new access token.
   */
  rotate(rotation: Rotation): Awaitable<RotationResult>;

  /** ATOMIC. Logout: blacklists the token and ends its session (kept until `token.expiresAt` at least). */
  revokeToken(token: PresentedToken): Awaitable<void>;

  /**
   * ATOMIC. Revokes every token of a user issued before `before`, and ends every session live at `before`
   * (so tokens of that very second go too); a session started later is untouched.
   */
  revokeUser(revocation: UserRevocation): Awaitable<void>;

  /** ATOMIC. Ends one live session of a user; `false` (nothing changed) when the user has no such session. */
  endSession(userId: string, sessionId: string, now: number): Awaitable<boolean>;

  /**
   * Whether a token is revoked: its `jti` blacklisted or consumed by rotation, its session ended, its user
   * revoked at or after its `issuedAt`, or (with `mustBeKnown`) forgotten. On the hot path of `authenticate()`
   * when access tokens are revocable.
   */
  isRevoked(query: RevocationQuery): Awaitable<boolean>;

  /** A user's live (unexpired, unrevoked) sessions, oldest first. */
  sessions(userId: string, now: number): Awaitable<SessionInfo[]>;

  /** Removes expired records and revocations; returns how many were removed. */
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
  'startSession',
  'rotate',
  'revokeToken',
  'revokeUser',
  'endSession',
  'isRevoked',
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
    throw new TypeError(`"${optionName}" is missing ${missing.map((m) => `${m}()`).join(', ')}; the store contract is described in docs/stores.md`);
  }
}
