/**
 * Durations as HarperDB and the `ms` package write them: a number of seconds, or a string such as `'90s'`,
 * `'5m'`, `'12h'`, `'1d'`, `'30d'`, `'2w'`, `'1 hour'`. Parsed once at start-up into whole seconds.
 */

const UNIT_SECONDS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86_400, day: 86_400, days: 86_400,
  w: 604_800, week: 604_800, weeks: 604_800,
  y: 31_557_600, yr: 31_557_600, yrs: 31_557_600, year: 31_557_600, years: 31_557_600,
};

const DURATION_RE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/**
 * A duration: whole seconds as a number, or an `ms`-style string (`'5m'`, `'1d'`, `'30d'`).
 *
 * @example
 * const fiveMinutes: Duration = 300;
 * const sameThing: Duration = '5m';
 */
export type Duration = number | string;

/**
 * Parses a duration into whole seconds, or returns an error message naming the option.
 *
 * @example
 * parseDuration('1d', 'refreshTokenLifetime') // 86400
 */
export function parseDuration(value: unknown, optionName: string): number {
  let seconds: number;
  if (typeof value === 'number') {
    seconds = value;
  } else if (typeof value === 'string') {
    const match = DURATION_RE.exec(value.trim());
    const unit = match?.[2]?.toLowerCase() ?? '';
    const factor = unit === '' ? 1 : UNIT_SECONDS[unit];
    if (!match || factor === undefined) {
      throw new TypeError(
        `"${optionName}" must be a number of seconds or a duration such as '5m', '1d' or '30d' (got ${JSON.stringify(value)})`,
      );
    }
    seconds = Number(match[1]) * factor;
  } else {
    throw new TypeError(`"${optionName}" must be a number of seconds or a duration string such as '5m' (got ${typeof value})`);
  }
  if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(seconds)) {
    throw new TypeError(`"${optionName}" must be a positive whole number of seconds (got ${JSON.stringify(value)})`);
  }
  return seconds;
}

/** Formats whole seconds the short way (`300` → `'5m'`), for logs and the admin API. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

const UNIT_MS: Record<string, number> = { ms: 1, msec: 1, msecs: 1, millisecond: 1, milliseconds: 1 };

/**
 * Parses a duration into whole milliseconds, for timeouts shorter than a second: everything `parseDuration`
 * takes (a bare number is seconds) plus milliseconds (`'500ms'`).
 *
 * @example
 * parseDurationMs('500ms', 'JWT_STORE_TIMEOUT') // 500
 * parseDurationMs('2s', 'JWT_STORE_TIMEOUT') // 2000
 */
export function parseDurationMs(value: unknown, optionName: string): number {
  const match = typeof value === 'string' ? DURATION_RE.exec(value.trim()) : null;
  const unit = match?.[2]?.toLowerCase() ?? '';
  const factor = UNIT_MS[unit] ?? (unit === '' ? 1000 : (UNIT_SECONDS[unit] ?? 0) * 1000);
  const ms = typeof value === 'number' ? value * 1000 : match && factor > 0 ? Number(match[1]) * factor : NaN;
  if (!Number.isFinite(ms) || ms <= 0 || !Number.isInteger(ms)) {
    throw new TypeError(`"${optionName}" must be a positive duration such as '500ms', '2s' or a number of seconds (got ${JSON.stringify(value)})`);
  }
  return ms;
}
