/**
 * Issue 14, finding 4: a login storm from one address must neither lock out users on other addresses nor grow the
 * server's memory. The limiter counts only credential failures (401), checks password-pool capacity before it
 * touches a counter, and one address makes at most NAMES_PER_ADDRESS + 2 counters.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { MemoryStore as RateLimitMemoryStore } from 'express-rate-limit';
import { makeApp } from '../helpers/app';
import { NAMES_PER_ADDRESS } from '../../lib/http/throttle';

const ROOT = join(__dirname, '..', '..');

function obtain(app: Parameters<typeof request>[0], address: string, username: string, password: string) {
  return request(app).post('/api/token/').set('X-Forwarded-For', address).send({ username, password });
}

describe('login storm (issue 14, finding 4)', () => {
  it('one address sending random names makes a bounded number of limiter keys, then shares one counter', async () => {
    const store = new RateLimitMemoryStore();
    const keys = new Set<string>();
    const increment = store.increment.bind(store);
    store.increment = (key: string) => {
      keys.add(key);
      return increment(key);
    };
    const { app } = makeApp({ loginThrottle: { rate: '10/15m', store }, passwordHashing: false });
    app.set('trust proxy', 1);
    const statuses: Record<number, number> = {};
    for (let i = 0; i < NAMES_PER_ADDRESS + 60; i++) {
      const res = await obtain(app, '198.51.100.7', `storm-${i}`, 'guess');
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
    // 100 names with their own counter, 10 more failures on the shared one, then 429 without a password check.
    expect(statuses).toEqual({ 401: NAMES_PER_ADDRESS + 10, 429: 50 });
    expect(keys.size).toBe(NAMES_PER_ADDRESS + 2);
    const limited = await obtain(app, '198.51.100.7', 'yet-another', 'guess');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds\.$/), code: 'throttled' });
    // A name that has its own counter keeps its own budget; another address is untouched.
    expect((await obtain(app, '198.51.100.7', 'storm-0', 'guess')).status).toBe(401);
    expect((await obtain(app, '203.0.113.9', 'vitor', '123')).status).toBe(200);
    expect(keys.size).toBe(NAMES_PER_ADDRESS + 2);
  });

  it('answers that are not credential failures never count: 400 and a successful login leave the budget whole', async () => {
    const { app } = makeApp({ loginThrottle: '2/15m', passwordHashing: false });
    for (let i = 0; i < 5; i++) {
      const res = await request(app).post('/api/token/').send({ username: 'vitor' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ password: ['This field is required.'] });
    }
    for (let i = 0; i < 3; i++) expect((await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(200);
    expect((await request(app).post('/api/token/').send({ username: 'vitor', password: 'x' })).status).toBe(401);
    expect((await request(app).post('/api/token/').send({ username: 'vitor', password: 'x' })).status).toBe(401);
    expect((await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(429);
  });

  it('a storm from another address: the victim logs in (never 503 server_busy, never 429); heap growth <= 100 bytes per storm request', async () => {
    // A separate process: --expose-gc for an honest heap figure, and the storm's load off the test runner.
    const requests = Number(process.env.SJWT_STORM_REQUESTS ?? 5000);
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', 'tests/security/storm.ts', String(requests)],
        { cwd: ROOT, timeout: 170_000, maxBuffer: 1 << 20 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const result = JSON.parse(out) as {
      victim: { status: number; ms: number; code?: string }[];
      victimAfter: { status: number };
      statuses: Record<string, number>;
      bytesPerRequest: number;
    };
    expect(result.victim.map((v) => v.status)).toEqual(Array(10).fill(200));
    expect(result.victimAfter.status).toBe(200);
    expect(result.bytesPerRequest).toBeLessThanOrEqual(100);
  }, 180_000);
});
