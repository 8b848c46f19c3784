/**
 * Graceful shutdown, as a process manager does it: `npm start` as a real process tree, SIGTERM to the npm process
 * only. The request in flight completes, an idle keep-alive connection does not hold the exit, the whole process
 * group is gone within 5 s and nothing listens any more. And `auth.close()` is idempotent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeApp } from '../../helpers/app';

const ROOT = join(__dirname, '..', '..', '..');
const scratch = mkdtempSync(join(tmpdir(), 'sjwt-shutdown-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Whether any process of the group is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Starts `npm start` in its own process group; resolves with the port once the demo printed its banner. */
function npmStart(): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true, // its own process group: the test can see the whole tree
    env: {
      ...process.env,
      PORT: '0',
      JWT_SECRET: 'shutdown-test-secret-0123456789abcdef-0123456789abcdef',
      JWT_SECRET_FILE: '',
      JWT_LOGIN_THROTTLE: 'off',
      DEMO_DB: join(scratch, `demo-${Date.now()}.sqlite3`),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /demo on http:\/\/[\d.]+:(\d+)/.exec(out);
      if (match && out.includes('jwks.json')) resolve({ child, port: Number(match[1]), output: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${out}`)));
  });
}

describe('npm start, then SIGTERM to npm', () => {
  let started: Awaited<ReturnType<typeof npmStart>> | undefined;

  afterAll(() => {
    // Only if the test failed half-way: end what it started, by process group.
    if (started?.child.pid && groupAlive(started.child.pid)) process.kill(-started.child.pid, 'SIGKILL');
  });

  it('finishes the request in flight, then the whole process tree exits within 5 s and the port is closed', async () => {
    started = await npmStart();
    const { child, port } = started;
    const pgid = child.pid!;

    // An idle keep-alive connection (it must not hold the shutdown).
    const idle: Socket = createConnection({ host: '127.0.0.1', port });
    idle.on('error', () => undefined);
    await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
    idle.write('GET /hello/ HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((resolve) => idle.once('data', resolve));

    // A login whose body is still arriving: in flight when the signal comes.
    const body = JSON.stringify({ username: 'vitor', password: '123' });
    let sigterm = 0;
    let acceptedDuringShutdown: boolean | undefined;
    const answer = new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port, method: 'POST', path: '/api/token/', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res: IncomingMessage) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 10));
      setTimeout(() => {
        sigterm = Date.now();
        process.kill(pgid, 'SIGTERM'); // npm only, as a process manager would
        // New connections are refused while the login still runs; then the rest of the body arrives.
        setTimeout(() => {
          void connects(port).then((accepted) => {
            acceptedDuringShutdown = accepted;
            req.end(body.slice(10));
          });
        }, 1000);
      }, 300);
    });

    const result = await answer;
    expect(acceptedDuringShutdown).toBe(false);
    expect(result.status).toBe(200);
    expect(typeof result.json.access).toBe('string');
    expect(typeof result.json.refresh).toBe('string');

    while (groupAlive(pgid) && Date.now() - sigterm < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
    const elapsed = Date.now() - sigterm;
    expect(groupAlive(pgid)).toBe(false);
    expect(elapsed).toBeLessThan(5000);
    expect(await connects(port)).toBe(false);
    expect(started.output()).toContain('demo-app: SIGTERM, finishing the requests in flight');
    expect(child.exitCode).toBe(0);
    idle.destroy();
  }, 60_000);
});

describe('auth.close()', () => {
  it('is idempotent: every call returns the first call\'s promise, and it resolves', async () => {
    const { auth } = makeApp({ loginThrottle: '10/15m', passwordHashing: { threads: 1 } });
    const first = auth.close();
    expect(auth.close()).toBe(first);
    await expect(first).resolves.toBeUndefined();
    await expect(auth.close()).resolves.toBeUndefined();
  });
});
