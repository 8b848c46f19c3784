/**
 * `npm start` runs the demo compiled: scripts/build-demo.mjs bundles it when a source is newer than the bundle and
 * does nothing otherwise; `npm start` then execs node on the bundle (tests/http/demo/shutdown.test.ts drives that end to end).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');
const BUNDLE = join(ROOT, 'demo-app/dist/server.js');

function build(): string {
  return execFileSync(process.execPath, ['scripts/build-demo.mjs'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('npm start', () => {
  it('builds, then execs node on the bundle (signals reach the demo, not a shell or tsx)', () => {
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.start).toBe('node scripts/build-demo.mjs && exec node demo-app/dist/server.js');
  });
});

describe('scripts/build-demo.mjs', () => {
  it('rebuilds a bundle older than its sources, and leaves an up-to-date one alone', () => {
    build();
    const old = new Date(Date.now() - 3600_000);
    utimesSync(BUNDLE, old, old); // older than every source: stale
    build();
    const rebuilt = statSync(BUNDLE).mtimeMs;
    expect(rebuilt).toBeGreaterThan(old.getTime() + 1000);

    build();
    expect(statSync(BUNDLE).mtimeMs).toBe(rebuilt);
  });

  it('is the kit and the demo in one file that finds public/ next to the sources', () => {
    build();
    const bundle = readFileSync(BUNDLE, 'utf8');
    expect(bundle).toContain("const __demoDir = require('node:path').dirname(__dirname);");
    expect(bundle).toContain('__demoDir, "public"');
    expect(bundle).not.toMatch(/require\("\.\.?\//); // no relative require: lib/ is inside
  });
});
