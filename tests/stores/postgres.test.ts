import type { Express } from 'express';
import { Pool } from 'pg';
import request from 'supertest';
import { PostgresStore, POSTGRES_SCHEMA_VERSION } from '../../lib/stores';
import { login, loginRecord, newJti, presentedOf, rotation, runStoreConformance, T0 } from '../../lib/testing/conformance';
import { makeApp, type TestApp } from '../helpers/app';
import { startDemo, type Demo } from '../helpers/demo';
import { cli as runCli } from '../cli/run';
import { usePostgres } from '../helpers/postgres';

const pg = usePostgres();
let prefixes = 0;

/** A table prefix no store of this file has used yet: an empty store in the server's database. */
function newPrefix(): string {
  prefixes += 1;
  return `t${prefixes}_`;
}

/** A pool as a host opens it (with the 'error' listener pg asks every pool to have). */
function hostPool(url: string): Pool {
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return pool;
}

runStoreConformance('PostgresStore', { describe, it, beforeEach, afterEach }, async (clock) => {
  const url = pg.server().connectionString;
  const options = { clock, purgeIntervalSeconds: 0, tablePrefix: newPrefix() };
  // The store opens its own pool; two more stores share its tables through pools the host opens and passes in.
  const store = new PostgresStore(url, options);
  const hostPools = [hostPool(url), hostPool(url)];
  const peers = [store, ...hostPools.map((pool) => new PostgresStore(pool, options))];
  await Promise.all(peers.map((peer) => peer.init()));
  return {
    store,
    peers,
    async close() {
      for (const peer of peers) await peer.close();
      for (const pool of hostPools) await pool.end();
    },
  };
});

/** A store on a fresh prefix of the test server's database, for one test. */
function freshStore(options: ConstructorParameters<typeof PostgresStore>[1] = {}, prefix = newPrefix()): PostgresStore {
  return new PostgresStore(pg.server().connectionString, { purgeIntervalSeconds: 0, tablePrefix: prefix, ...options });
}

describe('PostgresStore', () => {
  it('keeps revocations, rotations and settings across a server restart, and the same store carries on', async () => {
    const prefix = newPrefix();
    const store = freshStore({}, prefix);
    const session = loginRecord();
    const loggedOut = loginRecord();
    await store.startSession(login(session));
    await store.startSession(login(loggedOut));
    expect(await store.rotate(rotation(session, T0 + 5))).toMatchObject({ status: 'ok' });
    await store.revokeToken(presentedOf(loggedOut));
    await store.revokeUser({ userId: '7', before: T0 + 10, retainUntil: T0 + 3600 });
    await store.setSetting('accessLifetime', '300');

    await pg.server().down();
    await pg.server().up();

    const second = freshStore({}, prefix);
    for (const s of [store, second]) {
      const check = { now: T0 + 6, userId: '1', issuedAt: T0, mustBeKnown: true };
      expect(await s.isRevoked({ ...check, jti: loggedOut.jti })).toBe(true);
      expect(await s.isRevoked({ ...check, jti: newJti(), userId: '7', issuedAt: T0 + 9, mustBeKnown: false })).toBe(true);
      expect(await s.isRevoked({ ...check, jti: newJti(), issuedAt: T0 - 1 })).toBe(true); // older than its memory
      expect(await s.getSetting('accessLifetime')).toBe('300');
    }
    expect(await second.rotate(rotation(session, T0 + 6, { reuseDetection: false }))).toMatchObject({ status: 'reused', rotatedAt: T0 + 5 });
    await store.close();
    await second.close();
  }, 60_000);

  it('rejects within its timeout while the server is down, and recovers when it returns, with no restart', async () => {
    const store = freshStore({ timeoutMs: 300 });
    await store.init();
    const session = loginRecord();
    await store.startSession(login(session));
    await pg.server().down();
    try {
      for (const operation of [
        () => store.startSession(login(loginRecord())),
        () => store.rotate(rotation(session, T0 + 1)),
        () => store.isRevoked({ now: T0, jti: session.jti, userId: '1', issuedAt: T0, mustBeKnown: true }),
        () => store.sessions('1', T0),
      ]) {
        const started = Date.now();
        await expect(operation()).rejects.toThrow();
        expect(Date.now() - started).toBeLessThan(1000);
      }
    } finally {
      await pg.server().up();
    }
    expect(await store.rotate(rotation(session, T0 + 2))).toMatchObject({ status: 'ok' });
    await store.close();
  }, 60_000);

  it('rejects within twice its timeout while the server hangs, and recovers when it answers again', async () => {
    const store = freshStore({ timeoutMs: 200 });
    const session = loginRecord();
    await store.startSession(login(session)); // a warm connection, which the frozen server will leave hanging
    pg.server().freeze();
    try {
      for (const operation of [
        () => store.rotate(rotation(session, T0 + 1)),
        () => store.isRevoked({ now: T0, jti: session.jti, userId: '1', issuedAt: T0, mustBeKnown: true }),
      ]) {
        const started = Date.now();
        await expect(operation()).rejects.toThrow();
        expect(Date.now() - started).toBeLessThan(700);
      }
    } finally {
      pg.server().thaw();
    }
    // The rotation sent before the freeze may have run once the server woke (its reply was lost, as on a network
    // that drops it): within reuseInterval the client's retry gets its successor, else it is the first rotation.
    const retried = await store.rotate(rotation(session, T0 + 2, { reuseInterval: 30 }));
    expect(['ok', 'retry']).toContain(retried.status);
    await store.close();
  }, 30_000);

  it('bounds an event waiting on a lock by timeoutMs (lock_timeout), then works once the lock is gone', async () => {
    const prefix = newPrefix();
    const store = freshStore({ timeoutMs: 200 }, prefix);
    const session = loginRecord({ userId: 'locked' });
    await store.startSession(login(session));
    const holder = await pg.server().pool({ max: 1 }).connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT pg_advisory_xact_lock(hashtextextended('${prefix}user:locked', 0))`);
      const started = Date.now();
      await expect(store.rotate(rotation(session, T0 + 1))).rejects.toThrow(/canceling statement due to (lock|statement) timeout/);
      expect(Date.now() - started).toBeLessThan(800);
      expect(await store.isRevoked({ now: T0, jti: session.jti, userId: 'locked', issuedAt: T0, mustBeKnown: true })).toBe(false);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(await store.rotate(rotation(session, T0 + 1))).toMatchObject({ status: 'ok' });
    await store.close();
  });

  it('migrates once when several servers start together, and records the version', async () => {
    const prefix = newPrefix();
    const stores = Array.from({ length: 5 }, () => freshStore({}, prefix));
    await Promise.all(stores.map((s) => s.init()));
    const pool = pg.server().pool();
    const { rows } = await pool.query(`SELECT version FROM ${prefix}schema_migrations ORDER BY version`);
    expect(rows.map((r: { version: number }) => r.version)).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, i) => i + 1));
    for (const s of stores) await s.close();
  });

  it('refuses a database migrated by a newer version', async () => {
    const prefix = newPrefix();
    const first = freshStore({}, prefix);
    await first.init();
    await first.close();
    await pg.server().pool().query(`INSERT INTO ${prefix}schema_migrations (version, name) VALUES (${POSTGRES_SCHEMA_VERSION + 1}, 'future')`);
    const store = freshStore({}, prefix);
    await expect(store.init()).rejects.toThrow(
      `PostgresStore: the database has token store schema ${POSTGRES_SCHEMA_VERSION + 1}, newer than this version of express-simplejwt understands (${POSTGRES_SCHEMA_VERSION}); upgrade express-simplejwt`,
    );
    await store.close();
  });

  it("shares a host's pool without ending it, and keeps strings with quotes and backslashes intact", async () => {
    const pool = pg.server().pool();
    const store = new PostgresStore(pool, { purgeIntervalSeconds: 0, tablePrefix: newPrefix() });
    const odd = "it's a \\'quote\\' \\\\ and ''; DROP TABLE x; --";
    const session = loginRecord({ userId: odd, userAgent: odd });
    await store.startSession(login(session));
    expect((await store.sessions(odd, T0))[0]).toMatchObject({ id: session.jti, userAgent: odd });
    await store.setSetting(odd, odd);
    expect(await store.getSetting(odd)).toBe(odd);
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('purges on its timer, reading the injected clock, and close() stops it', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      let now = T0 * 1000;
      const store = freshStore({ clock: () => now, purgeIntervalSeconds: 60 });
      await store.init();
      const jti = newJti();
      await store.revokeToken({ jti, userId: '1', type: 'refresh', issuedAt: T0, expiresAt: T0 + 90 });
      const check = { now: T0, jti, userId: '1', issuedAt: T0, mustBeKnown: false };
      now = (T0 + 90) * 1000;
      expect(await store.isRevoked(check)).toBe(true);
      jest.advanceTimersByTime(60_000);
      jest.useRealTimers();
      const deadline = Date.now() + 5000;
      while ((await store.isRevoked(check)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.isRevoked(check)).toBe(false);
      await store.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('migrates a database of schema 1 to the login limiter table, keeping its data', async () => {
    const prefix = newPrefix();
    const first = freshStore({}, prefix);
    await first.init();
    const jti = newJti();
    await first.revokeToken({ jti, userId: '1', type: 'refresh', issuedAt: T0, expiresAt: T0 + 90 });
    await first.close();
    // What a release with migration 1 only left behind.
    const pool = pg.server().pool();
    await pool.query(`DROP TABLE ${prefix}rate_limits; DELETE FROM ${prefix}schema_migrations WHERE version > 1`);
    const store = freshStore({}, prefix);
    const limits = store.rateLimitStore('x:');
    expect(await limits.increment('a')).toMatchObject({ totalHits: 1 });
    expect(await store.isRevoked({ now: T0, jti, userId: '1', issuedAt: T0, mustBeKnown: false })).toBe(true);
    const { rows } = await pool.query(`SELECT version, name FROM ${prefix}schema_migrations WHERE version = 2`);
    expect(rows).toEqual([{ version: 2, name: 'create login limiter counters' }]);
    await store.close();
  });

  it('rateLimitStore(): fixed windows on the database clock, shared by every store on the tables', async () => {
    const prefix = newPrefix();
    // 20 increments at once open up to 20 new connections; on a busy machine that can take longer than the default
    // 500 ms connect bound, which is about availability (tested elsewhere), not what this test checks: atomicity.
    const [one, two] = [freshStore({ timeoutMs: 5000 }, prefix), freshStore({ timeoutMs: 5000 }, prefix)];
    const a = one.rateLimitStore('rl:');
    const b = two.rateLimitStore('rl:');
    const other = two.rateLimitStore("other's:");
    for (const limits of [a, b, other]) await limits.init!({ windowMs: 1000 } as Parameters<NonNullable<typeof a.init>>[0]);
    expect(await a.get!('k')).toBeUndefined();
    const started = Date.now();
    const first = await a.increment('k');
    expect(first.totalHits).toBe(1);
    expect(Math.abs(first.resetTime!.getTime() - started - 1000)).toBeLessThan(500);
    expect((await b.increment('k')).totalHits).toBe(2);
    expect((await a.increment('k')).resetTime).toEqual(first.resetTime); // the window does not move
    expect((await other.increment('k')).totalHits).toBe(1); // another prefix, another counter
    expect(await b.get!('k')).toEqual({ totalHits: 3, resetTime: first.resetTime });
    await b.decrement('k');
    expect((await a.get!('k'))?.totalHits).toBe(2);
    // Concurrent increments from both stores: each is one atomic statement, so every count is seen exactly once.
    const [long1, long2] = [one.rateLimitStore('long:'), two.rateLimitStore('long:')];
    for (const limits of [long1, long2]) await limits.init!({ windowMs: 60_000 } as Parameters<NonNullable<typeof a.init>>[0]);
    const counts = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? long1 : long2).increment('k')));
    expect(counts.map((c) => c.totalHits).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect(await a.get!('k')).toBeUndefined(); // the window ended
    expect((await b.increment('k')).totalHits).toBe(1); // a new one starts
    await a.resetKey('k');
    expect(await b.get!('k')).toBeUndefined();
    await other.increment('k2');
    await a.increment('k2');
    await a.resetAll!();
    expect(await a.get!('k2')).toBeUndefined();
    expect((await other.get!('k2'))?.totalHits).toBe(1); // resetAll() stays within its prefix
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect(await one.purgeExpired(T0)).toBeGreaterThanOrEqual(1); // ended windows are purged
    const { rows } = await pg.server().pool().query(`SELECT key FROM ${prefix}rate_limits`);
    expect(rows).toEqual([{ key: 'long:k' }]);
    await one.close();
    await two.close();
  });

  it('says how to install pg when it is missing', () => {
    jest.doMock('pg', () => {
      throw Object.assign(new Error("Cannot find module 'pg' from 'lib/stores/postgres.ts'"), { code: 'MODULE_NOT_FOUND' });
    });
    try {
      jest.isolateModules(() => {
        const { PostgresStore: Isolated } = require('../../lib/stores/postgres') as typeof import('../../lib/stores/postgres');
        const open = () => new Isolated('postgres://localhost/app');
        expect(open).toThrow(TypeError);
        expect(open).toThrow('PostgresStore needs the pg package: npm install pg');
      });
    } finally {
      jest.dontMock('pg');
    }
  });

  it.each([
    [42, {}, 'PostgresStore: pass a connection string such as "postgres://user:pass@host:5432/db" or a pg Pool'],
    ['mysql://localhost/db', {}, 'PostgresStore: give a connection string such as "postgres://user:pass@host:5432/db" or a pg Pool'],
    ['postgres://localhost/db', { tablePrefix: 'Bad-Prefix' }, 'PostgresStore: "tablePrefix" must be 1-30 lower-case letters'],
    ['postgres://localhost/db', { timeoutMs: 0 }, 'PostgresStore: "timeoutMs" must be a whole number of milliseconds >= 1'],
  ])('rejects %p %p with a TypeError', (argument, options, message) => {
    const make = () => new PostgresStore(argument as string, options as object);
    expect(make).toThrow(TypeError);
    expect(make).toThrow(message);
  });
});

describe('two app servers sharing one PostgreSQL database', () => {
  const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const made of apps.splice(0)) await made.auth.close();
  });

  function appOn(prefix: string, options: Parameters<typeof makeApp>[0] = {}): Express {
    const made = makeApp({ store: freshStore({}, prefix), rotateRefreshTokens: true, ...options });
    apps.push(made);
    return made.app;
  }

  async function loginOn(app: Express): Promise<{ access: string; refresh: string }> {
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(200);
    return res.body as { access: string; refresh: string };
  }

  it('20 concurrent refreshes of one token across both: exactly one new token; logout on one is refused on the other', async () => {
    const prefix = newPrefix();
    const [a, b] = [appOn(prefix, { revokeAccessTokens: true }), appOn(prefix, { revokeAccessTokens: true })];
    const pair = await loginOn(a);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request(i % 2 === 0 ? a : b).post('/api/token/refresh/').send({ refresh: pair.refresh })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status === 401);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect(r.body).toEqual(BLACKLISTED);

    const other = await loginOn(b);
    expect((await request(a).get('/hello/').set('Authorization', `Bearer ${other.access}`)).status).toBe(200);
    expect((await request(a).post('/api/token/blacklist/').send({ refresh: other.refresh })).status).toBe(200);
    expect((await request(b).post('/api/token/refresh/').send({ refresh: other.refresh })).body).toEqual(BLACKLISTED);
    const hello = await request(b).get('/hello/').set('Authorization', `Bearer ${other.access}`);
    expect(hello.status).toBe(401);
  }, 60_000);

  it('answers 503 store_unavailable within the store timeout while the server is down, and recovers by itself', async () => {
    const app = appOn(newPrefix(), { storeTimeoutMs: 1000 });
    const pair = await loginOn(app);
    await pg.server().down();
    try {
      for (const send of [
        () => request(app).post('/api/token/').send({ username: 'vitor', password: '123' }),
        () => request(app).post('/api/token/refresh/').send({ refresh: pair.refresh }),
      ]) {
        const started = Date.now();
        const res = await send();
        expect(Date.now() - started).toBeLessThan(1500);
        expect(res.status).toBe(503);
        expect(res.body).toEqual({ detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' });
      }
    } finally {
      await pg.server().up();
    }
    const started = Date.now();
    let res = await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh });
    while (res.status === 503 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh });
    }
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);
});

describe('the login limiter on the PostgresStore database', () => {
  const UNAVAILABLE = { detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' };
  const made: TestApp[] = [];
  afterEach(async () => {
    for (const app of made.splice(0)) await app.auth.close();
  });

  /** A kit with the default login throttle ('10/15m') and store timeout, on the test server's database. */
  function throttledApp(prefix: string): TestApp {
    const app = makeApp({ store: freshStore({}, prefix), loginThrottle: undefined });
    made.push(app);
    return app;
  }

  const attempt = (app: Express, password: string) => request(app).post('/api/token/').send({ username: 'vitor', password });

  it('two app servers count failed logins together: 10 per 15 minutes in all, not per server', async () => {
    const prefix = newPrefix();
    const [a, b] = [throttledApp(prefix), throttledApp(prefix)];
    for (let i = 0; i < 10; i++) {
      const res = await attempt((i % 2 === 0 ? a : b).app, 'wrong');
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('no_active_account');
    }
    for (const app of [a.app, b.app]) {
      const refused = await attempt(app, '123');
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('throttled');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(850);
    }
    const { rows } = await pg.server().pool().query(`SELECT hits FROM ${prefix}rate_limits WHERE key LIKE 'login:%|%' AND key NOT LIKE '%|#'`);
    expect(rows).toEqual([{ hits: 10 }]);
  }, 60_000);

  it('answers login 503 store_unavailable within 3 s while PostgreSQL is stopped, and logs in again within 5 s of its return', async () => {
    const app = throttledApp(newPrefix());
    expect((await attempt(app.app, '123')).status).toBe(200);
    await pg.server().down();
    try {
      for (const password of ['123', 'wrong', '123']) {
        const started = Date.now();
        const res = await attempt(app.app, password);
        expect(Date.now() - started).toBeLessThan(3000);
        expect(res.status).toBe(503);
        expect(res.body).toEqual(UNAVAILABLE);
      }
      // The limiter refused first (before any password check), with its own log line.
      expect(app.log.some((line) => line.includes('login limiter store unavailable'))).toBe(true);
    } finally {
      await pg.server().up();
    }
    const started = Date.now();
    let res = await attempt(app.app, '123');
    while (res.status === 503 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await attempt(app.app, '123');
    }
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);

  it('answers login 503 within 3 s while PostgreSQL hangs, and logs in again once it answers', async () => {
    const app = throttledApp(newPrefix());
    expect((await attempt(app.app, '123')).status).toBe(200); // warm connections, which the freeze leaves hanging
    pg.server().freeze();
    try {
      for (const password of ['123', 'wrong']) {
        const started = Date.now();
        const res = await attempt(app.app, password);
        expect(Date.now() - started).toBeLessThan(3000);
        expect(res.status).toBe(503);
        expect(res.body).toEqual(UNAVAILABLE);
      }
    } finally {
      pg.server().thaw();
    }
    const started = Date.now();
    let res = await attempt(app.app, '123');
    while (res.status === 503 && Date.now() - started < 5000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await attempt(app.app, '123');
    }
    expect(res.status).toBe(200);
  }, 60_000);
});

describe('the demo and the CLI on PostgreSQL', () => {
  const ENV_SECRET = 'env-secret-0a1b2c3d4e5f60718293a4b5c6d7e8f9-qrstuvwxyzabcdef';

  it('two demo processes with JWT_STORE=postgres://...: a logout on one is refused by the other', async () => {
    const url = await pg.server().createDatabase('demo');
    const env = { JWT_SECRET: ENV_SECRET, JWT_STORE: url, JWT_REVOKE_ACCESS_TOKENS: 'true' };
    const demos: Demo[] = [];
    try {
      demos.push(await startDemo([], env), await startDemo([], env));
      const [a, b] = demos as [Demo, Demo];
      const pair = (await request(a.base).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
      expect((await request(b.base).get('/hello/').set('Authorization', `Bearer ${pair.access}`)).status).toBe(200);
      expect((await request(a.base).post('/api/token/blacklist/').send({ refresh: pair.refresh })).status).toBe(200);
      const refused = await request(b.base).post('/api/token/refresh/').send({ refresh: pair.refresh });
      expect(refused.body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });
      expect((await request(b.base).get('/hello/').set('Authorization', `Bearer ${pair.access}`)).status).toBe(401);
      const { rows } = await pg.server().pool({ connectionString: url }).query('SELECT count(*)::int AS n FROM sjwt_blacklist');
      expect(rows).toEqual([{ n: 1 }]); // the logout is in PostgreSQL
    } finally {
      for (const demo of demos) demo.child.kill('SIGTERM');
    }
  }, 60_000);

  it('flush-expired --store postgres://... purges on demand', async () => {
    const url = await pg.server().createDatabase('flush');
    const store = new PostgresStore(url, { purgeIntervalSeconds: 0 });
    const now = Math.floor(Date.now() / 1000);
    const base = { userId: '1', type: 'refresh', issuedAt: now - 100, sessionStartedAt: now - 100 };
    const start = { now: now - 100, maxSessions: Infinity, whenFull: 'evict-oldest' as const };
    await store.startSession({ ...start, session: { ...base, jti: 'a'.repeat(32), familyId: 'a'.repeat(32), expiresAt: now - 10, sessionExpiresAt: now - 10 } });
    await store.revokeToken({ jti: 'b'.repeat(32), userId: '1', type: 'refresh', issuedAt: now - 100, expiresAt: now - 10 });
    await store.startSession({ ...start, session: { ...base, jti: 'd'.repeat(32), familyId: 'd'.repeat(32), expiresAt: now + 3600, sessionExpiresAt: now + 3600 } });
    const run = await runCli(['flush-expired', '--store', url]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('Removed 3 expired entries.');
    expect(run.code).toBe(0);
    expect((await store.sessions('1', now)).map((s) => s.id)).toEqual(['d'.repeat(32)]);
    await store.close();
  }, 30_000);
});
