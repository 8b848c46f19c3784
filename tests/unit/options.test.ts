import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kitOptionsFromEnv, parseStoreSetting } from '../../demo-app/settings';
import { parseDuration } from '../../lib/config/duration';
import type { Options } from '../../lib/config/options';
import { resolveOptions, type Config } from '../../lib/config/resolve';
import { createResources } from '../../lib/config/resources';
import { OPTION_TABLE, type OptionName, type OptionSpec } from '../../lib/config/table';
import * as pool from '../../lib/passwords/pool';
import * as memory from '../../lib/stores/memory';
import { MemoryStore } from '../../lib/stores/memory';
import type { Rate } from '../../lib/config/rate';
import { TARGETS, withOptionsTable } from '../../scripts/options-table';

const ROOT = join(__dirname, '..', '..');
const SECRET = randomBytes(32).toString('hex');
const base = { secret: SECRET, findUserById: () => null, warnings: false as const, store: new MemoryStore({ purgeIntervalSeconds: 0 }) };
const rows = Object.entries(OPTION_TABLE) as [OptionName, OptionSpec][];
const resolve = (options: Record<string, unknown>) => resolveOptions({ ...base, ...options } as Options);

describe('the options table', () => {
  it('generated the options tables of README.md and docs/options.md (run `npm run docs:options` after changing lib/config/table.ts)', () => {
    for (const { file, table } of TARGETS) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      expect({ file, text: withOptionsTable(text, table, file) }).toEqual({ file, text });
    }
  });

  it("states each simple default as its parser applies it", () => {
    let checked = 0;
    for (const [name, spec] of rows) {
      if (name === 'findUserById') continue; // required: no default
      const value = spec.parse(undefined, name, {} as Options);
      const cells = [spec.default, ...(spec.readme?.default ? [spec.readme.default] : [])];
      for (const cell of cells) {
        const literal = /^`([^`]+)`/.exec(cell)?.[1];
        if (typeof value === 'boolean' || typeof value === 'number') {
          const stated = literal?.startsWith("'") ? parseDuration(literal.slice(1, -1), name) : Number(literal === 'true' ? 1 : literal === 'false' ? 0 : literal);
          expect({ name, stated }).toEqual({ name, stated: Number(value) });
        } else if (typeof value === 'string') {
          expect({ name, literal }).toEqual({ name, literal: `'${value}'` });
        } else if (Array.isArray(value)) {
          expect({ name, literal }).toEqual({ name, literal: `[${value.map((v) => `'${v}'`).join(', ')}]` });
        } else continue;
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(25);
  });

  it('resolves the defaults', () => {
    const config = resolve({});
    expect(config).toMatchObject({
      algorithm: 'HS256',
      accessLifetime: 300,
      refreshLifetime: 86_400,
      lifetimes: { access: 300, refresh: 86_400, sliding: 300, slidingRefresh: 86_400 },
      allowNonExpiring: false,
      slidingTokens: false,
      authTokenClasses: ['access'],
      refreshByBearer: false,
      cookies: undefined,
      leeway: 0,
      claims: { userId: 'user_id', tokenType: 'token_type', jti: 'jti' },
      usernameField: 'username',
      authHeaderTypes: ['Bearer'],
      authHeaderKey: 'authorization',
      wwwAuthenticate: 'Bearer realm="api"',
      rotateRefreshTokens: false,
      blacklistAfterRotation: true,
      reuseDetection: true,
      reuseInterval: 0,
      adoptUnknownTokens: false,
      storeTimeoutMs: 1000,
      revokeAccessTokens: false,
      maxSessionsPerUser: 10_000,
      sessionLimitPolicy: 'evict-oldest',
      loginThrottle: { rate: { limit: 10, windowSeconds: 900 }, store: undefined },
      bodyLimit: 16_384,
      bcryptRounds: 10,
      clock: Date.now,
      logger: console,
      errors: 'respond',
      passwordHashing: undefined,
    });
    expect(config.getUserId({ id: 7 })).toBe(7);
    expect(config.getPasswordHash({ passwordHash: 'h' })).toBe('h');
    expect([config.isUserActive({}), config.isUserActive({ is_active: false })]).toEqual([true, false]);
    expect(resolve({ slidingTokens: true }).authTokenClasses).toEqual(['access', 'sliding']);
    expect(resolve({ leeway: '30s', reuseInterval: 10 })).toMatchObject({ leeway: 30, reuseInterval: 10 });
  });

  it('logs start-up warnings once each, silenced by code or all at once', () => {
    const run = (warnings: unknown) => {
      const lines: string[] = [];
      const logger = { warn: (line: string) => void lines.push(line), error: (line: string) => void lines.push(line) };
      resolveOptions({ secret: SECRET, findUserById: () => null, logger, loginThrottle: false, warnings } as Options);
      return lines.map((line) => /^\[express-simplejwt\] (\w+):/.exec(line)?.[1]);
    };
    expect(run(undefined)).toEqual(['THROTTLE_DISABLED', 'MEMORY_STORE']);
    expect(run(true)).toEqual(['THROTTLE_DISABLED', 'MEMORY_STORE']);
    expect(run({ MEMORY_STORE: false, THROTTLE_DISABLED: true })).toEqual(['THROTTLE_DISABLED']);
    expect(run(false)).toEqual([]);
  });

  it('gives Config the parsers’ types, and the host callbacks their user type', () => {
    type User = { id: number };
    type Is<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
    const checks: [
      Is<Config['bodyLimit'], number>,
      Is<Config['sessionLimitPolicy'], 'evict-oldest' | 'refuse'>,
      Is<Config['loginThrottle'], { rate: Rate; store: import('express-rate-limit').Store | undefined } | false>,
      Is<Config<User>['getUserId'], (user: User) => string | number>,
      Is<Config<User>['customClaims'], ((user: User) => Record<string, unknown> | Promise<Record<string, unknown>>) | undefined>,
      Is<Config['clock'], () => number>,
    ] = [true, true, true, true, true, true];
    expect(checks.every(Boolean)).toBe(true);
  });
});

describe('validation: a TypeError naming the option and the fix', () => {
  const booleans = rows.filter(([name, spec]) => name !== 'findUserById' && typeof spec.parse(undefined, name, {} as Options) === 'boolean').map(([name]) => name);

  it('covers every boolean option', () => {
    expect(booleans.sort()).toEqual(
      ['adoptUnknownTokens', 'blacklistAfterRotation', 'dangerouslyAllowNonExpiringTokens', 'refreshByBearer', 'reuseDetection', 'revokeAccessTokens', 'rotateRefreshTokens', 'slidingTokens'].sort(),
    );
  });

  it.each(booleans)('refuses the string "false" (an env var read as is) for %s', (name) => {
    expect(() => resolve({ [name]: 'false' })).toThrow(new TypeError(`"${name}" must be true or false (got "false")`));
    expect(() => resolve({ [name]: 0 })).toThrow(`"${name}" must be true or false (got 0)`);
  });

  it.each<[string, unknown, string | RegExp]>([
    ['findUserById', undefined, '"findUserById" must be a function (it is required); got undefined'],
    ['findUserByUsername', 'users', '"findUserByUsername" must be a function; got string'],
    ['clock', 5, '"clock" must be a function; got number'],
    ['audience', '', `"audience" must be a non-empty string (e.g. 'https://api.example.com') or a non-empty array of them`],
    ['audience', ['a', 1], /"audience" must be a non-empty string/],
    ['issuer', 42, `"issuer" must be a non-empty string such as 'https://auth.example.com'`],
    ['accessTokenLifetime', null, `"accessTokenLifetime" is null (tokens that never expire); that needs dangerouslyAllowNonExpiringTokens: true, or give a duration such as '5m'`],
    ['refreshTokenLifetime', '200y', /"refreshTokenLifetime" must be at most 100 years/],
    ['slidingTokenLifetime', 'soon', /"slidingTokenLifetime"/],
    ['authTokenClasses', ['access', 'access'], `"authTokenClasses" must be a non-empty list of 'access' and/or 'sliding', without repeats, such as ['access', 'sliding']`],
    ['cookies', 'yes', '"cookies" must be true, false or an object such as { accessCookie: true }'],
    ['leeway', 'a while', /"leeway"/],
    ['userIdClaim', 'user id', `"userIdClaim" must be a non-empty identifier such as 'user_id'`],
    ['usernameField', '', `"usernameField" must be a non-empty identifier such as 'username'`],
    ['authHeaderTypes', [], `"authHeaderTypes" must be a non-empty array of schemes such as ['Bearer', 'JWT']`],
    ['authHeaderName', 'X Token', `"authHeaderName" must be an HTTP header name such as 'Authorization' or 'X-Access-Token'`],
    ['reuseInterval', -1, /"reuseInterval"/],
    ['store', {}, /"store"/],
    ['storeTimeoutMs', 0, '"storeTimeoutMs" must be a positive whole number of milliseconds (got 0)'],
    ['maxSessionsPerUser', 1.5, '"maxSessionsPerUser" must be a positive whole number (got 1.5)'],
    ['sessionLimitPolicy', 'drop', `"sessionLimitPolicy" must be 'evict-oldest' or 'refuse' (got "drop")`],
    ['loginThrottle', true, `"loginThrottle" must be a rate such as '10/15m', { rate, store }, or false`],
    ['loginThrottle', { rate: 'often' }, /"loginThrottle.rate" must be a rate/],
    ['bodyLimit', 100, '"bodyLimit" must be a whole number of bytes, at least 256 (got 100)'],
    ['bodyLimit', '300', '"bodyLimit" must be a whole number of bytes, at least 256 (got 300)'],
    ['passwordHashing', true, /^"passwordHashing" must be \{ threads\?, maxPending\?(, \w+\?)* \} or false$/],
    ['passwordHashing', { threads: 65 }, '"passwordHashing.threads" must be a whole number from 0 to 64 (got 65)'],
    ['passwordHashing', { maxPending: 0 }, '"passwordHashing.maxPending" must be a positive whole number (got 0)'],
    ['bcryptRounds', 32, '"bcryptRounds" must be an integer from 4 to 31 (got 32)'],
    ['logger', { warn() {} }, '"logger" must have warn() and error() methods, like console'],
    ['warnings', 'false', '"warnings" must be false (silence all) or an object such as { MEMORY_STORE: false } (got "false")'],
    ['warnings', { MEMORY_STORE: 'off' }, '"warnings.MEMORY_STORE" must be true or false (got "off")'],
    ['errors', 'throw', `"errors" must be 'respond' or 'next' (got "throw")`],
  ])('%s: %p', (name, value, message) => {
    expect(() => resolve({ [name]: value })).toThrow(message);
    try {
      resolve({ [name]: value });
    } catch (err) {
      expect(err).toBeInstanceOf(TypeError);
    }
  });

  it('checks lifetimes against each other', () => {
    expect(() => resolve({ accessTokenLifetime: '2d' })).toThrow('"accessTokenLifetime" (172800s) must not be longer than "refreshTokenLifetime" (86400s)');
    expect(() => resolve({ slidingTokenLifetime: '2d' })).toThrow('"slidingTokenLifetime" (172800s) must not be longer than "slidingTokenRefreshLifetime" (86400s)');
  });

  it('reports unknown keys with the closest option, and no inherited name counts as one', () => {
    expect(() => resolve({ accesTokenLifetime: '5m' })).toThrow('Unknown option "accesTokenLifetime". Did you mean "accessTokenLifetime"? See the options table in the README.');
    expect(() => resolve({ toString: () => 'x' })).toThrow('Unknown option "toString".');
  });
});

describe('resolving is pure', () => {
  afterEach(() => jest.restoreAllMocks());

  it('makes no store, pool, timer or worker until createResources()', async () => {
    const Real = memory.MemoryStore;
    const makeStore = jest.spyOn(memory, 'MemoryStore').mockImplementation((options) => new Real(options));
    const shared = jest.spyOn(pool, 'sharedHashingPool');
    const own = jest.spyOn(pool, 'createHashingPool');
    const handles = process.getActiveResourcesInfo().length;
    const options = { findUserById: () => null, secret: SECRET, warnings: false as const, passwordHashing: { threads: 1 } };
    resolveOptions(options);
    resolveOptions(options);
    resolveOptions({ ...options, passwordHashing: undefined });
    expect([makeStore.mock.calls.length, shared.mock.calls.length, own.mock.calls.length]).toEqual([0, 0, 0]);
    expect(process.getActiveResourcesInfo().length).toBe(handles);

    const config = createResources(resolveOptions(options));
    expect([makeStore.mock.calls.length, own.mock.calls.length]).toEqual([1, 1]);
    expect(config.store).toBeInstanceOf(Real);
    expect(config.ownsHashingPool).toBe(true);
    await config.hashingPool.close();
    await config.store.close?.();
  });

  it('keeps a given store and uses the shared pool by default', () => {
    const config = createResources(resolve({}));
    expect(config.store).toBe(base.store);
    expect(config.hashingPool).toBe(pool.sharedHashingPool());
    expect(config.ownsHashingPool).toBe(false);
  });
});

describe("the demo's environment variables", () => {
  /** A value the demo accepts for each variable the table names. */
  const SAMPLES: Record<string, string> = {
    JWT_ALGORITHM: 'ES256',
    JWT_SIGNING_KEY_FILE: 'keys/private.pem',
    JWT_VERIFYING_KEY_FILE: 'keys/public.pem',
    JWT_AUDIENCE: 'a,b',
    JWT_ISSUER: 'https://auth.example.com',
    JWT_ACCESS_TOKEN_LIFETIME: '1m',
    JWT_REFRESH_TOKEN_LIFETIME: '2d',
    JWT_LOGIN_THROTTLE: 'off',
    JWT_ROTATE_REFRESH_TOKENS: 'true',
    JWT_BLACKLIST_AFTER_ROTATION: 'false',
    JWT_REVOKE_ACCESS_TOKENS: 'on',
    JWT_SLIDING_TOKENS: 'yes',
    JWT_REFRESH_BY_BEARER: '1',
    JWT_COOKIES: 'access',
    JWT_REUSE_INTERVAL: '30s',
    JWT_STORE_TIMEOUT: '500ms',
  };
  const named = rows.filter(([, spec]) => spec.env !== undefined).map(([name, spec]) => [name, spec.env!] as const);

  it.each(named.filter(([, env]) => env !== 'JWT_SECRET' && env !== 'JWT_STORE'))('%s is set by %s', (name, env) => {
    expect(SAMPLES[env]).toBeDefined();
    const options = kitOptionsFromEnv([], { [env]: SAMPLES[env] });
    expect(Object.keys(options)).toEqual([name]);
  });

  it('names every option variable kitOptionsFromEnv reads', () => {
    const read = new Set<string>();
    kitOptionsFromEnv([], new Proxy({}, { get: (_, key) => (read.add(String(key)), undefined) }));
    const envs = new Set(named.map(([, env]) => env));
    expect([...read].filter((env) => !envs.has(env))).toEqual([]);
  });

  it('JWT_STORE picks the store (demo-app/server.ts) and JWT_SECRET is read by the kit itself', () => {
    expect(named).toEqual(expect.arrayContaining([['store', 'JWT_STORE'], ['secret', 'JWT_SECRET']]));
    expect(parseStoreSetting('memory', 'demo.sqlite3')).toEqual({ kind: 'memory' });
    expect(readFileSync(join(ROOT, 'demo-app', 'server.ts'), 'utf8')).toContain('env.JWT_STORE');
    const saved = process.env.JWT_SECRET;
    process.env.JWT_SECRET = 'short';
    try {
      expect(() => resolveOptions({ findUserById: () => null, warnings: false })).toThrow(/got 5/);
    } finally {
      if (saved === undefined) delete process.env.JWT_SECRET;
      else process.env.JWT_SECRET = saved;
    }
  });
});
