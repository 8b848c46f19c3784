import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { simpleJwt } from '../../lib';
import { openApiDocument } from '../../lib/openapi';
import { SECRET } from '../helpers/app';

const root = join(__dirname, '..', '..');

/** The files of the kit a fresh Node process has loaded after running `code` (relative to the repository). */
function loadedAfter(code: string): string[] {
  const script = `${code}; console.log(JSON.stringify(Object.keys(require.cache).filter((f) => f.startsWith(process.cwd() + '/lib/')).map((f) => f.slice(process.cwd().length + 1))))`;
  const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as string[];
}

describe('express-simplejwt/openapi is an entry point of its own', () => {
  it('requiring the main entry point does not load the OpenAPI generator; requiring the subpath does', () => {
    const main = loadedAfter("require('./lib')");
    expect(main).toContain('lib/http/router.ts');
    expect(main).toContain('lib/http/routes.ts');
    expect(main.filter((file) => file.includes('openapi'))).toEqual([]);
    expect(loadedAfter("require('./lib'); require('./lib/openapi')").filter((file) => file.includes('openapi')).sort()).toEqual(['lib/http/openapi.ts', 'lib/openapi.ts']);
  });

  it('openApiDocument() takes the kit, which keeps its configuration out of sight (no key, nothing in JSON)', async () => {
    const auth = simpleJwt({ secret: SECRET, findUserById: () => null, findUserByUsername: () => null, warnings: false });
    expect(Object.keys(auth)).not.toContain('openapi');
    expect(Object.getOwnPropertySymbols({ ...auth })).toEqual([]);
    expect(openApiDocument(auth).openapi).toBe('3.1.0');
    expect(() => openApiDocument({} as never)).toThrow(new TypeError('openApiDocument() takes the kit simpleJwt() returned: openApiDocument(auth, options)'));
    expect(() => openApiDocument(undefined as never)).toThrow(TypeError);
    await auth.close();
  });
});
