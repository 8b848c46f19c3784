/**
 * Supply chain (OWASP Top 10 A06:2021 / A03:2025 "vulnerable and outdated components"; OWASP NPM Security cheat
 * sheet; ASVS 5.0 V15.2): the JWT libraries the kit verifies with are at versions past their CVEs, every copy of
 * them that is installed or locked, and the kit asks for no install scripts.
 *
 * - jsonwebtoken >= 9.0.3: 9.0.0 fixed CVE-2022-23539/23540/23541 (insecure key types, `none` with a falsy key,
 *   key/algorithm confusion); 9.0.3 requires jws ^4.0.1.
 * - jws >= 4.0.1: CVE-2025-65945 (improper HMAC signature verification) is fixed in 4.0.1.
 *
 * `npm audit --omit=dev` runs in CI (.ci/run) for everything else.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function version(text: string): [number, number, number] {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(text);
  if (!match) throw new Error(`not a version: ${text}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** `a >= b` for x.y.z versions. */
function atLeast(a: string, b: string): boolean {
  const [x, y] = [version(a), version(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return true;
}

/** Every installed copy of a package under node_modules (nested copies included): path and version. */
function installed(name: string, dir = join(ROOT, 'node_modules'), found: [string, string][] = []): [string, string][] {
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (entry.startsWith('@')) {
      installed(name, path, found);
      continue;
    }
    if (entry === name && existsSync(join(path, 'package.json'))) {
      found.push([path, (JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as { version: string }).version]);
    }
    if (existsSync(join(path, 'node_modules'))) installed(name, join(path, 'node_modules'), found);
  }
  return found;
}

interface Lock {
  packages: Record<string, { version?: string; dev?: boolean; optional?: boolean; hasInstallScript?: boolean; dependencies?: Record<string, string> }>;
}
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts?: Record<string, string>;
  dependencies: Record<string, string>;
};

describe('the JWT libraries (CVE-2022-23539, CVE-2022-23540, CVE-2022-23541, CVE-2025-65945)', () => {
  it.each([
    ['jsonwebtoken', '9.0.3'],
    ['jws', '4.0.1'],
  ])('every installed %s is at least %s', (name, minimum) => {
    const copies = installed(name);
    expect(copies.length).toBeGreaterThan(0);
    expect(copies.filter(([, v]) => !atLeast(v, minimum))).toEqual([]);
  });

  it.each([
    ['jsonwebtoken', '9.0.3'],
    ['jws', '4.0.1'],
  ])('every %s in package-lock.json (what npm ci installs) is at least %s', (name, minimum) => {
    const locked = Object.entries(lock.packages).filter(([path]) => path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`));
    expect(locked.length).toBeGreaterThan(0);
    expect(locked.filter(([, entry]) => !atLeast(entry.version!, minimum))).toEqual([]);
  });

  it('what a consumer installs is held to the same floors: the kit asks for jsonwebtoken ^9.0.3 or later, which asks for jws ^4.0.1 or later', () => {
    const floor = (range: string | undefined) => /^\^(\d+\.\d+\.\d+)$/.exec(range ?? '')?.[1] ?? '0.0.0';
    expect(atLeast(floor(manifest.dependencies.jsonwebtoken), '9.0.3')).toBe(true);
    expect(atLeast(floor(lock.packages['node_modules/jsonwebtoken']!.dependencies!.jws), '4.0.1')).toBe(true);
  });
});

describe('install scripts (OWASP NPM Security cheat sheet "avoid install scripts")', () => {
  it.each(['preinstall', 'install', 'postinstall', 'prepare'])('the kit\'s package.json has no %s script', (hook) => {
    expect(manifest.scripts?.[hook]).toBeUndefined();
  });

  it('no package the kit needs at run time has an install script (only dev tools and the optional better-sqlite3 peer do)', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript && !entry.dev)
      .map(([path]) => path);
    expect(withScripts).toEqual([]);
  });
});
