import request from 'supertest';
import { makeApp, memoryLogger } from '../helpers/app';
import { loadDjangoHashes } from '../helpers/django-hashes';

const NO_ACCOUNT = { detail: 'No active account found with the given credentials', code: 'no_active_account' };
const hashes = loadDjangoHashes().hashes;
const pbkdf2 = hashes.find((entry) => entry.algorithm === 'pbkdf2_sha256' && entry.password === '123')!;
const pbkdf2Long = hashes.find((entry) => entry.algorithm === 'pbkdf2_sha256' && entry.password.length > 72)!;

describe('logging in with a Django users table', () => {
  it.each([5, 4] as const)('accepts a Django pbkdf2_sha256 hash over HTTP and opens a protected route (Express %i)', async (major) => {
    const logger = memoryLogger();
    const { app, users } = makeApp({ logger }, { major });
    users.add({ id: 20, username: 'django', password: pbkdf2.hash, isActive: true });

    const login = await request(app).post('/api/token/').send({ username: 'django', password: '123' });
    expect(login.status).toBe(200);
    expect(Object.keys(login.body).sort()).toEqual(['access', 'refresh']);
    const hello = await request(app).get('/hello/').set('Authorization', `Bearer ${login.body.access}`);
    expect(hello.status).toBe(200);
    expect(hello.body).toEqual({ message: 'Hello, World!' });

    const wrong = await request(app).post('/api/token/').send({ username: 'django', password: '1234' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(NO_ACCOUNT);
    expect(logger.lines).toEqual([]);
  });

  it('has no 72-byte limit for a PBKDF2 hash', async () => {
    const { app, users } = makeApp();
    users.add({ id: 21, username: 'long', password: pbkdf2Long.hash, isActive: true });
    const res = await request(app).post('/api/token/').send({ username: 'long', password: pbkdf2Long.password });
    expect(res.status).toBe(200);
    const wrong = await request(app).post('/api/token/').send({ username: 'long', password: `${pbkdf2Long.password}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(NO_ACCOUNT);
  });

  it("refuses Django's unusable passwords without logging them as bad hashes", async () => {
    const logger = memoryLogger();
    const { app, users } = makeApp({ logger });
    users.add({ id: 22, username: 'social', password: '!Yb2QwlgmY3Gu1ZPsiDWdOjnVHQUgUgmYbw9Kf6Pd', isActive: true });
    const res = await request(app).post('/api/token/').send({ username: 'social', password: '' });
    expect(res.status).toBe(400); // DRF: a blank password is a field error before any check
    const res2 = await request(app).post('/api/token/').send({ username: 'social', password: 'Yb2QwlgmY3Gu1ZPsiDWdOjnVHQUgUgmYbw9Kf6Pd' });
    expect(res2.status).toBe(401);
    expect(res2.body).toEqual(NO_ACCOUNT);
    expect(logger.lines).toEqual([]);
  });

  it('logs an unsupported hash once however many logins meet it', async () => {
    const logger = memoryLogger();
    const { app, users } = makeApp({ logger });
    users.add({ id: 23, username: 'md5', password: 'md5$salt$0123456789abcdef0123456789abcdef', isActive: true });
    for (let i = 0; i < 3; i++) {
      const res = await request(app).post('/api/token/').send({ username: 'md5', password: 'x' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(NO_ACCOUNT);
    }
    expect(logger.lines).toEqual([
      'warn [express-simplejwt] a user has a password hash that is not bcrypt or a Django hash the kit verifies ' +
        '(Django\'s "md5" hasher is not supported); such logins are refused (logged once)',
    ]);
  });
});

describe('timing equalisation with Django hashes', () => {
  function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  }

  it('an unknown username costs a PBKDF2 computation once the table is seen to hold PBKDF2 hashes', async () => {
    // 260000 PBKDF2-SHA256 iterations take tens of milliseconds; the bcrypt dummy at cost 4 about one.
    const { app, users } = makeApp();
    users.add({ id: 24, username: 'timed', password: pbkdf2.hash, isActive: true });
    const time = async (body: object) => {
      const start = process.hrtime.bigint();
      const res = await request(app).post('/api/token/').send(body);
      expect(res.status).toBe(401);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await time({ username: 'timed', password: 'wrong' }); // the checker learns the table's cost
    const unknown: number[] = [];
    const wrong: number[] = [];
    for (let i = 0; i < 5; i++) {
      unknown.push(await time({ username: `nobody${i}`, password: 'x' }));
      wrong.push(await time({ username: 'timed', password: 'wrong' }));
    }
    const ratio = median(unknown) / median(wrong);
    // Skipping the dummy comparison makes the ratio about 0.02; the wide band keeps a busy CI machine from flaking.
    expect(ratio).toBeGreaterThan(0.3);
    expect(ratio).toBeLessThan(3);
  });
});

describe('argon2 without its optional peer', () => {
  it('answers a generic 500 and logs how to install @node-rs/argon2', async () => {
    const argon = hashes.find((entry) => entry.algorithm === 'argon2')!;
    let helpers!: typeof import('../helpers/app');
    jest.isolateModules(() => {
      jest.doMock('@node-rs/argon2', () => {
        throw Object.assign(new Error("Cannot find module '@node-rs/argon2'"), { code: 'MODULE_NOT_FOUND' });
      });
      helpers = require('../helpers/app') as typeof import('../helpers/app');
    });
    const logger = helpers.memoryLogger();
    const { app, users } = helpers.makeApp({ logger });
    users.add({ id: 25, username: 'argon', password: argon.hash, isActive: true });
    const res = await request(app).post('/api/token/').send({ username: 'argon', password: argon.password });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ detail: 'Internal server error.', code: 'internal_error' });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain('needs the optional peer dependency "@node-rs/argon2": run `npm install @node-rs/argon2`');
    jest.dontMock('@node-rs/argon2');
  });
});
