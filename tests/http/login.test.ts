import request from 'supertest';
import { hashPassword } from '../../lib';
import { makeApp, memoryLogger } from '../helpers/app';

const NO_ACCOUNT = { detail: 'No active account found with the given credentials', code: 'no_active_account' };

describe('login throttling', () => {
  it('answers DRF 429 with Retry-After and RateLimit headers after the failed attempts, even to the right password', async () => {
    const { app } = makeApp({ loginThrottle: '3/15m' });
    for (let i = 0; i < 3; i++) {
      const res = await request(app).post('/api/token/').send({ username: 'vitor', password: 'wrong' });
      expect(res.status).toBe(401);
      expect(res.headers.ratelimit).toBeDefined();
    }
    const limited = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('throttled');
    expect(limited.body.detail).toMatch(/^Request was throttled\. Expected available in (\d+) seconds\.$/);
    const seconds = Number(/in (\d+) seconds/.exec(limited.body.detail)![1]);
    expect(seconds).toBeGreaterThan(890);
    expect(seconds).toBeLessThanOrEqual(900);
    expect(limited.headers['retry-after']).toBe(String(seconds));
  });

  it('does not count successful logins, and keys by username', async () => {
    const { app } = makeApp({ loginThrottle: '2/1m' });
    for (let i = 0; i < 4; i++) {
      expect((await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(200);
    }
    await request(app).post('/api/token/').send({ username: 'sleeper', password: 'x' });
    await request(app).post('/api/token/').send({ username: 'sleeper', password: 'x' });
    expect((await request(app).post('/api/token/').send({ username: 'sleeper', password: 'x' })).status).toBe(429);
    expect((await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(200);
  });

  it('says "1 second" in the singular', async () => {
    const { app } = makeApp({ loginThrottle: '1/1s' });
    await request(app).post('/api/token/').send({ username: 'vitor', password: 'bad' });
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: 'bad' });
    expect(res.status).toBe(429);
    expect(res.body.detail).toBe('Request was throttled. Expected available in 1 second.');
  });
});

describe('passwords', () => {
  it('refuses a password longer than 72 bytes even when its first 72 bytes match', async () => {
    const long = 'p'.repeat(72);
    const { app, users } = makeApp();
    users.add({ id: 9, username: 'long', password: await hashPassword(long, 4), isActive: true });
    expect((await request(app).post('/api/token/').send({ username: 'long', password: long })).status).toBe(200);
    const res = await request(app).post('/api/token/').send({ username: 'long', password: `${long}extra` });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(NO_ACCOUNT);
  });

  it('treats a non-bcrypt stored hash as a failed login and logs it', async () => {
    const logger = memoryLogger();
    const { app, users } = makeApp({ logger });
    users.add({ id: 10, username: 'plain', password: 'plaintext', isActive: true });
    const res = await request(app).post('/api/token/').send({ username: 'plain', password: 'plaintext' });
    expect(res.status).toBe(401);
    expect(logger.lines.join('\n')).toContain('not bcrypt');
  });

  it('lets the host check credentials itself (e.g. LDAP)', async () => {
    const { app } = makeApp({
      verifyCredentials: (username, password) => (username === 'ldap-user' && password === 'ok' ? { id: 1, isActive: true } as never : null),
    });
    expect((await request(app).post('/api/token/').send({ username: 'ldap-user', password: 'ok' })).status).toBe(200);
    expect((await request(app).post('/api/token/').send({ username: 'ldap-user', password: 'no' })).body).toEqual(NO_ACCOUNT);
  });

  it('reads users through custom accessors', async () => {
    const hash = await hashPassword('pw', 4);
    const people = new Map([['ann', { pk: 'u-1', secret: hash, enabled: true }]]);
    const { app } = makeApp({
      findUserByUsername: (name) => people.get(name) as never,
      findUserById: (id) => ([...people.values()].find((p) => p.pk === id) as never) ?? null,
      getUserId: (u) => (u as unknown as { pk: string }).pk,
      getPasswordHash: (u) => (u as unknown as { secret: string }).secret,
      isUserActive: (u) => (u as unknown as { enabled: boolean }).enabled,
    });
    const res = await request(app).post('/api/token/').send({ username: 'ann', password: 'pw' });
    expect(res.status).toBe(200);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${res.body.access}`)).status).toBe(200);
  });
});

describe('timing equalisation', () => {
  /** Median of a small sample; robust to one slow outlier (GC, a busy CI core). */
  function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  }

  it('an unknown username costs a bcrypt comparison like a wrong password', async () => {
    // Cost 10 makes one comparison tens of milliseconds; skipping it would be about a millisecond.
    const { app, users } = makeApp({ bcryptRounds: 10 });
    users.add({ id: 11, username: 'timed', password: await hashPassword('right', 10), isActive: true });
    const time = async (body: object) => {
      const start = process.hrtime.bigint();
      const res = await request(app).post('/api/token/').send(body);
      expect(res.status).toBe(401);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await time({ username: 'nobody', password: 'x' }); // warm the dummy hash
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 7; i++) {
      unknown.push(await time({ username: `nobody${i}`, password: 'x' }));
      wrong.push(await time({ username: 'timed', password: 'wrong' }));
    }
    const ratio = median(unknown) / median(wrong);
    // Skipping the dummy comparison makes the ratio about 0.02; the wide band keeps a busy CI machine from flaking.
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(3);
  });
});
