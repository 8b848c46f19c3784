/**
 * A throwaway redis-server for tests: a free port, no persistence (`--save '' --appendonly no`), a temp working
 * dir. `start()` resolves once PING answers PONG; `stop()` always ends the process (SIGTERM, then SIGKILL);
 * `restart()` stops and starts it on the same port (an empty server, for outage tests).
 *
 * @example
 * let server: RedisServer;
 * beforeAll(async () => { server = await startRedisServer(); });
 * afterAll(() => server.stop());
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** Stops and starts the server on the same port; its data is gone. */
  restart(): Promise<void>;
  /** Stops the server process, keeping the port for `up()`: an outage. */
  down(): Promise<void>;
  /** Starts it again on the same port after `down()` (empty: it keeps no data). */
  up(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing (a hung store). */
  freeze(): void;
  /** SIGCONT after `freeze()`. */
  thaw(): void;
  /** Stops the server and removes its directory. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** redis-server on PATH or in /usr/bin, waiting up to `waitMs` for a package install to finish. */
async function findRedisServer(waitMs = 120_000): Promise<string> {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'redis-server')), '/usr/bin/redis-server'];
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found = candidates.find((path) => path !== 'redis-server' && existsSync(path));
    if (found) return found;
    if (Date.now() > deadline) throw new Error('redis-server not found; install it (apt-get install redis-server)');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket; true on PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a private redis-server and waits until it answers. */
export async function startRedisServer(): Promise<RedisServer> {
  const binary = await findRedisServer();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sjwt-redis-'));
  let child: ChildProcess | undefined;
  let output = '';

  async function launch(): Promise<void> {
    output = '';
    const proc = spawn(
      binary,
      ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const remember = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-2000);
    };
    proc.stdout?.on('data', remember);
    proc.stderr?.on('data', remember);
    const deadline = Date.now() + 15_000;
    while (!(await ping(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        await exited(proc);
        throw new Error(`redis-server did not answer PING on port ${port}:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function halt(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc) return;
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited(proc);
    clearTimeout(timer);
  }

  await launch();
  return {
    host: HOST,
    port,
    async restart() {
      await halt();
      await launch();
    },
    down: halt,
    up: launch,
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
