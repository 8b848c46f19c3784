// Builds dist/cjs with tsc, then a thin ESM entry that re-exports the CommonJS build by name, so `import` and
// `require` share one module instance (no dual-package hazard) and named imports work in Node's ESM.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
writeFileSync(join(dist, 'cjs/package.json'), '{ "type": "commonjs" }\n');

const require = createRequire(import.meta.url);
mkdirSync(join(dist, 'esm'), { recursive: true });
// Each entry point: `express-simplejwt` (index), `express-simplejwt/testing` and `express-simplejwt/openapi`.
for (const [name, cjsPath] of [['index', 'index.js'], ['testing', 'testing/index.js'], ['openapi', 'openapi.js']]) {
  const names = Object.keys(require(join(dist, 'cjs', cjsPath))).filter((n) => n !== 'default' && n !== '__esModule');
  writeFileSync(
    join(dist, `esm/${name}.mjs`),
    `import cjs from '../cjs/${cjsPath}';\n\nexport const {\n${names.map((n) => `  ${n},`).join('\n')}\n} = cjs;\n`,
  );
  writeFileSync(join(dist, `esm/${name}.d.mts`), `export * from '../cjs/${cjsPath}';\n`);
  console.log(`built dist/cjs/${cjsPath} and dist/esm/${name}.mjs (${names.length} exports)`);
}
