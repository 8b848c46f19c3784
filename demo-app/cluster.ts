import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { SqliteUsers } from './db';
import { demoDbPath, parseStoreSetting } from './settings';

/**
 * `WEB_CONCURRENCY`: how many processes serve the demo (`node:cluster` workers sharing one port), as Heroku and
 * gunicorn name it. Unset, empty or `1`: one process, no cluster; `auto`: one per core.
 */
export function parseWebConcurrency(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  if (/^auto$/i.test(value)) return availableParallelism();
  if (/^[1-9]\d{0,2}$/.test(value)) return Number(value);
  throw new TypeError(`WEB_CONCURRENCY must be a number of processes from 1 to 999 or auto (got ${JSON.stringify(value)})`);
}

/**
 * What every worker must share: tokens revoked or rotated in one process must be refused by the others, so the
 * store must live outside the process (the SQLite file, Redis or PostgreSQL; not memory), and so must the users.
 * Throws a TypeError saying what to change.
 */
export function checkSharedState(env: NodeJS.ProcessEnv, workers: number): void {
  const dbPath = demoDbPath(env);
  if (dbPath === ':memory:') throw new TypeError(`WEB_CONCURRENCY=${workers} needs DEMO_DB to be a file: each process would have its own users`);
  const store = parseStoreSetting(env.JWT_STORE, dbPath);
  if (store.kind === 'memory' || (store.kind === 'sqlite' && store.path === ':memory:')) {
    throw new TypeError(
      `WEB_CONCURRENCY=${workers} needs a store the processes share: JWT_STORE=sqlite:<file> (the default), redis://... or postgres://...; ` +
        'with memory a token logged out in one process stays valid in the others',
    );
  }
}

/**
 * The primary of `WEB_CONCURRENCY=N npm start`: checks the settings, creates and seeds the users' database once
 * (so the workers do not race to), forks `workers` processes that each run the demo, and restarts one that dies
 * after it started listening. SIGTERM or SIGINT is passed on to every worker, which finishes its requests in flight
 * as a single process does; the primary exits when they all have, with 0 if they all did.
 */
export function runPrimary(workers: number, env: NodeJS.ProcessEnv = process.env): void {
  try {
    checkSharedState(env, workers);
    new SqliteUsers(demoDbPath(env)).close();
  } catch (err) {
    console.error(`demo-app: ${(err as Error).message}`);
    process.exit(2);
  }
  console.log(`demo-app: ${workers} worker processes (node:cluster, WEB_CONCURRENCY=${env.WEB_CONCURRENCY}), primary pid ${process.pid}`);
  const live = new Set<Worker>();
  const listening = new WeakSet<Worker>();
  let stopping = false;
  let exitCode = 0;
  cluster.on('listening', (worker) => listening.add(worker));
  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    if (code !== 0 || signal) exitCode = code || 1;
    if (stopping) {
      if (live.size === 0) process.exit(exitCode);
      return;
    }
    if (!listening.has(worker)) {
      // It failed while starting (a bad setting, a port in use): the others would fail alike.
      console.error(`demo-app: worker ${worker.process.pid} exited with ${signal ?? code} before listening; stopping`);
      stop('SIGTERM');
      return;
    }
    console.error(`demo-app: worker ${worker.process.pid} exited with ${signal ?? code}; starting another`);
    live.add(cluster.fork());
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (live.size === 0) process.exit(exitCode);
    for (const worker of live) worker.process.kill(signal);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (let i = 0; i < workers; i++) live.add(cluster.fork());
}
