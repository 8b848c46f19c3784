import { existsSync } from 'node:fs';
import type BetterSqlite3 from 'better-sqlite3';
import type IoRedis from 'ioredis';
import { RedisStore } from '../../stores/redis';
import { SqliteStore } from '../../stores/sqlite';
import type { TokenStore } from '../../stores/types';
import { requireOptional } from '../../util';
import { integerOption, UsageError, type Command } from '../registry';

/** A store the command opened, and how to let go of everything it opened. Closing never throws. */
interface OpenedStore {
  store: TokenStore;
  close(): Promise<void>;
}

/** `--store` with any password masked, for messages. */
function redactStore(spec: string): string {
  try {
    const url = new URL(spec);
    if (url.password !== '') url.password = '***';
    return url.href;
  } catch {
    return spec;
  }
}

/**
 * An existing SQLite token store. Refuses a path that does not exist (better-sqlite3 would create an empty
 * database, and the command would report success) and a database without the store's `sjwt_` tables.
 */
function openSqlite(path: string, timeoutMs: number): OpenedStore {
  const Database = requireOptional<typeof BetterSqlite3>('better-sqlite3', 'flush-expired --store sqlite:');
  if (!existsSync(path)) throw new Error(`${path} does not exist (flush-expired never creates a database; check the path)`);
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true, timeout: timeoutMs });
    const tables = db.prepare(String.raw`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'sjwt\_%' ESCAPE '\'`);
    if (tables.pluck().get() === 0) {
      throw new Error(`${path} has no express-simplejwt tables (sjwt_*): is it the token store's database?`);
    }
    const store = new SqliteStore(db, { purgeIntervalSeconds: 0 });
    const opened = db;
    return {
      store,
      async close() {
        await store.close();
        opened.close();
      },
    };
  } catch (err) {
    db?.close();
    if ((err as { code?: unknown }).code === 'SQLITE_NOTADB') throw new Error(`${path} is not a SQLite database`, { cause: err });
    throw err;
  }
}

/**
 * A Redis token store. The client never retries and never queues: an unreachable server fails the command
 * (within `timeoutMs`) instead of keeping it waiting.
 */
async function openRedis(spec: string, prefix: string | undefined, timeoutMs: number, signal: AbortSignal): Promise<OpenedStore> {
  const Redis = requireOptional<typeof IoRedis>('ioredis', 'flush-expired --store redis://');
  const client = new Redis(spec, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    // disconnect() ends the socket and waits this long for the server's side before destroying it; a hung
    // server never answers, and a CLI has nothing left to say to it.
    disconnectTimeout: 100,
  });
  // After a failed connect the socket is gone already (status "end"): disconnecting again would only leave a timer.
  const disconnect = () => {
    if (client.status !== 'end') client.disconnect();
  };
  let lastError: Error | undefined;
  client.on('error', (err: Error) => (lastError = err));
  // A server that accepts the connection but never answers keeps connect() waiting: the timeout ends it.
  signal.addEventListener('abort', disconnect, { once: true });
  try {
    await client.connect();
  } catch (err) {
    disconnect();
    const reason = lastError?.message ?? (err as Error).message;
    throw new Error(`cannot connect to ${redactStore(spec)}: ${reason}`, { cause: err });
  }
  const store = new RedisStore(client, { purgeIntervalSeconds: 0, ...(prefix === undefined ? {} : { prefix }) });
  return {
    store,
    async close() {
      await store.close();
      disconnect();
    },
  };
}

/** Opens the store a `--store` value names: `sqlite:<path>` or `redis://host:port/db`. */
async function openStore(spec: string, prefix: string | undefined, timeoutMs: number, signal: AbortSignal): Promise<OpenedStore> {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (path === '') throw new UsageError('--store sqlite:<path> needs a path, e.g. sqlite:./tokens.sqlite3');
    if (prefix !== undefined) throw new UsageError('--prefix is for Redis stores (a SQLite store keeps its tables named sjwt_*)');
    return openSqlite(path, timeoutMs);
  }
  if (/^rediss?:\/\//.test(spec)) return openRedis(spec, prefix, timeoutMs, signal);
  throw new UsageError(`--store must be sqlite:<path> or redis://host:port/db (got ${JSON.stringify(redactStore(spec))})`);
}

/** Settles with `work`, or aborts `controller` and rejects after `ms` with `message`. */
function withTimeout<T>(work: Promise<T>, ms: number, controller: AbortController, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(message()));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `flush-expired --store sqlite:./tokens.sqlite3 | redis://host:port/db [--prefix sjwt:] [--timeout 10]`:
 * removes expired tokens, blacklist entries and revocations from a store, like simplejwt's
 * `flushexpiredtokens`. The stores also do this by themselves on a timer. Exits 1 within `--timeout` seconds
 * when the store cannot be reached.
 */
export const flushExpired: Command = {
  name: 'flush-expired',
  summary: 'remove expired entries from a token store (like simplejwt flushexpiredtokens)',
  usage: '--store sqlite:<path>|redis://host:port/db [--prefix sjwt:] [--timeout 10]',
  options: {
    store: {
      type: 'string',
      short: 's',
      value: '<store>',
      description: 'sqlite:<path> (an existing database) or redis[s]://[user:password@]host:port/db (required)',
    },
    prefix: { type: 'string', short: 'p', value: '<prefix>', description: "the Redis store's key prefix, as given to RedisStore (default sjwt:)" },
    timeout: {
      type: 'string',
      short: 't',
      value: '<seconds>',
      description: 'give up, with exit 1, when the store has not answered within this time, 1 to 3600 (default 10)',
    },
  },
  async run({ values }, io) {
    const spec = values.store;
    if (typeof spec !== 'string' || spec === '') throw new UsageError('--store is required');
    const prefix = values.prefix === undefined ? undefined : String(values.prefix);
    const timeoutSeconds = integerOption(values.timeout, 'timeout', 10, 1, 3600);
    const timeoutMs = timeoutSeconds * 1000;
    const controller = new AbortController();
    const opening = openStore(spec, prefix, timeoutMs, controller.signal);
    let opened: OpenedStore | undefined;
    try {
      const removed = await withTimeout(
        opening.then(async (store) => {
          opened = store;
          return store.store.purgeExpired(Math.floor(io.now() / 1000));
        }),
        timeoutMs,
        controller,
        () => `${redactStore(spec)} did not answer within ${timeoutSeconds}s (is it running and reachable? --timeout waits longer)`,
      );
      io.out(`Removed ${removed} expired ${removed === 1 ? 'entry' : 'entries'}.`);
      return 0;
    } finally {
      // After a timeout while connecting, the abort has already closed the client.
      await opened?.close().catch(() => undefined);
    }
  },
};
