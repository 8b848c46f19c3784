import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import { AuthError } from '../errors';

/** Compares a password with a bcrypt hash; resolves whether they match. */
export type BcryptCompare = (password: string, hash: string) => Promise<boolean>;

/** Options of the hashing pool (the `passwordHashing` option). */
export interface HashingPoolOptions {
  /** Worker threads doing bcrypt; `0` runs bcryptjs on the main thread. Default: cores - 1, at least 1. */
  threads?: number;
  /** Comparisons running or waiting at once; beyond it a login answers 503 `server_busy` at once. Default `max(16, threads * 16)`. */
  maxPending?: number;
}

/** The worker: bcryptjs's synchronous compare, off the main thread. The path is resolved here, once. */
function workerSource(): string {
  return `
const { parentPort } = require('node:worker_threads');
const bcrypt = require(${JSON.stringify(require.resolve('bcryptjs'))});
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false;
  try { ok = bcrypt.compareSync(password, hash); } catch { ok = false; }
  parentPort.postMessage({ id, ok });
});`;
}

interface Job {
  id: number;
  password: string;
  hash: string;
  resolve: (ok: boolean) => void;
}

/**
 * bcrypt in a small pool of worker threads. bcryptjs is pure JavaScript: its async compare still runs on the main
 * thread (in slices), so a burst of logins starves every other request. Here the event loop only posts messages;
 * and when `maxPending` comparisons are already running or queued, a new one is refused at once with
 * 503 `server_busy` (`Retry-After: 1`) instead of queueing without bound.
 * Workers start on first use and are unref'ed: they never keep the process alive.
 */
export function createHashingPool(options: HashingPoolOptions = {}) {
  const threads = options.threads ?? Math.max(1, availableParallelism() - 1);
  const maxPending = options.maxPending ?? Math.max(16, threads * 16);
  const workers: { worker: Worker; busy: Job | undefined }[] = [];
  const queue: Job[] = [];
  const running = new Map<number, Job>();
  let nextId = 1;
  let pending = 0;

  function start(): void {
    for (let i = 0; i < threads; i++) {
      const slot: { worker: Worker; busy: Job | undefined } = { worker: new Worker(workerSource(), { eval: true }), busy: undefined };
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
      return bcrypt.compare(password, hash).then(
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

  return { compare, close, hasCapacity, threads, maxPending };
}

export type HashingPool = ReturnType<typeof createHashingPool>;

let shared: HashingPool | undefined;

/** The process-wide pool used unless `passwordHashing` asks for another: one set of workers however many kits. */
export function sharedHashingPool(): HashingPool {
  shared ??= createHashingPool();
  return shared;
}
