import { join } from 'node:path';
import type { Algorithm, CookieOptions, Options } from '../lib';
import { parseDuration, parseDurationMs } from '../lib/config/duration';
import type { DemoUser } from './users';

/** The demo database: `DEMO_DB`, default `demo-app/demo.sqlite3`. */
export function demoDbPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DEMO_DB || join(__dirname, 'demo.sqlite3');
}

/** `--name VALUE` or `--name=VALUE` from the command line. */
export function flag(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

function bool(env: NodeJS.ProcessEnv, name: string): boolean | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new TypeError(`${name} must be true or false (got ${JSON.stringify(value)})`);
}

/**
 * `JWT_COOKIES`: `true` puts the refresh token in an HttpOnly cookie (the access token stays in the body, for
 * the `Authorization` header); `access` puts both in cookies (then state-changing requests need the CSRF token).
 */
export function parseCookieSetting(value: string | undefined): boolean | CookieOptions | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^access$/i.test(value)) return { accessCookie: true };
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new TypeError(`JWT_COOKIES must be true, false or access (got ${JSON.stringify(value)})`);
}

/** Where tokens are kept: `JWT_STORE=memory | sqlite:<path> | redis://host:port/db | postgres://user@host:port/db`. */
export type StoreSetting =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'redis'; url: string }
  | { kind: 'postgres'; url: string };

export function parseStoreSetting(value: string | undefined, dbPath: string): StoreSetting {
  if (value === undefined || value === '' || value === 'sqlite') return { kind: 'sqlite', path: dbPath };
  if (value === 'memory') return { kind: 'memory' };
  if (value.startsWith('sqlite:')) return { kind: 'sqlite', path: value.slice('sqlite:'.length) || dbPath };
  if (/^rediss?:\/\//.test(value)) return { kind: 'redis', url: value };
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: 'postgres', url: value };
  throw new TypeError(
    `JWT_STORE must be memory, sqlite:<path>, redis://host:port/db or postgres://user@host:port/db (got ${JSON.stringify(value)})`,
  );
}

/**
 * `JWT_SIMPLEJWT_TABLES=true` (with `JWT_STORE=postgres://...`): share the blacklist with a Django app using
 * simplejwt's token_blacklist on the same database.
 */
export function simplejwtTablesFromEnv(env: NodeJS.ProcessEnv, store: StoreSetting): boolean {
  const on = bool(env, 'JWT_SIMPLEJWT_TABLES') ?? false;
  if (on && store.kind !== 'postgres') throw new TypeError('JWT_SIMPLEJWT_TABLES=true needs JWT_STORE=postgres://user@host:port/db');
  return on;
}

/**
 * `JWT_REUSE_INTERVAL`: how long after a rotation the old refresh token may come back (a client's retry) without
 * counting as reuse, as a duration (`30s`, `2m`; a bare number is seconds; `0` is the kit's default, none).
 */
export function parseReuseInterval(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^0+$/.test(value.trim())) return 0;
  return parseDuration(value, 'JWT_REUSE_INTERVAL');
}

/** `JWT_STORE_TIMEOUT`: the bound on one token-store call, as a duration (`500ms`, `2s`; a bare number is seconds). */
export function parseStoreTimeout(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  return parseDurationMs(value, 'JWT_STORE_TIMEOUT');
}

/** The kit options the demo's environment switches set (undefined: the kit's default). */
export function kitOptionsFromEnv(argv: readonly string[], env: NodeJS.ProcessEnv): Partial<Options<DemoUser>> {
  const throttle = env.JWT_LOGIN_THROTTLE;
  const text = (name: string) => (env[name] === '' ? undefined : env[name]);
  const audience = text('JWT_AUDIENCE');
  const options: Partial<Options<DemoUser>> = {
    // The flag wins; without it the kit reads JWT_SECRET or JWT_SECRET_FILE itself (and refuses both at once).
    secret: flag(argv, 'jwt-secret'),
    algorithm: text('JWT_ALGORITHM') as Algorithm | undefined,
    signingKey: text('JWT_SIGNING_KEY_FILE'),
    verifyingKey: text('JWT_VERIFYING_KEY_FILE'),
    audience: audience?.includes(',') ? audience.split(',').map((a) => a.trim()) : audience,
    issuer: text('JWT_ISSUER'),
    accessTokenLifetime: env.JWT_ACCESS_TOKEN_LIFETIME || undefined,
    refreshTokenLifetime: env.JWT_REFRESH_TOKEN_LIFETIME || undefined,
    loginThrottle: throttle === undefined || throttle === '' ? undefined : throttle === 'off' ? false : throttle,
    rotateRefreshTokens: bool(env, 'JWT_ROTATE_REFRESH_TOKENS'),
    blacklistAfterRotation: bool(env, 'JWT_BLACKLIST_AFTER_ROTATION'),
    revokeAccessTokens: bool(env, 'JWT_REVOKE_ACCESS_TOKENS'),
    slidingTokens: bool(env, 'JWT_SLIDING_TOKENS'),
    refreshByBearer: bool(env, 'JWT_REFRESH_BY_BEARER'),
    cookies: parseCookieSetting(env.JWT_COOKIES),
    reuseInterval: parseReuseInterval(env.JWT_REUSE_INTERVAL),
    storeTimeoutMs: parseStoreTimeout(env.JWT_STORE_TIMEOUT),
  };
  for (const key of Object.keys(options) as (keyof typeof options)[]) {
    if (options[key] === undefined) delete options[key];
  }
  return options;
}
