#!/usr/bin/env node
// Runs before `npm test`: installs the system programs the test suite starts for real (Redis, PostgreSQL, the
// Django side with simplejwt, Chromium) from Debian's packages when they are missing. Nothing is started here;
// each suite starts its own servers on free ports and stops them. SJWT_SKIP_PROVISION=1 skips this step.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

if (process.env.SJWT_SKIP_PROVISION === '1') process.exit(0);

/** True when `python` can import every module. */
function pythonHas(python, modules) {
  if (!existsSync(python)) return false;
  return spawnSync(python, ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' }).status === 0;
}

/** The newest installed PostgreSQL server's bin directory, if any. */
function postgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(`${root}/${v}/bin/initdb`));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] && `${root}/${versions[0]}/bin`;
}

/** Debian package → whether what the tests need from it is there. */
const needs = [
  ['redis-server', () => existsSync('/usr/bin/redis-server') && existsSync('/usr/bin/redis-cli')],
  ['postgresql', () => postgresBin() !== undefined],
  ['python3-djangorestframework-simplejwt', () => pythonHas('/usr/bin/python3', ['django', 'rest_framework_simplejwt'])],
  ['python3-psycopg2', () => pythonHas('/usr/bin/python3', ['psycopg2'])],
  ['chromium', () => existsSync('/usr/bin/chromium')],
];

const missing = needs.filter(([, present]) => !present()).map(([name]) => name);
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = existsSync('/usr/bin/apt-get');
if (!hasApt || !isRoot) {
  console.warn(
    `[provision] missing system packages: ${missing.join(' ')}\n` +
      `[provision] install them (Debian: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}); ` +
      'the suites that need them will fail until then.',
  );
  process.exit(0);
}

console.log(`[provision] installing ${missing.join(' ')} (Debian packages the tests run for real)`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
try {
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
} catch (err) {
  console.error(`[provision] apt-get failed: ${err.message}`);
  process.exit(1);
}
const still = needs.filter(([name, present]) => missing.includes(name) && !present()).map(([name]) => name);
if (still.length > 0) {
  console.error(`[provision] still missing after apt-get install: ${still.join(' ')}`);
  process.exit(1);
}
