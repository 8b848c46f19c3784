import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../lib/cli/commands';
import { cli, expectNoStack, ROOT } from './run';

const VECTOR = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk0NjY4NDgwMH0.jvxQgXCSDToR8uKoRJcMT-LmMJJn2-NM76nfSR2FOgs';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

describe('express-simplejwt usage', () => {
  it('lists the commands and the global options on --help (exit 0) and with no command (exit 2)', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: express-simplejwt <command> \[options\]/);
    expect(help.stdout).toMatch(/generate-secret .*\n.*generate-keys .*\n.*inspect .*\n.*flush-expired /);
    expect(help.stdout).toMatch(/-v, --version +print the package's version/);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage: express-simplejwt <command>/);
  });

  it.each([['--version'], ['-v']])('prints the version of package.json on %s', async (flag) => {
    const run = await cli([flag]);
    expect(run).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s --help shows its usage and every option with a description', async (name, command) => {
    const run = await cli([name, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(`usage: express-simplejwt ${name} ${command.usage}\n\n${command.summary}\n`)).toBe(true);
    for (const [option, spec] of Object.entries(command.options)) {
      const flag = `${spec.short ? `-${spec.short}, ` : ''}--${option}`;
      const line = run.stdout.split('\n').find((l) => l.startsWith(`  ${spec.short ? '' : '    '}${flag} `));
      expect(line).toBeDefined();
      expect(line).toContain(spec.description);
      expect(spec.description.length).toBeGreaterThan(10);
    }
    expect(run.stdout).toMatch(/-h, --help +show this help/);
    if (command.positionals) expect(run.stdout).toContain(`arguments:\n  ${command.positionals.name}  ${command.positionals.description}`);
  });

  const cases: [string[], RegExp, RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"/, /usage: express-simplejwt <command>/],
    [['generate-secret', '--bytes', '8'], /--bytes must be a whole number from 32 to 1024 \(got "8"\)/, /usage: express-simplejwt generate-secret \[--bytes 64\]/],
    [['generate-secret', '--bytes', 'lots'], /--bytes must be a whole number/, /usage: express-simplejwt generate-secret/],
    [['generate-secret', '--nope'], /Unknown option '--nope'/, /usage: express-simplejwt generate-secret/],
    [['generate-secret', 'extra'], /unexpected argument "extra"/, /usage:/],
    [['generate-keys'], /--alg is required/, /usage: express-simplejwt generate-keys --alg ES256/],
    [['generate-keys', '--alg', 'HS256'], /HS256 uses a shared secret, not a key pair: run "express-simplejwt generate-secret"/, /usage:/],
    [['generate-keys', '--alg', 'EdDSA'], /EdDSA is not supported/, /usage:/],
    [['generate-keys', '--alg', 'ES256', '--kid', '../evil'], /--kid must be 1 to 64 letters/, /usage:/],
    [['generate-keys', '--alg', 'ES256', '--bits', '4096'], /--bits is for RSA/, /usage:/],
    [['generate-keys', '--alg', 'RS256', '--bits', '1024'], /--bits must be a whole number from 2048/, /usage:/],
    [['inspect'], /missing <token>/, /usage: express-simplejwt inspect <token>/],
    [['inspect', VECTOR, '--secret', 'x', '--key', 'y'], /give --secret or --key, not both/, /usage:/],
    [['inspect', VECTOR, '--secret-file', 'x', '--key', 'y'], /give --secret or --key, not both/, /usage:/],
    [['inspect', VECTOR, '--secret', 'x', '--secret-file', 'y'], /give --secret or --secret-file, not both/, /usage:/],
    [['inspect', '-', '--secret', '-'], /standard input can hold the token or the secret, not both/, /usage:/],
    [['inspect', VECTOR, '--secret', ''], /--secret is empty/, /usage:/],
    [['inspect', VECTOR, '--secret', '-'], /--secret -: standard input was empty/, /usage:/],
    [['inspect', VECTOR, '--secret-file', '/nonexistent/secret'], /--secret-file: cannot read \/nonexistent\/secret \(ENOENT\)/, /usage:/],
    [['flush-expired'], /--store is required/, /usage: express-simplejwt flush-expired/],
    [['flush-expired', '--store', 'postgres://x'], /--store must be sqlite:<path> or redis:\/\/host:port\/db/, /usage:/],
    [['flush-expired', '--store', 'sqlite:'], /needs a path/, /usage:/],
    [['flush-expired', '--store', 'sqlite:x.sqlite3', '--prefix', 'a:'], /--prefix is for Redis stores/, /usage:/],
    [['flush-expired', '--store', 'redis://127.0.0.1:1/0', '--timeout', '0'], /--timeout must be a whole number from 1 to 3600/, /usage:/],
    [['flush-expired', '--store', 'mysql://root:hunter2@db/x'], /got "mysql:\/\/root:\*\*\*@db\/x"/, /usage:/],
  ];
  it.each(cases)('%j: exit 2, the reason and a usage line, no stack trace', async (args, reason, usage) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(reason);
    expect(run.stderr).toMatch(usage);
    expect(run.stdout).toBe('');
    expect(run.stderr).not.toContain('hunter2');
    expectNoStack(run.stderr);
  });
});
