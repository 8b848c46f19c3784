import { KitEvents } from '../events';
import type { Request, Response } from 'express';
import type { Store as RateLimitStore } from 'express-rate-limit';
import type { AuthError } from '../errors';
import { parseDuration } from './duration';
import { resolveKeySet, type KeySet } from '../keys/keyset';
import {
  OPTION_KEYS,
  type Algorithm,
  type AuthTokenClass,
  type LoginFailedEvent,
  type MaybePromise,
  type Options,
  type TokenReuseEvent,
} from './options';
import { resolveCookieOptions, type CookieConfig } from '../http/cookies';
import { MAX_LIFETIME, type Lifetimes } from '../tokens/lifetimes';
import { MemoryStore } from '../stores/memory';
import { announceHashingPool, createHashingPool, sharedHashingPool, type BcryptCompare, type HashingPool } from '../passwords/pool';
import { assertStore, type TokenStore } from '../stores/types';
import { parseRate, type Rate } from './rate';
import { createWarner, type Logger, type WarningCode } from './warnings';

/** The complete internal configuration, computed once by `resolveOptions()`. */
export interface Config<U = any> {
  /** The algorithm tokens are signed with (in verify-only mode: the first one accepted). */
  algorithm: Algorithm;
  /** Every key, checked against its algorithm; verification finds keys here by `kid` only. */
  keys: KeySet;
  /** `aud` written on issue and required on verify. */
  audience: string | readonly string[] | undefined;
  /** `iss` written on issue and required on verify. */
  issuer: string | undefined;
  /** Start-up access lifetime in seconds (`Infinity`: no `exp`); the admin router may override it in the store. */
  accessLifetime: number;
  /** Start-up refresh lifetime in seconds (`Infinity`: no `exp`). */
  refreshLifetime: number;
  /** Every start-up lifetime, access, refresh and sliding (`Infinity`: never expires). */
  lifetimes: Lifetimes;
  /** `dangerouslyAllowNonExpiringTokens`: tokens without `exp` verify, and lifetimes may be `Infinity`. */
  allowNonExpiring: boolean;
  slidingTokens: boolean;
  /** The token classes `authenticate()` tries, in order. */
  authTokenClasses: readonly AuthTokenClass[];
  refreshByBearer: boolean;
  /** Cookie transport, when on. */
  cookies: CookieConfig | undefined;
  isAdmin: ((user: U, req: Request) => MaybePromise<boolean>) | undefined;
  loginResponse: ((user: U, req: Request) => MaybePromise<Record<string, unknown>>) | undefined;
  onLoginSuccess: ((user: U, req: Request) => void | Promise<void>) | undefined;
  onLoginFailed: ((event: LoginFailedEvent, req: Request) => void | Promise<void>) | undefined;
  leeway: number;
  findUserByUsername: ((username: string, req: Request) => MaybePromise<U | null | undefined>) | undefined;
  findUserById: (id: string) => MaybePromise<U | null | undefined>;
  verifyCredentials: ((username: string, password: string, req: Request) => MaybePromise<U | null | undefined>) | undefined;
  getUserId: (user: U) => string | number;
  getPasswordHash: (user: U) => string | null | undefined;
  isUserActive: (user: U) => boolean;
  customClaims: ((user: U) => MaybePromise<Record<string, unknown>>) | undefined;
  claims: { userId: string; tokenType: string; jti: string };
  usernameField: string;
  authHeaderTypes: string[];
  /** Lower-cased schemes, for the case-insensitive match. */
  authSchemes: ReadonlySet<string>;
  /** Lower-cased header name as Node stores it. */
  authHeaderKey: string;
  wwwAuthenticate: string;
  rotateRefreshTokens: boolean;
  blacklistAfterRotation: boolean;
  reuseDetection: boolean;
  reuseInterval: number;
  adoptUnknownTokens: boolean;
  onTokenReuse: ((event: TokenReuseEvent) => void | Promise<void>) | undefined;
  store: TokenStore;
  storeTimeoutMs: number;
  revokeAccessTokens: boolean;
  getCredentialsChangedAt: ((user: U) => Date | number | null | undefined) | undefined;
  maxSessionsPerUser: number;
  sessionLimitPolicy: 'evict-oldest' | 'refuse';
  loginThrottle: { rate: Rate; store: RateLimitStore | undefined } | false;
  bodyLimit: number;
  bcryptRounds: number;
  /** bcrypt comparisons: the shared worker pool, a custom one, or the main thread. */
  bcryptCompare: BcryptCompare;
  /** The pool behind `bcryptCompare` (its capacity is checked before the login limiter). */
  hashingPool: HashingPool;
  /** Whether this kit made `hashingPool` (and `close()` stops it); the process-wide shared pool is never stopped. */
  ownsHashingPool: boolean;
  clock: () => number;
  logger: Logger;
  /** The kit's event emitter (`auth.events`). */
  events: KitEvents;
  warn: (code: WarningCode, message: string) => void;
  renderError: ((err: AuthError, req: Request, res: Response) => void) | undefined;
  errors: 'respond' | 'next';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}

/** Throws a TypeError for keys that are not options, naming the closest real one. */
function checkUnknownKeys(options: object): void {
  const known = Object.keys(OPTION_KEYS);
  for (const key of Object.keys(options)) {
    if (key in OPTION_KEYS) continue;
    const best = known.map((k) => [k, editDistance(key, k)] as const).sort((x, y) => x[1] - y[1])[0];
    const hint = best && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? ` Did you mean "${best[0]}"?` : '';
    throw new TypeError(`Unknown option "${key}".${hint} See the options table in the README.`);
  }
}

function checkFunction(value: unknown, name: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') {
    throw new TypeError(`"${name}" must be a function${required ? ' (it is required)' : ''}; got ${typeof value}`);
  }
}

function checkName(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_-]*$/.test(value)) {
    throw new TypeError(`"${name}" must be a non-empty identifier such as '${fallback}'`);
  }
  return value;
}

function checkAudience(value: unknown): string | readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string' && a.length > 0)) {
    return Object.freeze([...value]);
  }
  throw new TypeError(`"audience" must be a non-empty string (e.g. 'https://api.example.com') or a non-empty array of them`);
}

function checkIssuer(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  throw new TypeError(`"issuer" must be a non-empty string such as 'https://auth.example.com'`);
}

/** A lifetime option: a duration, or `null` (never) with `dangerouslyAllowNonExpiringTokens`; `Infinity` stands for never. */
function checkLifetime(value: unknown, name: string, fallback: number, allowNever: boolean): number {
  if (value === undefined) return fallback;
  if (value === null) {
    if (allowNever) return Infinity;
    throw new TypeError(`"${name}" is null (tokens that never expire); that needs dangerouslyAllowNonExpiringTokens: true, or give a duration such as '5m'`);
  }
  const seconds = parseDuration(value, name);
  if (seconds > MAX_LIFETIME) throw new TypeError(`"${name}" must be at most 100 years (${MAX_LIFETIME} seconds); got ${seconds}`);
  return seconds;
}

function checkErrorsMode(value: unknown): 'respond' | 'next' {
  if (value === undefined || value === 'respond' || value === 'next') return value ?? 'respond';
  throw new TypeError(`"errors" must be 'respond' or 'next' (got ${JSON.stringify(value)})`);
}

function checkBoolean(value: unknown, name: string, fallback = false): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`"${name}" must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

function checkTokenClasses(value: unknown, sliding: boolean): readonly AuthTokenClass[] {
  if (value === undefined) return Object.freeze(sliding ? ['access', 'sliding'] : ['access']);
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
 * Validates the options once and computes everything the request path needs.
 * Impossible or unsafe configuration throws a TypeError that names the option and says how to fix it.
 */
export function resolveOptions<U>(options: Options<U>): Config<U> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('simpleJwt() takes an options object, e.g. simpleJwt({ findUserById, findUserByUsername })');
  }
  checkUnknownKeys(options);
  const logger = options.logger ?? console;
  if (typeof logger.warn !== 'function' || typeof logger.error !== 'function') {
    throw new TypeError('"logger" must have warn() and error() methods, like console');
  }
  const warnings = options.warnings;
  const silenced =
    warnings === false
      ? ('all' as const)
      : new Set(Object.entries(warnings ?? {}).filter(([, on]) => on === false).map(([code]) => code));
  const warn = createWarner(logger, silenced);
  const events = new KitEvents();
  events.onListenerError = (event, err) => logger.error(`[express-simplejwt] a listener of "${event}" threw: ${String((err as Error)?.message ?? err)}`);

  checkFunction(options.findUserById, 'findUserById', true);
  checkFunction(options.findUserByUsername, 'findUserByUsername', false);
  checkFunction(options.verifyCredentials, 'verifyCredentials', false);
  for (const name of [
    'getUserId',
    'getPasswordHash',
    'isUserActive',
    'customClaims',
    'clock',
    'renderError',
    'onTokenReuse',
    'getCredentialsChangedAt',
    'isAdmin',
    'loginResponse',
    'onLoginSuccess',
    'onLoginFailed',
  ] as const) {
    checkFunction(options[name], name, false);
  }

  const allowNonExpiring = checkBoolean(options.dangerouslyAllowNonExpiringTokens, 'dangerouslyAllowNonExpiringTokens');
  const accessLifetime = checkLifetime(options.accessTokenLifetime, 'accessTokenLifetime', 300, allowNonExpiring);
  const refreshLifetime = checkLifetime(options.refreshTokenLifetime, 'refreshTokenLifetime', 86_400, allowNonExpiring);
  if (accessLifetime > refreshLifetime) {
    throw new TypeError(
      `"accessTokenLifetime" (${accessLifetime}s) must not be longer than "refreshTokenLifetime" (${refreshLifetime}s)`,
    );
  }
  const slidingTokens = checkBoolean(options.slidingTokens, 'slidingTokens');
  const slidingLifetime = checkLifetime(options.slidingTokenLifetime, 'slidingTokenLifetime', 300, allowNonExpiring);
  const slidingRefreshLifetime = checkLifetime(options.slidingTokenRefreshLifetime, 'slidingTokenRefreshLifetime', 86_400, allowNonExpiring);
  if (slidingLifetime > slidingRefreshLifetime) {
    throw new TypeError(
      `"slidingTokenLifetime" (${slidingLifetime}s) must not be longer than "slidingTokenRefreshLifetime" (${slidingRefreshLifetime}s)`,
    );
  }
  if (allowNonExpiring) {
    // Loud on purpose: not a WarningCode the host can silence.
    logger.warn(
      '[express-simplejwt] UNLIMITED_TOKENS: DANGER: dangerouslyAllowNonExpiringTokens is on. Tokens without an "exp" claim are ' +
        'accepted, and lifetimes may be set to never expire: a stolen token then works until it is revoked. Use it only in a closed environment.',
    );
  }
  const authTokenClasses = checkTokenClasses(options.authTokenClasses, slidingTokens);
  const refreshByBearer = checkBoolean(options.refreshByBearer, 'refreshByBearer');
  const cookies = resolveCookieOptions(options.cookies);
  const leeway = options.leeway === undefined || options.leeway === 0 ? 0 : parseDuration(options.leeway, 'leeway');

  const headerTypes = options.authHeaderTypes ?? ['Bearer'];
  if (!Array.isArray(headerTypes) || headerTypes.length === 0 || !headerTypes.every((t) => typeof t === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(t))) {
    throw new TypeError(`"authHeaderTypes" must be a non-empty array of schemes such as ['Bearer', 'JWT']`);
  }
  const headerName = options.authHeaderName ?? 'Authorization';
  if (typeof headerName !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(headerName)) {
    throw new TypeError(`"authHeaderName" must be an HTTP header name such as 'Authorization' or 'X-Access-Token'`);
  }

  let loginThrottle: Config['loginThrottle'];
  const throttle = options.loginThrottle ?? '10/15m';
  if (throttle === false) {
    loginThrottle = false;
    warn('THROTTLE_DISABLED', '"loginThrottle" is false: nothing limits password guessing on the login endpoint');
  } else if (typeof throttle === 'string') {
    loginThrottle = { rate: parseRate(throttle, 'loginThrottle'), store: undefined };
  } else if (typeof throttle === 'object' && throttle !== null && typeof throttle.rate === 'string') {
    loginThrottle = { rate: parseRate(throttle.rate, 'loginThrottle.rate'), store: throttle.store };
  } else {
    throw new TypeError(`"loginThrottle" must be a rate such as '10/15m', { rate, store }, or false`);
  }

  const bodyLimit = options.bodyLimit ?? 16 * 1024;
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit < 256) {
    throw new TypeError(`"bodyLimit" must be a whole number of bytes, at least 256 (got ${String(bodyLimit)})`);
  }
  const bcryptRounds = options.bcryptRounds ?? 10;
  if (!Number.isInteger(bcryptRounds) || bcryptRounds < 4 || bcryptRounds > 31) {
    throw new TypeError(`"bcryptRounds" must be an integer from 4 to 31 (got ${String(bcryptRounds)})`);
  }
  if (accessLifetime > 3600 && Number.isFinite(accessLifetime)) {
    warn('LONG_ACCESS_LIFETIME', `access tokens live ${accessLifetime}s; a stolen one stays usable that long. Prefer minutes and refresh.`);
  }

  const clock = options.clock ?? Date.now;
  let store: TokenStore;
  if (options.store === undefined) {
    warn(
      'MEMORY_STORE',
      'revocations (logout, rotation, sessions) live in this process\'s memory: they are lost at restart and not ' +
        'shared with other processes. Pass store: new SqliteStore(path) for one host or new RedisStore(client) for many.',
    );
    store = new MemoryStore({ clock });
  } else {
    assertStore(options.store);
    store = options.store;
  }
  const storeTimeoutMs = options.storeTimeoutMs ?? 1000;
  if (!Number.isSafeInteger(storeTimeoutMs) || storeTimeoutMs < 1) {
    throw new TypeError(`"storeTimeoutMs" must be a positive whole number of milliseconds (got ${String(storeTimeoutMs)})`);
  }
  const maxSessionsPerUser = options.maxSessionsPerUser ?? 10_000;
  if (!Number.isSafeInteger(maxSessionsPerUser) || maxSessionsPerUser < 1) {
    throw new TypeError(`"maxSessionsPerUser" must be a positive whole number (got ${String(maxSessionsPerUser)})`);
  }
  const sessionLimitPolicy = options.sessionLimitPolicy ?? 'evict-oldest';
  if (sessionLimitPolicy !== 'evict-oldest' && sessionLimitPolicy !== 'refuse') {
    throw new TypeError(`"sessionLimitPolicy" must be 'evict-oldest' or 'refuse' (got ${JSON.stringify(sessionLimitPolicy)})`);
  }
  const reuseInterval = options.reuseInterval === undefined || options.reuseInterval === 0 ? 0 : parseDuration(options.reuseInterval, 'reuseInterval');

  const hashing = options.passwordHashing;
  let hashingPool: HashingPool;
  if (hashing === undefined) hashingPool = sharedHashingPool();
  else if (hashing === false) hashingPool = createHashingPool({ threads: 0, maxPending: Number.MAX_SAFE_INTEGER });
  else if (typeof hashing === 'object' && hashing !== null) {
    const { threads, maxPending, bcrypt, nice } = hashing;
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
    hashingPool = createHashingPool(hashing);
  } else {
    throw new TypeError('"passwordHashing" must be { threads?, maxPending?, bcrypt?, nice? } or false');
  }
  announceHashingPool(hashingPool, logger);

  const claims = {
    userId: checkName(options.userIdClaim, 'userIdClaim', 'user_id'),
    tokenType: checkName(options.tokenTypeClaim, 'tokenTypeClaim', 'token_type'),
    jti: checkName(options.jtiClaim, 'jtiClaim', 'jti'),
  };

  const keys = resolveKeySet(options, logger, warn);

  return {
    algorithm: keys.algorithm,
    keys,
    audience: checkAudience(options.audience),
    issuer: checkIssuer(options.issuer),
    accessLifetime,
    refreshLifetime,
    lifetimes: { access: accessLifetime, refresh: refreshLifetime, sliding: slidingLifetime, slidingRefresh: slidingRefreshLifetime },
    allowNonExpiring,
    slidingTokens,
    authTokenClasses,
    refreshByBearer,
    cookies,
    isAdmin: options.isAdmin,
    loginResponse: options.loginResponse,
    onLoginSuccess: options.onLoginSuccess,
    onLoginFailed: options.onLoginFailed,
    leeway,
    findUserByUsername: options.findUserByUsername,
    findUserById: options.findUserById,
    verifyCredentials: options.verifyCredentials,
    getUserId: options.getUserId ?? defaultUserId,
    getPasswordHash: options.getPasswordHash ?? defaultPasswordHash,
    isUserActive: options.isUserActive ?? defaultIsActive,
    customClaims: options.customClaims,
    claims,
    usernameField: checkName(options.usernameField, 'usernameField', 'username'),
    authHeaderTypes: headerTypes,
    authSchemes: new Set(headerTypes.map((t) => t.toLowerCase())),
    authHeaderKey: headerName.toLowerCase(),
    wwwAuthenticate: `${headerTypes[0]} realm="api"`,
    rotateRefreshTokens: checkBoolean(options.rotateRefreshTokens, 'rotateRefreshTokens', false),
    blacklistAfterRotation: checkBoolean(options.blacklistAfterRotation, 'blacklistAfterRotation', true),
    reuseDetection: checkBoolean(options.reuseDetection, 'reuseDetection', true),
    reuseInterval,
    adoptUnknownTokens: checkBoolean(options.adoptUnknownTokens, 'adoptUnknownTokens'),
    onTokenReuse: options.onTokenReuse,
    store,
    storeTimeoutMs,
    revokeAccessTokens: checkBoolean(options.revokeAccessTokens, 'revokeAccessTokens', false),
    getCredentialsChangedAt: options.getCredentialsChangedAt,
    maxSessionsPerUser,
    sessionLimitPolicy,
    loginThrottle,
    bodyLimit,
    bcryptRounds,
    bcryptCompare: hashingPool.compare,
    hashingPool,
    ownsHashingPool: hashing !== undefined,
    clock,
    logger,
    events,
    warn,
    renderError: options.renderError,
    errors: checkErrorsMode(options.errors),
  };
}
