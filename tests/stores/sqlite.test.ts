import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { SqliteStore, SQLITE_SCHEMA_VERSION } from '../../lib/stores';
import { login, loginRecord, newJti, presentedOf, rotation, runStoreConformance, T0 } from '../../lib/testing/conformance';

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

runStoreConformance('SqliteStore', { describe, it, beforeEach, afterEach }, (clock) => {
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
    const session = loginRecord();
    const loggedOut = loginRecord();
    await first.startSession(login(session));
    await first.startSession(login(loggedOut));
    expect(await first.rotate(rotation(session, T0 + 5))).toMatchObject({ status: 'ok' });
    await first.revokeToken(presentedOf(loggedOut));
    await first.revokeUser({ userId: '7', before: T0 + 10, retainUntil: T0 + 3600 });
    await first.setSetting('accessLifetime', '300');
    await first.close();
    expect(() => first.getSetting('accessLifetime')).toThrow('The database connection is not open');

    const second = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    const check = { now: T0 + 6, userId: '1', issuedAt: T0, mustBeKnown: true };
    expect(second.isRevoked({ ...check, jti: loggedOut.jti })).toBe(true);
    expect(second.isRevoked({ ...check, jti: newJti(), userId: '7', issuedAt: T0 + 9, mustBeKnown: false })).toBe(true);
    expect(second.isRevoked({ ...check, jti: newJti(), issuedAt: T0 - 1 })).toBe(true); // older than its memory
    expect(await second.rotate(rotation(session, T0 + 6))).toMatchObject({ status: 'reused', rotatedAt: T0 + 5 });
    expect(second.getSetting('accessLifetime')).toBe('300');
    await second.close();
  });

  it('upgrades a schema-1 file in place, keeping its records and remembering it from the upgrade on', async () => {
    const file = newFile();
    const db = new Database(file);
    db.exec(`CREATE TABLE sjwt_schema_migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
    db.close();
    // A file as version 0.1 left it: schema 1 only.
    const old = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    await old.close();
    const raw = new Database(file);
    raw.exec("DELETE FROM sjwt_schema_migrations WHERE version = 2; DROP TABLE sjwt_meta; ALTER TABLE sjwt_tokens DROP COLUMN rotated_to;");
    raw.prepare(`INSERT INTO sjwt_tokens (jti, user_id, family_id, type, issued_at, expires_at, session_started_at, session_expires_at)
      VALUES ('old', '1', 'old', 'refresh', ?, ?, ?, ?)`).run(T0 - 60, T0 + 3600, T0 - 60, T0 + 3600);
    raw.prepare(`INSERT INTO sjwt_families (family_id, user_id, created_at, last_used_at, current_jti, current_issued_at, expires_at, purge_at)
      VALUES ('old', '1', ?, ?, 'old', ?, ?, ?)`).run(T0 - 60, T0 - 60, T0 - 60, T0 + 3600, T0 + 3600);
    raw.close();
    const store = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    const known = { jti: 'old', userId: '1', type: 'refresh', issuedAt: T0 - 60, expiresAt: T0 + 3600 };
    expect(await store.rotate(rotation(known, T0))).toMatchObject({ status: 'ok', session: { id: 'old' } });
    await store.close();
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
    const session = loginRecord();
    await store.startSession(login(session));
    expect(await store.rotate(rotation(session, T0 + 1))).toMatchObject({ status: 'ok' });
    expect(store.sessions('1', T0 + 1)[0]?.createdAt).toBe(T0);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT COUNT(*) FROM users').pluck().get()).toBe(0n);
    db.close();
  });

  it('gives exactly one ok when separate processes rotate the same token at once', async () => {
    const file = newFile();
    const store = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    const session = loginRecord();
    await store.startSession(login(session));
    const racers = Array.from({ length: 4 }, () =>
      spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'sqlite-racer.ts'), file, JSON.stringify(session)], {
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
    expect(db.prepare('SELECT COUNT(*) FROM sjwt_tokens WHERE family_id = ?').pluck().get(session.familyId)).toBe(2);
    db.close();
    await store.close();
  }, 60_000);

  it('never blocks the event loop on a lock another process holds: waits on timers, then fails', async () => {
    const file = newFile();
    const store = new SqliteStore(file, { purgeIntervalSeconds: 0, busyTimeoutMs: 300 });
    const holder = spawn(process.execPath, ['-e', `
      const Database = require('better-sqlite3');
      const db = new Database(${JSON.stringify(file)});
      db.exec('BEGIN IMMEDIATE');
      process.stdout.write('locked\\n');
      process.stdin.once('data', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
    `], { stdio: ['pipe', 'pipe', 'inherit'], cwd: join(__dirname, '../..') });
    try {
      const lines = createInterface({ input: holder.stdout })[Symbol.asyncIterator]();
      expect((await lines.next()).value).toBe('locked');
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 10);
      const started = Date.now();
      const pending = store.startSession(login(loginRecord()));
      expect(pending).toBeInstanceOf(Promise);
      await expect(pending).rejects.toThrow('SqliteStore: the database stayed locked by another connection for 300 ms');
      clearInterval(ticker);
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(5000); // bounded (generous: a busy machine), the exact figure is the ticks' job
      expect(ticks).toBeGreaterThan(10); // the loop kept turning meanwhile
      holder.stdin.end('go');
      await new Promise((resolve) => holder.once('exit', resolve));
      expect(await store.startSession(login(loginRecord()))).toEqual({ status: 'ok', ended: [] });
    } finally {
      if (holder.exitCode === null) holder.kill();
      await store.close();
    }
  }, 30_000);

  it('purges on its timer, reading the injected clock, and close() stops it', async () => {
    jest.useFakeTimers();
    let now = T0 * 1000;
    const store = new SqliteStore(newFile(), { clock: () => now, purgeIntervalSeconds: 60 });
    const jti = newJti();
    await store.revokeToken({ jti, userId: '1', type: 'refresh', issuedAt: T0, expiresAt: T0 + 90 });
    const check = { now: T0, jti, userId: '1', issuedAt: T0, mustBeKnown: false };
    await jest.advanceTimersByTimeAsync(60_000);
    expect(store.isRevoked(check)).toBe(true);
    now = (T0 + 90) * 1000;
    await jest.advanceTimersByTimeAsync(60_000);
    expect(store.isRevoked(check)).toBe(false);
    await store.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never keeps the process alive', () => {
    const script = `const { SqliteStore } = require(${JSON.stringify(join(__dirname, '../../lib/stores/sqlite.ts'))});
      new SqliteStore(${JSON.stringify(newFile())}, { purgeIntervalSeconds: 1 }).revokeToken({ jti: 'a', userId: '1', type: 'refresh', issuedAt: 0, expiresAt: 1 });`;
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
