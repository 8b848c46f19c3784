import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { SqliteStore, SQLITE_SCHEMA_VERSION } from '../../lib/stores';
import { newJti, refreshRecord, runStoreConformance, successorOf, T0 } from './conformance';

let dir: string;
let fileCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sjwt-sqlite-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A path for a new database file in the suite's temp dir. */
function newFile(): string {
  fileCount += 1;
  return join(dir, `tokens-${fileCount}.sqlite3`);
}

runStoreConformance('SqliteStore', (clock) => {
  const file = newFile();
  const store = new SqliteStore(file, { clock, purgeIntervalSeconds: 0 });
  // Two more connections to the same file: one the store opens, one the host opens and passes in.
  const hostDb = new Database(file);
  const peers = [store, new SqliteStore(file, { clock, purgeIntervalSeconds: 0 }), new SqliteStore(hostDb, { clock, purgeIntervalSeconds: 0 })];
  return {
    store,
    peers,
    async close() {
      for (const peer of peers) await peer.close();
      hostDb.close();
    },
  };
});

describe('SqliteStore', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('keeps revocations, rotations and settings when the file is closed and reopened', async () => {
    const file = newFile();
    const first = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    const login = refreshRecord();
    const blacklisted = newJti();
    first.record(login);
    first.consume(login.jti, T0 + 5, successorOf(login, T0 + 5));
    first.revoke(blacklisted, T0 + 3600);
    first.revokeFamily('family-1', T0 + 3600);
    first.revokeUser('7', T0 + 10, 3600);
    first.setSetting('accessLifetime', '300');
    await first.close();
    expect(() => first.getSetting('accessLifetime')).toThrow('The database connection is not open');

    const second = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    expect(second.isRevoked(blacklisted, '1', T0)).toBe(true);
    expect(second.isRevoked(newJti(), '1', T0, 'family-1')).toBe(true);
    expect(second.isRevoked(newJti(), '7', T0 + 9)).toBe(true);
    expect(second.consume(login.jti, T0 + 6, successorOf(login, T0 + 6))).toMatchObject({ status: 'reused', rotatedAt: T0 + 5 });
    expect(second.getSetting('accessLifetime')).toBe('300');
    await second.close();
  });

  it('opens its own files in WAL mode and records the schema version once', async () => {
    const file = newFile();
    const store = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    const again = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const versions = db.prepare('SELECT version FROM sjwt_schema_migrations').pluck().all();
    expect(versions).toEqual(Array.from({ length: SQLITE_SCHEMA_VERSION }, (_, i) => i + 1));
    db.close();
    await again.close();
    await store.close();
  });

  it('refuses a file migrated by a newer version', async () => {
    const file = newFile();
    await new SqliteStore(file, { purgeIntervalSeconds: 0 }).close();
    const db = new Database(file);
    db.prepare("INSERT INTO sjwt_schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)").run(SQLITE_SCHEMA_VERSION + 1);
    db.close();
    expect(() => new SqliteStore(file, { purgeIntervalSeconds: 0 })).toThrow(
      `SqliteStore: the database has token store schema ${SQLITE_SCHEMA_VERSION + 1}, newer than this version of express-simplejwt understands (${SQLITE_SCHEMA_VERSION}); upgrade express-simplejwt`,
    );
  });

  it("shares a host's Database without touching its settings or closing it", async () => {
    const db = new Database(':memory:');
    db.defaultSafeIntegers(true);
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)');
    const store = new SqliteStore(db, { purgeIntervalSeconds: 0 });
    const login = refreshRecord();
    store.record(login);
    expect(store.consume(login.jti, T0 + 1, successorOf(login, T0 + 1))).toStrictEqual({ status: 'ok', record: login });
    expect(store.sessions('1', T0 + 1)[0]?.createdAt).toBe(T0);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT COUNT(*) FROM users').pluck().get()).toBe(0n);
    db.close();
  });

  it('gives exactly one ok when separate processes consume the same jti at once', async () => {
    const file = newFile();
    const store = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    const login = refreshRecord();
    store.record(login);
    const racers = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'sqlite-racer.ts'), file, login.jti, JSON.stringify(login)], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const statuses: string[] = [];
    try {
      const outputs = racers.map((child) => createInterface({ input: child.stdout })[Symbol.asyncIterator]());
      for (const output of outputs) expect((await output.next()).value).toBe('ready');
      for (const child of racers) child.stdin.end('go\n');
      for (const output of outputs) statuses.push(...(JSON.parse((await output.next()).value as string) as string[]));
    } finally {
      for (const child of racers) if (child.exitCode === null) child.kill();
    }
    expect(statuses).toHaveLength(20);
    expect(statuses.filter((s) => s === 'ok')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'reused')).toHaveLength(19);
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) FROM sjwt_tokens WHERE family_id = ?').pluck().get(login.familyId)).toBe(2);
    db.close();
    await store.close();
  }, 60_000);

  it('purges on its timer, reading the injected clock, and close() stops it', async () => {
    jest.useFakeTimers();
    let now = T0 * 1000;
    const store = new SqliteStore(newFile(), { clock: () => now, purgeIntervalSeconds: 60 });
    const jti = newJti();
    store.revoke(jti, T0 + 90);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(store.isRevoked(jti, '1', T0)).toBe(true);
    now = (T0 + 90) * 1000;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(store.isRevoked(jti, '1', T0)).toBe(false);
    await store.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never keeps the process alive', () => {
    const script = `const { SqliteStore } = require(${JSON.stringify(join(__dirname, '../../lib/stores/sqlite.ts'))});
      new SqliteStore(${JSON.stringify(newFile())}, { purgeIntervalSeconds: 1 }).revoke('a', 1);`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect(child.error).toBeUndefined();
    expect(child.status).toBe(0);
  });

  it('says how to install better-sqlite3 when it is missing', () => {
    jest.doMock('better-sqlite3', () => {
      throw Object.assign(new Error("Cannot find module 'better-sqlite3' from 'lib/stores/sqlite.ts'"), {
        code: 'MODULE_NOT_FOUND',
      });
    });
    try {
      jest.isolateModules(() => {
        const { SqliteStore: Isolated } = require('../../lib/stores/sqlite') as typeof import('../../lib/stores/sqlite');
        const open = () => new Isolated(newFile());
        expect(open).toThrow(TypeError);
        expect(open).toThrow('SqliteStore needs the better-sqlite3 package: npm install better-sqlite3@12');
      });
    } finally {
      jest.dontMock('better-sqlite3');
    }
  });

  it.each([
    [42, 'SqliteStore: pass a filename such as "./tokens.sqlite3" or a better-sqlite3 Database'],
    ['', 'SqliteStore: give a filename such as "./tokens.sqlite3"'],
  ])('rejects %p with a TypeError', (argument, message) => {
    const make = () => new SqliteStore(argument as unknown as string);
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
  });
});
