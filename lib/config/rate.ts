import { parseDuration } from './duration';

/**
 * A rate limit, DRF-style: `'10/15m'`, `'100/hour'`, `'5/min'`, `'1000/day'`.
 *
 * @example
 * const rate: Rate = parseRate('100/hour', 'loginThrottle'); // { limit: 100, windowSeconds: 3600 }
 */
export interface Rate {
  /** Requests allowed in one window. */
  limit: number;
  /** Window length in seconds. */
  windowSeconds: number;
}

const PERIOD_ALIASES: Record<string, string> = { sec: '1s', second: '1s', min: '1m', minute: '1m', hour: '1h', day: '1d' };

/**
 * Parses a DRF-style rate (`'10/15m'`, `'100/hour'`).
 *
 * @example
 * parseRate('10/15m', 'loginThrottle') // { limit: 10, windowSeconds: 900 }
 */
export function parseRate(value: string, optionName: string): Rate {
  const match = /^\s*(\d+)\s*\/\s*(.+?)\s*$/.exec(value);
  const limit = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(limit) || limit < 1) {
    throw new TypeError(`"${optionName}" must be a rate such as '10/15m' or '100/hour' (got ${JSON.stringify(value)})`);
  }
  const period = match[2]!.toLowerCase();
  const windowSeconds = parseDuration(PERIOD_ALIASES[period] ?? (/^\d/.test(period) ? period : `1${period}`), optionName);
  return { limit, windowSeconds };
}
