import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { COMMANDS } from './commands';
import { UsageError, type CliIo, type Command } from './registry';

const PROGRAM = 'express-simplejwt';

/** Standard input, read to the end (a terminal user ends it with Ctrl-D). */
function readProcessStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('(reading standard input; end it with Ctrl-D)\n');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.once('error', reject);
  });
}

/** The process's own streams and clock. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  now: () => Date.now(),
  readStdin: readProcessStdin,
};

/** The package's version, from the nearest package.json named express-simplejwt (source, dist or installed). */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === PROGRAM && typeof pkg.version === 'string') return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

function usageLine(command: Command): string {
  return `usage: ${PROGRAM} ${command.name} ${command.usage}`;
}

/** Two columns: a term, padded, and its description. */
function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([term]) => term.length));
  return rows.map(([term, text]) => `  ${term.padEnd(width)}  ${text}`);
}

/** A command's `--help`: usage, summary, its positional argument and every option. */
export function commandHelp(command: Command): string {
  const options: [string, string][] = Object.entries(command.options).map(([name, option]) => [
    `${option.short ? `-${option.short}, ` : '    '}--${name}${option.type === 'string' ? ` ${option.value ?? '<value>'}` : ''}`,
    option.description,
  ]);
  options.push(['-h, --help', 'show this help']);
  const lines = [usageLine(command), '', command.summary];
  if (command.positionals) lines.push('', 'arguments:', ...table([[command.positionals.name, command.positionals.description]]));
  lines.push('', 'options:', ...table(options));
  return lines.join('\n');
}

function overview(commands: readonly Command[]): string {
  return [
    `usage: ${PROGRAM} <command> [options]`,
    '',
    'commands:',
    ...table(commands.map((c) => [c.name, c.summary])),
    '',
    'options:',
    ...table([
      ['-h, --help', 'show this help'],
      ['-v, --version', "print the package's version"],
    ]),
    '',
    `"${PROGRAM} <command> --help" shows a command's options.`,
  ].join('\n');
}

/** A command's options as `util.parseArgs` takes them. */
function parseArgsOptions(command: Command): NonNullable<ParseArgsConfig['options']> {
  const options: NonNullable<ParseArgsConfig['options']> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, { type, short }] of Object.entries(command.options)) options[name] = short ? { type, short } : { type };
  return options;
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and returns the exit code: 0 success, 1 failure,
 * 2 bad arguments (with a usage line). Never throws and never prints a stack trace.
 *
 * @example
 * process.exitCode = await main(['generate-secret', '--bytes', '64']);
 */
export async function main(argv: readonly string[], io: CliIo = processIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(overview(commands));
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.out(overview(commands));
    return 0;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(packageVersion());
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`${PROGRAM}: unknown command ${JSON.stringify(name)}`);
    io.err(overview(commands));
    return 2;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: [...rest], options: parseArgsOptions(command), allowPositionals: true, strict: true });
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
    if (parsed.values.help === true) {
      io.out(commandHelp(command));
      return 0;
    }
    const { min = 0, max = 0, name: what = 'argument' } = command.positionals ?? {};
    if (parsed.positionals.length < min) throw new UsageError(`missing ${what}`);
    if (parsed.positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${PROGRAM} ${command.name}: ${err.message}`);
      io.err(usageLine(command));
      return 2;
    }
    io.err(`${PROGRAM} ${command.name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
