import type { KeyObject } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Store as RateLimitStore } from 'express-rate-limit';
import type { AuthError } from '../errors';
import type { Duration } from './duration';
import type { Logger, WarningCode } from './warnings';
import type { Awaitable, TokenStore } from '../stores/types';
import type { HashingPoolOptions } from '../passwords/pool';

/**
 * What a host callback may return: the value, or a promise of it (the same type as the stores' `Awaitable`).
 *
 * @example
 * const findUserById = (id: string): MaybePromise<User | null> => db.users.findById(Number(id));
 */
export type MaybePromise<T> = Awaitable<T>;

/**
 * HMAC algorithms: a shared secret signs and verifies. `none` does not exist here.
 *
 * @example
 * const algorithm: HmacAlgorithm = 'HS512'; // needs a secret of at least 64 bytes
 */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512';

/**
 * Public-key algorithms: a private key signs, its public key verifies. EdDSA is not supported (see the README).
 *
 * @example
 * const algorithm: AsymmetricAlgorithm = 'ES256';
 * simpleJwt({ algorithm, signingKey: './keys/private.pem', findUserByUsername, findUserById });
 */
export type AsymmetricAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/**
 * Every algorithm the kit signs or verifies with.
 *
 * @example
 * simpleJwt({ algorithm: 'RS256' satisfies Algorithm, signingKey: process.env.JWT_PRIVATE_KEY, findUserById });
 */
export type Algorithm = HmacAlgorithm | AsymmetricAlgorithm;

/**
 * A key: PEM text, the path of a PEM file, PEM bytes, or a `crypto.KeyObject`.
 *
 * @example
 * const fromFile: KeyInput = '/run/secrets/jwt.pem';
 * const encrypted: KeyInput = crypto.createPrivateKey({ key: pem, passphrase: process.env.KEY_PASSPHRASE });
 */
export type KeyInput = string | Buffer | KeyObject;

/**
 * One key of a key set (`keys`). HMAC keys take `secret`; RS/PS/ES keys take `signingKey` (private; its public
 * half is derived) and/or `verifyingKey` (public). Exactly one key may sign (`signing: true`); the others only
 * verify tokens that name their `kid`.
 *
 * @example
 * { kid: '2026-01', algorithm: 'ES256', signingKey: '/run/secrets/jwt-2026-01.pem', signing: true }
 */
export interface KeySetEntry {
  /** The key's id, written in the header of the tokens it signs and used to find it again. Unique in the set. */
  kid: string;
  /** The key's algorithm. Default: the `algorithm` option. */
  algorithm?: Algorithm;
  /** HMAC secret (HS256/384/512 only); the same rules as the `secret` option. */
  secret?: string | Buffer | KeyObject;
  /** Private key (RS/PS/ES only). Needed for the key that signs. */
  signingKey?: KeyInput;
  /** Public key (RS/PS/ES only). Derived from `signingKey` when absent. */
  verifyingKey?: KeyInput;
  /** `true` on the one key that signs new tokens. Default `false` (verify only). */
  signing?: boolean;
}

/**
 * Trusting a remote JWKS (simplejwt's `JWK_URL`): verify-only, keys fetched by `kid`.
 *
 * @example
 * simpleJwt({
 *   jwksUri: { uri: 'https://auth.example.com/.well-known/jwks.json', algorithms: ['RS256'], cacheMaxAge: '1h' },
 *   findUserById,
 * });
 */
export interface JwksUriOptions {
  /** The JWKS URL. `https:`, or `http:` to localhost only (unless `dangerouslyAllowHttp`). */
  uri: string;
  /** Algorithms accepted from this key set. Default: `[algorithm]` (the `algorithm` option must then be set). */
  algorithms?: AsymmetricAlgorithm[];
  /** How long fetched keys are kept. Default `'10m'`. */
  cacheMaxAge?: Duration;
  /** Most fetches per minute (a token with an unknown `kid` causes one). Default `10`. */
  requestsPerMinute?: number;
  /** Fetch timeout. Default `'5s'`. */
  timeout?: Duration;
  /** Allows `http:` to a host other than localhost: anyone on the path could then inject keys. Default `false`. */
  dangerouslyAllowHttp?: boolean;
}

/**
 * Login throttling: a DRF-style rate (`'10/15m'`), `false` to turn it off, or a rate with a shared store.
 *
 * @example
 * const perClient: LoginThrottle = '5/min';
 * const shared: LoginThrottle = { rate: '10/15m', store: rateLimitStore }; // any express-rate-limit store
 */
export type LoginThrottle = string | false | { rate: string; store?: RateLimitStore };

/**
 * A token class `authenticate()` accepts, as simplejwt's `AUTH_TOKEN_CLASSES`: `AccessToken` or `SlidingToken`.
 *
 * @example
 * simpleJwt({ ...options, slidingTokens: true, authTokenClasses: ['sliding', 'access'] });
 */
export type AuthTokenClass = 'access' | 'sliding';

/**
 * Cookie transport (`cookies: true` or an object): the refresh token travels in an `HttpOnly; Secure;
 * SameSite=Strict` cookie scoped to the token router's path, optionally the access token too. Requests that a
 * cookie authenticates and that change state need the CSRF token (double submit: the CSRF cookie's value sent
 * back in the CSRF header).
 *
 * @example
 * cookies: { accessCookie: true }   // refresh and access in cookies; the front end echoes __Host-csrftoken in X-CSRFToken
 */
export interface CookieOptions {
  /** The refresh token's cookie (HttpOnly, `Path` = the token router's mount path). Default `'__Secure-refresh_token'`. */
  refreshCookieName?: string;
  /** Whether the JSON bodies of login and refresh still carry the refresh token. Default `false` (script cannot read it). */
  refreshInBody?: boolean;
  /** The access token (or the sliding token) travels in a cookie too, and `authenticate()` reads it when no header is sent. Default `false`. */
  accessCookie?: boolean;
  /** The access token's cookie (HttpOnly, `Path=/`). Default `'__Host-access_token'`. */
  accessCookieName?: string;
  /** Whether the JSON bodies still carry the access (or sliding) token. Default `true`, or `false` with `accessCookie`. */
  accessInBody?: boolean;
  /** The CSRF cookie (readable by script, `Path=/`). Default `'__Host-csrftoken'`. */
  csrfCookieName?: string;
  /** The header that must echo the CSRF cookie. Default `'X-CSRFToken'` (Django's). */
  csrfHeaderName?: string;
  /** `SameSite` of every cookie. Default `'Strict'`. */
  sameSite?: 'Strict' | 'Lax';
  /** `Domain` of the cookies. Default none (host-only); names starting with `__Host-` cannot take one. */
  domain?: string;
}

/**
 * Why a login failed, as `onLoginFailed` learns it (never sent to the client, which always gets one answer).
 *
 * @example
 * onLoginFailed: ({ reason }) => { if (reason === 'wrong_password') metrics.increment('login.wrong_password'); }
 */
export type LoginFailureReason = 'unknown_user' | 'wrong_password' | 'inactive' | 'invalid_credentials' | 'throttled' | 'session_limit';

/**
 * What `onLoginFailed` learns. The password is never passed.
 *
 * @example
 * onLoginFailed: (event: LoginFailedEvent) => audit.log('login failed', event.username, event.reason, event.ip);
 */
export interface LoginFailedEvent {
  /** The username (or `usernameField` value) as sent. */
  username: string;
  /** `unknown_user`, `wrong_password`, `inactive` (right password), `invalid_credentials` (`verifyCredentials` said no), `throttled`, `session_limit`. */
  reason: LoginFailureReason;
  /** The client's address (`req.ip`). */
  ip: string | undefined;
}

/**
 * Every option of `simpleJwt()`. `U` is the host's user type. Only `findUserById` is always required;
 * `findUserByUsername` (or `verifyCredentials`) is required for the login endpoint.
 *
 * @example
 * const options: Options<User> = {
 *   secret: process.env.JWT_SECRET,
 *   accessTokenLifetime: '5m',
 *   refreshTokenLifetime: '1d',
 *   rotateRefreshTokens: true,
 *   findUserByUsername: (username) => db.users.findByName(username),
 *   findUserById: (id) => db.users.findById(Number(id)),
 * };
 * const auth = simpleJwt(options);
 */
export interface Options<U = any> {
  /**
   * HMAC signing secret (string, Buffer or secret KeyObject), for HS256/384/512. Default: env `JWT_SECRET`, else
   * the contents of the file named by env `JWT_SECRET_FILE`, else a random one (with a warning; refused when
   * `NODE_ENV` is `production`). Short or well-known weak secrets are refused.
   */
  secret?: string | Buffer | KeyObject;
  /** The algorithm tokens are signed and verified with. Default `'HS256'`. `none` and `EdDSA` are refused. */
  algorithm?: Algorithm;
  /** Private key for RS/PS/ES algorithms: PEM text, a PEM file's path, or a KeyObject. Its public half verifies. */
  signingKey?: KeyInput;
  /** Public key for RS/PS/ES algorithms. Alone (without `signingKey`) the kit only verifies: login and refresh answer 404 `verify_only`. */
  verifyingKey?: KeyInput;
  /** A key set for rotation: tokens carry the signing key's `kid`; verification picks the key by `kid`. */
  keys?: KeySetEntry[];
  /** Trust a remote JWKS instead of local keys (verify-only). A URL, or `{ uri, algorithms, cacheMaxAge, ... }`. */
  jwksUri?: string | JwksUriOptions;
  /** `aud` claim: set on every token issued, and required (one of ours) on every token verified. Default: none. */
  audience?: string | string[];
  /** `iss` claim: set on every token issued, and required on every token verified. Default: none. */
  issuer?: string;
  /** Access token lifetime, seconds or `'5m'`-style (`null`: never expires, only with `dangerouslyAllowNonExpiringTokens`). Default `'5m'`. */
  accessTokenLifetime?: Duration | null;
  /** Refresh token lifetime. Default `'1d'`. */
  refreshTokenLifetime?: Duration | null;
  /** Serves `POST /sliding/` and `/sliding/refresh/` (simplejwt's sliding tokens). Default `false`. */
  slidingTokens?: boolean;
  /** Sliding token lifetime (its `exp`, renewed by each sliding refresh). Default `'5m'`. */
  slidingTokenLifetime?: Duration | null;
  /** How long after login a sliding token may still be refreshed (its `refresh_exp`, which never moves). Default `'1d'`. */
  slidingTokenRefreshLifetime?: Duration | null;
  /** Token classes `authenticate()` accepts, tried in order. Default `['access']`, or `['access', 'sliding']` with `slidingTokens`. */
  authTokenClasses?: AuthTokenClass[];
  /** `POST /refresh/` (and `/sliding/refresh/`) without the body field take the token from the `Authorization` header, as HarperDB's `refresh_operation_token`. Default `false`. */
  refreshByBearer?: boolean;
  /** Cookie transport for browsers: `true` for the secure defaults, or `CookieOptions`. Default `false`. */
  cookies?: boolean | CookieOptions;
  /** Who may read and change the lifetimes through `auth.adminRouter`. Without it the admin router refuses everyone (403). */
  isAdmin?: (user: U, req: Request) => MaybePromise<boolean>;
  /** Allows lifetimes of `null`: tokens without `exp` (TuGraph's "unlimited tokens"). Logs a warning at start-up that cannot be silenced. Default `false`. */
  dangerouslyAllowNonExpiringTokens?: boolean;
  /** Tolerance for `exp`, `nbf` and `iat`, seconds or `'30s'`-style. Default `0`. */
  leeway?: Duration | 0;
  /** Looks a user up for login. Return `null`/`undefined` when there is none. */
  findUserByUsername?: (username: string, req: Request) => MaybePromise<U | null | undefined>;
  /** Looks a user up by the id in a token (always a string). Return `null`/`undefined` when there is none or the id cannot be parsed. */
  findUserById: (id: string) => MaybePromise<U | null | undefined>;
  /** Replaces the username + bcrypt check (e.g. LDAP): return the user when the credentials are good, else `null`. */
  verifyCredentials?: (username: string, password: string, req: Request) => MaybePromise<U | null | undefined>;
  /** Reads the user's id. Default `user.id`. */
  getUserId?: (user: U) => string | number;
  /** Reads the user's bcrypt hash. Default `user.password ?? user.passwordHash`. */
  getPasswordHash?: (user: U) => string | null | undefined;
  /** Reads whether the user may log in. Default `user.isActive ?? user.is_active ?? user.active ?? true`. */
  isUserActive?: (user: U) => boolean;
  /** Extra claims for a user's tokens, added at login and carried into access tokens on refresh. */
  customClaims?: (user: U) => MaybePromise<Record<string, unknown>>;
  /** Extra fields of the login answers, after `refresh`/`access` (or `token`), e.g. the user's profile. */
  loginResponse?: (user: U, req: Request) => MaybePromise<Record<string, unknown>>;
  /** Called after a successful login (e.g. to update the last login); awaited, and a throw is logged, not answered. */
  onLoginSuccess?: (user: U, req: Request) => void | Promise<void>;
  /** Called after a failed login (audit); not awaited, so its own latency cannot tell the reasons apart. */
  onLoginFailed?: (event: LoginFailedEvent, req: Request) => void | Promise<void>;
  /** Name of the user id claim. Default `'user_id'`. */
  userIdClaim?: string;
  /** Name of the token type claim. Default `'token_type'`. */
  tokenTypeClaim?: string;
  /** Name of the token id claim. Default `'jti'`. */
  jtiClaim?: string;
  /** Name of the login body's username field (e.g. `'email'`). Default `'username'`. */
  usernameField?: string;
  /** Accepted `Authorization` schemes, matched case-insensitively. Default `['Bearer']`. */
  authHeaderTypes?: string[];
  /** Header carrying the token. Default `'Authorization'`. */
  authHeaderName?: string;
  /** Refresh answers a new refresh token too. Default `false`. */
  rotateRefreshTokens?: boolean;
  /** With rotation, the presented refresh token is consumed: it cannot be used again. Default `true` (simplejwt: `False`). */
  blacklistAfterRotation?: boolean;
  /** Presenting an already rotated refresh token revokes its whole session (family). Default `true`. */
  reuseDetection?: boolean;
  /**
   * Seconds after a rotation during which the old token may be presented again (a client's retry after a lost
   * reply, another tab): it gets the same successor back (same refresh token, new access token), never a second
   * live branch; past it, reuse detection. Default `0` (refused at once, as simplejwt).
   */
  reuseInterval?: Duration | 0;
  /**
   * A refresh token the store has no record of that was issued before the store's memory began (a wiped or
   * replaced store, a MemoryStore after a restart) is refused (`false`, the default: a token logged out before
   * the wipe must not come back), or adopted as a new session (`true`). Tokens issued since are always adopted.
   */
  adoptUnknownTokens?: boolean;
  /** Called when a rotated refresh token is presented again; the session has already been revoked. */
  onTokenReuse?: (event: TokenReuseEvent) => void | Promise<void>;
  /** Where revocation state lives. Default a `MemoryStore` (warned: not shared, lost at restart). */
  store?: TokenStore;
  /** Bound on one store operation; past it the endpoint answers 503 `store_unavailable`. Default `'1s'`-ish: `1000` ms. */
  storeTimeoutMs?: number;
  /** `authenticate()` also refuses access tokens whose session, user or jti was revoked (one store look-up per request). Default `false`. */
  revokeAccessTokens?: boolean;
  /** When the user's credentials last changed (Date or epoch ms); tokens carry it as `credentials_changed_at` and answer `password_changed` once it differs. */
  getCredentialsChangedAt?: (user: U) => Date | number | null | undefined;
  /** Live sessions allowed per user. Default `10000` (TuGraph's cap). */
  maxSessionsPerUser?: number;
  /** What a login beyond `maxSessionsPerUser` does: end the oldest session, or be refused (403). Default `'evict-oldest'`. */
  sessionLimitPolicy?: 'evict-oldest' | 'refuse';
  /** Throttling of failed logins per client and username. Default `'10/15m'`; `false` turns it off. */
  loginThrottle?: LoginThrottle;
  /** Largest body the token endpoints read, in bytes. Default `16384`. */
  bodyLimit?: number;
  /** Where bcrypt runs: worker threads (default: one per core, shared by the process; `@node-rs/bcrypt` when installed, else bcryptjs) with a cap on pending comparisons (503 beyond it); `false`: no workers (native bcrypt in libuv's threads, bcryptjs on the main thread). */
  passwordHashing?: HashingPoolOptions | false;
  /** Lowest bcrypt cost a failed login takes: unknown users and wrong passwords against cheaper hashes cost at least this (set it to the highest cost in your table). Default `10`. */
  bcryptRounds?: number;
  /** Clock in milliseconds since the epoch; tests inject one. Default `Date.now`. */
  clock?: () => number;
  /** Where warnings and errors go. Default `console`. */
  logger?: Logger;
  /** `false` silences every start-up warning; `{ RANDOM_SECRET: false }` silences one. Default: all on. */
  warnings?: false | Partial<Record<WarningCode, boolean>>;
  /** Renders an `AuthError` instead of the built-in JSON (which matches simplejwt byte for byte). */
  renderError?: (err: AuthError, req: Request, res: Response) => void;
  /**
   * `'respond'` (default): the kit answers every error itself, with simplejwt's bodies. `'next'`: it sets the
   * headers (`WWW-Authenticate`, `Retry-After`, `Allow`) and passes the error to your Express error handler with
   * `next(err)`, as express-jwt and passport do: an `AuthError` (`status`, `code`, `body`), or whatever one of your
   * callbacks threw, unchanged.
   */
  errors?: 'respond' | 'next';
}

/** What `onTokenReuse` learns: a refresh token that had been rotated came back, so its session was revoked. */
export interface TokenReuseEvent {
  /** The reused token's `jti`. */
  jti: string;
  userId: string;
  /** The session (family) that was revoked. */
  familyId: string;
  /** When the token had been rotated (epoch seconds). */
  rotatedAt: number;
  /** The client that presented it. */
  ip: string | undefined;
  userAgent: string | undefined;
}

/**
 * Options of `auth.authenticate()`.
 *
 * @example
 * app.get('/feed/', auth.authenticate({ optional: true }), handler);   // anonymous requests too
 * app.get('/jobs/', auth.authenticate({ stateless: true }), handler);  // req.user from the claims alone
 */
export interface AuthenticateOptions {
  /** `true`: a request without credentials proceeds anonymously (an invalid token still fails). Default `false`. */
  optional?: boolean;
  /** `true`: build `req.user` from the token's claims without calling `findUserById`. Default `false`. */
  stateless?: boolean;
}
