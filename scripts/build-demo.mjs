// `npm start` runs the demo compiled: this bundles demo-app/server.ts and the kit's sources it imports (lib/) into
// demo-app/dist/server.js with esbuild (which tsx brings), packages left to node_modules, unless the bundle is
// newer than every source it was built from (esbuild's metafile lists them), so a start with nothing changed
// costs a few stat calls. `npm start` then execs node on the bundle, so signals reach the demo itself.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'demo-app/dist/server.js');
const metafile = join(root, 'demo-app/dist/meta.json');

/** Whether the bundle exists and is newer than this script and every input of its last build. */
function upToDate() {
  let built;
  try {
    built = statSync(outfile).mtimeMs;
    const inputs = Object.keys(JSON.parse(readFileSync(metafile, 'utf8')).inputs);
    return [fileURLToPath(import.meta.url), ...inputs.map((input) => join(root, input))].every((file) => statSync(file).mtimeMs <= built);
  } catch {
    return false; // no bundle yet, or an input was removed
  }
}

if (!upToDate()) {
  const started = Date.now();
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['demo-app/server.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    write: false,
    logLevel: 'warning',
    // The demo finds its files (public/, the default demo.sqlite3) next to its sources, one folder up from the bundle.
    define: { __dirname: '__demoDir' },
    banner: { js: "const __demoDir = require('node:path').dirname(__dirname);" },
  });
  // Each file written aside, then renamed over the old one: a demo starting meanwhile reads a whole bundle.
  const replace = (file, contents) => {
    writeFileSync(`${file}.${process.pid}.tmp`, contents);
    renameSync(`${file}.${process.pid}.tmp`, file);
  };
  mkdirSync(dirname(outfile), { recursive: true });
  for (const file of result.outputFiles) replace(file.path, file.contents);
  replace(metafile, JSON.stringify(result.metafile));
  console.error(`built demo-app/dist/server.js in ${Date.now() - started} ms`);
}
