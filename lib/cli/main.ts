import { parseArgs } from 'node:util';
import { COMMANDS } from './commands';
import { UsageError, type CliIo, type Command } from './registry';

const PROGRAM = 'express-simplejwt';

/** The process's own streams and clock. */
export const processIo: CliIo = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
  now: () => Date.now(),
};

function usageLine(command: Command): string {
  return `usage: ${PROGRAM} ${command.name} ${command.usage}`;
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `usage: ${PROGRAM} <command> [options]`,
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `"${PROGRAM} <command> --help" shows a command's options.`,
  ].join('\n');
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
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`${PROGRAM}: unknown command ${JSON.stringify(name)}`);
    io.err(overview(commands));
    return 2;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...rest],
        options: { ...command.options, help: { type: 'boolean', short: 'h' } },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError((err as Error).message, { cause: err });
    }
    if (parsed.values.help === true) {
      io.out(`${usageLine(command)}\n\n${command.summary}`);
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
