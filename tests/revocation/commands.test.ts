import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import request from 'supertest';
import { RedisStore, SqliteStore } from '../../lib';
import { createDemoApp } from '../../demo-app/app';
import { SqliteUsers } from '../../demo-app/db';
import { runCli } from '../helpers/keys';
import { startRedisServer, type RedisServer } from '../stores/redis-server';

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'sjwt-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Three expired entries (a session's record, a logged-out unknown token's blacklist entry and ended session) and one live session. */
async function seed(store: SqliteStore | RedisStore, now: number): Promise<void> {
  const base = { userId: '1', type: 'refresh', issuedAt: now - 100, sessionStartedAt: now - 100 };
  const start = { now: now - 100, maxSessions: Infinity, whenFull: 'evict-oldest' as const };
  await store.startSession({ ...start, session: { ...base, jti: 'a'.repeat(32), familyId: 'a'.repeat(32), expiresAt: now - 10, sessionExpiresAt: now - 10 } });
  await store.revokeToken({ jti: 'b'.repeat(32), userId: '1', type: 'refresh', issuedAt: now - 100, expiresAt: now - 10 });
  await store.startSession({ ...start, session: { ...base, jti: 'd'.repeat(32), familyId: 'd'.repeat(32), expiresAt: now + 3600, sessionExpiresAt: now + 3600 } });
}

describe('npx express-simplejwt flush-expired', () => {
  it('purges a SQLite store on demand', async () => {
    const file = join(dir, 'tokens.sqlite3');
    const store = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    await seed(store, Math.floor(Date.now() / 1000));
    await store.close();
    const run = await runCli(['flush-expired', '--store', `sqlite:${file}`]);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('Removed 3 expired entries.');
    expect(run.code).toBe(0);
    const again = await runCli(['flush-expired', '--store', `sqlite:${file}`]);
    expect(again.stdout.trim()).toBe('Removed 0 expired entries.');
    const reopened = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    expect((await reopened.sessions('1', Math.floor(Date.now() / 1000))).map((s) => s.id)).toEqual(['d'.repeat(32)]);
    await reopened.close();
  }, 30_000);

  describe('with Redis', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedisServer();
    }, 130_000);
    afterAll(async () => redis?.stop());

    it('purges a Redis store on demand', async () => {
      const client = new Redis({ host: redis.host, port: redis.port });
      const store = new RedisStore(client, { purgeIntervalSeconds: 0 });
      await seed(store, Math.floor(Date.now() / 1000));
      await store.close();
      client.disconnect();
      const run = await runCli(['flush-expired', '--store', `redis://${redis.host}:${redis.port}/0`]);
      expect(run.stdout.trim()).toBe('Removed 3 expired entries.');
      expect(run.code).toBe(0);
    }, 30_000);
  });

  it.each([
    [[], /--store is required/],
    [['--store', 'mysql://x'], /--store must be sqlite:<path>, redis:\/\/host:port\/db or postgres:\/\/user@host:port\/db/],
    [['--store', 'sqlite:'], /needs a path/],
  ])('refuses %j with exit 2 and usage', async (args, message) => {
    const run = await runCli(['flush-expired', ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/usage: express-simplejwt flush-expired/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('npm run createuser -- <name>', () => {
  function createUser(name: string, input: string, db: string): Promise<{ code: number | null; out: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo-app/createuser.ts', name], {
      cwd: ROOT,
      env: { ...process.env, DEMO_DB: db },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stdin.end(input);
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
  }

  it('asks the password twice without echoing it, and the user can log in', async () => {
    const db = join(dir, 'users.sqlite3');
    const created = await createUser('alice', 's3cret-pass\ns3cret-pass\n', db);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/Password: \nPassword \(again\): \nUser "alice" created with id \d+\./);
    expect(created.out).not.toContain('s3cret-pass');
    const users = new SqliteUsers(db);
    try {
      const { app, auth } = createDemoApp(users, { secret: 'Tq7hV2mXc9LpR4sW8yZ1nB6dF3gJ0kA5-createuser-test', warnings: false, loginThrottle: false });
      expect((await request(app).post('/api/token/').send({ username: 'alice', password: 's3cret-pass' })).status).toBe(200);
      await auth.close();
    } finally {
      users.close();
    }
  }, 30_000);

  it('refuses mismatched passwords and taken usernames', async () => {
    const db = join(dir, 'users2.sqlite3');
    const mismatch = await createUser('bob', 'one\ntwo\n', db);
    expect(mismatch.code).toBe(1);
    expect(mismatch.out).toContain("Error: Your passwords didn't match.");
    const taken = await createUser('vitor', 'x\nx\n', db);
    expect(taken.code).toBe(1);
    expect(taken.out).toContain('Error: That username is already taken.');
  }, 30_000);
});
