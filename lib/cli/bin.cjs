#!/usr/bin/env node
// The `express-simplejwt` command (package.json "bin"). Installed from npm, the package has the built CLI
// (dist/cjs/cli/index.js) and no TypeScript source: that runs. In a checkout of the repository the source is
// the truth, so `npx express-simplejwt ...` runs lib/cli/index.ts through tsx (a dev dependency), with no build
// step and no stale dist/ to trip over.
/* global require, __dirname, process */
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const source = join(__dirname, 'index.ts');
const built = join(__dirname, '..', '..', 'dist', 'cjs', 'cli', 'index.js');

function tsxRegister() {
  try {
    return require('tsx/cjs/api').register;
  } catch {
    return undefined; // a checkout installed without dev dependencies: use the build
  }
}

const register = existsSync(source) ? tsxRegister() : undefined;
if (register) {
  register();
  require(source);
} else if (existsSync(built)) {
  require(built);
} else {
  process.stderr.write('express-simplejwt: the CLI is not built: run "npm install" (for tsx) or "npm run build" in the repository\n');
  process.exitCode = 1;
}
