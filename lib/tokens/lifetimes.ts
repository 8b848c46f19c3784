/**
 * Token lifetimes that an admin can change at run time (TuGraph's `get_token_time` / `update_token_time`).
 * The values live in the token store as one shared setting, so every server using the store issues tokens with
 * the same lifetimes; the options only give the start-up defaults. `Infinity` means "never expires" and exists
 * only with `dangerouslyAllowNonExpiringTokens`.
 */
import type { Awaitable } from '../stores/types';
import type { Logger } from '../config/warnings';
import { formatDuration, parseDuration } from '../config/duration';

/**
 * Lifetimes in whole seconds; `Infinity`: tokens of that kind carry no `exp` (or no `refresh_exp`).
 *
 * @example
 * const lifetimes: Lifetimes = { access: 300, refresh: 86_400, sliding: 300, slidingRefresh: 86_400 };
 */
export interface Lifetimes {
  access: number;
  refresh: number;
  sliding: number;
  slidingRefresh: number;
}

/** The lifetime names in the order the admin API lists them, with their wire field names. */
export const LIFETIME_FIELDS = [
  ['access', 'access_token_lifetime'],
  ['refresh', 'refresh_token_lifetime'],
  ['sliding', 'sliding_token_lifetime'],
  ['slidingRefresh', 'sliding_token_refresh_lifetime'],
] as const satisfies readonly (readonly [keyof Lifetimes, string])[];

/**
 * What stores keep as the expiry of something that never expires: 9999-12-31T23:59:59Z. Every store takes it as
 * an ordinary time (Redis as a TTL of some 8000 years), so revocation of non-expiring tokens works unchanged.
 *
 * @example
 * await store.revoke(jti, claims.exp ?? NEVER_EXPIRES);
 */
export const NEVER_EXPIRES = 253_402_300_799;

/** The longest lifetime accepted: 100 years (an `exp` must stay a safe integer, and a century is plenty). */
export const MAX_LIFETIME = 3_155_760_000;

/** The setting's name in the store. */
export const LIFETIMES_SETTING = 'lifetimes';

/** The store's expiry for a token time claim: the claim, or `NEVER_EXPIRES` when the token has none. */
export function storeExpiry(claim: unknown): number {
  return typeof claim === 'number' ? claim : NEVER_EXPIRES;
}

/**
 * What the admin API answers for a lifetime it refuses (DRF's wording where DRF has one), and for lifetimes that
 * contradict each other (`non_field_errors`). The OpenAPI document lists these same texts.
 */
export const LIFETIME_MESSAGES = {
  neverNotAllowed: 'Non-expiring lifetimes (null) need the dangerouslyAllowNonExpiringTokens option.',
  notInteger: 'A valid integer is required.',
  tooSmall: 'Ensure this value is greater than or equal to 1.',
  notDuration: "Enter a positive number of seconds or a duration such as '5m', '1d' or '30d'.",
  tooLarge: `Ensure this value is less than or equal to ${MAX_LIFETIME}.`,
  accessOutlivesRefresh: 'access_token_lifetime must not be longer than refresh_token_lifetime.',
  slidingOutlivesRefresh: 'sliding_token_lifetime must not be longer than sliding_token_refresh_lifetime.',
} as const;

/**
 * Parses one lifetime as the options and the admin API accept it: seconds or a duration string, or `null`
 * (never) when `allowNever`. Returns the seconds, or the message of what is wrong.
 */
export function parseLifetime(value: unknown, allowNever: boolean): number | { error: string } {
  if (value === null) {
    return allowNever ? Infinity : { error: LIFETIME_MESSAGES.neverNotAllowed };
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) return { error: LIFETIME_MESSAGES.notInteger };
    if (value < 1) return { error: LIFETIME_MESSAGES.tooSmall };
  } else if (typeof value !== 'string') {
    return { error: LIFETIME_MESSAGES.notDuration };
  }
  let seconds: number;
  try {
    seconds = parseDuration(value, 'lifetime');
  } catch {
    return { error: LIFETIME_MESSAGES.notDuration };
  }
  if (seconds > MAX_LIFETIME) return { error: LIFETIME_MESSAGES.tooLarge };
  return seconds;
}

/** A lifetime as the admin API shows it: seconds (`null` for never) and the short text (`'5m'`, `'never'`). */
export function lifetimeJson(seconds: number): { seconds: number | null; text: string } {
  return Number.isFinite(seconds) ? { seconds, text: formatDuration(seconds) } : { seconds: null, text: 'never' };
}

/** The cross-field rules; returns the first broken one's message. */
export function lifetimeConflict(l: Lifetimes): string | undefined {
  if (l.access > l.refresh) return LIFETIME_MESSAGES.accessOutlivesRefresh;
  if (l.sliding > l.slidingRefresh) return LIFETIME_MESSAGES.slidingOutlivesRefresh;
  return undefined;
}

/** The longest lifetime among them (how long a revocation must be kept). */
export function longestLifetime(l: Lifetimes): number {
  return Math.max(l.access, l.refresh, l.sliding, l.slidingRefresh);
}

interface StoredLifetimes extends Lifetimes {
  /** The longest lifetime ever set: revocations are kept at least this long, so tokens issued before a shortening stay revoked. */
  retain: number;
}

function toJson(value: StoredLifetimes): string {
  const out: Record<string, number | null> = {};
  for (const key of ['access', 'refresh', 'sliding', 'slidingRefresh', 'retain'] as const) {
    out[key] = Number.isFinite(value[key]) ? value[key] : null;
  }
  return JSON.stringify(out);
}

/**
 * The shared lifetimes: read from the store at each issue (tokens are issued rarely, and an issue already costs
 * store writes), so a change made on one server applies to the next token any server issues.
 */
export function createLifetimeSettings(options: {
  defaults: Lifetimes;
  allowNever: boolean;
  logger: Logger;
  getSetting: (name: string) => Awaitable<string | undefined>;
  setSetting: (name: string, value: string) => Awaitable<void>;
}) {
  const { defaults, allowNever, logger } = options;
  const defaultStored: StoredLifetimes = { ...defaults, retain: longestLifetime(defaults) };
  let lastBadValue: string | undefined;

  /** The stored value, checked as strictly as a PUT; anything else falls back to the defaults, logged once per value. */
  function decode(raw: string | undefined): StoredLifetimes {
    if (raw === undefined || raw === '') return defaultStored;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const out = { ...defaultStored };
    let problem: string | undefined;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) problem = 'not a JSON object';
    else {
      for (const key of ['access', 'refresh', 'sliding', 'slidingRefresh', 'retain'] as const) {
        const value = (parsed as Record<string, unknown>)[key];
        if (value === undefined) continue;
        const seconds = parseLifetime(value, allowNever || key === 'retain');
        if (typeof seconds !== 'number') {
          problem = `${key}: ${seconds.error}`;
          break;
        }
        out[key] = seconds;
      }
      problem ??= lifetimeConflict(out);
    }
    if (problem !== undefined) {
      if (lastBadValue !== raw) {
        lastBadValue = raw;
        logger.error(`[express-simplejwt] the stored token lifetimes are not usable here (${problem}); using the configured ones`);
      }
      return defaultStored;
    }
    out.retain = Math.max(out.retain, longestLifetime(out), defaultStored.retain);
    return out;
  }

  async function stored(): Promise<StoredLifetimes> {
    return decode(await options.getSetting(LIFETIMES_SETTING));
  }

  return {
    /** The lifetimes new tokens get now. */
    async current(): Promise<Lifetimes> {
      const { access, refresh, sliding, slidingRefresh } = await stored();
      return { access, refresh, sliding, slidingRefresh };
    },
    /** How long a user-wide revocation must be kept: the longest lifetime ever in use (`Infinity`: for ever). */
    async retainSeconds(): Promise<number> {
      return (await stored()).retain;
    },
    /** Replaces the lifetimes for every server sharing the store (already validated by the caller). */
    async set(next: Lifetimes): Promise<void> {
      const previous = await stored();
      const retain = Math.max(previous.retain, longestLifetime(next));
      await options.setSetting(LIFETIMES_SETTING, toJson({ ...next, retain }));
    },
  };
}

export type LifetimeSettings = ReturnType<typeof createLifetimeSettings>;
