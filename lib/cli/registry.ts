import type { ParseArgsConfig } from 'node:util';

/** Where a command writes, and what it may read: injected so commands stay testable. */
export interface CliIo {
  /** A line (or block) for standard output. */
  out(text: string): void;
  /** A line for standard error. */
  err(text: string): void;
  /** The clock in milliseconds. */
  now(): number;
}

/** What `util.parseArgs` hands a command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/**
 * One subcommand. To add one (e.g. `flush-expired`): write `commands/flush-expired.ts` exporting a `Command`, and
 * list it in `commands/index.ts`. Parsing, `--help`, usage errors (exit 2) and error output are handled for it.
 */
export interface Command {
  /** The word after `express-simplejwt`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The arguments, as the usage line shows them: `[--bytes 64]`. */
  usage: string;
  /** Its options, in `util.parseArgs` form (`--help` is added for every command). */
  options: NonNullable<ParseArgsConfig['options']>;
  /** How many positional arguments it takes. Default: none. */
  positionals?: { min: number; max: number; name: string };
  /** Runs the command; returns the exit code (0 success, 1 failure). Throw `UsageError` for bad arguments. */
  run(args: ParsedArgs, io: CliIo): number | Promise<number>;
}

/** Bad arguments: the CLI prints the message and the command's usage line, and exits with 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Reads an option that must be a whole number within bounds. */
export function integerOption(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const text = String(value);
  const number = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`);
  }
  return number;
}
