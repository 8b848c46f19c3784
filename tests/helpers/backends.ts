import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import type { TestApp } from './app';
import { startRedisServer, type RedisServer } from '../stores/redis-server';

/** The real backends a suite needs: a private redis-server, a temp directory for SQLite files, and cleanup. */
export interface Backends {
  /** The running redis-server (for outages: `down()`, `up()`, `freeze()`, `thaw()`). */
  redis(): RedisServer;
  /** A temp directory, removed after the suite. */
  dir(): string;
  /** A client that fails fast while Redis is down (no offline queue), connected before it is used. */
  redisClient(): Promise<Redis>;
  /** Closes the app's kit (store timers, connections) after the suite. */
  track(made: TestApp): TestApp;
}

/**
 * Registers `beforeAll`/`afterAll` for the calling `describe` (or file): starts redis-server and makes the temp
 * directory before, and closes every tracked app and client, stops the server and removes the directory after.
 */
export function useBackends(name: string): Backends {
  let redis: RedisServer | undefined;
  let dir: string | undefined;
  const clients: Redis[] = [];
  const opened: TestApp[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), `sjwt-${name}-`));
  }, 130_000);

  afterAll(async () => {
    for (const made of opened) await made.auth.close();
    for (const client of clients) client.disconnect();
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  return {
    redis: () => redis!,
    dir: () => dir!,
    async redisClient() {
      const client = new Redis({ host: redis!.host, port: redis!.port, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      client.on('error', () => undefined);
      clients.push(client);
      await new Promise((resolve) => client.once('ready', resolve));
      return client;
    },
    track(made) {
      opened.push(made);
      return made;
    },
  };
}
