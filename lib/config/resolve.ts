import { KitEvents } from '../events';
import { resolveKeySet, type KeySet } from '../keys/keyset';
import type { Algorithm, Options } from './options';
import type { HashingPoolOptions } from '../passwords/pool';
import type { TokenStore } from '../stores/types';
import type { Lifetimes } from '../tokens/lifetimes';
import { isOptionName, OPTION_TABLE, parseOptions, type DirectSettings } from './table';
import type { Resources } from './resources';
import { createWarner, type WarningCode } from './warnings';

/** The `Config` fields computed from several options, or from one under another name. */
export interface DerivedSettings {
  /** The algorithm tokens are signed with (in verify-only mode: the first one accepted). */
  algorithm: Algorithm;
  /** Every key, checked against its algorithm; verification finds keys here by `kid` only. */
  keys: KeySet;
  /** Start-up access lifetime in seconds (`Infinity`: no `exp`); the admin router may override it in the store. */
  accessLifetime: number;
  /** Start-up refresh lifetime in seconds (`Infinity`: no `exp`). */
  refreshLifetime: number;
  /** Every start-up lifetime, access, refresh and sliding (`Infinity`: never expires). */
  lifetimes: Lifetimes;
  /** `dangerouslyAllowNonExpiringTokens`: tokens without `exp` verify, and lifetimes may be `Infinity`. */
  allowNonExpiring: boolean;
  claims: { userId: string; tokenType: string; jti: string };
  /** Lower-cased schemes, for the case-insensitive match. */
  authSchemes: ReadonlySet<string>;
  /** Lower-cased header name as Node stores it. */
  authHeaderKey: string;
  wwwAuthenticate: string;
  /** The kit's event emitter (`auth.events`). */
  events: KitEvents;
  warn: (code: WarningCode, message: string) => void;
}

/** What `resolveOptions()` returns: every setting checked and computed, and no resource made yet. */
export type ResolvedOptions<U = any> = DirectSettings<U> &
  DerivedSettings & {
    /** The `store` option (`undefined`: the kit makes a MemoryStore when it starts). */
    givenStore: TokenStore | undefined;
    /** The `passwordHashing` option, checked (the pool is made when the kit starts). */
    passwordHashing: HashingPoolOptions | false | undefined;
  };

/** The complete internal configuration: the resolved options plus what `simpleJwt()` made at start. */
export type Config<U = any> = DirectSettings<U> & DerivedSettings & Resources;

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
  const known = Object.keys(OPTION_TABLE);
  for (const key of Object.keys(options)) {
    if (isOptionName(key)) continue;
    const best = known.map((k) => [k, editDistance(key, k)] as const).sort((x, y) => x[1] - y[1])[0];
    const hint = best && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? ` Did you mean "${best[0]}"?` : '';
    throw new TypeError(`Unknown option "${key}".${hint} See the options table in the README.`);
  }
}

function checkNotLonger(shorter: [string, number], longer: [string, number]): void {
  if (shorter[1] > longer[1]) {
    throw new TypeError(`"${shorter[0]}" (${shorter[1]}s) must not be longer than "${longer[0]}" (${longer[1]}s)`);
  }
}

/**
 * Validates the options once and computes everything the request path needs. Pure: it makes no store, timer or
 * worker (`createResources()` does, when `simpleJwt()` starts). Impossible or unsafe configuration throws a
 * TypeError that names the option and says how to fix it.
 */
export function resolveOptions<U>(options: Options<U>): ResolvedOptions<U> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('simpleJwt() takes an options object, e.g. simpleJwt({ findUserById, findUserByUsername })');
  }
  checkUnknownKeys(options);
  const {
    secret: _secret,
    algorithm: _algorithm,
    signingKey: _signingKey,
    verifyingKey: _verifyingKey,
    keys: _keys,
    jwksUri: _jwksUri,
    accessTokenLifetime: access,
    refreshTokenLifetime: refresh,
    slidingTokenLifetime: sliding,
    slidingTokenRefreshLifetime: slidingRefresh,
    dangerouslyAllowNonExpiringTokens: allowNonExpiring,
    userIdClaim,
    tokenTypeClaim,
    jtiClaim,
    authHeaderName,
    store,
    passwordHashing,
    warnings,
    ...direct
  } = parseOptions(options);
  const { logger } = direct;
  const warn = createWarner(logger, warnings);
  const events = new KitEvents();
  events.onListenerError = (event, err) => logger.error(`[express-simplejwt] a listener of "${event}" threw: ${String((err as Error)?.message ?? err)}`);

  checkNotLonger(['accessTokenLifetime', access], ['refreshTokenLifetime', refresh]);
  checkNotLonger(['slidingTokenLifetime', sliding], ['slidingTokenRefreshLifetime', slidingRefresh]);
  if (allowNonExpiring) {
    // Loud on purpose: not a WarningCode the host can silence.
    logger.warn(
      '[express-simplejwt] UNLIMITED_TOKENS: DANGER: dangerouslyAllowNonExpiringTokens is on. Tokens without an "exp" claim are ' +
        'accepted, and lifetimes may be set to never expire: a stolen token then works until it is revoked. Use it only in a closed environment.',
    );
  }
  if (direct.loginThrottle === false) {
    warn('THROTTLE_DISABLED', '"loginThrottle" is false: nothing limits password guessing on the login endpoint');
  }
  if (access > 3600 && Number.isFinite(access)) {
    warn('LONG_ACCESS_LIFETIME', `access tokens live ${access}s; a stolen one stays usable that long. Prefer minutes and refresh.`);
  }
  if (store === undefined) {
    warn(
      'MEMORY_STORE',
      'revocations (logout, rotation, sessions) live in this process\'s memory: they are lost at restart and not ' +
        'shared with other processes. Pass store: new SqliteStore(path) for one host or new RedisStore(client) for many.',
    );
  }

  const keys = resolveKeySet(options, logger, warn);
  const authHeaderTypes = direct.authHeaderTypes;
  return {
    ...(direct as DirectSettings<U>),
    algorithm: keys.algorithm,
    keys,
    accessLifetime: access,
    refreshLifetime: refresh,
    lifetimes: { access, refresh, sliding, slidingRefresh },
    allowNonExpiring,
    claims: { userId: userIdClaim, tokenType: tokenTypeClaim, jti: jtiClaim },
    authSchemes: new Set(authHeaderTypes.map((t) => t.toLowerCase())),
    authHeaderKey: authHeaderName.toLowerCase(),
    wwwAuthenticate: `${authHeaderTypes[0]} realm="api"`,
    events,
    warn,
    givenStore: store,
    passwordHashing,
  };
}
