import { UsageError, type Command } from '../registry';
import type { TokenStore } from '../../stores/types';

/** Opens the store a `--store` value names: `sqlite:<path>`, `redis://host:port/db` or `postgres://user@host/db`. */
async function openStore(spec: string): Promise<{ store: TokenStore; done: () => Promise<void> }> {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (path === '') throw new UsageError('--store sqlite:<path> needs a path, e.g. sqlite:./tokens.sqlite3');
    const { SqliteStore } = await import('../../stores/sqlite');
    const store = new SqliteStore(path, { purgeIntervalSeconds: 0 });
    return { store, done: () => store.close() };
  }
  if (/^rediss?:\/\//.test(spec)) {
    let Redis: typeof import('ioredis').default;
    try {
      Redis = (await import('ioredis')).default;
    } catch {
      throw new UsageError('--store redis://... needs the ioredis package: npm install ioredis');
    }
    const client = new Redis(spec, { maxRetriesPerRequest: 1, lazyConnect: true });
    client.on('error', () => undefined);
    await client.connect();
    const { RedisStore } = await import('../../stores/redis');
    const store = new RedisStore(client, { purgeIntervalSeconds: 0 });
    return {
      store,
      done: async () => {
        await store.close();
        client.disconnect();
      },
    };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const { PostgresStore } = await import('../../stores/postgres');
    let store: InstanceType<typeof PostgresStore>;
    try {
      store = new PostgresStore(spec, { purgeIntervalSeconds: 0 });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    return { store, done: () => store.close() };
  }
  throw new UsageError(
    `--store must be sqlite:<path>, redis://host:port/db or postgres://user@host:port/db (got ${JSON.stringify(spec)})`,
  );
}

/**
 * `flush-expired --store sqlite:./tokens.sqlite3`: removes expired tokens, blacklist entries and revocations
 * from a store, like simplejwt's `flushexpiredtokens`. The stores also do this by themselves on a timer.
 */
export const flushExpired: Command = {
  name: 'flush-expired',
  summary: 'remove expired entries from a token store (like simplejwt flushexpiredtokens)',
  usage: '--store sqlite:<path> | --store redis://host:port/db | --store postgres://user@host:port/db',
  options: { store: { type: 'string', short: 's' } },
  async run({ values }, io) {
    const spec = values.store;
    if (typeof spec !== 'string' || spec === '') throw new UsageError('--store is required');
    const { store, done } = await openStore(spec);
    try {
      const removed = await store.purgeExpired(Math.floor(io.now() / 1000));
      io.out(`Removed ${removed} expired ${removed === 1 ? 'entry' : 'entries'}.`);
      return 0;
    } finally {
      await done();
    }
  },
};
