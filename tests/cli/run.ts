import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../lib/cli/main';

/** What a CLI run left: its exit code and everything it wrote. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const ROOT = join(__dirname, '..', '..');

/** The package's `bin`, as npm links it. */
export const BIN = join(ROOT, 'lib', 'cli', 'bin.cjs');

/** Runs the CLI in this process (fast: no start-up), with `stdin` as standard input and the real clock. */
export async function cli(args: string[], { stdin = '', now = () => Date.now() }: { stdin?: string; now?: () => number } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (text) => void (stdout += `${text}\n`),
    err: (text) => void (stderr += `${text}\n`),
    now,
    readStdin: async () => stdin,
  });
  return { code, stdout, stderr };
}

/** Runs the real command, `node lib/cli/bin.cjs ...`, as a process (the checkout runs the source through tsx). */
export function cliProcess(args: string[], { stdin, env = {}, cwd = ROOT }: { stdin?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The CLI never shows a stack trace: no `    at ...` lines, no file:line positions. */
export function expectNoStack(output: string): void {
  expect(output).not.toMatch(/^\s+at /m);
  expect(output).not.toMatch(/\.[jt]s:\d+:\d+/);
}
