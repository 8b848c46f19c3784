import { readFileSync } from 'node:fs';

/** Where a command writes, and what it may read: injected so commands stay testable. */
export interface CliIo {
  /** A line (or block) for standard output. */
  out(text: string): void;
  /** A line for standard error. */
  err(text: string): void;
  /** The clock in milliseconds. */
  now(): number;
  /** All of standard input, for `--secret -` and `inspect -`. */
  readStdin(): Promise<string>;
}

/** What `util.parseArgs` hands a command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** One option of a command: how `util.parseArgs` reads it, and how `--help` shows it. */
export interface CommandOption {
  /** `string` takes a value (`--bytes 64`); `boolean` is a flag. */
  type: 'string' | 'boolean';
  /** A one-letter alias: `-b`. */
  short?: string;
  /** The value as `--help` shows it: `<n>`. Only for `string` options. */
  value?: string;
  /** What it does, with its default, in one line for `--help`. */
  description: string;
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
  /** Its options; `--help` lists each with its description (`--help` itself is added for every command). */
  options: Record<string, CommandOption>;
  /** The positional arguments: how many, and a line for `--help`. Default: none. */
  positionals?: { min: number; max: number; name: string; description: string };
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

/** The options every command that checks an HMAC signature takes, so a secret can stay out of shell history. */
export const SECRET_OPTIONS: Record<'secret' | 'secret-file', CommandOption> = {
  secret: {
    type: 'string',
    short: 's',
    value: '<secret>|-',
    description: 'the HMAC secret; "-" reads it from standard input (keeps it out of shell history)',
  },
  'secret-file': {
    type: 'string',
    value: '<path>',
    description: 'read the HMAC secret from a file (one trailing newline is ignored)',
  },
};

/** One trailing line break, as `echo` and editors leave it, is not part of a secret. */
function withoutTrailingNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/**
 * The secret `--secret`, `--secret -` (standard input) or `--secret-file` gives, or `undefined` when none is
 * given. At most one of them; never empty.
 */
export async function readSecret(values: ParsedArgs['values'], io: CliIo): Promise<string | undefined> {
  const inline = values.secret === undefined ? undefined : String(values.secret);
  const file = values['secret-file'] === undefined ? undefined : String(values['secret-file']);
  if (inline !== undefined && file !== undefined) throw new UsageError('give --secret or --secret-file, not both');
  let secret: string | undefined;
  if (file !== undefined) {
    try {
      secret = withoutTrailingNewline(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`--secret-file: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
    }
    if (secret === '') throw new UsageError(`--secret-file: ${file} is empty`);
  } else if (inline === '-') {
    secret = withoutTrailingNewline(await io.readStdin());
    if (secret === '') throw new UsageError('--secret -: standard input was empty');
  } else {
    secret = inline;
    if (secret === '') throw new UsageError('--secret is empty');
  }
  return secret;
}
