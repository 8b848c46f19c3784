/**
 * The benchmark: `npm run bench [-- --quick] [-- --out file.md] [-- --profile] [-- --rounds-only] [-- --rows a,b]`.
 *
 * Each row starts `bench/servers/hello.ts` (compiled as the kit ships, see `buildServer()`) in a child process
 * so autocannon, here, never shares the server's event loop, measures it with autocannon (warm-up, then a fixed
 * duration) and stops it. First the `/hello/` rows of `ROUNDS` (bare Express, one token, many distinct tokens)
 * run side by side: each in a server of its own, all measured in turn, round after round, so that other work on
 * the machine weighs on them alike; each gets the median of its rounds and the median (and range) of its ratios
 * to bare Express in the same round. Then the other rows, one after another; consecutive rows that name the same
 * `ServerSpec` object share one server process. Then the targets are checked and a micro benchmark of
 * jsonwebtoken's sign/verify runs in this process.
 *
 * `--quick` is the CI smoke test: short runs, same table, exit 0 whatever the targets say (but 1 if a row got
 * non-2xx answers or errors, which means the harness is broken). The full run also writes a Markdown report
 * (default bench/RESULTS.md) and exits 1 when a target is missed. `--profile` runs the servers under
 * `node --cpu-prof` and leaves the profiles in bench/profiles/. `--rounds-only` runs the rounds of `ROUNDS` and
 * their targets only (the cost of verifying a token, quickly), and writes no report; `--rows a,b` the same with
 * only those rows of `ROUNDS` (and bare). The store rows need no running servers then.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import jwt from 'jsonwebtoken';
import ts from 'typescript';
import { simpleJwt } from '../lib';
import { BENCH_USER, type Kind } from './shared';
import type { GrowthRow } from './store-growth';
import { startRedisServer } from '../tests/stores/redis-server';
import { startRedisCluster } from '../tests/helpers/redis-cluster';
import { startPostgres } from '../tests/helpers/postgres';

const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const PROFILE = args.includes('--profile');
/** `--rows ours,fast-jwt`: only these rows of `ROUNDS` (and bare), as `--rounds-only` (to profile or compare a few). */
const ONLY_ROWS = args.includes('--rows') ? (args[args.indexOf('--rows') + 1] ?? '').split(',') : undefined;
const ROUNDS_ONLY = args.includes('--rounds-only') || ONLY_ROWS !== undefined;
const OUT = path.resolve(args.includes('--out') ? (args[args.indexOf('--out') + 1] ?? '') : path.join(__dirname, 'RESULTS.md'));
/** Seconds of warm-up and of measurement per row. */
const TIMING = QUICK ? { warmup: 0.5, duration: 1.5 } : { warmup: 3, duration: 10 };
/**
 * The alternating rounds of `ROUNDS`: how many, and seconds of warm-up (the first round's is `TIMING.warmup`: the
 * servers are fresh) and of measurement per row and round.
 */
const ROUND_TIMING = QUICK ? { rounds: 2, warmup: 0.5, duration: 1.5 } : { rounds: 6, warmup: 1, duration: 5 };
/** Micro benchmark: milliseconds of warm-up and of measurement per operation. */
const MICRO_MS = QUICK ? { warmup: 30, measure: 150 } : { warmup: 300, measure: 1500 };
const SECRET = randomBytes(48).toString('base64url');
const ROOT = path.join(__dirname, '..');
/** Other work on the machine skews every row; recorded in the report and warned about. */
const LOAD_AT_START = os.loadavg();

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

/**
 * How to start a server: `BENCH_KIND` plus any other environment (see bench/servers/hello.ts), or `demo`: the
 * demo app as shipped, started the way `npm start` starts it (see `startDemo()`).
 */
interface ServerSpec {
  kind: Kind | 'demo';
  env?: Record<string, string>;
}

/** A running server and the tokens obtained from it at start. */
interface Session {
  url: string;
  /** Microseconds of CPU the server process has used so far. */
  cpu: () => Promise<number>;
  access: string;
  refresh: string | undefined;
}

/** One request, repeated by autocannon. */
interface Load {
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Rotation: each request presents a refresh token no other request used (a closed loop of successors). */
  chainRefresh?: true;
  /**
   * Each request, whichever connection sends it, presents the next of these access tokens (`Authorization:
   * Bearer`), round-robin: with more tokens than the verified-token cache holds, every request is a miss.
   */
  bearers?: readonly string[];
}

/** One row of the table. */
interface Scenario {
  /** Key used by the targets. */
  id: string;
  label: string;
  server: ServerSpec;
  load: (s: Session) => Load;
  /** Default 32. */
  connections?: number;
  /** Load run against the same server at the same time (e.g. logins hammering bcrypt); its own row below. */
  background?: { label: string; load: (s: Session) => Load; connections: number };
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const hello = (s: Session): Load => ({ path: '/hello/', headers: { authorization: `Bearer ${s.access}` } });
/**
 * `/hello/` presenting `n` distinct valid access tokens round-robin, issued by the kit for an hour so that they
 * outlive the rounds (`n` 1 too: the same per-request code in autocannon, so every row of `ROUNDS` costs the load
 * generator alike).
 */
const helloRoundRobin = (n: number) => (): Load => ({ path: '/hello/', bearers: accessTokens(n) });
/** `/hello/` with the one access token the server's own login gave (the demo: its own secret and users). */
const helloOwnToken = (s: Session): Load => ({ path: '/hello/', bearers: [s.access] });
const refresh = (s: Session): Load => ({ path: '/api/token/refresh/', method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ refresh: s.refresh }) });
const login = (): Load => ({
  path: '/api/token/',
  method: 'POST',
  headers: JSON_HEADERS,
  body: JSON.stringify({ username: BENCH_USER.username, password: BENCH_USER.password }),
});

const server = (kind: ServerSpec['kind'], env?: Record<string, string>): ServerSpec => ({ kind, env });
/** Our server with a token store and kit options (JSON), at bcrypt cost 4 so the logins that feed rotation are quick. */
const withStore = (store: string, options: object = {}): ServerSpec =>
  server('ours', { BENCH_STORE: store, BENCH_KIT_OPTIONS: JSON.stringify(options), BENCH_BCRYPT_ROUNDS: '4' });
const rotating = (s: Session): Load => ({ ...refresh(s), chainRefresh: true });
const STORE_NAMES = ['memory', 'sqlite', 'redis', 'redis-cluster', 'postgres'] as const;
const STORE_LABELS: Record<(typeof STORE_NAMES)[number], string> = {
  memory: 'MemoryStore',
  sqlite: 'SqliteStore',
  redis: 'RedisStore',
  'redis-cluster': 'RedisStore, 3-master Cluster',
  postgres: 'PostgresStore',
};
const OURS = server('ours');
/** bcrypt cost 10 (the default) for the idle/under-load pair, which must share one process. */
const OURS_LOGIN = server('ours', { BENCH_BCRYPT_ROUNDS: '10' });

/**
 * Every row, in order. The hook for the store rows: once lib/stores lands and bench/servers/hello.ts knows the
 * store (its STORES map), add rows such as
 *   { id: 'revoke-redis', label: '/hello/ with access-token revocation, RedisStore',
 *     server: server('ours', { BENCH_STORE: 'redis' }), load: hello },
 *   { id: 'refresh-rotate-sqlite', label: 'refresh, rotation on, SqliteStore',
 *     server: server('ours', { BENCH_STORE: 'sqlite', BENCH_KIT_OPTIONS: '{"rotateRefreshTokens":true}' }), load: refresh },
 * and targets below if they have any. Rotation with a store that refuses a reused refresh token needs every
 * connection to chain its own tokens: extend `Load` with autocannon's `requests` (`setupRequest` reading the
 * `refresh` that `onResponse` stored in the per-connection `context`) and log in once per connection.
 */
/**
 * The rows measured side by side in alternating rounds (see the header), each in a server process of its own.
 * `bare` comes first: every other row is a ratio to it.
 */
const ROUNDS: Scenario[] = [
  { id: 'bare', label: '/hello/ bare Express 5 (no auth)', server: server('bare'), load: helloRoundRobin(1) },
  { id: 'ours', label: '/hello/ authenticate(), one token', server: OURS, load: helloRoundRobin(1) },
  { id: 'ours-50k', label: '/hello/ authenticate(), 50k distinct tokens', server: server('ours'), load: helloRoundRobin(50_000) },
  { id: 'demo', label: '/hello/ the demo as shipped (npm start)', server: server('demo'), load: helloOwnToken },
  { id: 'fast-jwt', label: '/hello/ fast-jwt 6, hand-wired, its cache', server: server('fast-jwt'), load: helloRoundRobin(1) },
  { id: 'express-jwt', label: '/hello/ express-jwt 8', server: server('express-jwt'), load: helloRoundRobin(1) },
  { id: 'passport-jwt', label: '/hello/ passport-jwt 4', server: server('passport-jwt'), load: helloRoundRobin(1) },
];

if (ONLY_ROWS) ROUNDS.splice(0, ROUNDS.length, ...ROUNDS.filter((r) => r.id === 'bare' || ONLY_ROWS.includes(r.id)));

const SCENARIOS: Scenario[] = [
  { id: 'refresh', label: 'POST /api/token/refresh/, rotation off', server: OURS, load: refresh },
  { id: 'stateless', label: '/hello/ authenticate({ stateless: true })', server: server('stateless'), load: hello },
  { id: 'login-10', label: 'POST /api/token/, bcrypt cost 10', server: OURS_LOGIN, load: login, connections: 1 },
  { id: 'idle', label: '/hello/ idle (same process as below)', server: OURS_LOGIN, load: hello },
  {
    id: 'loaded',
    label: '/hello/ while 50 connections log in',
    server: OURS_LOGIN,
    load: hello,
    background: { label: '└ POST /api/token/ meanwhile, 50 connections', load: login, connections: 50 },
  },
  { id: 'login-12', label: 'POST /api/token/, bcrypt cost 12', server: server('ours', { BENCH_BCRYPT_ROUNDS: '12' }), load: login, connections: 1 },
  ...STORE_NAMES.flatMap((store): Scenario[] => {
    const revoking = withStore(store, { revokeAccessTokens: true });
    const plain = withStore(store);
    const rotatingServer = withStore(store, { rotateRefreshTokens: true });
    return [
      { id: `revoke-${store}`, label: `/hello/ access-token revocation on, ${STORE_LABELS[store]}`, server: revoking, load: hello },
      { id: `refresh-${store}`, label: `POST /api/token/refresh/, rotation off, ${STORE_LABELS[store]}`, server: plain, load: refresh },
      { id: `rotate-${store}`, label: `POST /api/token/refresh/, rotation on, ${STORE_LABELS[store]}`, server: rotatingServer, load: rotating },
    ];
  }),
];

/**
 * `p50`/`p99` are Infinity when that share of requests timed out (10 s) or none completed in the window.
 * `cpuShare` (server CPU time / wall time) and `cpuPerRequest` (µs) are the server's own, so they hold up when
 * other work on the machine steals CPU; NaN when another load shared the server.
 */
interface Result {
  rps: number;
  p50: number;
  p99: number;
  timeouts: number;
  cpuShare: number;
  cpuPerRequest: number;
  /** Rows of `ROUNDS`: req/s of each round (the figures above are medians over the rounds). */
  rounds?: number[];
  /** Rows of `ROUNDS`: the ratio to bare Express in each round. */
  ratios?: number[];
}

interface Target {
  label: string;
  /** The rows `value` reads. */
  rows: string[];
  value: (r: Record<string, Result>) => number;
  /** `min`: value must be at least `limit`; `max`: at most. */
  kind: 'min' | 'max';
  limit: number;
  unit: string;
}

const rpsRatio = (a: string, b: string): Pick<Target, 'rows' | 'value'> => ({ rows: [a, b], value: (r) => r[a]!.rps / r[b]!.rps });
/** Median over the rounds of `a`'s req/s over `b`'s in the same round (rows of `ROUNDS`). */
const roundRatio = (a: string, b: string): Pick<Target, 'rows' | 'value'> => ({
  rows: [a, b],
  value: (r) => median(r[a]!.rounds!.map((rps, i) => rps / r[b]!.rounds![i]!)),
});

const TARGETS: Target[] = [
  { label: 'authenticate() /hello/ vs bare', ...roundRatio('ours', 'bare'), kind: 'min', limit: 0.9, unit: '' },
  { label: '50k distinct tokens vs one token', ...roundRatio('ours-50k', 'ours'), kind: 'min', limit: 0.9, unit: '' },
  { label: 'authenticate() vs fast-jwt hand-wired', ...roundRatio('ours', 'fast-jwt'), kind: 'min', limit: 1, unit: 'x' },
  { label: 'stateless /hello/ vs bare', ...rpsRatio('stateless', 'bare'), kind: 'min', limit: 0.9, unit: '' },
  // express-jwt and passport-jwt cache nothing: compare them with ours on distinct tokens (every request a cache miss).
  { label: 'authenticate() 50k distinct tokens vs express-jwt', ...roundRatio('ours-50k', 'express-jwt'), kind: 'min', limit: 4, unit: 'x' },
  { label: 'authenticate() 50k distinct tokens vs passport-jwt', ...roundRatio('ours-50k', 'passport-jwt'), kind: 'min', limit: 4, unit: 'x' },
  { label: 'refresh (rotation off) vs bare', ...rpsRatio('refresh', 'bare'), kind: 'min', limit: 0.5, unit: '' },
  { label: '/hello/ p99 under login load vs idle', rows: ['loaded', 'idle'], value: (r) => r.loaded!.p99 / r.idle!.p99, kind: 'max', limit: 3, unit: 'x' },
  { label: 'revocation on, MemoryStore vs bare', ...rpsRatio('revoke-memory', 'bare'), kind: 'min', limit: 0.85, unit: '' },
  { label: 'revocation on, SqliteStore vs bare', ...rpsRatio('revoke-sqlite', 'bare'), kind: 'min', limit: 0.85, unit: '' },
  { label: 'refresh, rotation on, SqliteStore vs bare', ...rpsRatio('rotate-sqlite', 'bare'), kind: 'min', limit: 0.25, unit: '' },
];

// ---------------------------------------------------------------------------------------------------------------
// Servers

const children = new Set<ChildProcess>();

/** The processes `pid` started, and theirs (from /proc). */
function descendants(pid: number): number[] {
  let children: string;
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
  } catch {
    return [];
  }
  return children.trim().split(/\s+/).filter(Boolean).map(Number).flatMap((child) => [child, ...descendants(child)]);
}

/** Signals a server; the demo (npm and the server it starts) as a whole tree, the server first. */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  const tree = child.spawnargs[0] === 'npm' ? descendants(child.pid!).reverse() : [];
  for (const pid of tree) {
    try {
      process.kill(pid, name);
    } catch {
      // already gone
    }
  }
  child.kill(name);
}

function killAll(): void {
  for (const child of children) signal(child, 'SIGKILL');
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

/**
 * Compiles the kit and the server script with TypeScript's own emit, as `npm run build` ships the kit, into a
 * temporary directory, so the servers run plain JavaScript on `node` (they find node_modules through NODE_PATH).
 * Under tsx, esbuild's `keepNames` would add a `__name()` call to every closure the kit creates per request,
 * which the shipped build does not have. Returns the compiled server script.
 */
function buildServer(): string {
  const build = mkdtempSync(path.join(os.tmpdir(), 'simplejwt-bench-'));
  process.on('exit', () => rmSync(build, { recursive: true, force: true }));
  const sources = [
    ...readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' }).map((f) => path.join('lib', f)),
    path.join('bench', 'shared.ts'),
    path.join('bench', 'servers', 'hello.ts'),
  ].filter((f) => f.endsWith('.ts'));
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  for (const file of sources) {
    const { outputText } = ts.transpileModule(readFileSync(path.join(ROOT, file), 'utf8'), { compilerOptions, fileName: file });
    const out = path.join(build, file.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  return path.join(build, 'bench', 'servers', 'hello.js');
}
const SERVER_SCRIPT = buildServer();

/** Starts the server script for `spec` and resolves once it printed `listening <port>`. */
async function startServer(spec: ServerSpec): Promise<{ child: ChildProcess; url: string; cpu: () => Promise<number> }> {
  if (spec.kind === 'demo') return startDemo();
  const profile = PROFILE ? ['--cpu-prof', '--cpu-prof-dir', path.join(__dirname, 'profiles')] : [];
  const child = spawn(process.execPath, [...profile, SERVER_SCRIPT], {
    env: { ...process.env, ...spec.env, BENCH_KIND: spec.kind, BENCH_SECRET: SECRET, NODE_PATH: path.join(ROOT, 'node_modules') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines = readline.createInterface({ input: child.stdout! });
  const cpuAnswers: ((micros: number) => void)[] = [];
  lines.on('line', (line) => {
    const match = /^cpu (\d+)$/.exec(line);
    if (match) cpuAnswers.shift()?.(Number(match[1]));
  });
  const cpu = () =>
    new Promise<number>((resolve) => {
      cpuAnswers.push(resolve);
      child.stdin!.write('cpu\n');
    });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${spec.kind} did not start within 30 s`)), 30_000);
    lines.on('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server ${spec.kind} exited with code ${code} before listening`));
    });
  });
  return { child, url: `http://127.0.0.1:${port}`, cpu };
}

/** The demo's port: one of this bench's own range (`BENCH_DEMO_PORT`, default 42100). */
const DEMO_PORT = Number(process.env.BENCH_DEMO_PORT ?? 42100);
/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Microseconds of CPU used by process `pid` and its descendants so far (from /proc, 1/CLK_TCK resolution). */
function treeCpu(pid: number): number {
  return [pid, ...descendants(pid)].reduce((sum, p) => {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      return sum; // gone meanwhile
    }
    // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return sum + ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1e6;
  }, 0);
}

/**
 * The demo app as shipped: `npm start` (whatever command package.json gives it) with `PORT`, a fresh `DEMO_DB`,
 * this run's secret and an access token lifetime of an hour. Its CPU is the whole tree's (npm waits idle); stopping
 * it signals the tree. Not in a session of its own: with the kernel's autogroup scheduling a new session gets a CPU
 * share of its own, and the demo would outrun the other servers on a busy machine. Ready once it prints its
 * `demo on http://...` banner.
 */
async function startDemo(): Promise<{ child: ChildProcess; url: string; cpu: () => Promise<number> }> {
  const db = mkdtempSync(path.join(os.tmpdir(), 'simplejwt-bench-demo-'));
  process.on('exit', () => rmSync(db, { recursive: true, force: true }));
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    // Its access token lives an hour (the default 5 minutes would end within the rounds).
    env: { ...process.env, PORT: String(DEMO_PORT), HOST: '127.0.0.1', DEMO_DB: path.join(db, 'demo.sqlite3'), JWT_SECRET: SECRET, JWT_ACCESS_TOKEN_LIFETIME: '1h' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const lines = readline.createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    // `npm start` may build first.
    const timer = setTimeout(() => reject(new Error('the demo (npm start) did not start within 300 s')), 300_000);
    lines.on('line', (line) => {
      const match = / demo on (http:\/\/\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo (npm start) exited with code ${code} before listening`));
    });
  });
  lines.on('line', () => undefined); // keep draining its output
  return { child, url, cpu: async () => treeCpu(child.pid!) };
}

/**
 * SIGTERM (so a `--cpu-prof` profile gets written), then SIGKILL if the event loop is too busy to exit (bcrypt
 * work queued by the login rows keeps it busy for seconds).
 */
async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  signal(child, 'SIGTERM');
  const timer = setTimeout(() => signal(child, 'SIGKILL'), PROFILE ? 10_000 : 1000);
  await exited;
  clearTimeout(timer);
}

/** `n` refresh tokens from `n` logins (one session each), for the rotation rows. */
async function loginMany(url: string, n: number): Promise<string[]> {
  const { path: loginPath, method, headers, body } = login();
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(url + loginPath, { method, headers, body });
    if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
    tokens.push(((await res.json()) as { refresh: string }).refresh);
  }
  return tokens;
}

/** Tokens issued by `accessTokens()`, by count. */
const issuedTokens = new Map<number, string[]>();

/**
 * `n` distinct access tokens for the bench user, issued by the kit with the servers' secret, as its login would
 * issue them but for an hour (so they outlive the run); made once per `n`.
 */
function accessTokens(n: number): string[] {
  let tokens = issuedTokens.get(n);
  if (!tokens) {
    const kit = simpleJwt({ secret: SECRET, findUserById: () => undefined, loginThrottle: false, warnings: false });
    const claims = kit.tokens.userClaims(BENCH_USER.id, undefined);
    tokens = Array.from({ length: n }, () => kit.tokens.accessFrom(claims, 3600).token);
    void kit.close();
    issuedTokens.set(n, tokens);
  }
  return tokens;
}

/** Tokens for a fresh server: ours through the kit's login, the others signed with jsonwebtoken alike. */
async function openSession(kind: ServerSpec['kind'], url: string, cpu: Session['cpu']): Promise<Session> {
  if (kind === 'ours' || kind === 'stateless' || kind === 'demo') {
    const { path: loginPath, method, headers } = login();
    // The demo's seeded user (demo-app/users.ts).
    const body = kind === 'demo' ? JSON.stringify({ username: 'vitor', password: '123' }) : login().body;
    const res = await fetch(url + loginPath, { method, headers, body });
    if (res.status !== 200) throw new Error(`login on ${kind} answered ${res.status}: ${await res.text()}`);
    const pair = (await res.json()) as { access: string; refresh: string };
    return { url, cpu, access: pair.access, refresh: pair.refresh };
  }
  const now = Math.floor(Date.now() / 1000);
  const claims = { token_type: 'access', exp: now + 300, iat: now, jti: randomUUID().replace(/-/g, ''), user_id: String(BENCH_USER.id) };
  return { url, cpu, access: jwt.sign(claims, SECRET, { algorithm: 'HS256' }), refresh: undefined };
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

/** Where each `Load.bearers` list goes on: the next round goes on from there, not from its first token. */
const bearerCursors = new WeakMap<readonly string[], number>();

/**
 * Runs autocannon: a warm-up, then the measured run. Throws on a non-2xx answer or a connection error (the row
 * would be meaningless); timeouts are a result (a starved server), not an error. A background load runs once
 * for warm-up + duration, so it covers the whole measurement.
 */
async function measure(
  session: Session,
  load: Load,
  connections: number,
  role: 'alone' | 'shared' | 'background',
  timing: { warmup: number; duration: number } = TIMING,
): Promise<Result> {
  const options: autocannon.Options = { url: session.url + load.path, method: load.method ?? 'GET', headers: load.headers, body: load.body, connections };
  const { bearers } = load;
  if (bearers) {
    options.requests = [
      {
        method: options.method,
        path: load.path,
        setupRequest: (req) => {
          const next = bearerCursors.get(bearers) ?? 0;
          bearerCursors.set(bearers, (next + 1) % bearers.length);
          return { ...req, headers: { ...load.headers, authorization: `Bearer ${bearers[next]!}` } };
        },
      },
    ];
  }
  let refill = async () => {};
  if (load.chainRefresh) {
    // A closed loop of refresh tokens: every request takes one, every answer gives its successor back, so no token
    // is presented twice (that would be reuse) and connections never wait for each other.
    // Requests cut off when a run ends consumed their token without returning a successor: refill before each run.
    const queue: string[] = [];
    refill = async () => {
      queue.push(...(await loginMany(session.url, Math.max(0, connections + 8 - queue.length))));
    };
    options.requests = [
      {
        method: 'POST',
        path: load.path,
        headers: load.headers,
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ refresh: queue.shift() }) }),
        onResponse: (status, body) => {
          if (status === 200) queue.push((JSON.parse(body) as { refresh: string }).refresh);
        },
      },
    ];
  }
  if (role !== 'background') {
    await refill();
    await autocannon({ ...options, duration: timing.warmup });
  }
  await refill();
  const cpuBefore = role === 'alone' ? await session.cpu() : NaN;
  const result = await autocannon({ ...options, duration: role === 'background' ? timing.warmup + timing.duration : timing.duration });
  const cpu = role === 'alone' ? (await session.cpu()) - cpuBefore : NaN;
  const { non2xx, errors, timeouts } = result;
  // Under a login storm the kit sheds load with 503 server_busy (the bcrypt pool's cap): a result, not a failure.
  if ((non2xx > 0 && role !== 'background') || errors > timeouts) {
    throw new Error(`${options.method} ${load.path}: ${non2xx} non-2xx, ${errors - timeouts} connection errors`);
  }
  const lost = timeouts / (result.requests.total + timeouts || 1);
  const beyond = (share: number, value: number) => (result.requests.total === 0 || lost >= share ? Infinity : value);
  return {
    // The background login row counts logins that succeeded; the 503s it drew are shed load.
    rps: (role === 'background' ? result['2xx'] : result.requests.total) / result.duration,
    p50: beyond(0.5, result.latency.p50),
    p99: beyond(0.01, result.latency.p99),
    timeouts,
    cpuShare: cpu / (result.duration * 1e6),
    cpuPerRequest: cpu / result.requests.total,
  };
}

/** A measured row as printed and written. */
interface Row {
  label: string;
  result: Result;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A row of `ROUNDS`: the median of each figure over its rounds, and its ratio to bare Express in each round. */
function overRounds(measured: readonly Result[], bare: readonly Result[]): Result {
  const mid = (pick: (r: Result) => number) => median(measured.map(pick));
  return {
    rps: mid((r) => r.rps),
    p50: mid((r) => r.p50),
    p99: mid((r) => r.p99),
    timeouts: measured.reduce((sum, r) => sum + r.timeouts, 0),
    cpuShare: mid((r) => r.cpuShare),
    cpuPerRequest: mid((r) => r.cpuPerRequest),
    rounds: measured.map((r) => r.rps),
    ratios: measured.map((r, i) => r.rps / bare[i]!.rps),
  };
}

/**
 * The rows of `ROUNDS` side by side: a server process each, all started first; then `ROUND_TIMING.rounds` rounds,
 * each measuring every row once, in an order that turns by one row each round.
 */
async function runRounds(): Promise<{ id: string; label: string; result: Result }[]> {
  const started: ChildProcess[] = [];
  const running: { scenario: Scenario; session: Session; load: Load; measured: Result[] }[] = [];
  try {
    for (const scenario of ROUNDS) {
      const { child, url, cpu } = await startServer(scenario.server);
      started.push(child);
      const session = await openSession(scenario.server.kind, url, cpu);
      running.push({ scenario, session, load: scenario.load(session), measured: [] });
    }
    for (let round = 0; round < ROUND_TIMING.rounds; round++) {
      const timing = { warmup: round === 0 ? TIMING.warmup : ROUND_TIMING.warmup, duration: ROUND_TIMING.duration };
      for (let k = 0; k < running.length; k++) {
        const row = running[(k + round) % running.length]!;
        row.measured.push(await measure(row.session, row.load, row.scenario.connections ?? 32, 'alone', timing));
      }
    }
  } finally {
    for (const child of started) await stopServer(child);
  }
  const bare = running[0]!.measured;
  return running.map(({ scenario, measured }) => ({ id: scenario.id, label: scenario.label, result: overRounds(measured, bare) }));
}

async function runScenarios(): Promise<{ results: Record<string, Result>; rows: Row[] }> {
  const results: Record<string, Result> = {};
  const rows: Row[] = [];
  const report = (label: string, result: Result) => {
    rows.push({ label, result });
    printRow(label, result, results.bare);
  };
  for (const { id, label, result } of await runRounds()) {
    results[id] = result;
    report(label, result);
  }
  if (ROUNDS_ONLY) return { results, rows };
  let current: { spec: ServerSpec; child: ChildProcess; session: Session } | undefined;
  try {
    for (const scenario of SCENARIOS) {
      if (current?.spec !== scenario.server) {
        if (current) await stopServer(current.child);
        const { child, url, cpu } = await startServer(scenario.server);
        current = { spec: scenario.server, child, session: await openSession(scenario.server.kind, url, cpu) };
      }
      const { session } = current;
      const background = scenario.background;
      const [result, side] = await Promise.all([
        measure(session, scenario.load(session), scenario.connections ?? 32, background ? 'shared' : 'alone'),
        background && measure(session, background.load(session), background.connections, 'background'),
      ]);
      results[scenario.id] = result;
      report(scenario.label, result);
      if (background && side) report(`  ${background.label}`, side);
    }
  } finally {
    if (current) await stopServer(current.child);
  }
  return { results, rows };
}

// ---------------------------------------------------------------------------------------------------------------
// Micro benchmark

interface MicroRow {
  algorithm: jwt.Algorithm;
  key: 'KeyObject' | 'string';
  signUs: number;
  verifyUs: number;
}

/** Microseconds per call of `fn`: a warm-up, then batches until the measuring time is spent. */
function timeOp(fn: () => unknown): number {
  const run = (ms: number): number => {
    const deadline = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
    const start = process.hrtime.bigint();
    let calls = 0;
    let now = start;
    while (now < deadline) {
      for (let i = 0; i < 100; i++) fn();
      calls += 100;
      now = process.hrtime.bigint();
    }
    return Number(now - start) / 1000 / calls;
  };
  run(MICRO_MS.warmup);
  return run(MICRO_MS.measure);
}

function micro(): MicroRow[] {
  const rows: MicroRow[] = [];
  const now = Math.floor(Date.now() / 1000);
  const claims = { token_type: 'access', exp: now + 300, iat: now, jti: randomUUID().replace(/-/g, ''), user_id: '1' };
  const secrets: [MicroRow['key'], string | KeyObject][] = [
    ['KeyObject', createSecretKey(Buffer.from(SECRET))],
    ['string', SECRET],
  ];
  // The first operation measured would otherwise also pay for warming jsonwebtoken as a whole.
  timeOp(() => jwt.verify(jwt.sign(claims, secrets[0]![1]), secrets[0]![1]));
  for (const algorithm of ['HS256', 'HS384', 'HS512'] as const) {
    for (const [key, secret] of secrets) {
      const token = jwt.sign(claims, secret, { algorithm });
      const signUs = timeOp(() => jwt.sign(claims, secret, { algorithm }));
      const verifyUs = timeOp(() => jwt.verify(token, secret, { algorithms: [algorithm] }));
      rows.push({ algorithm, key, signUs, verifyUs });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting

const fixed = (n: number, digits = 1) => (n === Infinity ? '∞' : Number.isNaN(n) ? '' : n.toFixed(digits));
const percent = (n: number) => (Number.isNaN(n) ? '' : `${(n * 100).toFixed(0)}%`);
/** The spread of a `ROUNDS` row's ratios to bare Express, and its timeouts. */
const rowNote = (r: Result) =>
  [
    r.ratios && r.ratios.length > 1 ? `rounds ${fixed(Math.min(...r.ratios), 2)}–${fixed(Math.max(...r.ratios), 2)}` : '',
    r.timeouts > 0 ? `${r.timeouts} timed out` : '',
  ]
    .filter(Boolean)
    .join(', ');
/** The ratio to bare Express: a `ROUNDS` row's median over its rounds, any other row's against bare's median. */
const ratioToBare = (r: Result, bare: Result) => (r.ratios ? median(r.ratios) : r.rps / bare.rps);

const COLUMNS = ['req/s', 'p50 ms', 'p99 ms', 'vs bare', 'srv CPU', 'CPU µs/req'];
const COLUMN_WIDTHS = COLUMNS.map((c) => Math.max(8, c.length));

function printRow(label: string, r: Result, bare: Result | undefined): void {
  const ratio = r.ratios || bare ? fixed(ratioToBare(r, bare!), 2) : '';
  const cells = [fixed(r.rps, 0), fixed(r.p50), fixed(r.p99), ratio, percent(r.cpuShare), fixed(r.cpuPerRequest, 0)];
  console.log(`${label.padEnd(60)} ${cells.map((c, i) => c.padStart(COLUMN_WIDTHS[i]!)).join(' ')}  ${rowNote(r)}`);
}

function checkTargets(results: Record<string, Result>) {
  const measured = ROUNDS_ONLY ? TARGETS.filter((t) => t.rows.every((id) => id in results)) : TARGETS;
  return measured.map((t) => {
    const value = t.value(results);
    const pass = t.kind === 'min' ? value >= t.limit : value <= t.limit;
    const shown = `${fixed(value, 2)}${t.unit}`;
    return { label: t.label, value: shown, goal: `${t.kind === 'min' ? '>=' : '<='} ${t.limit}${t.unit}`, pass };
  });
}

function markdown(rows: Row[], targets: ReturnType<typeof checkTargets>, microRows: MicroRow[]): string {
  const cpus = os.cpus();
  const bare = rows[0]!.result;
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ` +
      `${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.release()}.`,
    `The first ${ROUNDS.length} rows: a server process each, measured side by side in ${ROUND_TIMING.rounds} alternating rounds ` +
      `(${ROUND_TIMING.warmup} s warm-up, ${TIMING.warmup} s in the first round, then ${ROUND_TIMING.duration} s), each request presenting the ` +
      'next of that many distinct valid access tokens, round-robin (one unless the row says otherwise; the demo its own login\'s ' +
      'token); figures are medians over the rounds, the ratio is the median of the ratios to bare Express in the same round, ' +
      'with their range. The demo runs as `npm start` starts it (its CPU: npm\'s process tree), every other server is ' +
      '`bench/servers/hello.ts`, compiled. ' +
      `Other rows: their own server process, autocannon from the runner process, ${TIMING.warmup} s warm-up then ${TIMING.duration} s; ` +
      '32 connections; logins 1 (bcrypt is CPU-bound, so more only queues). Latency in ms as autocannon reports it; ' +
      '∞: at least that share of requests timed out (10 s) or none completed. ' +
      'srv CPU: the server process\'s CPU time over wall time (100% = one core); CPU µs/req: its CPU per request, ' +
      'which other work on the machine does not skew the way it skews req/s. ' +
      `Load average at start: ${LOAD_AT_START.map((n) => n.toFixed(2)).join(' / ')} (1/5/15 min)` +
      (LOAD_AT_START[0]! > 1 ? ': other work shared the machine, so these figures are provisional (req/s most; CPU µs/req and same-round ratios less).' : '.'),
    '',
    `| Row | ${COLUMNS.join(' | ')} | |`,
    `| --- | ${COLUMNS.map(() => '---:').join(' | ')} | --- |`,
    ...rows.map(({ label, result: r }) => {
      const cells = [fixed(r.rps, 0), fixed(r.p50), fixed(r.p99), fixed(ratioToBare(r, bare), 2), percent(r.cpuShare), fixed(r.cpuPerRequest, 0)];
      return `| ${label.trim()} | ${cells.join(' | ')} | ${rowNote(r)} |`;
    }),
    '',
    '| Target | Measured | Goal | |',
    '| --- | ---: | ---: | --- |',
    ...targets.map((t) => `| ${t.label} | ${t.value} | ${t.goal} | ${t.pass ? 'PASS' : 'MISS'} |`),
    '',
    'jsonwebtoken sign/verify, microseconds per operation (one process, tight loop after a warm-up):',
    '',
    '| Algorithm | Key | sign µs | verify µs |',
    '| --- | --- | ---: | ---: |',
    ...microRows.map((m) => `| ${m.algorithm} | ${m.key} | ${fixed(m.signUs, 2)} | ${fixed(m.verifyUs, 2)} |`),
    '',
  ];
  return lines.join('\n');
}

interface MemoryRow {
  kind: string;
  count: number;
  bytesPerToken: number;
  rssBefore: number;
  rssAfter: number;
}

/** Each store's memory in a process of its own (bench/memory.ts): heap bytes per revoked token and RSS. */
function memoryRows(): MemoryRow[] {
  const runs: [string, number][] = QUICK
    ? [['memory', 100_000], ['sqlite', 5_000], ['redis', 5_000]]
    : [['memory', 1_000_000], ['sqlite', 50_000], ['redis', 50_000]];
  return runs.map(([kind, count]) => {
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(__dirname, 'memory.ts'), kind, String(count)], {
      cwd: ROOT,
      encoding: 'utf8',
      env: process.env,
    });
    if (run.status !== 0) throw new Error(`bench/memory.ts ${kind}: ${run.stderr}`);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as MemoryRow;
  });
}

const MIB = 2 ** 20;

/**
 * Store growth (bench/store-growth.ts, in a process of its own): each store's isRevoked (the `/hello/` path with
 * access-token revocation) and rotate (refresh with rotation) per call at 1k and at 100k live sessions.
 */
function growthRows(): GrowthRow[] {
  const sizes = QUICK ? ['500', '5000', '200'] : ['1000', '100000', '2000'];
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'store-growth.ts'), ...sizes, '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: process.env,
  });
  if (run.status !== 0) throw new Error(`bench/store-growth.ts: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as GrowthRow[];
}

function growthLines(rows: GrowthRow[]): string[] {
  const [small, large] = [rows[0]?.sizes[0]?.sessions ?? 0, rows[0]?.sizes[1]?.sessions ?? 0].map((n) => n.toLocaleString('en-US'));
  return [
    `| Store | isRevoked µs at ${small} | at ${large} | ratio | rotate µs at ${small} | at ${large} | ratio |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(({ store, sizes: [a, b] }) => {
      const cells = [a!.isRevoked.p50, b!.isRevoked.p50, b!.isRevoked.p50 / a!.isRevoked.p50, a!.rotate.p50, b!.rotate.p50, b!.rotate.p50 / a!.rotate.p50];
      return `| ${store} | ${cells.map((n, i) => fixed(n, i % 3 === 2 ? 2 : 1)).join(' | ')} |`;
    }),
  ];
}

function growthMarkdown(rows: GrowthRow[]): string {
  return [
    '',
    'Store growth (`bench/store-growth.ts`, one process, sequential calls on distinct tokens, median µs per store call): ' +
      'isRevoked is what `/hello/` adds with access-token revocation on, rotate what refresh with rotation adds; ' +
      'ratio: the cost at the larger size over the smaller (1.00 = flat).',
    '',
    ...growthLines(rows),
    '',
  ].join('\n');
}

/**
 * Rows of the benchmark modules other parts of the work add: `bench/login.ts` (logins, ours vs Django) and
 * `bench/cluster.ts` (1 vs 2 processes). The contract: each module exports `rows(context)` returning (a promise of) an array of flat records, each with a `label` and any
 * figures (numbers or strings); they are printed and written as a table of their own, in the order given.
 */
const EXTRA_MODULES = [
  { file: 'login.ts', title: 'Logins (`bench/login.ts`)' },
  { file: 'cluster.ts', title: 'More than one process (`bench/cluster.ts`)' },
];

/** What an extra module's `rows()` gets (each starts its own servers, with a secret of its own). */
export interface ExtraContext {
  quick: boolean;
}

type ExtraRow = { label: string } & Record<string, number | string>;

async function extraTables(): Promise<{ title: string; rows: ExtraRow[] }[]> {
  const tables: { title: string; rows: ExtraRow[] }[] = [];
  for (const { file, title } of EXTRA_MODULES) {
    const loaded = (await import(path.join(__dirname, file))) as { rows?: (context: ExtraContext) => ExtraRow[] | Promise<ExtraRow[]> };
    if (typeof loaded.rows !== 'function') throw new Error(`bench/${file} must export rows(context)`);
    const rows = await loaded.rows({ quick: QUICK });
    tables.push({ title, rows });
    console.log(`\n${title}`);
    for (const row of rows) console.log(Object.entries(row).map(([k, v]) => (k === 'label' ? v : `${k} ${typeof v === 'number' ? fixed(v, 2) : v}`)).join('  '));
  }
  return tables;
}

function extraMarkdown(tables: { title: string; rows: ExtraRow[] }[]): string {
  return tables
    .map(({ title, rows }) => {
      const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => k !== 'label');
      const cell = (v: number | string | undefined) => (typeof v === 'number' ? fixed(v, 2) : (v ?? ''));
      return ['', `${title}:`, '', `| Row | ${keys.join(' | ')} |`, `| --- | ${keys.map(() => '---:').join(' | ')} |`, ...rows.map((r) => `| ${r.label} | ${keys.map((k) => cell(r[k])).join(' | ')} |`), ''].join('\n');
    })
    .join('');
}

function memoryMarkdown(rows: MemoryRow[]): string {
  const lines = [
    '',
    'Token store memory, each in its own process (`bench/memory.ts`): revoked jtis, heap bytes per revoked token in this process, RSS before and after. SQLite and Redis keep the data in the file or the server, so their process stays small.',
    '',
    '| Store | revoked | heap bytes / token | RSS before MiB | RSS after MiB | RSS bytes / token |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.kind} | ${r.count.toLocaleString('en-US')} | ${r.bytesPerToken.toFixed(1)} | ${(r.rssBefore / MIB).toFixed(0)} | ${(r.rssAfter / MIB).toFixed(0)} | ${((r.rssAfter - r.rssBefore) / r.count).toFixed(1)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  // The rounds alone use no store server.
  if (ROUNDS_ONLY) return runAll();
  console.log(
    `express-simplejwt bench (${QUICK ? 'quick' : 'full'}): /hello/ side by side in ${ROUND_TIMING.rounds} rounds of ` +
      `${ROUND_TIMING.warmup} s warm-up + ${ROUND_TIMING.duration} s per row; other rows ${TIMING.warmup} s warm-up + ${TIMING.duration} s`,
  );
  // A private redis-server for the RedisStore rows; its URL reaches the server processes through the environment.
  const redis = await startRedisServer();
  process.env.BENCH_REDIS_URL = `redis://${redis.host}:${redis.port}`;
  process.on('exit', () => void redis.stop());
  // And a private 3-master Redis Cluster for the Cluster rows.
  const cluster = await startRedisCluster();
  process.env.BENCH_REDIS_CLUSTER = JSON.stringify(cluster.nodes);
  process.on('exit', () => void cluster.stop());
  // And a private PostgreSQL (initdb in a temp dir; fsync off, as a throwaway server) for the PostgresStore rows.
  const postgres = await startPostgres();
  process.env.BENCH_POSTGRES_URL = postgres.connectionString;
  try {
    await runAll();
  } finally {
    await redis.stop();
    await cluster.stop();
    await postgres.stop();
  }
}

async function runAll(): Promise<void> {
  if (LOAD_AT_START[0]! > 0.5) console.log(`warning: load average ${LOAD_AT_START[0]!.toFixed(2)}: other work will skew the figures`);
  console.log(`${'row'.padEnd(60)} ${COLUMNS.map((c, i) => c.padStart(COLUMN_WIDTHS[i]!)).join(' ')}`);
  const { results, rows } = await runScenarios();

  const targets = checkTargets(results);
  console.log('\ntargets');
  for (const t of targets) console.log(`${t.pass ? 'PASS' : 'MISS'}  ${t.label.padEnd(40)} ${t.value.padStart(7)}  (${t.goal})`);
  if (ROUNDS_ONLY) return;

  const microRows = micro();
  console.log('\njsonwebtoken µs/op        sign    verify');
  for (const m of microRows) console.log(`${m.algorithm} ${m.key.padEnd(10)} ${fixed(m.signUs, 2).padStart(12)} ${fixed(m.verifyUs, 2).padStart(9)}`);

  const memory = memoryRows();
  console.log('\nstore memory');
  for (const m of memory) {
    console.log(`${m.kind.padEnd(8)} ${String(m.count).padStart(9)} revoked: ${m.bytesPerToken.toFixed(1)} heap bytes/token, RSS ${(m.rssBefore / MIB).toFixed(0)} -> ${(m.rssAfter / MIB).toFixed(0)} MiB`);
  }

  const growth = growthRows();
  console.log('\nstore growth, median µs per call');
  for (const line of growthLines(growth)) console.log(line);

  const extras = await extraTables();

  if (!QUICK) {
    writeFileSync(OUT, markdown(rows, targets, microRows) + memoryMarkdown(memory) + growthMarkdown(growth) + extraMarkdown(extras));
    console.log(`\nwrote ${path.relative(process.cwd(), OUT)}`);
    if (targets.some((t) => !t.pass)) process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
