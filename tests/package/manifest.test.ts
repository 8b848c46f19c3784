import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SECRET } from '../helpers/app';

// Fast checks of package.json; `npm run test:package` installs the packed tarball into real consumers.
const root = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, any>;

describe('package.json', () => {
  it('maps both module systems with types first', () => {
    expect(pkg.exports['.']).toEqual({
      import: { types: './dist/esm/index.d.mts', default: './dist/esm/index.mjs' },
      require: { types: './dist/cjs/index.d.ts', default: './dist/cjs/index.js' },
    });
    expect(pkg.exports['./testing']).toEqual({
      import: { types: './dist/esm/testing.d.mts', default: './dist/esm/testing.mjs' },
      require: { types: './dist/cjs/testing/index.d.ts', default: './dist/cjs/testing/index.js' },
    });
    expect(pkg.exports['./openapi']).toEqual({
      import: { types: './dist/esm/openapi.d.mts', default: './dist/esm/openapi.mjs' },
      require: { types: './dist/cjs/openapi.d.ts', default: './dist/cjs/openapi.js' },
    });
    expect(pkg.typesVersions['*']).toEqual({ testing: ['./dist/cjs/testing/index.d.ts'], openapi: ['./dist/cjs/openapi.d.ts'] });
    for (const condition of ['.', './testing', './openapi'].flatMap((entry) => Object.values(pkg.exports[entry])) as Record<string, string>[]) {
      expect(Object.keys(condition)[0]).toBe('types');
    }
    expect(pkg).toMatchObject({ type: 'commonjs', main: './dist/cjs/index.js', types: './dist/cjs/index.d.ts', sideEffects: false });
  });

  it('ships only dist, the command and the documents, and they exist', () => {
    expect(pkg.files).toEqual(['dist', 'lib/cli/bin.cjs', 'README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md', 'docs']);
    for (const file of pkg.files.slice(1)) expect(existsSync(join(root, file))).toBe(true);
    expect(pkg.bin).toEqual({ 'express-simplejwt': './lib/cli/bin.cjs' });
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 express-simplejwt contributors\n/);
    expect(readFileSync(join(root, 'CHANGELOG.md'), 'utf8')).toContain('## [Unreleased]');
  });

  it('builds before packing, and has the package test', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
    expect(pkg.scripts['test:package']).toBe('bash scripts/test-package.sh');
    expect(statSync(join(root, 'scripts/test-package.sh')).mode & 0o111).not.toBe(0);
  });

  it('keeps express a peer and every other peer optional (npm would install a required one)', () => {
    expect(Object.keys(pkg.peerDependencies)).toContain('express');
    for (const name of Object.keys(pkg.peerDependencies).filter((n) => n !== 'express')) {
      expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
      expect(pkg.devDependencies[name]).toBeDefined(); // so the tests exercise it
      expect(pkg.dependencies[name]).toBeUndefined();
    }
  });

  it('asks for few runtime dependencies; what only one feature needs is an optional peer', () => {
    expect(Object.keys(pkg.dependencies).sort()).toEqual(['bcryptjs', 'busboy', 'express-rate-limit', 'jsonwebtoken']);
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['@node-rs/argon2', '@node-rs/bcrypt', 'better-sqlite3', 'express', 'jwks-rsa', 'pg', 'prom-client', 'rate-limit-redis']);
    // jwks-rsa 4 (jose 6, ES modules only) is current and allowed; 3.2 stays allowed, and is the one the tests run:
    // Jest loads ES modules through require() only on Node 24.9+. `npm run test:package` runs jwks-rsa 4.
    expect(pkg.peerDependencies['jwks-rsa']).toBe('^3.2.2 || ^4.1.0');
    expect(pkg.peerDependencies['rate-limit-redis']).toBe('^6.0.1');
  });

  it('says where the code, the home page and the issue tracker are', () => {
    const repo = 'https://github.com/express-simplejwt/express-simplejwt';
    expect(pkg.repository).toEqual({ type: 'git', url: `git+${repo}.git` });
    expect(pkg.homepage).toBe(`${repo}#readme`);
    expect(pkg.bugs).toEqual({ url: `${repo}/issues` });
  });

  it('supports the Node.js lines in support (22, 24, 26 on 2026-12-02) and keeps 20.19+, which this machine runs', () => {
    const range = pkg.engines.node as string;
    expect(range).toBe('^20.19.0 || ^22.12.0 || >=24');
    const satisfies = require('semver').satisfies as (version: string, range: string) => boolean;
    for (const version of ['20.19.0', '22.12.0', '24.0.0', '26.0.0', process.versions.node]) expect(satisfies(version, range)).toBe(true);
    // Below these, require() cannot load an ES module, which jwks-rsa 4 does (jose 6).
    for (const version of ['18.20.0', '20.18.3', '22.11.0', '23.11.0']) expect(satisfies(version, range)).toBe(false);
  });
});

describe('optional peers', () => {
  const OPTIONAL = ['@node-rs/argon2', 'better-sqlite3', 'ioredis', 'jwks-rsa', 'rate-limit-redis', 'busboy'];
  const absent = (name: string) => () => {
    throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
  };
  /** The kit, loaded afresh as if none of `OPTIONAL` were installed. */
  function kitWithout(): typeof import('../../lib') {
    let kit!: typeof import('../../lib');
    jest.isolateModules(() => {
      for (const name of OPTIONAL) jest.doMock(name, absent(name));
      kit = require('../../lib');
    });
    return kit;
  }
  afterEach(() => {
    for (const name of OPTIONAL) jest.dontMock(name);
  });

  it('are not loaded when the kit is (nor busboy, until a multipart body): it works without them until a feature needs one', async () => {
    const kit = kitWithout();
    expect(typeof kit.simpleJwt).toBe('function');
    expect(typeof kit.verifyDjangoPassword).toBe('function');
    const auth = kit.simpleJwt({ secret: SECRET, findUserById: () => null, warnings: false });
    await auth.close();
  });

  it('say which feature needs them and how to install them: jwks-rsa for "jwksUri"', () => {
    const kit = kitWithout();
    expect(() => kit.simpleJwt({ jwksUri: { uri: 'https://issuer.example/jwks.json', algorithms: ['RS256'] }, findUserById: () => null, warnings: false })).toThrow(
      '"jwksUri" needs the optional package jwks-rsa, which is not installed: npm install jwks-rsa',
    );
  });

  it('say which feature needs them and how to install them: rate-limit-redis for the login throttle over a RedisStore', async () => {
    const kit = kitWithout();
    const store = new kit.RedisStore({ sendCommand: () => Promise.reject(new Error('no Redis in this test')), purgeIntervalSeconds: 0 });
    const logger = { warn: () => undefined, error: () => undefined }; // the store's init fails here: no Redis
    const options = { secret: SECRET, findUserById: () => null, findUserByUsername: () => null, warnings: false, store, logger } as const;
    expect(() => kit.simpleJwt(options)).toThrow(
      'the login throttle over a RedisStore needs the optional package rate-limit-redis, which is not installed: npm install rate-limit-redis',
    );
    // Without the throttle, or with a limiter store of its own, the kit does not need it.
    await kit.simpleJwt({ ...options, loginThrottle: false }).close();
    await store.close();
  });
});
