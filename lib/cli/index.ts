#!/usr/bin/env node
/**
 * The `express-simplejwt` command: `generate-secret`, `generate-keys`, `inspect`, `flush-expired`. Each
 * subcommand lives in `commands/` and is listed in `commands/index.ts`. `bin.cjs` starts it.
 */
import { main } from './main';

// `express-simplejwt generate-keys --alg ES256 | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Every command closes what it opened, so the process ends here. Should a driver leave a socket or timer
  // behind, it still ends within a second: a CLI never hangs. (An unref'd timer fires only if something else
  // keeps the process alive.)
  setTimeout(() => process.exit(code), 1000).unref();
});
