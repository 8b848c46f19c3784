/**
 * A SQLite write lock held by another process: the store never waits inside SQLite, so the event loop keeps
 * turning (/hello/ answers while refresh waits, even with access-token revocation, whose check is a WAL read),
 * and an event that needs the lock answers 503 within the store's wait, well inside storeTimeoutMs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import request from 'supertest';
import { SqliteStore } from '../../../lib';
import { makeApp } from '../../helpers/app';

const dir = mkdtempSync(join(tmpdir(), 'sjwt-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Another process that takes the write lock (BEGIN IMMEDIATE) and keeps it until stdin closes. */
async function holdLock(file: string): Promise<ChildProcess> {
  const holder = spawn(
    process.execPath,
    ['-e', `const db = new (require('better-sqlite3'))(${JSON.stringify(file)}); db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n'); process.stdin.resume(); process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });`],
    { stdio: ['pipe', 'pipe', 'inherit'], cwd: join(__dirname, '../../..') },
  );
  const lines = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
  expect((await lines.next()).value).toBe('locked');
  return holder;
}

it('keeps /hello/ answering (each in under half the refresh\'s wait) and answers refresh 503 within the store timeout while another process holds the lock', async () => {
  const file = join(dir, 'tokens.sqlite3');
  const store = new SqliteStore(file, { purgeIntervalSeconds: 0 });
  const { app, auth } = makeApp({ store, revokeAccessTokens: true, rotateRefreshTokens: true, storeTimeoutMs: 1000 });
  const pair = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
  const holder = await holdLock(file);
  try {
    const started = Date.now();
    const refresh = request(app).post('/api/token/refresh/').send({ refresh: pair.refresh }).then((res) => ({ res, ms: Date.now() - started }));
    const hellos = [];
    for (let i = 0; i < 5; i += 1) {
      const t = Date.now();
      const res = await request(app).get('/hello/').set('Authorization', `Bearer ${pair.access}`);
      hellos.push({ status: res.status, ms: Date.now() - t });
    }
    const { res, ms } = await refresh;
    expect(hellos.map((h) => h.status)).toEqual([200, 200, 200, 200, 200]);
    // A blocked event loop would hold every /hello/ for the whole wait; relative to it, not to a wall-clock figure.
    expect(Math.max(...hellos.map((h) => h.ms))).toBeLessThan(ms / 2);
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('store_unavailable');
    expect(ms).toBeLessThan(1500);
  } finally {
    holder.stdin!.end();
    await new Promise((resolve) => holder.once('exit', resolve));
  }
  // The lock gone, the same refresh token rotates: the failed request changed nothing.
  expect((await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh })).status).toBe(200);
  await auth.close();
}, 30_000);
