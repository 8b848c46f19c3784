import type { Store as RateLimitStore } from 'express-rate-limit';
import { resolveCookieOptions, type CookieConfig } from '../http/cookies';
import type { HashingPoolOptions } from '../passwords/pool';
import { assertStore, type TokenStore } from '../stores/types';
import { MAX_LIFETIME } from '../tokens/lifetimes';
import { parseDuration } from './duration';
import type { AuthTokenClass, CookieOptions, Options } from './options';
import { parseRate, type Rate } from './rate';
import type { Logger } from './warnings';

/**
 * Every option of `simpleJwt()` in one table: how it is checked and parsed, its default, its documentation and,
 * where the demo app reads it, its environment variable. `resolveOptions()` runs the parsers, the unknown-key check
 * reads the names, `Config` takes its field types from the parsers, and `npm run docs:options` writes the options
 * tables of README.md and docs/options.md from the documentation cells.
 */

/** A host callback as the table sees it; `Config` gives it back its real type from `Options<U>`. */
export type HostCallback = (...args: never[]) => unknown;

/** One row of the table. */
export interface OptionSpec {
  /** Checks the given value (`undefined`: not set) and returns the parsed value, default applied; throws a `TypeError` naming the option and the fix. */
  parse: (value: unknown, name: string, options: Options) => unknown;
  /** `true` when `resolveOptions()` turns the value into other `Config` fields rather than keeping it under its own name. */
  internal?: true;
  /** The environment variable the demo app (demo-app/settings.ts) reads this option from. */
  env?: string;
  /** Markdown cells of docs/options.md: the accepted values, the default, the meaning. */
  type: string;
  default: string;
  doc: string;
  /** A row in README's short table, with shorter cells where they differ. */
  readme?: { type?: string; default?: string; doc: string };
}

const show = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

function parseBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`"${name}" must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

const boolean =
  (fallback: boolean) =>
  (value: unknown, name: string): boolean =>
    parseBoolean(value, name, fallback);

function callback(): (value: unknown, name: string) => HostCallback | undefined;
function callback(fallback: HostCallback): (value: unknown, name: string) => HostCallback;
function callback(fallback?: HostCallback) {
  return (value: unknown, name: string): HostCallback | undefined => {
    if (value === undefined) return fallback;
    if (typeof value !== 'function') throw new TypeError(`"${name}" must be a function; got ${typeof value}`);
    return value as HostCallback;
  };
}

function requiredCallback(value: unknown, name: string): HostCallback {
  if (typeof value !== 'function') throw new TypeError(`"${name}" must be a function (it is required); got ${typeof value}`);
  return value as HostCallback;
}

/** Keys and algorithms: checked together, against each other, by `resolveKeySet()`. */
const keyMaterial = (value: unknown): unknown => value;

const identifier =
  (fallback: string) =>
  (value: unknown, name: string): string => {
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(value)) {
      throw new TypeError(`"${name}" must be a non-empty identifier such as '${fallback}'`);
    }
    return value;
  };

const wholeNumber =
  (fallback: number, min: number, what: string, max = Number.MAX_SAFE_INTEGER) =>
  (value: unknown, name: string): number => {
    const n = value ?? fallback;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) throw new TypeError(`"${name}" must be ${what} (got ${String(n)})`);
    return n;
  };

const oneOf =
  <const T extends readonly string[]>(values: T) =>
  (value: unknown, name: string): T[number] => {
    if (value === undefined) return values[0]!;
    if (values.includes(value as string)) return value as T[number];
    throw new TypeError(`"${name}" must be ${values.map((v) => `'${v}'`).join(' or ')} (got ${JSON.stringify(value)})`);
  };

/** A duration that defaults to (and may be written as) `0`. */
const duration = (value: unknown, name: string): number => (value === undefined || value === 0 ? 0 : parseDuration(value, name));

/** A lifetime: a duration, or `null` (never, as `Infinity`) with `dangerouslyAllowNonExpiringTokens`. */
const lifetime =
  (fallback: number) =>
  (value: unknown, name: string, options: Options): number => {
    if (value === undefined) return fallback;
    if (value === null) {
      if (parseBoolean(options.dangerouslyAllowNonExpiringTokens, 'dangerouslyAllowNonExpiringTokens', false)) return Infinity;
      throw new TypeError(`"${name}" is null (tokens that never expire); that needs dangerouslyAllowNonExpiringTokens: true, or give a duration such as '5m'`);
    }
    const seconds = parseDuration(value, name);
    if (seconds > MAX_LIFETIME) throw new TypeError(`"${name}" must be at most 100 years (${MAX_LIFETIME} seconds); got ${seconds}`);
    return seconds;
  };

function audience(value: unknown): string | readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string' && a.length > 0)) {
    return Object.freeze([...(value as string[])]);
  }
  throw new TypeError(`"audience" must be a non-empty string (e.g. 'https://api.example.com') or a non-empty array of them`);
}

function issuer(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  throw new TypeError(`"issuer" must be a non-empty string such as 'https://auth.example.com'`);
}

function tokenClasses(value: unknown, _name: string, options: Options): readonly AuthTokenClass[] {
  if (value === undefined) return Object.freeze(parseBoolean(options.slidingTokens, 'slidingTokens', false) ? ['access', 'sliding'] : ['access']);
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((c) => c === 'access' || c === 'sliding') ||
    new Set(value).size !== value.length
  ) {
    throw new TypeError(`"authTokenClasses" must be a non-empty list of 'access' and/or 'sliding', without repeats, such as ['access', 'sliding']`);
  }
  return Object.freeze([...(value as AuthTokenClass[])]);
}

const cookies = (value: unknown): CookieConfig | undefined => resolveCookieOptions(value as boolean | CookieOptions | undefined);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function headerTypes(value: unknown): string[] {
  const types = value ?? ['Bearer'];
  if (!Array.isArray(types) || types.length === 0 || !types.every((t) => typeof t === 'string' && TOKEN.test(t))) {
    throw new TypeError(`"authHeaderTypes" must be a non-empty array of schemes such as ['Bearer', 'JWT']`);
  }
  return types as string[];
}

function headerName(value: unknown): string {
  const name = value ?? 'Authorization';
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    throw new TypeError(`"authHeaderName" must be an HTTP header name such as 'Authorization' or 'X-Access-Token'`);
  }
  return name;
}

function store(value: unknown): TokenStore | undefined {
  if (value === undefined) return undefined;
  assertStore(value);
  return value;
}

function loginThrottle(value: unknown): { rate: Rate; store: RateLimitStore | undefined } | false {
  const throttle = value ?? '10/15m';
  if (throttle === false) return false;
  if (typeof throttle === 'string') return { rate: parseRate(throttle, 'loginThrottle'), store: undefined };
  if (typeof throttle === 'object' && throttle !== null && typeof (throttle as { rate?: unknown }).rate === 'string') {
    const { rate, store } = throttle as { rate: string; store?: RateLimitStore };
    return { rate: parseRate(rate, 'loginThrottle.rate'), store };
  }
  throw new TypeError(`"loginThrottle" must be a rate such as '10/15m', { rate, store }, or false`);
}

/** Checked here; the pool itself is made when the kit starts (`createResources()`). */
function passwordHashing(value: unknown): HashingPoolOptions | false | undefined {
  if (value === undefined || value === false) return value;
  if (typeof value !== 'object' || value === null) throw new TypeError('"passwordHashing" must be { threads?, maxPending?, bcrypt?, nice? } or false');
  const { threads, maxPending, bcrypt, nice } = value as HashingPoolOptions;
  if (threads !== undefined && (!Number.isSafeInteger(threads) || threads < 0 || threads > 64)) {
    throw new TypeError(`"passwordHashing.threads" must be a whole number from 0 to 64 (got ${String(threads)})`);
  }
  if (maxPending !== undefined && (!Number.isSafeInteger(maxPending) || maxPending < 1)) {
    throw new TypeError(`"passwordHashing.maxPending" must be a positive whole number (got ${String(maxPending)})`);
  }
  if (bcrypt !== undefined && bcrypt !== 'auto' && bcrypt !== 'native' && bcrypt !== 'bcryptjs') {
    throw new TypeError(`"passwordHashing.bcrypt" must be 'auto', 'native' or 'bcryptjs' (got ${JSON.stringify(bcrypt)})`);
  }
  if (nice !== undefined && (!Number.isSafeInteger(nice) || nice < 0 || nice > 19)) {
    throw new TypeError(`"passwordHashing.nice" must be a whole number from 0 to 19 (got ${String(nice)})`);
  }
  return value as HashingPoolOptions;
}

function logger(value: unknown): Logger {
  const log = (value ?? console) as Logger;
  if (typeof log.warn !== 'function' || typeof log.error !== 'function') {
    throw new TypeError('"logger" must have warn() and error() methods, like console');
  }
  return log;
}

/** The warning codes the host silenced, or `'all'`. */
function warnings(value: unknown): ReadonlySet<string> | 'all' {
  if (value === false) return 'all';
  if (value === undefined || value === true) return new Set();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`"warnings" must be false (silence all) or an object such as { MEMORY_STORE: false } (got ${show(value)})`);
  }
  const silenced = new Set<string>();
  for (const [code, on] of Object.entries(value)) {
    parseBoolean(on, `warnings.${code}`, true);
    if (on === false) silenced.add(code);
  }
  return silenced;
}

function defaultUserId(user: any): string | number {
  return user?.id;
}
function defaultPasswordHash(user: any): string | null | undefined {
  return user?.password ?? user?.passwordHash;
}
function defaultIsActive(user: any): boolean {
  const flag = user?.isActive ?? user?.is_active ?? user?.active;
  return flag === undefined ? true : Boolean(flag);
}

/**
 * The options, in the order of docs/options.md. Typed against `Options` so that an option added to one and not
 * the other, or misspelt, is a compile error.
 */
export const OPTION_TABLE = {
  secret: {
    internal: true,
    parse: keyMaterial,
    env: 'JWT_SECRET',
    type: "`string | Buffer | KeyObject`",
    default: "env `JWT_SECRET`, else the file named by `JWT_SECRET_FILE`, else random (warned; refused when `NODE_ENV=production`)",
    doc: "HMAC key for HS*; at least 32/48/64 bytes for HS256/384/512. Never padded or truncated; weak secrets refused (see [Secrets](keys.md#secrets)).",
    readme: { default: "`JWT_SECRET`, `JWT_SECRET_FILE`", doc: "HS256 key, 32+ bytes; [other algorithms and key sets](docs/keys.md)." },
  },
  algorithm: {
    internal: true,
    parse: keyMaterial,
    env: 'JWT_ALGORITHM',
    type: "`'HS256'`…`'HS512'`, `'RS256'`…`'RS512'`, `'PS256'`…`'PS512'`, `'ES256'`…`'ES512'`",
    default: "`'HS256'`",
    doc: "The algorithm tokens are signed and verified with (in a key set: each key's default). `none` never; `EdDSA` is not supported.",
    readme: { type: "`'HS256'`, `'RS256'`, `'ES256'`, ...", doc: "How tokens are signed." },
  },
  signingKey: {
    internal: true,
    parse: keyMaterial,
    env: 'JWT_SIGNING_KEY_FILE',
    type: "PEM text, PEM file path, `Buffer` or private `KeyObject`",
    default: "—",
    doc: "RS/PS/ES private key. Its public half verifies. Checked against `algorithm` at start-up.",
  },
  verifyingKey: {
    internal: true,
    parse: keyMaterial,
    env: 'JWT_VERIFYING_KEY_FILE',
    type: "PEM text, path, `Buffer` or public `KeyObject`",
    default: "derived from `signingKey`",
    doc: "RS/PS/ES public key. Alone, the kit only verifies: login and refresh answer `404 verify_only`.",
  },
  keys: {
    internal: true,
    parse: keyMaterial,
    type: "`[{ kid, algorithm?, secret? | signingKey? / verifyingKey?, signing? }]`",
    default: "—",
    doc: "A key set for rotation: the key with `signing: true` signs (its `kid` goes in the header), the others only verify tokens naming their `kid`. Replaces `secret`/`signingKey`/`verifyingKey`.",
  },
  jwksUri: {
    internal: true,
    parse: keyMaterial,
    type: "URL, or `{ uri, algorithms?, cacheMaxAge?: '10m', requestsPerMinute?: 10, timeout?: '5s', dangerouslyAllowHttp? }`",
    default: "—",
    doc: "Trust a remote JWKS (simplejwt's `JWK_URL`) instead of local keys: verify-only. `https:` (or `http:` to localhost).",
  },
  audience: {
    parse: audience,
    env: 'JWT_AUDIENCE',
    type: "`string | string[]`",
    default: "—",
    doc: "`aud`, set on issue and required on verify (a token's `aud` string, or array holding one of ours). A token with an `aud` is refused when none is configured (RFC 7519 §4.1.3).",
  },
  issuer: {
    parse: issuer,
    env: 'JWT_ISSUER',
    type: "`string`",
    default: "—",
    doc: "`iss`, set on issue and required on verify.",
  },
  accessTokenLifetime: {
    internal: true,
    parse: lifetime(300),
    env: 'JWT_ACCESS_TOKEN_LIFETIME',
    type: "seconds or `'5m'`-style (`null`: never, with `dangerouslyAllowNonExpiringTokens`)",
    default: "`'5m'`",
    doc: "Access token lifetime (simplejwt `ACCESS_TOKEN_LIFETIME`). The start-up value: [the admin router](sessions.md#lifetimes-at-run-time) can change it for every server sharing the store.",
    readme: { type: "seconds or `'5m'`-style", doc: "`ACCESS_TOKEN_LIFETIME`." },
  },
  refreshTokenLifetime: {
    internal: true,
    parse: lifetime(86_400),
    env: 'JWT_REFRESH_TOKEN_LIFETIME',
    type: "seconds or `'1d'`-style (`null`: never)",
    default: "`'1d'`",
    doc: "Refresh token lifetime (`REFRESH_TOKEN_LIFETIME`). Must not be shorter than the access lifetime.",
    readme: { type: "seconds or `'1d'`-style", doc: "`REFRESH_TOKEN_LIFETIME`." },
  },
  slidingTokens: {
    parse: boolean(false),
    env: 'JWT_SLIDING_TOKENS',
    type: "`boolean`",
    default: "`false`",
    doc: "Serves `POST /sliding/` and `/sliding/refresh/` ([sliding tokens](sessions.md#sliding-tokens)).",
    readme: { doc: "simplejwt's sliding tokens." },
  },
  slidingTokenLifetime: {
    internal: true,
    parse: lifetime(300),
    type: "seconds or `'5m'`-style (`null`: never)",
    default: "`'5m'`",
    doc: "A sliding token's `exp`, renewed by each sliding refresh (`SLIDING_TOKEN_LIFETIME`).",
  },
  slidingTokenRefreshLifetime: {
    internal: true,
    parse: lifetime(86_400),
    type: "seconds or `'1d'`-style (`null`: never)",
    default: "`'1d'`",
    doc: "How long after login a sliding token stays refreshable: its `refresh_exp`, which never moves (`SLIDING_TOKEN_REFRESH_LIFETIME`).",
  },
  authTokenClasses: {
    parse: tokenClasses,
    type: "`('access' | 'sliding')[]`",
    default: "`['access']`; `['access', 'sliding']` with `slidingTokens`",
    doc: "Token classes `authenticate()` accepts, tried in order, each failure listed in `messages` (`AUTH_TOKEN_CLASSES`).",
  },
  refreshByBearer: {
    parse: boolean(false),
    env: 'JWT_REFRESH_BY_BEARER',
    type: "`boolean`",
    default: "`false`",
    doc: "`POST /refresh/` (and `/sliding/refresh/`) without the body field reads the token from the `Authorization` header, as HarperDB's `refresh_operation_token`. Off: the token endpoints ignore `Authorization`.",
  },
  cookies: {
    parse: cookies,
    env: 'JWT_COOKIES',
    type: "`true` or `{ refreshCookieName, refreshInBody, accessCookie, accessCookieName, accessInBody, csrfCookieName, csrfHeaderName, sameSite, domain }`",
    default: "off",
    doc: "[Cookie transport](sessions.md#cookies-and-csrf): the refresh token (and optionally the access token) in `HttpOnly; Secure; SameSite=Strict` cookies, with a double-submit CSRF token.",
    readme: { type: "`true` or an object", doc: "Tokens in httpOnly cookies, with CSRF protection." },
  },
  isAdmin: {
    parse: callback(),
    type: "`(user, req) => boolean` (may be async)",
    default: "—",
    doc: "Who may use `auth.adminRouter` (must return `true`). Without it the admin router answers 403 to everyone.",
  },
  dangerouslyAllowNonExpiringTokens: {
    internal: true,
    parse: boolean(false),
    type: "`boolean`",
    default: "`false`",
    doc: "Allows `null` lifetimes (tokens without `exp`, TuGraph's \"unlimited tokens\") and accepts tokens without `exp`. Logs `UNLIMITED_TOKENS` at start-up, which `warnings` cannot silence.",
  },
  leeway: {
    parse: duration,
    type: "seconds or `'30s'`-style",
    default: "`0`",
    doc: "Clock tolerance for `exp`, `nbf`, `iat` (`LEEWAY`).",
    readme: { type: "seconds", doc: "Clock tolerance (`LEEWAY`)." },
  },
  findUserById: {
    parse: requiredCallback,
    type: "`(id: string) => user | null` (may be async)",
    default: "required",
    doc: "Finds the token's user; return `null` for unknown or unparseable ids.",
    readme: { type: "`(id) => user | null`, may be async", doc: "Finds the token's user." },
  },
  findUserByUsername: {
    parse: callback(),
    type: "`(username, req) => user | null` (may be async)",
    default: "—",
    doc: "Finds the user logging in. Required for login unless `verifyCredentials` is given.",
    readme: { type: "`(username, req) => user | null`, may be async", doc: "Finds the user logging in." },
  },
  verifyCredentials: {
    parse: callback(),
    type: "`(username, password, req) => user | null`",
    default: "—",
    doc: "Replaces the username + bcrypt check (LDAP, another hasher).",
  },
  getUserId: {
    parse: callback(defaultUserId),
    type: "`(user) => string | number`",
    default: "`user.id`",
    doc: "Reads the user's id.",
  },
  getPasswordHash: {
    parse: callback(defaultPasswordHash),
    type: "`(user) => string`",
    default: "`user.password ?? user.passwordHash`",
    doc: "Reads the user's password hash: bcrypt (`$2b$...`) or a Django hash (see [Django users table](migrating.md#django-users-table)).",
  },
  isUserActive: {
    parse: callback(defaultIsActive),
    type: "`(user) => boolean`",
    default: "`user.isActive ?? user.is_active ?? user.active ?? true`",
    doc: "Inactive users cannot log in, refresh or authenticate.",
  },
  customClaims: {
    parse: callback(),
    type: "`(user) => object` (may be async)",
    default: "—",
    doc: "Extra claims added at login (simplejwt's `get_token` override) and carried into every token derived on refresh, rotation or sliding refresh. Reserved names are refused.",
  },
  loginResponse: {
    parse: callback(),
    type: "`(user, req) => object` (may be async)",
    default: "—",
    doc: "Extra fields of the login answers, after `refresh`/`access` (or `token`), e.g. the user's profile (simplejwt #256). May not set `refresh`, `access` or `token` (a logged 500).",
  },
  onLoginSuccess: {
    parse: callback(),
    type: "`(user, req) => void` (may be async)",
    default: "—",
    doc: "After each successful login (e.g. update the last login); awaited; a throw is logged and the login still succeeds.",
  },
  onLoginFailed: {
    parse: callback(),
    type: "`({ username, reason, ip }, req) => void`",
    default: "—",
    doc: "After each failed login, for audit. `reason`: `unknown_user`, `wrong_password`, `inactive`, `invalid_credentials` (`verifyCredentials` said no), `throttled`, `session_limit`. Never awaited, never given the password; the client always gets the one answer.",
  },
  userIdClaim: {
    internal: true,
    parse: identifier('user_id'),
    type: "`string`",
    default: "`'user_id'`",
    doc: "`USER_ID_CLAIM`.",
  },
  tokenTypeClaim: {
    internal: true,
    parse: identifier('token_type'),
    type: "`string`",
    default: "`'token_type'`",
    doc: "`TOKEN_TYPE_CLAIM`.",
  },
  jtiClaim: {
    internal: true,
    parse: identifier('jti'),
    type: "`string`",
    default: "`'jti'`",
    doc: "`JTI_CLAIM`.",
  },
  usernameField: {
    parse: identifier('username'),
    type: "`string`",
    default: "`'username'`",
    doc: "The login body's username field (e.g. `'email'`).",
  },
  authHeaderTypes: {
    parse: headerTypes,
    type: "`string[]`",
    default: "`['Bearer']`",
    doc: "Accepted schemes, case-insensitive (`AUTH_HEADER_TYPES`). The first is named in `WWW-Authenticate`.",
  },
  authHeaderName: {
    internal: true,
    parse: headerName,
    type: "`string`",
    default: "`'Authorization'`",
    doc: "The header carrying the token (`AUTH_HEADER_NAME`).",
  },
  rotateRefreshTokens: {
    parse: boolean(false),
    env: 'JWT_ROTATE_REFRESH_TOKENS',
    type: "`boolean`",
    default: "`false`",
    doc: "Refresh answers a new refresh token too (`ROTATE_REFRESH_TOKENS`).",
    readme: { doc: "Refresh answers a new refresh token too." },
  },
  blacklistAfterRotation: {
    parse: boolean(true),
    env: 'JWT_BLACKLIST_AFTER_ROTATION',
    type: "`boolean`",
    default: "`true`",
    doc: "With rotation, the presented refresh token is consumed: it cannot be used again (`BLACKLIST_AFTER_ROTATION`, whose default is `False`).",
    readme: { doc: "A rotated refresh token cannot be used again." },
  },
  reuseDetection: {
    parse: boolean(true),
    type: "`boolean`",
    default: "`true`",
    doc: "A consumed refresh token presented again revokes its whole session: the thief's tokens and the user's alike.",
  },
  reuseInterval: {
    parse: duration,
    env: 'JWT_REUSE_INTERVAL',
    type: "seconds or `'10s'`-style",
    default: "`0`",
    doc: "Grace after a rotation during which the old token may come back (a client's retry after a lost reply, a second tab): it gets the same successor back, never a second live branch. Past it, reuse detection. The setting for flaky mobile networks and multi-tab apps.",
    readme: { type: "seconds or `'30s'`-style", doc: "Grace for a client's retry after a rotation." },
  },
  adoptUnknownTokens: {
    parse: boolean(false),
    type: "boolean",
    default: "`false`",
    doc: "A refresh token the store does not know, issued before the store's memory began (a wiped Redis, a restarted MemoryStore), is refused; `true` adopts it as a new session. Tokens issued since are always adopted.",
  },
  onTokenReuse: {
    parse: callback(),
    type: "`(event) => void` (may be async)",
    default: "—",
    doc: "Called after a reuse revoked a session, with `{ jti, userId, familyId, rotatedAt, ip, userAgent }`; what it throws is logged.",
  },
  store: {
    internal: true,
    parse: store,
    env: 'JWT_STORE',
    type: "`TokenStore`",
    default: "a `MemoryStore` (warned `MEMORY_STORE`)",
    doc: "Where revocation state lives: `MemoryStore`, `SqliteStore`, `RedisStore`, `PostgresStore` or your own (see [Deployment](deployment.md#deployment)).",
    readme: { default: "`MemoryStore`", doc: "Where revocation state lives (above)." },
  },
  storeTimeoutMs: {
    parse: wholeNumber(1000, 1, 'a positive whole number of milliseconds'),
    env: 'JWT_STORE_TIMEOUT',
    type: "`number` (ms)",
    default: "`1000`",
    doc: "Bound on one store operation; past it the endpoint answers `503 store_unavailable` and issues nothing.",
    readme: { doc: "Past it, `503 store_unavailable`." },
  },
  revokeAccessTokens: {
    parse: boolean(false),
    env: 'JWT_REVOKE_ACCESS_TOKENS',
    type: "`boolean`",
    default: "`false`",
    doc: "`authenticate()` also refuses access tokens whose session, user or `jti` was revoked (one store look-up per request). Without it an access token lives until its `exp`.",
    readme: { doc: "Logout also ends access tokens at once." },
  },
  getCredentialsChangedAt: {
    parse: callback(),
    type: "`(user) => Date | number | null`",
    default: "—",
    doc: "When the user's password last changed; tokens then carry it as `credentials_changed_at` and answer `401 password_changed` once it differs, even within the same second (simplejwt's `CHECK_REVOKE_TOKEN`).",
  },
  maxSessionsPerUser: {
    parse: wholeNumber(10_000, 1, 'a positive whole number'),
    type: "`number`",
    default: "`10000`",
    doc: "Live sessions (logins) allowed per user.",
    readme: { doc: "Live sessions per user." },
  },
  sessionLimitPolicy: {
    parse: oneOf(['evict-oldest', 'refuse'] as const),
    type: "`'evict-oldest' | 'refuse'`",
    default: "`'evict-oldest'`",
    doc: "A login beyond `maxSessionsPerUser` ends the user's oldest session, or is refused with `403 session_limit`.",
  },
  loginThrottle: {
    parse: loginThrottle,
    env: 'JWT_LOGIN_THROTTLE',
    type: "rate string, `{ rate, store }` or `false`",
    default: "`'10/15m'`",
    doc: "Failed logins allowed per client and username (`'100/hour'`, `'5/min'`); `store` is any express-rate-limit store with `get()` (v7+); its calls are bounded by `storeTimeoutMs`. Without `store`, the counters live with the kit's token store when it is shared: in the same Redis for a `RedisStore`, in the `<tablePrefix>rate_limits` table for a `PostgresStore`; otherwise in memory.",
    readme: { doc: "Failed logins per client and username." },
  },
  bodyLimit: {
    parse: wholeNumber(16 * 1024, 256, 'a whole number of bytes, at least 256'),
    type: "`number` (bytes)",
    default: "`16384`",
    doc: "Largest body the token endpoints read (413 above).",
  },
  passwordHashing: {
    internal: true,
    parse: passwordHashing,
    type: "`{ threads?, maxPending?, bcrypt?, nice? }` or `false`",
    default: "worker threads: one per core; `maxPending` max(16, threads × 16); `bcrypt: 'auto'` (`@node-rs/bcrypt` when installed, else bcryptjs); shared by the process",
    doc: "bcrypt runs off the main thread, so a login storm does not starve other requests; beyond `maxPending` running or queued comparisons a login answers `503 server_busy` at once, as does a login from an address that already has `threads` checks running (at least 4; without workers a quarter of `maxPending`) when `loginThrottle` is on; neither counts as a failed attempt. `bcrypt`: `'auto'` uses `@node-rs/bcrypt` when it is installed, `'native'` requires it, `'bcryptjs'` never uses it; `nice` (Linux, 0–19) lowers the workers' priority. `false`: no workers (native bcrypt in libuv's threads, bcryptjs on the main thread).",
  },
  bcryptRounds: {
    parse: wholeNumber(10, 4, 'an integer from 4 to 31', 31),
    type: "`number`",
    default: "`10`",
    doc: "Lowest bcrypt cost a failed login takes: unknown users and wrong passwords against cheaper hashes cost at least this (set it to the highest cost in your users' hashes).",
  },
  clock: {
    parse: callback(Date.now),
    type: "`() => number` (ms)",
    default: "`Date.now`",
    doc: "The clock; tests inject one.",
  },
  logger: {
    parse: logger,
    type: "`{ warn, error }`",
    default: "`console`",
    doc: "Where warnings and error lines go. Lines never hold a stack trace, secret, password or token.",
  },
  warnings: {
    internal: true,
    parse: warnings,
    type: "`false` or `{ CODE: false }`",
    default: "all on",
    doc: "Silences start-up warnings: all, or one by code (`RANDOM_SECRET`, `THROTTLE_DISABLED`, `LONG_ACCESS_LIFETIME`, `NO_SIGNING_KEY`, `JWKS_HTTP`, …).",
  },
  renderError: {
    parse: callback(),
    type: "`(err: AuthError, req, res) => void`",
    default: "built-in",
    doc: "Renders errors your way instead of simplejwt's bodies.",
  },
  errors: {
    parse: oneOf(['respond', 'next'] as const),
    type: "`'respond'` or `'next'`",
    default: "`'respond'`",
    doc: "`'next'` passes every error to your Express error handler with `next(err)` (an `AuthError`, or what your callback threw), headers already set; an endpoint behind a failed authentication never runs.",
  },
} satisfies Record<keyof Options, OptionSpec>;

type Table = typeof OPTION_TABLE;

/** Every option name. */
export type OptionName = keyof Table;

/** What each option's parser returns, by option name. */
export type ParsedOptions = { -readonly [K in OptionName]: ReturnType<Table[K]['parse']> };

/** Options kept under their own name in `Config` (the others are consumed by `resolveOptions()`). */
type DirectOption = { [K in OptionName]: Table[K] extends { internal: true } ? never : K }[OptionName];

/**
 * The `Config` fields that are options parsed as they are: their types come from the parsers, host callbacks'
 * from `Options<U>` (the table cannot know the host's user type).
 */
export type DirectSettings<U> = {
  [K in DirectOption]: ParsedOptions[K] extends HostCallback | undefined
    ? undefined extends ParsedOptions[K]
      ? Options<U>[K]
      : NonNullable<Options<U>[K]>
    : ParsedOptions[K];
};

/** Whether `name` is an option (own keys only: `toString` is not one). */
export function isOptionName(name: string): name is OptionName {
  return Object.prototype.hasOwnProperty.call(OPTION_TABLE, name);
}

/** Runs every parser, in table order: each option checked, defaults applied. */
export function parseOptions(options: Options): ParsedOptions {
  const parsed: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(OPTION_TABLE) as [OptionName, OptionSpec][]) {
    parsed[name] = spec.parse(options[name], name, options);
  }
  return parsed as ParsedOptions;
}
