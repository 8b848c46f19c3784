import request from 'supertest';
import { hashPassword } from '../../lib';
import { createHashingPool } from '../../lib/passwords/pool';
import { makeApp } from '../helpers/app';

describe('the bcrypt worker pool', () => {
  it('compares in worker threads', async () => {
    const pool = createHashingPool({ threads: 2 });
    const hash = await hashPassword('right', 4);
    try {
      expect(await Promise.all([pool.compare('right', hash), pool.compare('wrong', hash), pool.compare('right', 'not a hash')])).toEqual([true, false, false]);
    } finally {
      await pool.close();
    }
  });

  it('answers 503 server_busy at once beyond maxPending instead of queueing without bound', async () => {
    const { app, users } = makeApp({ passwordHashing: { threads: 1, maxPending: 2 }, bcryptRounds: 10 });
    users.add({ id: 30, username: 'busy', password: await hashPassword('pw', 10), isActive: true });
    const results = await Promise.all(Array.from({ length: 6 }, () => request(app).post('/api/token/').send({ username: 'busy', password: 'pw' })));
    const busy = results.filter((r) => r.status === 503);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const res of busy) {
      expect(res.body).toEqual({ detail: 'Too many login attempts are being processed; try again shortly.', code: 'server_busy' });
      expect(res.headers['retry-after']).toBe('1');
    }
  });

  it('compares without workers with passwordHashing: false (native: libuv threads; bcryptjs: the main thread)', async () => {
    const { app } = makeApp({ passwordHashing: false });
    expect((await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(200);
  });

  it('refuses bad pool options', () => {
    expect(() => makeApp({ passwordHashing: { threads: -1 } })).toThrow(/"passwordHashing.threads"/);
    expect(() => makeApp({ passwordHashing: { maxPending: 0 } })).toThrow(/"passwordHashing.maxPending"/);
  });
});
