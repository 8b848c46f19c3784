import type BetterSqlite3 from 'better-sqlite3';
import {
  bySessionAge,
  copyRecord,
  foldFamily,
  resolveTimerOptions,
  seconds,
  sessionInfo,
  startPurgeTimer,
  type FamilyState,
  type StoreTimerOptions,
} from './internal';
import * as ops from './operations';
import type {
  Awaitable,
  PresentedToken,
  RevocationQuery,
  Rotation,
  RotationResult,
  SessionInfo,
  SessionStart,
  SessionStartResult,
  TokenRecord,
  TokenStore,
  UserRevocation,
} from './types';

/**
 * Options of `new SqliteStore(path, options)`.
 *
 * @example
 * new SqliteStore('./tokens.sqlite3', { busyTimeoutMs: 10_000, purgeIntervalSeconds: 300 });
 */
export interface SqliteStoreOptions extends StoreTimerOptions {
  /**
   * How long an event waits for another process's write lock, in milliseconds, before failing (the kit answers
   * 503). The wait never blocks the event loop: a locked database is tried again on timers. Keep it below the
   * kit's `storeTimeoutMs` (default 1000), so a request the kit gave up on never commits later. Default `500`.
   */
  busyTimeoutMs?: number;
}

/**
 * The part of a better-sqlite3 `Database` the store relies on, spelled out so the package's types do not need
 * `@types/better-sqlite3` (any better-sqlite3 v12 `Database` fits).
 *
 * @example
 * import Database from 'better-sqlite3';
 * const db: SqliteDatabase = new Database('./app.sqlite3');
 * const store = new SqliteStore(db); // shares your connection; close() leaves it open
 */
export interface SqliteDatabase {
  readonly open: boolean;
  prepare(source: string): unknown;
  transaction(fn: (...args: never[]) => unknown): unknown;
  exec(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}

/** The connection as the implementation uses it. */
type Db = BetterSqlite3.Database;

/** One numbered schema step; applied in order, once, each in its own transaction. Never edit a shipped step. */
interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The schema. Every table is prefixed `sjwt_` so the store can share a database with the host's own tables, and
 * the applied steps are listed in `sjwt_schema_migrations` (not `PRAGMA user_version`, which belongs to the host).
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create token store tables',
    sql: `
      CREATE TABLE sjwt_tokens (
        jti TEXT PRIMARY KEY NOT NULL,
        user_id TEXT NOT NULL,
        family_id TEXT NOT NULL,
        type TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        session_started_at INTEGER NOT NULL,
        session_expires_at INTEGER NOT NULL,
        user_agent TEXT,
        ip TEXT,
        rotated_at INTEGER
      );
      CREATE INDEX sjwt_tokens_family ON sjwt_tokens (family_id);
      CREATE INDEX sjwt_tokens_user ON sjwt_tokens (user_id);
      CREATE INDEX sjwt_tokens_expires ON sjwt_tokens (expires_at);

      CREATE TABLE sjwt_families (
        family_id TEXT PRIMARY KEY NOT NULL,
        user_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        current_jti TEXT,
        current_issued_at INTEGER,
        expires_at INTEGER,
        purge_at INTEGER NOT NULL,
        user_agent TEXT,
        ip TEXT
      );
      CREATE INDEX sjwt_families_user ON sjwt_families (user_id, created_at);
      CREATE INDEX sjwt_families_purge ON sjwt_families (purge_at);

      CREATE TABLE sjwt_blacklist (
        jti TEXT PRIMARY KEY NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX sjwt_blacklist_expires ON sjwt_blacklist (expires_at);

      CREATE TABLE sjwt_revoked_families (
        family_id TEXT PRIMARY KEY NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX sjwt_revoked_families_expires ON sjwt_revoked_families (expires_at);

      CREATE TABLE sjwt_revoked_users (
        user_id TEXT PRIMARY KEY NOT NULL,
        cutoff INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX sjwt_revoked_users_expires ON sjwt_revoked_users (expires_at);

      CREATE TABLE sjwt_settings (
        name TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'remember successors and when the store began',
    sql: `
      ALTER TABLE sjwt_tokens ADD COLUMN rotated_to TEXT;
      CREATE TABLE sjwt_meta (
        name TEXT PRIMARY KEY NOT NULL,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

/**
 * The newest schema version this code knows.
 *
 * @example
 * db.prepare('SELECT MAX(version) FROM sjwt_schema_migrations').pluck().get() === SQLITE_SCHEMA_VERSION // migrated
 */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS.length;

/** Columns of `sjwt_tokens` as `TokenRecord` names. */
const RECORD_COLUMNS = `jti, user_id AS userId, family_id AS familyId, type, issued_at AS issuedAt,
  expires_at AS expiresAt, session_started_at AS sessionStartedAt, session_expires_at AS sessionExpiresAt,
  user_agent AS userAgent, ip`;

/** A record as bound to the insert statement: absent optional columns are NULL. */
type TokenParams = Omit<TokenRecord, 'userAgent' | 'ip'> & { userAgent: string | null; ip: string | null };

interface TokenRow {
  jti: string;
  userId: string;
  familyId: string;
  type: string;
  issuedAt: number;
  expiresAt: number;
  sessionStartedAt: number;
  sessionExpiresAt: number;
  userAgent: string | null;
  ip: string | null;
  rotatedAt: number | null;
  rotatedTo: string | null;
}

interface FamilyRow {
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  currentJti: string | null;
  currentIssuedAt: number | null;
  expiresAt: number | null;
  purgeAt: number;
  userAgent: string | null;
  ip: string | null;
}

interface SessionRow {
  id: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  userAgent: string | null;
  ip: string | null;
}

/** Loads better-sqlite3 only when a store opens a file, so hosts that never use SQLite need not install it. */
function loadDriver(): typeof BetterSqlite3 {
  try {
    return require('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    const missing =
      (err as { code?: unknown }).code === 'MODULE_NOT_FOUND' &&
      String((err as { message?: unknown }).message).startsWith("Cannot find module 'better-sqlite3'");
    if (missing) {
      throw new TypeError('SqliteStore needs the better-sqlite3 package: npm install better-sqlite3@12', { cause: err });
    }
    throw err;
  }
}

function isDatabase(value: unknown): value is SqliteDatabase {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SqliteDatabase).prepare === 'function' &&
    typeof (value as SqliteDatabase).transaction === 'function' &&
    typeof (value as SqliteDatabase).pragma === 'function'
  );
}

/** Applies the migrations the file lacks, under the write lock so concurrent first starts apply each once. */
function migrate(db: Db, now: number): void {
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS sjwt_schema_migrations (
      version INTEGER PRIMARY KEY NOT NULL,
      name TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    const current = Number(db.prepare('SELECT COALESCE(MAX(version), 0) FROM sjwt_schema_migrations').pluck().get());
    if (current > SQLITE_SCHEMA_VERSION) {
      throw new Error(
        `SqliteStore: the database has token store schema ${current}, newer than this version of express-simplejwt ` +
          `understands (${SQLITE_SCHEMA_VERSION}); upgrade express-simplejwt`,
      );
    }
    const mark = db.prepare('INSERT INTO sjwt_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const step of MIGRATIONS.slice(current)) {
      db.exec(step.sql);
      mark.run(step.version, step.name, now);
    }
  }).immediate();
}

/**
 * A store in one SQLite file (better-sqlite3 v12, an optional peer dependency: `npm install better-sqlite3@12`).
 * Several processes on one machine may share the file: every write runs in a `BEGIN IMMEDIATE` transaction, so
 * `consume()` has exactly one winner across processes. A file the store opens itself gets WAL mode and a busy
 * timeout; a `Database` you pass in is used as configured (WAL is recommended) and stays yours to close.
 *
 * Tables are created and migrated on construction (numbered steps recorded in `sjwt_schema_migrations`). An
 * unref'ed timer purges expired rows every `purgeIntervalSeconds` (default 60); `close()` stops it.
 * The contract's open questions are answered exactly as `MemoryStore` documents.
 *
 * @example
 * const store = new SqliteStore('./tokens.sqlite3');
 * const auth = simpleJwt({ secret, store, findUserByUsername, findUserById });
 * // or share your own connection: new SqliteStore(new Database('./app.sqlite3'))
 */
export class SqliteStore implements TokenStore {
  private readonly db: Db;
  private readonly ownsDb: boolean;
  private readonly busyTimeoutMs: number;
  private since: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  private readonly stmt: {
    insertToken: BetterSqlite3.Statement<[TokenParams]>;
    selectToken: BetterSqlite3.Statement<[string], TokenRow>;
    markRotated: BetterSqlite3.Statement<[number, string, string]>;
    selectFamily: BetterSqlite3.Statement<[string], FamilyRow>;
    upsertFamily: BetterSqlite3.Statement<[Record<string, string | number | null>]>;
    blacklisted: BetterSqlite3.Statement<[string], number>;
    familyRevoked: BetterSqlite3.Statement<[string], number>;
    familyPurgeAt: BetterSqlite3.Statement<[string], number>;
    cutoff: BetterSqlite3.Statement<[string], number>;
    revoke: BetterSqlite3.Statement<[string, number]>;
    revokeFamily: BetterSqlite3.Statement<[string, number]>;
    revokeUser: BetterSqlite3.Statement<[string, number, number]>;
    isRevoked: BetterSqlite3.Statement<[{ jti: string; user: string; iat: number }], { rotated: number | null; revoked: number }>;
    revokedIn: BetterSqlite3.Statement<[{ jti: string; user: string; iat: number; family: string | null }], number>;
    sessions: BetterSqlite3.Statement<[{ user: string; now: number }], SessionRow>;
    since: BetterSqlite3.Statement<[], number>;
    startMemory: BetterSqlite3.Statement<[number]>;
    purge: BetterSqlite3.Statement<[number]>[];
    purgeFamilies: BetterSqlite3.Statement<[number]>;
    getSetting: BetterSqlite3.Statement<[string], string>;
    setSetting: BetterSqlite3.Statement<[string, string]>;
  };

  private readonly primitives: ops.Primitives;
  /** Runs `fn` in one `BEGIN IMMEDIATE` transaction. */
  private readonly inTransaction: <T>(fn: () => T) => T;

  /**
   * @param pathOrDatabase a filename (created if missing) or an open better-sqlite3 `Database`.
   */
  constructor(pathOrDatabase: string | SqliteDatabase, options: SqliteStoreOptions = {}) {
    const { clock, purgeIntervalSeconds } = resolveTimerOptions('SqliteStore', options);
    const { busyTimeoutMs = 500 } = options;
    if (typeof busyTimeoutMs !== 'number' || !Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
      throw new TypeError('SqliteStore: "busyTimeoutMs" must be a whole number of milliseconds >= 0');
    }
    this.busyTimeoutMs = busyTimeoutMs;
    if (typeof pathOrDatabase === 'string') {
      if (pathOrDatabase === '') throw new TypeError('SqliteStore: give a filename such as "./tokens.sqlite3"');
      const Driver = loadDriver();
      // No busy wait inside SQLite: it would block the event loop. A locked database is retried on timers.
      this.db = new Driver(pathOrDatabase, { timeout: 0 });
      this.ownsDb = true;
      try {
        this.db.pragma('busy_timeout = 0');
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
      } catch (err) {
        this.db.close();
        throw err;
      }
    } else if (isDatabase(pathOrDatabase)) {
      this.db = pathOrDatabase as unknown as Db;
      this.ownsDb = false;
    } else {
      throw new TypeError('SqliteStore: pass a filename such as "./tokens.sqlite3" or a better-sqlite3 Database');
    }

    try {
      migrateWithin(this.db, seconds(clock), busyTimeoutMs);
      this.stmt = this.prepareStatements();
    } catch (err) {
      if (this.ownsDb) this.db.close();
      throw err;
    }

    const transaction = this.db.transaction((fn: () => unknown) => fn());
    this.inTransaction = <T>(fn: () => T) => transaction.immediate(fn) as T;
    this.primitives = this.makePrimitives();
    this.timer = startPurgeTimer(purgeIntervalSeconds, clock, (now) => this.purgeExpired(now));
  }

  /** Stops the purge timer and closes the database if the store opened it. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.ownsDb && this.db.open) this.db.close();
  }

  startSession(start: SessionStart): Awaitable<SessionStartResult> {
    return this.write(() => ops.startSession(this.primitives, start));
  }

  rotate(rotation: Rotation): Awaitable<RotationResult> {
    return this.write(() => ops.rotate(this.primitives, rotation));
  }

  revokeToken(token: PresentedToken): Awaitable<void> {
    return this.write(() => ops.revokeToken(this.primitives, token));
  }

  revokeUser(revocation: UserRevocation): Awaitable<void> {
    return this.write(() => ops.revokeUser(this.primitives, revocation));
  }

  endSession(userId: string, sessionId: string, now: number): Awaitable<boolean> {
    return this.write(() => ops.endSession(this.primitives, userId, sessionId, now));
  }

  /** One statement (no transaction; WAL readers never wait for writers). */
  isRevoked(query: RevocationQuery): boolean {
    const row = this.stmt.isRevoked.get({ jti: query.jti, user: query.userId, iat: query.issuedAt })!;
    if (row.revoked === 1 || row.rotated === 1) return true;
    // `rotated` is NULL when the store has no record of the token.
    return row.rotated === null && query.mustBeKnown && query.issuedAt < this.rememberedSinceRead(query.now);
  }

  sessions(userId: string, now: number): SessionInfo[] {
    return this.liveSessions(userId, now);
  }

  purgeExpired(now: number): Awaitable<number> {
    return this.write(() => {
      let removed = 0;
      for (const statement of this.stmt.purge) removed += statement.run(now).changes;
      this.stmt.purgeFamilies.run(now);
      return removed;
    });
  }

  getSetting(name: string): string | undefined {
    return this.stmt.getSetting.get(name);
  }

  setSetting(name: string, value: string): Awaitable<void> {
    return this.write(() => {
      this.stmt.setSetting.run(name, value);
    });
  }

  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction: synchronously when the write lock is free (the usual case),
   * else on timers (2, 4, 8 ... 32 ms apart) until it is, failing with SQLITE_BUSY after `busyTimeoutMs`.
   * Never waits inside SQLite, so another process holding the lock cannot stall this one's event loop.
   */
  private write<T>(fn: () => T): Awaitable<T> {
    try {
      return this.inTransaction(fn);
    } catch (err) {
      if (!isBusy(err)) throw err;
    }
    const deadline = Date.now() + this.busyTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      let delay = 2;
      const attempt = () => {
        try {
          resolve(this.inTransaction(fn));
        } catch (err) {
          if (!isBusy(err) || Date.now() + delay > deadline) {
            reject(isBusy(err) ? new Error(`SqliteStore: the database stayed locked by another connection for ${this.busyTimeoutMs} ms`, { cause: err }) : err);
            return;
          }
          setTimeout(attempt, delay);
          delay = Math.min(delay * 2, 32);
        }
      };
      setTimeout(attempt, delay);
    });
  }

  /** When the store's memory began, without writing (a read that finds none answers `now`). */
  private rememberedSinceRead(now: number): number {
    if (this.since !== undefined) return this.since;
    const since = this.stmt.since.get();
    if (since === undefined) return now;
    return (this.since = since);
  }

  private liveSessions(userId: string, now: number): SessionInfo[] {
    const sessions: SessionInfo[] = []; // an array of this realm, not the driver's (deep equality in tests)
    for (const row of this.stmt.sessions.iterate({ user: userId, now })) {
      sessions.push(sessionInfo(row.id, row.createdAt, row.lastUsedAt, row.expiresAt, row.userAgent, row.ip));
    }
    return sessions.sort(bySessionAge);
  }

  private makePrimitives(): ops.Primitives {
    const stmt = this.stmt;
    return {
      rememberedSince: (now) => {
        if (this.since !== undefined) return this.since;
        stmt.startMemory.run(now);
        return (this.since = stmt.since.get()!);
      },
      get: (jti) => {
        const row = stmt.selectToken.get(jti);
        if (!row) return undefined;
        const { rotatedAt, rotatedTo, ...record } = row;
        return {
          record: copyRecord({ ...record, userAgent: record.userAgent ?? undefined, ip: record.ip ?? undefined }),
          rotatedAt: rotatedAt ?? undefined,
          rotatedTo: rotatedTo ?? undefined,
        };
      },
      put: (record) => this.put(record),
      markRotated: (jti, at, successorJti) => {
        stmt.markRotated.run(at, successorJti, jti);
      },
      blacklist: (jti, until) => {
        stmt.revoke.run(jti, until);
      },
      isBlacklisted: (jti) => stmt.blacklisted.get(jti) !== undefined,
      revokeFamily: (familyId, until) => {
        stmt.revokeFamily.run(familyId, until);
      },
      isFamilyRevoked: (familyId) => stmt.familyRevoked.get(familyId) !== undefined,
      familyPurgeAt: (familyId) => stmt.familyPurgeAt.get(familyId),
      cutoff: (userId) => stmt.cutoff.get(userId),
      setCutoff: (userId, before, until) => {
        stmt.revokeUser.run(userId, before, until);
      },
      liveSessions: (userId, now) => this.liveSessions(userId, now),
      revoked: (jti, userId, issuedAt, familyId) =>
        stmt.revokedIn.get({ jti, user: userId, iat: issuedAt, family: familyId ?? null }) === 1,
    };
  }

  /** Inserts a record unless its jti exists, then folds it into its family. Runs inside a transaction. */
  private put(record: TokenRecord): void {
    const row: TokenParams = {
      jti: record.jti,
      userId: record.userId,
      familyId: record.familyId,
      type: record.type,
      issuedAt: record.issuedAt,
      expiresAt: record.expiresAt,
      sessionStartedAt: record.sessionStartedAt,
      sessionExpiresAt: record.sessionExpiresAt,
      userAgent: record.userAgent ?? null,
      ip: record.ip ?? null,
    };
    if (this.stmt.insertToken.run(row).changes === 0) return;
    const previous = this.stmt.selectFamily.get(record.familyId);
    const family = foldFamily(previous && fromFamilyRow(previous), record);
    this.stmt.upsertFamily.run({
      familyId: record.familyId,
      userId: family.userId,
      createdAt: family.createdAt,
      lastUsedAt: family.lastUsedAt,
      currentJti: family.currentJti ?? null,
      currentIssuedAt: family.currentIssuedAt ?? null,
      expiresAt: family.expiresAt ?? null,
      purgeAt: family.purgeAt,
      userAgent: family.userAgent ?? null,
      ip: family.ip ?? null,
    });
  }

  private prepareStatements(): SqliteStore['stmt'] {
    const db = this.db;
    // Plain numbers even if the host turned on safeIntegers for its own connection.
    const prepare = <P extends unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql).safeIntegers(false);
    return {
      insertToken: prepare(`INSERT INTO sjwt_tokens (jti, user_id, family_id, type, issued_at, expires_at,
          session_started_at, session_expires_at, user_agent, ip)
        VALUES (@jti, @userId, @familyId, @type, @issuedAt, @expiresAt, @sessionStartedAt, @sessionExpiresAt,
          @userAgent, @ip)
        ON CONFLICT (jti) DO NOTHING`),
      selectToken: prepare(`SELECT ${RECORD_COLUMNS}, rotated_at AS rotatedAt, rotated_to AS rotatedTo
        FROM sjwt_tokens WHERE jti = ?`),
      markRotated: prepare('UPDATE sjwt_tokens SET rotated_at = ?, rotated_to = ? WHERE jti = ?'),
      selectFamily: prepare(`SELECT user_id AS userId, created_at AS createdAt, last_used_at AS lastUsedAt,
          current_jti AS currentJti, current_issued_at AS currentIssuedAt, expires_at AS expiresAt,
          purge_at AS purgeAt, user_agent AS userAgent, ip
        FROM sjwt_families WHERE family_id = ?`),
      upsertFamily: prepare(`INSERT INTO sjwt_families (family_id, user_id, created_at, last_used_at, current_jti,
          current_issued_at, expires_at, purge_at, user_agent, ip)
        VALUES (@familyId, @userId, @createdAt, @lastUsedAt, @currentJti, @currentIssuedAt, @expiresAt, @purgeAt,
          @userAgent, @ip)
        ON CONFLICT (family_id) DO UPDATE SET created_at = excluded.created_at, last_used_at = excluded.last_used_at,
          current_jti = excluded.current_jti, current_issued_at = excluded.current_issued_at,
          expires_at = excluded.expires_at, purge_at = excluded.purge_at, user_agent = excluded.user_agent,
          ip = excluded.ip`),
      blacklisted: prepare<[string], number>('SELECT 1 FROM sjwt_blacklist WHERE jti = ?').pluck(),
      familyRevoked: prepare<[string], number>('SELECT 1 FROM sjwt_revoked_families WHERE family_id = ?').pluck(),
      familyPurgeAt: prepare<[string], number>('SELECT purge_at FROM sjwt_families WHERE family_id = ?').pluck(),
      cutoff: prepare<[string], number>('SELECT cutoff FROM sjwt_revoked_users WHERE user_id = ?').pluck(),
      revoke: prepare(`INSERT INTO sjwt_blacklist (jti, expires_at) VALUES (?, ?)
        ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`),
      revokeFamily: prepare(`INSERT INTO sjwt_revoked_families (family_id, expires_at) VALUES (?, ?)
        ON CONFLICT (family_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`),
      revokeUser: prepare(`INSERT INTO sjwt_revoked_users (user_id, cutoff, expires_at) VALUES (?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET cutoff = max(cutoff, excluded.cutoff),
          expires_at = max(expires_at, excluded.expires_at)`),
      isRevoked: prepare(`SELECT
          (SELECT rotated_at IS NOT NULL FROM sjwt_tokens WHERE jti = @jti) AS rotated,
          EXISTS (SELECT 1 FROM sjwt_blacklist WHERE jti = @jti)
          OR EXISTS (SELECT 1 FROM sjwt_revoked_families
            WHERE family_id = (SELECT family_id FROM sjwt_tokens WHERE jti = @jti))
          OR EXISTS (SELECT 1 FROM sjwt_revoked_users WHERE user_id = @user AND cutoff > @iat) AS revoked`),
      revokedIn: prepare<[{ jti: string; user: string; iat: number; family: string | null }], number>(`SELECT
          EXISTS (SELECT 1 FROM sjwt_blacklist WHERE jti = @jti)
          OR (@family IS NOT NULL AND EXISTS (SELECT 1 FROM sjwt_revoked_families WHERE family_id = @family))
          OR EXISTS (SELECT 1 FROM sjwt_revoked_users WHERE user_id = @user AND cutoff > @iat)`).pluck(),
      sessions: prepare(`SELECT f.family_id AS id, f.created_at AS createdAt, f.last_used_at AS lastUsedAt,
          f.expires_at AS expiresAt, f.user_agent AS userAgent, f.ip
        FROM sjwt_families f
        WHERE f.user_id = @user AND f.current_jti IS NOT NULL AND f.expires_at > @now
          AND NOT EXISTS (SELECT 1 FROM sjwt_revoked_families r WHERE r.family_id = f.family_id)
          AND NOT EXISTS (SELECT 1 FROM sjwt_blacklist b WHERE b.jti = f.current_jti)
          AND NOT EXISTS (SELECT 1 FROM sjwt_revoked_users u WHERE u.user_id = f.user_id
            AND u.cutoff > f.current_issued_at)
        ORDER BY f.created_at, f.family_id`),
      since: prepare<[], number>("SELECT value FROM sjwt_meta WHERE name = 'remembered_since'").pluck(),
      startMemory: prepare("INSERT INTO sjwt_meta (name, value) VALUES ('remembered_since', ?) ON CONFLICT (name) DO NOTHING"),
      purge: [
        prepare('DELETE FROM sjwt_tokens WHERE expires_at <= ?'),
        prepare('DELETE FROM sjwt_blacklist WHERE expires_at <= ?'),
        prepare('DELETE FROM sjwt_revoked_families WHERE expires_at <= ?'),
        prepare('DELETE FROM sjwt_revoked_users WHERE expires_at <= ?'),
      ],
      purgeFamilies: prepare('DELETE FROM sjwt_families WHERE purge_at <= ?'),
      getSetting: prepare<[string], string>('SELECT value FROM sjwt_settings WHERE name = ?').pluck(),
      setSetting: prepare(`INSERT INTO sjwt_settings (name, value) VALUES (?, ?)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value`),
    };
  }
}

/** SQLite's "database is locked" (another connection holds the write lock). */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
}

/**
 * Migrates at construction, waiting up to `waitMs` for another process's lock (a blocking wait, but only once,
 * at start-up, when concurrent first starts of several processes are expected).
 */
function migrateWithin(db: Db, now: number, waitMs: number): void {
  const deadline = Date.now() + Math.max(waitMs, 5000);
  for (;;) {
    try {
      migrate(db, now);
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

function fromFamilyRow(row: FamilyRow): FamilyState {
  return {
    userId: row.userId,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    currentJti: row.currentJti ?? undefined,
    currentIssuedAt: row.currentIssuedAt ?? undefined,
    expiresAt: row.expiresAt ?? undefined,
    purgeAt: row.purgeAt,
    userAgent: row.userAgent ?? undefined,
    ip: row.ip ?? undefined,
  };
}
