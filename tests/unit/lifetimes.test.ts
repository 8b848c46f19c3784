/**
 * lib/tokens/lifetimes.ts as a unit: parsing a lifetime as the options and the admin API take it, the cross-field
 * rules, the JSON the admin API shows, and the shared setting kept in a store (a plain map here): what a PUT
 * writes, what a stored value that does not fit is replaced by, and how long revocations are retained.
 */
import {
  createLifetimeSettings,
  LIFETIME_MESSAGES,
  LIFETIMES_SETTING,
  lifetimeConflict,
  lifetimeJson,
  longestLifetime,
  MAX_LIFETIME,
  NEVER_EXPIRES,
  parseLifetime,
  storeExpiry,
  type Lifetimes,
} from '../../lib/tokens/lifetimes';
import { memoryLogger } from '../helpers/app';

const DEFAULTS: Lifetimes = { access: 300, refresh: 86_400, sliding: 300, slidingRefresh: 86_400 };

describe('parseLifetime', () => {
  it.each([
    [300, 300],
    ['5m', 300],
    ['1d', 86_400],
    [' 30d ', 2_592_000],
    ['90', 90],
    [MAX_LIFETIME, MAX_LIFETIME],
  ])('%j is %d seconds', (value, seconds) => {
    expect(parseLifetime(value, false)).toBe(seconds);
  });

  it.each([
    [0, LIFETIME_MESSAGES.tooSmall],
    [-5, LIFETIME_MESSAGES.tooSmall],
    [1.5, LIFETIME_MESSAGES.notInteger],
    [Number.NaN, LIFETIME_MESSAGES.notInteger],
    [Infinity, LIFETIME_MESSAGES.notInteger],
    ['five minutes', LIFETIME_MESSAGES.notDuration],
    ['', LIFETIME_MESSAGES.notDuration],
    [true, LIFETIME_MESSAGES.notDuration],
    [{ seconds: 5 }, LIFETIME_MESSAGES.notDuration],
    [MAX_LIFETIME + 1, LIFETIME_MESSAGES.tooLarge],
    ['101y', LIFETIME_MESSAGES.tooLarge],
  ])('%j is refused: %s', (value, error) => {
    expect(parseLifetime(value, true)).toEqual({ error });
  });

  it('null is never, only when non-expiring tokens are allowed', () => {
    expect(parseLifetime(null, true)).toBe(Infinity);
    expect(parseLifetime(null, false)).toEqual({ error: LIFETIME_MESSAGES.neverNotAllowed });
  });
});

describe('lifetimeConflict and longestLifetime', () => {
  it('accepts lifetimes where each token outlives none of its refresh', () => {
    expect(lifetimeConflict(DEFAULTS)).toBeUndefined();
    expect(lifetimeConflict({ ...DEFAULTS, access: 86_400 })).toBeUndefined(); // equal is fine
    expect(lifetimeConflict({ ...DEFAULTS, refresh: Infinity, access: Infinity })).toBeUndefined();
  });

  it('names the first broken rule', () => {
    expect(lifetimeConflict({ ...DEFAULTS, access: 86_401 })).toBe(LIFETIME_MESSAGES.accessOutlivesRefresh);
    expect(lifetimeConflict({ ...DEFAULTS, sliding: 86_401 })).toBe(LIFETIME_MESSAGES.slidingOutlivesRefresh);
    expect(lifetimeConflict({ access: 2, refresh: 1, sliding: 2, slidingRefresh: 1 })).toBe(LIFETIME_MESSAGES.accessOutlivesRefresh);
    expect(lifetimeConflict({ ...DEFAULTS, access: Infinity })).toBe(LIFETIME_MESSAGES.accessOutlivesRefresh);
  });

  it('the longest of the four, Infinity included', () => {
    expect(longestLifetime(DEFAULTS)).toBe(86_400);
    expect(longestLifetime({ ...DEFAULTS, slidingRefresh: 90_000 })).toBe(90_000);
    expect(longestLifetime({ ...DEFAULTS, refresh: Infinity })).toBe(Infinity);
  });
});

describe('lifetimeJson and storeExpiry', () => {
  it('shows seconds and the shortest text; never as null', () => {
    expect(lifetimeJson(300)).toEqual({ seconds: 300, text: '5m' });
    expect(lifetimeJson(86_400)).toEqual({ seconds: 86_400, text: '1d' });
    expect(lifetimeJson(3600)).toEqual({ seconds: 3600, text: '1h' });
    expect(lifetimeJson(61)).toEqual({ seconds: 61, text: '61s' });
    expect(lifetimeJson(Infinity)).toEqual({ seconds: null, text: 'never' });
  });

  it('a token without a time claim expires in the store at NEVER_EXPIRES', () => {
    expect(storeExpiry(1_700_000_000)).toBe(1_700_000_000);
    expect(storeExpiry(undefined)).toBe(NEVER_EXPIRES);
    expect(storeExpiry('1700000000')).toBe(NEVER_EXPIRES);
    expect(new Date(NEVER_EXPIRES * 1000).toISOString()).toBe('9999-12-31T23:59:59.000Z');
  });
});

/** The setting over a plain map, counting reads and writes. */
function settingsOver(initial?: string, allowNever = false) {
  const values = new Map<string, string>();
  if (initial !== undefined) values.set(LIFETIMES_SETTING, initial);
  const calls = { get: 0, set: 0 };
  const logger = memoryLogger();
  const settings = createLifetimeSettings({
    defaults: DEFAULTS,
    allowNever,
    logger,
    getSetting: (name) => (calls.get++, values.get(name)),
    setSetting: async (name, value) => void (calls.set++, values.set(name, value)),
  });
  return { settings, values, calls, log: logger.lines };
}

describe('createLifetimeSettings', () => {
  it('without a stored value: the defaults, retained as long as the longest', async () => {
    const { settings, calls, log } = settingsOver();
    expect(await settings.current()).toEqual(DEFAULTS);
    expect(await settings.retainSeconds()).toBe(86_400);
    expect(calls).toEqual({ get: 2, set: 0 });
    expect(log).toEqual([]);
  });

  it('set() writes one JSON value that every reader then sees, with the longest lifetime ever set as retain', async () => {
    const { settings, values, calls } = settingsOver();
    await settings.set({ access: 60, refresh: 3600, sliding: 60, slidingRefresh: 3600 });
    expect(calls.set).toBe(1);
    expect(JSON.parse(values.get(LIFETIMES_SETTING)!)).toEqual({ access: 60, refresh: 3600, sliding: 60, slidingRefresh: 3600, retain: 86_400 });
    expect(await settings.current()).toEqual({ access: 60, refresh: 3600, sliding: 60, slidingRefresh: 3600 });
    // Shortened lifetimes keep revocations as long as tokens issued before may live.
    expect(await settings.retainSeconds()).toBe(86_400);
    await settings.set({ ...DEFAULTS, refresh: 200_000 });
    expect(await settings.retainSeconds()).toBe(200_000);
    await settings.set(DEFAULTS);
    expect(await settings.retainSeconds()).toBe(200_000);
  });

  it('a value written by another server is read at the next call', async () => {
    const { settings, values } = settingsOver();
    expect((await settings.current()).access).toBe(300);
    values.set(LIFETIMES_SETTING, JSON.stringify({ access: 120 }));
    expect(await settings.current()).toEqual({ ...DEFAULTS, access: 120 });
  });

  it('never is stored as null and read back as Infinity, when allowed', async () => {
    const { settings, values } = settingsOver(undefined, true);
    await settings.set({ ...DEFAULTS, refresh: Infinity, slidingRefresh: Infinity });
    expect(JSON.parse(values.get(LIFETIMES_SETTING)!)).toMatchObject({ refresh: null, slidingRefresh: null, retain: null });
    expect(await settings.current()).toEqual({ ...DEFAULTS, refresh: Infinity, slidingRefresh: Infinity });
    expect(await settings.retainSeconds()).toBe(Infinity);
  });

  it.each([
    ['not JSON', '{', 'not a JSON object'],
    ['an array', '[1]', 'not a JSON object'],
    ['null', 'null', 'not a JSON object'],
    ['a bad lifetime', JSON.stringify({ access: 'soon' }), `access: ${LIFETIME_MESSAGES.notDuration}`],
    ['never where it is not allowed', JSON.stringify({ refresh: null }), `refresh: ${LIFETIME_MESSAGES.neverNotAllowed}`],
    ['lifetimes that contradict each other', JSON.stringify({ access: 90_000 }), LIFETIME_MESSAGES.accessOutlivesRefresh],
  ])('a stored value that does not fit (%s) gives the defaults and is logged once', async (_what, raw, problem) => {
    const { settings, log } = settingsOver(raw);
    expect(await settings.current()).toEqual(DEFAULTS);
    expect(await settings.current()).toEqual(DEFAULTS);
    expect(await settings.retainSeconds()).toBe(86_400);
    expect(log).toEqual([`error [express-simplejwt] the stored token lifetimes are not usable here (${problem}); using the configured ones`]);
  });

  it('retain is never below the configured lifetimes, whatever is stored', async () => {
    const { settings } = settingsOver(JSON.stringify({ access: 60, refresh: 60, retain: 60 }));
    expect(await settings.current()).toEqual({ ...DEFAULTS, access: 60, refresh: 60 });
    expect(await settings.retainSeconds()).toBe(86_400);
  });

  it('an empty stored value is the defaults, without a log line', async () => {
    const { settings, log } = settingsOver('');
    expect(await settings.current()).toEqual(DEFAULTS);
    expect(log).toEqual([]);
  });
});
