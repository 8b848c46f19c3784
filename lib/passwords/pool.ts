import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AuthError } from '../errors';
import { bcryptBackend, type BcryptImplementation } from './native';

/** Compares a password with a bcrypt hash; resolves whether they match. */
export type BcryptCompare = (password: string, hash: string) => Promise<boolean>;

/** Options of the hashing pool (the `passwordHashing` option). */
export interface HashingPoolOptions {
  /** Worker threads doing bcrypt; `0` compares without workers (native: libuv's threads; bcryptjs: the main thread). Default: one per core. */
  threads?: number;
  /** Comparisons running or waiting at once; beyond it a login answers 503 `server_busy` at once. Default `max(16, threads * 16)`. */
  maxPending?: number;
  /** Which bcrypt: `'auto'` (`@node-rs/bcrypt` when installed, else bcryptjs), `'native'` (required) or `'bcryptjs'`. Default `'auto'`. */
  bcrypt?: 'auto' | BcryptImplementation;
  /**
   * Linux only: how much lower than the main thread the workers run, as a nice value from 0 to 19 (per thread on
   * Linux). Higher lets requests that need no password overtake a login storm, but also lets every other
   * process on the machine starve the logins. Default `0`.
   */
  nice?: number;
}

/**
 * The worker: a synchronous compare (bcryptjs's `compareSync` or the native `verifySync`), off the main thread,
 * at a lower priority when `nice` asks (Linux only: elsewhere a thread cannot lower its own priority alone).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.nice > 0) { try { require('node:os').setPriority(0, workerData.nice); } catch {} }
const lib = require(workerData.modulePath);
const compareSync = workerData.native ? lib.verifySync : lib.compareSync;
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = compareSync(password, hash) === true; } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});`;

interface Job {
  id: number;
  password: string;
  hash: string;
  resolve: (ok: boolean) => void;
}

/**
 * bcrypt in a pool of worker threads, one per core by default, with `@node-rs/bcrypt` when it is installed (see
 * `bcryptBackend`). bcryptjs is pure JavaScript: its async compare still runs on the main thread (in slices), so a
 * burst of logins would starve every other request; native code would run in libuv's four threads, shared with
 * file and DNS work. Here the event loop only posts messages, and hashing takes every core. When `maxPending` comparisons are
 * already running or queued, a new one is refused at once with 503 `server_busy`
 * (`Retry-After: 1`) instead of queueing without bound. Workers start on first use and are unref'ed: they never
 * keep the process alive.
 *
 * @example
 * const pool = createHashingPool({ threads: 2, bcrypt: 'auto' });
 * const ok = await pool.compare(password, user.passwordHash);
 */
export function createHashingPool(options: HashingPoolOptions = {}) {
  const backend = bcryptBackend(options.bcrypt);
  const threads = options.threads ?? availableParallelism();
  const maxPending = options.maxPending ?? Math.max(16, threads * 16);
  const workers: { worker: Worker; busy: Job | undefined }[] = [];
  const queue: Job[] = [];
  const running = new Map<number, Job>();
  let nextId = 1;
  let pending = 0;

  const workerData = { modulePath: backend.modulePath, native: backend.implementation === 'native', nice: process.platform === 'linux' ? (options.nice ?? 0) : 0 };

  function start(): void {
    for (let i = 0; i < threads; i++) {
      const slot: { worker: Worker; busy: Job | undefined } = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData }), busy: undefined };
      slot.worker.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
        const job = running.get(id);
        running.delete(id);
        slot.busy = undefined;
        if (job) finish(job, ok);
        dispatch();
      });
      slot.worker.on('error', () => {
        // A crashed worker: fail its job closed (no match) and replace it.
        const job = slot.busy;
        slot.busy = undefined;
        if (job) {
          running.delete(job.id);
          finish(job, false);
        }
        workers.splice(workers.indexOf(slot), 1);
        if (workers.length === 0) start();
        dispatch();
      });
      // After the listeners: adding a 'message' listener refs the worker again.
      slot.worker.unref();
      workers.push(slot);
    }
  }

  function finish(job: Job, ok: boolean): void {
    pending--;
    job.resolve(ok);
  }

  function dispatch(): void {
    for (const slot of workers) {
      if (slot.busy || queue.length === 0) continue;
      const job = queue.shift()!;
      slot.busy = job;
      running.set(job.id, job);
      slot.worker.postMessage({ id: job.id, password: job.password, hash: job.hash });
    }
  }

  const compare: BcryptCompare = (password, hash) => {
    if (pending >= maxPending) return Promise.reject(new AuthError('server_busy'));
    pending++;
    if (threads === 0) {
      return backend.compare(password, hash).then(
        (ok) => {
          pending--;
          return ok;
        },
        () => {
          pending--;
          return false;
        },
      );
    }
    if (workers.length === 0) start();
    return new Promise<boolean>((resolve) => {
      queue.push({ id: nextId++, password, hash, resolve });
      dispatch();
    });
  };

  /** Stops the workers (tests and graceful shutdown). */
  async function close(): Promise<void> {
    const stopping = workers.splice(0).map((slot) => slot.worker.terminate());
    await Promise.all(stopping);
  }

  /** Whether a comparison started now would be accepted (fewer than `maxPending` running or queued). */
  function hasCapacity(): boolean {
    return pending < maxPending;
  }

  /** Says which bcrypt runs where, for the start-up log. */
  function describe(): string {
    const where = threads > 0 ? `${threads} worker thread${threads === 1 ? '' : 's'}` : backend.implementation === 'native' ? "libuv's thread pool" : 'the main thread';
    const what = backend.implementation === 'native' ? '@node-rs/bcrypt (native)' : 'bcryptjs (JavaScript; `npm install @node-rs/bcrypt` for native bcrypt)';
    return `bcrypt: ${what} in ${where}`;
  }

  return { compare, close, hasCapacity, describe, threads, maxPending, implementation: backend.implementation };
}

export type HashingPool = ReturnType<typeof createHashingPool>;

let shared: HashingPool | undefined;

/** The process-wide pool used unless `passwordHashing` asks for another: one set of workers however many kits. */
export function sharedHashingPool(): HashingPool {
  shared ??= createHashingPool();
  return shared;
}

const announced = new WeakSet<HashingPool>();

/** Logs once per pool, at `info` level (when the logger has one), which bcrypt runs where. */
export function announceHashingPool(pool: HashingPool, logger: { info?(message: string): void }): void {
  if (announced.has(pool) || typeof logger.info !== 'function') return;
  announced.add(pool);
  logger.info(`[express-simplejwt] ${pool.describe()}`);
}
