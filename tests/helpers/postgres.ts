/**
 * A throwaway PostgreSQL server for tests: Debian's `postgresql` binaries, `initdb` into a temp dir, `pg_ctl start`
 * on a free port with its unix socket in that dir (as user `postgres` when the tests run as root), trust
 * authentication for user `postgres`. `down()`/`up()` stop and start the same cluster (its data kept) for outage
 * and restart tests; `stop()` ends the server by its PID and removes the dir.
 *
 * @example
 * const pg = usePostgres(); // beforeAll starts it, afterAll stops it
 * it('...', async () => { const pool = pg.server().pool(); ... });
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, type PoolConfig } from 'pg';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly connectionString: string;
  /** A new pool on the server (fails fast while it is down; idle-client errors ignored), ended by `stop()`. */
  pool(config?: PoolConfig): Pool;
  /** A new empty database; answers its connection string. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: clients are disconnected), keeping its data: an outage. */
  down(): Promise<void>;
  /** Starts it again on the same port after `down()`, with its data. */
  up(): Promise<void>;
  /** SIGSTOP to the server and every backend: connections stay open but nothing answers (a hung server). */
  freeze(): void;
  /** SIGCONT after `freeze()`. */
  thaw(): void;
  /** Stops the server, ends the pools and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** The ports this project's PostgreSQL test servers use (`SJWT_PG_PORTS=53000-53999` picks others). */
const PORT_RANGE = (process.env.SJWT_PG_PORTS ?? '50000-50999').split('-').map(Number) as [number, number];

/** The newest installed PostgreSQL's bin directory. */
export function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL not found in /usr/lib/postgresql; install it (apt-get install postgresql)');
  return join(root, versions[0], 'bin');
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A free port in this project's range (for PostgreSQL, and servers tests start next to it). */
export async function freePortInRange(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = PORT_RANGE[0] + Math.floor(Math.random() * (PORT_RANGE[1] - PORT_RANGE[0] + 1));
    if (await portFree(port)) return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.join('-')}`);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL program, as user postgres when we are root (the server refuses to run as root). */
function run(program: string, args: string[]): Promise<string> {
  const [file, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${program} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every postmaster this process started and has not stopped yet, killed if the process exits abruptly. */
const running = new Set<number>();
let exitHook = false;
function trackPid(pid: number): void {
  running.add(pid);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const p of running) {
      try {
        process.kill(p, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
  });
}

/** Initialises a cluster in a temp dir and starts it on a free port in the project's range. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'sjwt-pg-'));
  const data = join(dir, 'data');
  if (isRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);

  let port = 0;
  let pid: number | undefined;
  const pools: Pool[] = [];

  async function launch(): Promise<void> {
    // Durability settings off: a clean shutdown still writes everything, which is all restart tests need.
    const settings = [
      `-p ${port}`,
      `-k ${dir}`,
      `-c listen_addresses=${HOST}`,
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
      '-c shared_buffers=32MB',
    ].join(' ');
    await run(join(bin, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', data, '-l', join(dir, 'server.log'), '-o', settings]);
    pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    trackPid(pid);
  }

  async function halt(): Promise<void> {
    signalAll('SIGCONT');
    const target = pid;
    pid = undefined;
    if (target === undefined) return;
    process.kill(target, 'SIGINT'); // fast shutdown: disconnect clients, write a checkpoint
    const deadline = Date.now() + 30_000;
    while (alive(target)) {
      if (Date.now() > deadline) process.kill(target, 'SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    running.delete(target);
  }

  /** Signals the postmaster and its children (the backends), each by PID. */
  function signalAll(signal: NodeJS.Signals): void {
    if (pid === undefined) return;
    const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
    for (const target of [pid, ...children]) {
      try {
        process.kill(target, signal);
      } catch {
        // exited meanwhile
      }
    }
  }

  for (let attempt = 0; ; attempt += 1) {
    port = await freePortInRange();
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 3) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  const connectionString = `postgres://postgres@${HOST}:${port}/postgres`;
  const server: PostgresServer = {
    host: HOST,
    get port() {
      return port;
    },
    connectionString,
    pool(config = {}) {
      const pool = new Pool({ connectionString, connectionTimeoutMillis: 2000, ...config });
      pool.on('error', () => undefined);
      pools.push(pool);
      return pool;
    },
    async createDatabase(name) {
      const admin = new Pool({ connectionString, max: 1 });
      admin.on('error', () => undefined);
      try {
        await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres@${HOST}:${port}/${encodeURIComponent(name)}`;
    },
    down: halt,
    up: launch,
    freeze() {
      signalAll('SIGSTOP');
    },
    thaw() {
      signalAll('SIGCONT');
    },
    async stop() {
      for (const pool of pools.splice(0)) await pool.end().catch(() => undefined);
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * Registers `beforeAll`/`afterAll` for the calling file or `describe`: one server for all its tests.
 *
 * @example
 * const pg = usePostgres();
 * const pool = pg.server().pool();
 */
export function usePostgres(): { server(): PostgresServer } {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  }, 60_000);
  return {
    server() {
      if (!server) throw new Error('usePostgres(): the server is not started yet (use it inside a test or hook)');
      return server;
    },
  };
}
