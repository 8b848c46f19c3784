import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'sjwt-demo-'));

/** A running demo process. */
export interface Demo {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** Everything it printed so far. */
  output: () => string;
  /** SIGTERM, resolved when it exited. */
  stop: () => Promise<void>;
}

/**
 * Starts the demo from its sources (`node --import tsx demo-app/server.ts`; `npm start` runs the same code bundled, as
 * tests/http/demo/shutdown.test.ts and tests/http/demo/build.test.ts check), on a free port, with its own SQLite file
 * (`DEMO_DB` in a temp directory) unless the test sets one. Empty env values unset what the runner's own
 * environment may hold (`JWT_SECRET`, ...). Rejects with the demo's output when it exits before listening.
 */
export function startDemo(args: string[], env: Record<string, string>): Promise<Demo> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo-app/server.ts', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      JWT_SECRET: '',
      JWT_SECRET_FILE: '',
      DEMO_DB: join(scratch, `demo-${process.pid}-${Math.random().toString(36).slice(2)}.sqlite3`),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /demo on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match && out.includes('jwks.json')) {
        resolve({
          child,
          base: match[1]!,
          output: () => out,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`demo exited with ${code}: ${out}`)));
  });
}
