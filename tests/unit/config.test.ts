import { hashPassword, parseDuration, parseRate, simpleJwt } from '../../lib';
import { memoryLogger, SECRET } from '../helpers/app';

const base = { findUserById: () => null, warnings: false as const };
/** A strong secret to cut to length (weak ones are refused: see tests/http/keys/secrets.test.ts). */
const STRONG = 'Xq3vR8mZ-tL5wK2nB9cF_jH7pD4sG6yA1eU0iO3rT8kW5zN2xV7bM9qC4lP6hJ1gS0dF3aE8uY5oI2';

describe('durations', () => {
  it.each([
    [300, 300],
    ['90s', 90],
    ['5m', 300],
    ['12h', 43_200],
    ['1d', 86_400],
    ['30d', 2_592_000],
    ['2w', 1_209_600],
    ['1 hour', 3600],
    ['45', 45],
  ])('%j is %i seconds', (value, seconds) => {
    expect(parseDuration(value, 'x')).toBe(seconds);
  });

  it.each([0, -5, 1.5, '5 parsecs', '', 'abc', '0.5s', NaN, null])('refuses %j naming the option', (value) => {
    expect(() => parseDuration(value, 'accessTokenLifetime')).toThrow(/"accessTokenLifetime"/);
  });
});

describe('rates', () => {
  it.each([
    ['10/15m', { limit: 10, windowSeconds: 900 }],
    ['100/hour', { limit: 100, windowSeconds: 3600 }],
    ['5/min', { limit: 5, windowSeconds: 60 }],
    ['1000/day', { limit: 1000, windowSeconds: 86_400 }],
    ['3/s', { limit: 3, windowSeconds: 1 }],
  ])('%s', (value, expected) => {
    expect(parseRate(value, 'loginThrottle')).toEqual(expected);
  });

  it.each(['10', '0/m', 'x/hour', '10/fortnight'])('refuses %s', (value) => {
    expect(() => parseRate(value, 'loginThrottle')).toThrow(TypeError);
  });
});

describe('the secret', () => {
  const env = process.env.JWT_SECRET;
  afterEach(() => {
    if (env === undefined) delete process.env.JWT_SECRET;
    else process.env.JWT_SECRET = env;
  });

  it.each([
    ['HS256', 32],
    ['HS384', 48],
    ['HS512', 64],
  ] as const)('refuses a secret shorter than the %s hash (%i bytes) with a TypeError saying how to make one', (algorithm, bytes) => {
    expect(() => simpleJwt({ ...base, algorithm, secret: 'a'.repeat(bytes - 1) })).toThrow(
      new RegExp(`"secret" must be at least ${bytes} bytes for ${algorithm} \\(got ${bytes - 1}\\); generate one with`),
    );
    expect(() => simpleJwt({ ...base, algorithm, secret: STRONG.slice(0, bytes) })).not.toThrow();
  });

  it('counts bytes, not characters', () => {
    expect(() => simpleJwt({ ...base, secret: 'àáâãäåæçèéêëìíîï' })).not.toThrow(); // 16 characters, 32 bytes
    expect(() => simpleJwt({ ...base, secret: 'é'.repeat(15) + 'a' })).toThrow(/got 31/);
  });

  it('reads JWT_SECRET from the environment', () => {
    process.env.JWT_SECRET = 'short';
    expect(() => simpleJwt(base)).toThrow(/got 5/);
  });

  it('generates a random secret with a loud warning when none is given', () => {
    delete process.env.JWT_SECRET;
    const logger = memoryLogger();
    simpleJwt({ findUserById: () => null, logger, loginThrottle: '5/m' });
    expect(logger.lines.join('\n')).toMatch(/RANDOM_SECRET.*RANDOM secret.*restarts/s);
  });

  it('lets one warning be silenced by code', () => {
    delete process.env.JWT_SECRET;
    const logger = memoryLogger();
    simpleJwt({ findUserById: () => null, logger, warnings: { RANDOM_SECRET: false } });
    expect(logger.lines.join('\n')).not.toContain('RANDOM_SECRET');
  });
});

describe('option validation', () => {
  it('reports an unknown key with a suggestion', () => {
    expect(() => simpleJwt({ ...base, secret: SECRET, accesTokenLifetime: '5m' } as never)).toThrow(
      'Unknown option "accesTokenLifetime". Did you mean "accessTokenLifetime"?',
    );
  });

  it('requires findUserById', () => {
    expect(() => simpleJwt({ secret: SECRET } as never)).toThrow(/"findUserById" must be a function \(it is required\)/);
  });

  it('refuses an access lifetime longer than the refresh lifetime', () => {
    expect(() => simpleJwt({ ...base, secret: SECRET, accessTokenLifetime: '2d', refreshTokenLifetime: '1d' })).toThrow(TypeError);
  });

  it.each(['none', 'ES256K', 'hs256'])('refuses algorithm %s', (algorithm) => {
    expect(() => simpleJwt({ ...base, secret: SECRET, algorithm: algorithm as never })).toThrow(/"algorithm" must be one of/);
  });

  it('refuses a malformed throttle', () => {
    expect(() => simpleJwt({ ...base, secret: SECRET, loginThrottle: 'lots' })).toThrow(/"loginThrottle"/);
  });
});

describe('hashPassword()', () => {
  it('makes a bcrypt hash', async () => {
    expect(await hashPassword('123', 4)).toMatch(/^\$2b\$04\$/);
  });

  it('refuses a password over 72 bytes instead of truncating it', async () => {
    await expect(hashPassword('é'.repeat(37), 4)).rejects.toThrow(/72 bytes/);
    await expect(hashPassword('a'.repeat(72), 4)).resolves.toMatch(/^\$2b\$/);
  });
});

describe('boolean options', () => {
  it.each(['rotateRefreshTokens', 'blacklistAfterRotation', 'reuseDetection', 'revokeAccessTokens', 'adoptUnknownTokens'])(
    'refuses the string "false" for %s instead of reading it as on',
    (name) => {
      expect(() => simpleJwt({ ...base, secret: SECRET, [name]: 'false' } as never)).toThrow(
        `"${name}" must be true or false (got "false")`,
      );
    },
  );
});
