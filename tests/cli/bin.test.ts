import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BIN, cliProcess, expectNoStack, ROOT } from './run';

// A few runs of the real command as a process; tests/cli/*.test.ts run the rest in-process.
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; files: string[] };
const VECTOR = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk0NjY4NDgwMH0.jvxQgXCSDToR8uKoRJcMT-LmMJJn2-NM76nfSR2FOgs';

describe('the express-simplejwt command', () => {
  it('is the package bin: lib/cli/bin.cjs, shipped, executable, with a shebang', () => {
    expect(pkg.bin).toEqual({ 'express-simplejwt': './lib/cli/bin.cjs' });
    expect(pkg.files).toContain('lib/cli/bin.cjs');
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(statSync(BIN).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(ROOT, 'lib/cli/index.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('works through npx in the repository checkout, offline and with no build (npm links the checkout)', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'sjwt-npx-cache-'));
    try {
      const { stdout } = await promisify(execFile)('npx', ['--yes', 'express-simplejwt', '--version'], {
        cwd: ROOT,
        env: { ...process.env, npm_config_cache: cache, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_audit: 'false' },
        timeout: 60_000,
      });
      expect(stdout).toBe(`${pkg.version}\n`);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }, 70_000);

  it('reads the token or the secret from standard input, and exits with the verdict', async () => {
    const good = await cliProcess(['inspect', VECTOR, '--secret', '-'], { stdin: 'not_secret\n' });
    expect(good.stdout).toContain('signature: valid (HS256, checked with --secret)');
    expect(good.code).toBe(0);
    const bad = await cliProcess(['inspect', '-'], { stdin: 'a.b' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('express-simplejwt inspect: not a JWT: it has 2 parts, not 3\n');
  });

  it('exits 2 with the reason and a usage line on bad arguments, never a stack trace', async () => {
    const run = await cliProcess(['generate-secret', '--bytes', '8']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'express-simplejwt generate-secret: --bytes must be a whole number from 32 to 1024 (got "8")\nusage: express-simplejwt generate-secret [--bytes 64]\n',
    );
    expectNoStack(run.stderr);
  });
});
