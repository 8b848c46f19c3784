/**
 * Something that takes log lines; `console` qualifies.
 *
 * @example
 * const logger: Logger = { warn: (line) => pino.warn(line), error: (line) => pino.error(line) };
 * simpleJwt({ logger, findUserByUsername, findUserById });
 */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
  info?(message: string): void;
}

/**
 * Stable codes of the start-up warnings; each can be silenced through the `warnings` option.
 *
 * @example
 * const quiet: Partial<Record<WarningCode, boolean>> = { MEMORY_STORE: false };
 * simpleJwt({ warnings: quiet, findUserByUsername, findUserById });
 */
export type WarningCode =
  | 'RANDOM_SECRET'
  | 'MEMORY_STORE'
  | 'THROTTLE_DISABLED'
  | 'UNLIMITED_TOKENS'
  | 'LONG_ACCESS_LIFETIME'
  | 'NO_SIGNING_KEY'
  | 'JWKS_HTTP';

/** Logs each warning code at most once per factory, unless the host silenced it. */
export function createWarner(logger: Logger, silenced: ReadonlySet<string> | 'all') {
  const seen = new Set<string>();
  return function warnOnce(code: WarningCode, message: string): void {
    if (silenced === 'all' || silenced.has(code) || seen.has(code)) return;
    seen.add(code);
    logger.warn(`[express-simplejwt] ${code}: ${message}`);
  };
}
