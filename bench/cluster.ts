/**
 * The demo as shipped (`npm start`'s compiled bundle) on one process against two (`WEB_CONCURRENCY=2`, node:cluster),
 * per store: `/hello/` without a store (access-token revocation off), with SQLite and with Redis (revocation on), and
 * refresh with rotation on SQLite and on Redis, every request presenting a refresh token never presented before
 * (many pre-minted sessions, each answer's successor queued behind them). Both servers of a row run side by side and
 * are measured in alternating rounds, so other work on the machine weighs on them alike; each row gives the median
 * req/s of each, the median and range of the per-round speed-up (2 processes / 1), and the server CPU per request
 * (the primary and its workers; not redis-server's).
 *
 *   node --import tsx bench/cluster.ts [--quick] [--rounds N] [--seconds S] [--only TEXT] [--port P] [--redis-port P]
 *
 * `clusterRows()` is the same as a function returning the rows, for bench/run.ts.
 */
import autocannon from 'autocannon';
import bcrypt from 'bcryptjs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteUsers } from '../demo-app/db';

const ROOT = path.join(__dirname, '..');
const BUNDLE = path.join(ROOT, 'demo-app/dist/server.js');
const USER = { username: 'cluster-bench', password: 'cluster-bench-password' };
const JSON_HEADERS = { 'content-type': 'application/json' };

export interface ClusterOptions {
  /** Alternating rounds per row (default 4). */
  rounds?: number;
  /** Seconds measured per server per round (default 5), after a 1 s warm-up in the first round. */
  seconds?: number;
  /** autocannon connections (default 32). */
  connections?: number;
  /** Sessions pre-minted per rotation server (default 400). */
  sessions?: number;
  /** First of the ports the demo servers listen on (default 41300; a row takes two). */
  port?: number;
  /** Port of the redis-server this starts (default 41400). */
  redisPort?: number;
  /** Only the rows whose label contains this (default: every row). */
  only?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface ClusterRow {
  label: string;
  /** Median req/s over the rounds: one process, two. */
  rps1: number;
  rps2: number;
  /** Per-round speed-up (rps2 / rps1): median, lowest, highest. */
  speedup: number;
  speedupMin: number;
  speedupMax: number;
  /** Median server CPU µs per request (primary and workers): one process, two. */
  cpu1: number;
  cpu2: number;
}

interface Scenario {
  label: string;
  env: (redisUrl: string, db: number) => Record<string, string>;
  rotation: boolean;
}

const SCENARIOS: Scenario[] = [
  { label: '/hello/, no store (revocation off)', env: () => ({ JWT_STORE: 'sqlite' }), rotation: false },
  { label: '/hello/, SQLite (revocation on)', env: () => ({ JWT_STORE: 'sqlite', JWT_REVOKE_ACCESS_TOKENS: 'true' }), rotation: false },
  { label: '/hello/, Redis (revocation on)', env: (url, db) => ({ JWT_STORE: `${url}/${db}`, JWT_REVOKE_ACCESS_TOKENS: 'true' }), rotation: false },
  { label: 'refresh with rotation, SQLite', env: () => ({ JWT_STORE: 'sqlite', JWT_ROTATE_REFRESH_TOKENS: 'true' }), rotation: true },
  { label: 'refresh with rotation, Redis', env: (url, db) => ({ JWT_STORE: `${url}/${db}`, JWT_ROTATE_REFRESH_TOKENS: 'true' }), rotation: true },
];

/** Every process still running, ended on exit. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function spawnTracked(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 6000);
  await exited;
  clearTimeout(timer);
}

/** utime + stime of `pid` and its child processes, in µs (Linux /proc; clock ticks of 10 ms). */
function treeCpu(pid: number): number {
  let ticks = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/)) if (child) visit(Number(child));
    } catch {
      // it exited meanwhile
    }
  };
  visit(pid);
  return ticks * 10_000;
}

interface Demo {
  child: ChildProcess;
  url: string;
  dir: string;
}

/** The compiled demo on `workers` processes, its own database file, a bench user at bcrypt cost 4 (quick logins). */
async function startDemo(workers: number, port: number, env: Record<string, string>, secret: string): Promise<Demo> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sjwt-cluster-'));
  const dbPath = path.join(dir, 'demo.sqlite3');
  const users = new SqliteUsers(dbPath);
  users.create(USER.username, bcrypt.hashSync(USER.password, 4));
  users.close();
  const child = spawnTracked(process.execPath, [BUNDLE], {
    ...process.env,
    ...env,
    WEB_CONCURRENCY: String(workers),
    PORT: String(port),
    HOST: '127.0.0.1',
    DEMO_DB: dbPath,
    JWT_SECRET: secret,
    JWT_SECRET_FILE: '',
    JWT_LOGIN_THROTTLE: 'off',
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start within 60 s: ${out}`)), 60_000);
    const seen = new Set<string>();
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const match of out.matchAll(/demo on (http:\/\/\S+)|worker (\d+) on/g)) seen.add(match[0]);
      if (seen.size >= workers) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code}: ${out}`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, dir };
}

async function loginOnce(url: string): Promise<{ access: string; refresh: string }> {
  const res = await fetch(`${url}/api/token/`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(USER) });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { access: string; refresh: string };
}

/** `n` sessions (8 logins at a time): their refresh tokens. */
async function mintSessions(url: string, n: number): Promise<string[]> {
  const tokens: string[] = [];
  while (tokens.length < n) {
    const batch = await Promise.all(Array.from({ length: Math.min(8, n - tokens.length) }, () => loginOnce(url)));
    tokens.push(...batch.map((pair) => pair.refresh));
  }
  return tokens;
}

interface Target {
  demo: Demo;
  options: autocannon.Options;
  /** Tops the refresh queue up before a run (requests cut off at the end of a run consumed a token). */
  refill: () => Promise<void>;
}

async function prepare(demo: Demo, rotation: boolean, connections: number, sessions: number): Promise<Target> {
  if (!rotation) {
    const { access } = await loginOnce(demo.url);
    return {
      demo,
      options: { url: `${demo.url}/hello/`, connections, headers: { authorization: `Bearer ${access}` } },
      refill: async () => {},
    };
  }
  // Refresh tokens in a queue: every request takes the oldest, every answer queues its successor behind the others,
  // so no token is presented twice and consecutive requests touch different sessions.
  const queue = await mintSessions(demo.url, sessions);
  return {
    demo,
    options: {
      url: `${demo.url}/api/token/refresh/`,
      connections,
      requests: [
        {
          method: 'POST',
          headers: JSON_HEADERS,
          setupRequest: (req) => ({ ...req, body: JSON.stringify({ refresh: queue.shift() }) }),
          onResponse: (status, body) => {
            if (status === 200) queue.push((JSON.parse(body) as { refresh: string }).refresh);
            else failures.set(body, (failures.get(body) ?? 0) + 1);
          },
        },
      ],
    },
    refill: async () => {
      if (queue.length < sessions / 2) queue.push(...(await mintSessions(demo.url, sessions - queue.length)));
    },
  };
}

/** Answers other than 200 to a refresh, by body. */
const failures = new Map<string, number>();

/** One measured run: req/s and server CPU µs per request. Throws on non-2xx answers (the row would mean nothing). */
async function run(target: Target, seconds: number): Promise<{ rps: number; cpu: number }> {
  await target.refill();
  const before = treeCpu(target.demo.child.pid!);
  const result = await autocannon({ ...target.options, duration: seconds });
  const cpu = treeCpu(target.demo.child.pid!) - before;
  if (result.non2xx > 0 || result.errors > result.timeouts) {
    const bodies = [...failures].map(([body, n]) => `${n} × ${body}`).join('; ');
    throw new Error(`${target.options.url}: ${result.non2xx} non-2xx, ${result.errors} errors ${bodies}`);
  }
  return { rps: result.requests.total / result.duration, cpu: cpu / result.requests.total };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawnTracked('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return child;
}

/** Measures every row; see the header. */
export async function clusterRows(options: ClusterOptions = {}): Promise<ClusterRow[]> {
  const { rounds = 4, seconds = 5, connections = 32, sessions = 400, port = 41300, redisPort = 41400, only = '', log = () => {} } = options;
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-demo.mjs')], { stdio: 'inherit' });
  const secret = randomBytes(48).toString('base64url');
  const redis = await startRedis(redisPort);
  const rows: ClusterRow[] = [];
  try {
    for (const [index, scenario] of SCENARIOS.entries()) {
      if (!scenario.label.includes(only)) continue;
      const demos: Demo[] = [];
      try {
        for (const workers of [1, 2]) {
          const env = scenario.env(`redis://127.0.0.1:${redisPort}`, index * 2 + workers);
          demos.push(await startDemo(workers, port + index * 2 + workers - 1, env, secret));
        }
        const targets = await Promise.all(demos.map((demo) => prepare(demo, scenario.rotation, connections, sessions)));
        for (const target of targets) await autocannon({ ...target.options, duration: 1 }); // warm-up
        const one: { rps: number; cpu: number }[] = [];
        const two: { rps: number; cpu: number }[] = [];
        for (let round = 0; round < rounds; round++) {
          // Alternate which goes first, so neither always runs right after the other's load.
          if (round % 2 === 0) {
            one.push(await run(targets[0]!, seconds));
            two.push(await run(targets[1]!, seconds));
          } else {
            two.push(await run(targets[1]!, seconds));
            one.push(await run(targets[0]!, seconds));
          }
          log(`${scenario.label}, round ${round + 1}: ${one.at(-1)!.rps.toFixed(0)} vs ${two.at(-1)!.rps.toFixed(0)} req/s`);
        }
        const speedups = one.map((r, i) => two[i]!.rps / r.rps);
        rows.push({
          label: scenario.label,
          rps1: median(one.map((r) => r.rps)),
          rps2: median(two.map((r) => r.rps)),
          speedup: median(speedups),
          speedupMin: Math.min(...speedups),
          speedupMax: Math.max(...speedups),
          cpu1: median(one.map((r) => r.cpu)),
          cpu2: median(two.map((r) => r.cpu)),
        });
      } finally {
        for (const demo of demos) {
          await stopChild(demo.child);
          rmSync(demo.dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await stopChild(redis);
  }
  return rows;
}

/** The rows as a Markdown table, each store's speed-up also relative to the store-less row's. */
export function clusterMarkdown(rows: readonly ClusterRow[]): string {
  const base = rows[0]?.speedup ?? NaN;
  const lines = [
    '| Row | 1 process req/s | 2 processes req/s | speed-up (range) | vs no store | CPU µs/req, 1 → 2 |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.rps1.toFixed(0)} | ${r.rps2.toFixed(0)} | ${r.speedup.toFixed(2)} (${r.speedupMin.toFixed(2)}–${r.speedupMax.toFixed(2)}) | ` +
        `${(r.speedup / base).toFixed(2)} | ${r.cpu1.toFixed(0)} → ${r.cpu2.toFixed(0)} |`,
    ),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const value = (name: string) => {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? undefined : Number(argv[at + 1]);
  };
  const quick = argv.includes('--quick');
  const started = loadavg();
  clusterRows({
    rounds: value('rounds') ?? (quick ? 2 : 4),
    seconds: value('seconds') ?? (quick ? 2 : 5),
    sessions: quick ? 100 : 400,
    port: value('port'),
    only: argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined,
    redisPort: value('redis-port'),
    log: (line) => console.error(line),
  })
    .then((rows) => {
      console.log(`\nLoad average at start: ${started.map((l) => l.toFixed(2)).join(' / ')}; at the end: ${loadavg().map((l) => l.toFixed(2)).join(' / ')}\n`);
      console.log(clusterMarkdown(rows));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}

/**
 * The rows `npm run bench` prints and writes (bench/run.ts calls this): quick mode is a smoke run of the
 * store-less row, one second each (CI's time is short); the full run is every row, 4 rounds of 5 s.
 */
export async function rows(context: { quick: boolean }): Promise<({ label: string } & Record<string, number | string>)[]> {
  const measured = context.quick
    ? await clusterRows({ rounds: 1, seconds: 1, sessions: 100, only: 'no store' })
    : await clusterRows();
  const base = measured.find((r) => r.label.includes('no store'))?.speedup;
  return measured.map((r) => ({
    label: r.label,
    'req/s, 1 process': r.rps1,
    'req/s, 2 processes': r.rps2,
    'speed-up (range)': `${r.speedup.toFixed(2)} (${r.speedupMin.toFixed(2)}–${r.speedupMax.toFixed(2)})`,
    'vs store-less speed-up': base === undefined ? '' : r.speedup / base,
    'CPU µs/req, 1': r.cpu1,
    'CPU µs/req, 2': r.cpu2,
  }));
}
