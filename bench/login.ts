/**
 * Login throughput, `POST /api/token/` at bcrypt cost 10: the kit (its default hashing pool, and bcryptjs forced)
 * against Django + djangorestframework-simplejwt under gunicorn with 2 sync workers (Debian's packages, the
 * project of tests/fixtures/django on a throwaway PostgreSQL, the same user at the same cost), measured in turn in
 * alternating rounds so that other work on the machine weighs on them alike. Then `/hello/` p99 on the kit's
 * default server, idle and while a login storm runs against the same process, alternating too.
 *
 * `measureLogin()` returns the rows (bench/run.ts calls it); alone: `npx tsx bench/login.ts [--quick] [--compare]`.
 * Needs /usr/bin/python3 with Django, simplejwt, psycopg2 and bcrypt, gunicorn, and PostgreSQL
 * (`node scripts/provision.mjs` plus `apt-get install gunicorn`); without them the Django row is left out, saying why.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { BENCH_USER } from './shared';
import { freePortInRange, startPostgres, type PostgresServer } from '../tests/helpers/postgres';

export interface LoginBenchOptions {
  /** Alternating rounds. Default 4. */
  rounds?: number;
  /** Seconds of warm-up (every round) and of measurement per server and round. Default 1 and 5. */
  warmup?: number;
  duration?: number;
  /** Connections of the login load. Default 8. */
  connections?: number;
  /** Logins per server and round (a fixed count, see `measure()`). Default 40. */
  logins?: number;
  /** bcrypt cost of the user's hash and of the kit's `bcryptRounds`. Default 10. */
  cost?: number;
  /** The compiled bench server (bench/run.ts's build); default: bench/servers/hello.ts under tsx. */
  serverScript?: string;
  /** Extra kit variants to measure (label → `BENCH_KIT_OPTIONS`), e.g. `{ 'no workers': { passwordHashing: { threads: 0 } } }`. */
  variants?: Record<string, object>;
}

export interface LoginRow {
  label: string;
  /** Medians over the rounds. */
  reqPerSec: number;
  p50: number;
  p99: number;
  /** Server CPU (every thread; for Django gunicorn's master and workers, not PostgreSQL) per answered request. */
  cpuMicrosPerRequest: number | undefined;
  /** Lowest and highest req/s of the rounds. */
  range: [number, number];
  /** Median of the per-round ratios to the first row (the kit's default). */
  ratio?: number;
  note?: string;
}

interface Measured {
  reqPerSec: number;
  p50: number;
  p99: number;
  cpuMicros: number | undefined;
  bad: number;
}

interface Server {
  label: string;
  url: string;
  cpu: () => Promise<number | undefined>;
  stop: () => Promise<void>;
}

const ROOT = path.join(__dirname, '..');
const SECRET = randomBytes(48).toString('base64url');
const BODY = JSON.stringify({ username: BENCH_USER.username, password: BENCH_USER.password });
const PYTHON = '/usr/bin/python3';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Stops a child by its PID: SIGTERM, then SIGKILL after 2 s. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** The kit's bench server (bench/servers/hello.ts, kind `ours`) with these kit options. */
async function startOurs(label: string, kitOptions: object, options: Required<Pick<LoginBenchOptions, 'cost'>> & LoginBenchOptions): Promise<Server> {
  const argv = options.serverScript ? [options.serverScript] : ['--import', 'tsx', path.join(__dirname, 'servers', 'hello.ts')];
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: {
      ...process.env,
      BENCH_KIND: 'ours',
      BENCH_SECRET: SECRET,
      BENCH_BCRYPT_ROUNDS: String(options.cost),
      BENCH_KIT_OPTIONS: JSON.stringify(kitOptions),
      NODE_PATH: path.join(ROOT, 'node_modules'),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const answers: ((micros: number) => void)[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label}: the server did not start within 60 s`)), 60_000);
    lines.on('line', (line) => {
      const listening = /^listening (\d+)$/.exec(line);
      const cpu = /^cpu (\d+)$/.exec(line);
      if (listening) {
        clearTimeout(timer);
        resolve(Number(listening[1]));
      } else if (cpu) answers.shift()?.(Number(cpu[1]));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${label}: the server exited with code ${code} before listening`));
    });
  });
  return {
    label,
    url: `http://127.0.0.1:${port}`,
    cpu: () =>
      new Promise((resolve) => {
        answers.push(resolve);
        child.stdin!.write('cpu\n');
      }),
    stop: () => stopChild(child),
  };
}

/** CPU microseconds a process and its children (gunicorn's workers) have used, from /proc. */
function treeCpuMicros(pid: number): number {
  const ticks = 1_000_000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
  const own = (p: number): number => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * ticks; // utime, stime
    } catch {
      return 0;
    }
  };
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no such process any more
  }
  return own(pid) + children.reduce((sum, child) => sum + own(child), 0);
}

/** Why the Django row cannot run here, or undefined when it can. */
function djangoMissing(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import django, rest_framework_simplejwt, psycopg2, bcrypt, gunicorn'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'Django, djangorestframework-simplejwt, psycopg2, bcrypt or gunicorn missing (apt-get install python3-djangorestframework-simplejwt python3-psycopg2 python3-bcrypt gunicorn)';
  return undefined;
}

/** Django + simplejwt under gunicorn (2 sync workers), on a throwaway PostgreSQL. */
async function startDjango(cost: number): Promise<Server> {
  const pg: PostgresServer = await startPostgres();
  const env = {
    ...process.env,
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGDATABASE: 'postgres',
    PGUSER: 'postgres',
    SIGNING_KEY: SECRET,
    BENCH_USERNAME: BENCH_USER.username,
    BENCH_PASSWORD: BENCH_USER.password,
    BENCH_BCRYPT_ROUNDS: String(cost),
  };
  const dir = path.join(__dirname, 'servers');
  const setup = spawnSync(PYTHON, ['django_login.py', 'setup'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
  if (setup.status !== 0) {
    await pg.stop();
    throw new Error(`Django setup failed: ${setup.stderr}`);
  }
  const port = await freePortInRange();
  const child = spawn(PYTHON, ['-m', 'gunicorn', '-w', '2', '-b', `127.0.0.1:${port}`, '--log-level', 'warning', 'django_login:application'], {
    cwd: dir,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error('gunicorn exited before listening');
    try {
      await fetch(`${url}/hello/`);
      break;
    } catch {
      if (Date.now() - started > 60_000) throw new Error('gunicorn did not listen within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    label: 'Django + simplejwt, gunicorn 2 workers',
    url,
    cpu: async () => treeCpuMicros(child.pid!),
    stop: async () => {
      await stopChild(child);
      await pg.stop();
    },
  };
}

type Load = Pick<autocannon.Options, 'method' | 'headers' | 'body'> & { path: string };

const LOGIN: Load = { path: '/api/token/', method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY };

async function access(url: string): Promise<string> {
  const res = await fetch(`${url}/api/token/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY });
  if (res.status !== 200) throw new Error(`login on ${url} answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access: string }).access;
}

/** A run of `load`: for `length` seconds, or of `length` requests when `counted` (autocannon waits for every answer). */
function cannon(url: string, load: Load, connections: number, length: number, counted = false): Promise<autocannon.Result> {
  const until = counted ? { amount: length } : { duration: length };
  return autocannon({ url: url + load.path, method: load.method ?? 'GET', headers: load.headers, body: load.body, connections, ...until, timeout: 60 });
}

/**
 * One measurement of `load` on `server`, after a warm-up; CPU over the measured part only. With `amount`, a fixed
 * number of requests instead of `duration` seconds: every one answered before the CPU is read, so no work queued
 * in the server spills into the next measurement (logins take tens of milliseconds each).
 */
async function measure(server: Server, load: Load, connections: number, warmup: number, duration: number, amount?: number): Promise<Measured> {
  if (amount !== undefined) await cannon(server.url, load, connections, connections, true);
  else if (warmup > 0) await cannon(server.url, load, connections, warmup);
  const before = await server.cpu();
  const started = process.hrtime.bigint();
  const result = await cannon(server.url, load, connections, amount ?? duration, amount !== undefined);
  const elapsed = amount === undefined ? duration : Number(process.hrtime.bigint() - started) / 1e9;
  const after = await server.cpu();
  const ok = result['2xx'];
  return {
    reqPerSec: ok / elapsed,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMicros: before === undefined || after === undefined || ok === 0 ? undefined : (after - before) / ok,
    bad: result.non2xx + result.errors + result.timeouts,
  };
}

function row(label: string, runs: Measured[], base?: Measured[]): LoginRow {
  const cpu = runs.map((r) => r.cpuMicros).filter((c): c is number => c !== undefined);
  const rates = runs.map((r) => r.reqPerSec);
  const bad = runs.reduce((sum, r) => sum + r.bad, 0);
  return {
    label,
    reqPerSec: median(rates),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuMicrosPerRequest: cpu.length ? median(cpu) : undefined,
    range: [Math.min(...rates), Math.max(...rates)],
    ...(base ? { ratio: median(runs.map((r, i) => r.reqPerSec / base[i]!.reqPerSec)) } : {}),
    ...(bad ? { note: `${bad} non-2xx, errors or timeouts` } : {}),
  };
}

/**
 * Runs the login rows and the `/hello/` p99 rows. Servers start once and are measured in turn every round.
 *
 * @example
 * const rows = await measureLogin({ rounds: 2, duration: 2 });
 * console.table(rows);
 */
export async function measureLogin(options: LoginBenchOptions = {}): Promise<LoginRow[]> {
  const { rounds = 4, warmup = 1, duration = 5, connections = 8, cost = 10, logins: count = 40 } = options;
  const all = { ...options, cost };
  const servers: Server[] = [];
  const skipped: LoginRow[] = [];
  try {
    servers.push(await startOurs(`express-simplejwt, default (${os.availableParallelism()} cores)`, {}, all));
    servers.push(await startOurs('express-simplejwt, bcryptjs forced', { passwordHashing: { bcrypt: 'bcryptjs' } }, all));
    for (const [label, kit] of Object.entries(options.variants ?? {})) servers.push(await startOurs(`express-simplejwt, ${label}`, kit, all));
    const missing = djangoMissing();
    if (missing) skipped.push({ label: 'Django + simplejwt, gunicorn 2 workers', reqPerSec: NaN, p50: NaN, p99: NaN, cpuMicrosPerRequest: undefined, range: [NaN, NaN], note: `not run: ${missing}` });
    else servers.push(await startDjango(cost));

    const ours = servers[0]!;
    const logins = servers.map((): Measured[] => []);
    const idle: Measured[] = [];
    const stormed: Measured[] = [];
    const storms: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round: whoever goes first after a pause is not always the same server.
      for (let k = 0; k < servers.length; k++) {
        const i = (round + k) % servers.length;
        logins[i]!.push(await measure(servers[i]!, LOGIN, connections, warmup, duration, count));
      }
      // A fresh access token each round: the rounds can outlast its 5 minutes.
      const hello: Load = { path: '/hello/', headers: { authorization: `Bearer ${await access(ours.url)}` } };
      const storm = measure(ours, LOGIN, connections, 0, duration + 1);
      await new Promise((resolve) => setTimeout(resolve, 500)); // the storm is on
      stormed.push(await measure(ours, hello, connections, 0, duration));
      storms.push(await storm);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the storm's queue drains
      idle.push(await measure(ours, hello, connections, 0.5, duration));
    }
    const p99Ratio = median(stormed.map((r, i) => r.p99 / idle[i]!.p99));
    return [
      ...servers.map((server, i) => row(`POST /api/token/, ${server.label}`, logins[i]!, logins[0])),
      ...skipped,
      row('/hello/ idle, default server', idle),
      { ...row(`/hello/ during a login storm (${connections} connections), same server`, stormed, idle), note: `p99 ${p99Ratio.toFixed(2)}× idle (median of rounds)` },
      row('└ POST /api/token/ meanwhile', storms),
    ];
  } finally {
    for (const server of servers) await server.stop();
  }
}

/** Markdown table of the rows. */
export function loginMarkdown(rows: readonly LoginRow[]): string {
  const n = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
  const lines = [
    '| Row | req/s (range) | vs first | p50 ms | p99 ms | CPU µs/req | |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${n(r.reqPerSec, 1)} (${n(r.range[0], 1)}–${n(r.range[1], 1)}) | ${r.ratio === undefined ? '' : r.ratio.toFixed(2)} | ${n(r.p50)} | ${n(r.p99)} | ${r.cpuMicrosPerRequest === undefined ? '' : n(r.cpuMicrosPerRequest)} | ${r.note ?? ''} |`,
    ),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const load = os.loadavg();
  // `--compare`: also the default before this change (one worker on two cores, bcryptjs), native bcrypt without
  // workers (libuv's threads), and workers at nice 10.
  const variants = process.argv.includes('--compare')
    ? {
        'one bcryptjs worker (the old default)': { passwordHashing: { threads: 1, bcrypt: 'bcryptjs' } },
        "native, no workers (libuv's threads)": { passwordHashing: { threads: 0 } },
        'workers at nice 10': { passwordHashing: { nice: 10 } },
      }
    : undefined;
  measureLogin({ ...(quick ? { rounds: 1, warmup: 0.5, duration: 1.5, logins: 8 } : {}), variants })
    .then((rows) => {
      console.log(`Load average at start: ${load.map((l) => l.toFixed(2)).join(' / ')}; at end: ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
      console.log(loginMarkdown(rows));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}

/**
 * The rows `npm run bench` prints and writes (bench/run.ts calls this): quick mode is a smoke run of one short
 * round; the full run is 4 rounds of 40 logins per server.
 */
export async function rows(context: { quick: boolean }): Promise<({ label: string } & Record<string, number | string>)[]> {
  const measured = await measureLogin(context.quick ? { rounds: 1, warmup: 0.5, duration: 1.5, logins: 8 } : {});
  return measured.map((r) => ({
    label: r.label,
    'req/s': r.reqPerSec,
    'range req/s': `${r.range[0].toFixed(1)}–${r.range[1].toFixed(1)}`,
    'vs first': r.ratio ?? '',
    'p99 ms': r.p99,
    'CPU µs/req': r.cpuMicrosPerRequest ?? '',
    note: r.note ?? '',
  }));
}
