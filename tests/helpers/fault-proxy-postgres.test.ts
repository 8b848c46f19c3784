/**
 * The fault proxy's PostgreSQL framing against a real PostgreSQL server, driven with psql: a query whose reply is
 * dropped still runs on the server, the client sees the connection break, and the next one goes through.
 * Skipped when initdb/postgres/psql are not installed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

const BIN = ['/usr/local/bin', '/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((dir) =>
  existsSync(join(dir, 'initdb')),
);
const PSQL = ['/usr/bin/psql', '/usr/local/bin/psql'].find((path) => existsSync(path));
const maybe = BIN && PSQL ? describe : describe.skip;

/** PostgreSQL refuses to run as root: run its programs as the `postgres` user when we are root. */
function postgresUser(): { uid: number; gid: number } | Record<string, never> {
  if (userInfo().uid !== 0) return {};
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('postgres:'));
  if (!line) return { uid: 65534, gid: 65534 };
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}
const asUser = postgresUser();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function run(file: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 20_000, ...asUser }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

maybe('fault proxy, PostgreSQL framing (real postgres)', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess | undefined;
  let proxy: FaultProxy;

  const psql = (p: number, sql: string) =>
    run(PSQL!, ['-h', '127.0.0.1', '-p', String(p), '-U', 'postgres', '-d', 'postgres', '-Atc', sql], { PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '5' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sjwt-pg-'));
    if ('uid' in asUser) chownSync(dir, asUser.uid, asUser.gid);
    const init = await run(join(BIN!, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '-A', 'trust', '--no-sync']);
    if (init.code !== 0) throw new Error(init.out);
    port = await freePort();
    server = spawn(join(BIN!, 'postgres'), ['-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], {
      stdio: 'ignore',
      ...asUser,
    });
    const deadline = Date.now() + 20_000;
    while ((await psql(port, 'select 1')).code !== 0) {
      if (Date.now() > deadline) throw new Error('postgres did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    proxy = await startFaultProxy({ port, protocol: 'postgres' });
  }, 60_000);

  afterAll(async () => {
    await proxy?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGINT'); // fast shutdown
      const timer = setTimeout(() => server!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes queries through and counts one request per query (the start-up is not counted)', async () => {
    const before = proxy.requests;
    expect(await psql(proxy.port, 'select 40 + 2')).toEqual({ code: 0, out: '42\n' });
    expect(proxy.requests - before).toBe(1);
  });

  it('dropReplyOf(1): the statement runs, psql sees the server close, the next connection works', async () => {
    const dropped = proxy.dropReplyOf(1);
    const lost = await psql(proxy.port, 'create table lost_reply (id int)');
    expect(lost.code).not.toBe(0);
    expect(lost.out).toMatch(/server closed the connection unexpectedly|connection to server .* lost|no connection to the server/);
    expect(await dropped).toBe('Q');
    expect((await psql(port, "select count(*) from pg_tables where tablename = 'lost_reply'")).out).toBe('1\n');
    expect((await psql(proxy.port, 'select 1')).out).toBe('1\n');
  });

  it('stall() then heal(): the query waits, then completes', async () => {
    proxy.stall();
    const pending = psql(proxy.port, 'select 7');
    const early = await Promise.race([pending.then(() => 'done'), new Promise((resolve) => setTimeout(() => resolve('pending'), 400))]);
    expect(early).toBe('pending');
    proxy.heal();
    expect(await pending).toEqual({ code: 0, out: '7\n' });
  });
});
