import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
    for (const condition of [...Object.values(pkg.exports['.']), ...Object.values(pkg.exports['./testing'])] as Record<string, string>[]) {
      expect(Object.keys(condition)[0]).toBe('types');
    }
    expect(pkg).toMatchObject({ type: 'commonjs', main: './dist/cjs/index.js', types: './dist/cjs/index.d.ts', sideEffects: false });
  });

  it('ships only dist and the documents, and the documents exist', () => {
    expect(pkg.files).toEqual(['dist', 'README.md', 'LICENSE', 'CHANGELOG.md', 'SECURITY.md', 'docs']);
    for (const file of pkg.files.slice(1)) expect(existsSync(join(root, file))).toBe(true);
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
    }
  });
});

describe('optional peers', () => {
  it('are not loaded when the kit is: it works without them until a feature needs one', () => {
    jest.isolateModules(() => {
      const absent = (name: string) => () => {
        throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
      };
      jest.doMock('@node-rs/argon2', absent('@node-rs/argon2'));
      jest.doMock('better-sqlite3', absent('better-sqlite3'));
      const kit = require('../../lib') as typeof import('../../lib');
      expect(typeof kit.simpleJwt).toBe('function');
      expect(typeof kit.verifyDjangoPassword).toBe('function');
    });
    jest.dontMock('@node-rs/argon2');
    jest.dontMock('better-sqlite3');
  });
});
