import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import bcryptjs from 'bcryptjs';
import request from 'supertest';
import { createPasswordChecker } from '../../lib/passwords/bcrypt';
import { bcryptBackend, type BcryptBackend } from '../../lib/passwords/native';
import { announceHashingPool, createHashingPool } from '../../lib/passwords/pool';
import { makeApp, SECRET } from '../helpers/app';

const native = bcryptBackend('native');
const js = bcryptBackend('bcryptjs');

/** Passwords around bcrypt's edges: empty, 71/72/73 bytes, multi-byte characters across byte 72, a NUL. */
const PASSWORDS = ['', 'pw', 'a'.repeat(71), 'a'.repeat(72), 'a'.repeat(73), 'é'.repeat(36), 'é'.repeat(37), '😀'.repeat(18), 'a\u0000b'];

describe('@node-rs/bcrypt and bcryptjs write and read the same hashes', () => {
  it('loads the native one here (a devDependency) and says which is which', () => {
    expect(native.implementation).toBe('native');
    expect(js.implementation).toBe('bcryptjs');
    expect(bcryptBackend().implementation).toBe('native');
  });

  it.each([
    ['native', 'bcryptjs'],
    ['bcryptjs', 'native'],
  ] as const)('a hash made by %s verifies with %s, $2a/$2b/$2y, with the same 72-byte truncation', async (maker, checker) => {
    const make: BcryptBackend = maker === 'native' ? native : js;
    const check: BcryptBackend = checker === 'native' ? native : js;
    for (const password of PASSWORDS) {
      const made = await make.hash(password, 4);
      expect(made).toMatch(/^\$2b\$04\$/);
      for (const revision of ['2a', '2b', '2y']) {
        const hash = made.replace(/^\$2b/, `$${revision}`);
        await expect(check.compare(password, hash)).resolves.toBe(true);
        await expect(check.compare(`${password}x`, hash)).resolves.toBe(Buffer.byteLength(password) >= 72); // bcrypt reads 72 bytes
        await expect(check.compare(`x${password}`, hash)).resolves.toBe(false);
      }
    }
  });

  it('both answer false, never throw, for a hash that is not bcrypt', async () => {
    for (const backend of [native, js]) {
      await expect(backend.compare('pw', 'not a hash')).resolves.toBe(false);
    }
  });

  it.each(['native', 'bcryptjs'] as const)('the worker pool compares with %s, in workers and without them', async (bcrypt) => {
    const hash = bcryptjs.hashSync('right', 4);
    for (const threads of [2, 0]) {
      const pool = createHashingPool({ threads, bcrypt });
      try {
        expect(pool.implementation).toBe(bcrypt);
        expect(await Promise.all([pool.compare('right', hash), pool.compare('wrong', hash), pool.compare('right', 'not a hash')])).toEqual([true, false, false]);
      } finally {
        await pool.close();
      }
    }
  });

  it('logs once per pool, at info level, which bcrypt runs where', async () => {
    const lines: string[] = [];
    const logger = { info: (message: string) => void lines.push(message) };
    const pools = [createHashingPool({ threads: 2 }), createHashingPool({ threads: 0, bcrypt: 'bcryptjs' }), createHashingPool({ threads: 0 })];
    for (const pool of [...pools, pools[0]!]) announceHashingPool(pool, logger);
    announceHashingPool(createHashingPool({ threads: 1 }), {}); // no info(): nothing, and no warning either
    expect(lines).toEqual([
      '[express-simplejwt] bcrypt: @node-rs/bcrypt (native) in 2 worker threads',
      '[express-simplejwt] bcrypt: bcryptjs (JavaScript; `npm install @node-rs/bcrypt` for native bcrypt) in the main thread',
      "[express-simplejwt] bcrypt: @node-rs/bcrypt (native) in libuv's thread pool",
    ]);
    await Promise.all(pools.map((pool) => pool.close()));
  });

  it('refuses an unknown passwordHashing.bcrypt and a nice value outside 0-19', () => {
    expect(() => makeApp({ passwordHashing: { bcrypt: 'fast' as never } })).toThrow(`"passwordHashing.bcrypt" must be 'auto', 'native' or 'bcryptjs' (got "fast")`);
    expect(() => makeApp({ passwordHashing: { nice: 20 } })).toThrow('"passwordHashing.nice" must be a whole number from 0 to 19 (got 20)');
  });

  (process.platform === 'linux' ? it : it.skip)('runs the workers, and only them, at the nice value asked for (Linux: per thread)', async () => {
    const niceOfThreads = () =>
      readdirSync('/proc/self/task').map((tid) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      });
    const before = niceOfThreads().filter((nice) => nice === 7).length;
    const pool = createHashingPool({ threads: 2, nice: 7 });
    try {
      await pool.compare('pw', bcryptjs.hashSync('pw', 4));
      await pool.compare('pw', bcryptjs.hashSync('pw', 4));
      expect(niceOfThreads().filter((nice) => nice === 7).length - before).toBe(2);
      expect(niceOfThreads()[0]).toBe(getPriority()); // the main thread keeps the process's priority
    } finally {
      await pool.close();
    }
  });
});

describe('without @node-rs/bcrypt (jest makes it fail to load)', () => {
  /** The modules under test, loaded afresh with the native package failing as an uninstalled one does. */
  function withoutNative() {
    let loaded!: { native: typeof import('../../lib/passwords/native'); pool: typeof import('../../lib/passwords/pool'); lib: typeof import('../../lib') };
    jest.isolateModules(() => {
      jest.doMock('@node-rs/bcrypt', () => {
        throw new Error("Cannot find module '@node-rs/bcrypt'");
      });
      loaded = { native: require('../../lib/passwords/native'), pool: require('../../lib/passwords/pool'), lib: require('../../lib') };
    });
    return loaded; // the package is loaded on first use: the mock stays until the test ends
  }
  afterEach(() => {
    jest.dontMock('@node-rs/bcrypt');
  });

  it("falls back to bcryptjs on 'auto', and 'native' says how to get it", () => {
    const { native: fallback } = withoutNative();
    expect(fallback.bcryptBackend('auto').implementation).toBe('bcryptjs');
    expect(() => fallback.bcryptBackend('native')).toThrow(/"passwordHashing.bcrypt" is 'native' but @node-rs\/bcrypt cannot be used: .*npm install @node-rs\/bcrypt/);
  });

  it('logs in with bcryptjs in the workers, and hashPassword() still works', async () => {
    const { pool: poolModule, lib } = withoutNative();
    const pool = poolModule.createHashingPool({ threads: 1 });
    expect(pool.implementation).toBe('bcryptjs');
    await pool.close();
    const hash = await lib.hashPassword('pw', 4);
    expect(await native.compare('pw', hash)).toBe(true);
    const lines: string[] = [];
    const users = new Map([['ann', { id: 1, username: 'ann', password: hash, isActive: true }]]);
    const auth = lib.simpleJwt({
      secret: SECRET,
      logger: { warn: () => undefined, error: () => undefined, info: (m: string) => void lines.push(m) },
      passwordHashing: { threads: 1 },
      loginThrottle: false,
      findUserByUsername: (name: string) => users.get(name),
      findUserById: () => undefined,
    });
    const express = require('express') as typeof import('express');
    const app = express().use('/api/token', auth.router);
    expect((await request(app).post('/api/token/').send({ username: 'ann', password: 'pw' })).status).toBe(200);
    expect((await request(app).post('/api/token/').send({ username: 'ann', password: 'pW' })).status).toBe(401);
    expect(lines).toEqual(['[express-simplejwt] bcrypt: bcryptjs (JavaScript; `npm install @node-rs/bcrypt` for native bcrypt) in 1 worker thread']);
    await auth.close();
  });
});

describe.each(['native', 'bcryptjs'] as const)('timing equalisation with %s', (bcrypt) => {
  /** CPU time (every thread of this process) of one failed check. */
  async function cpu(check: () => Promise<boolean>): Promise<number> {
    const used = process.cpuUsage();
    await expect(check()).resolves.toBe(false);
    const spent = process.cpuUsage(used);
    return spent.user + spent.system;
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  it('an unknown user, a wrong password and a wrong password against a cheaper hash cost alike (medians within 35%)', async () => {
    const pool = createHashingPool({ threads: 0, bcrypt });
    try {
      const checker = createPasswordChecker(8, () => undefined, pool.compare);
      const user = bcryptjs.hashSync('right', 8);
      const cheap = bcryptjs.hashSync('right', 6); // topped up with a check at 6 and one at 7: 2^6 + 2^6 + 2^7 = 2^8
      await checker.check('guess', user);
      const samples = { unknown: [] as number[], wrong: [] as number[], cheap: [] as number[] };
      for (let i = 0; i < 7; i++) {
        samples.unknown.push(await cpu(() => checker.check('guess', undefined)));
        samples.wrong.push(await cpu(() => checker.check('guess', user)));
        samples.cheap.push(await cpu(() => checker.check('guess', cheap)));
      }
      const wrong = median(samples.wrong);
      expect(wrong).toBeGreaterThan(2000); // a real cost-8 comparison happened (≥ 2 ms)
      expect(median(samples.unknown) / wrong).toBeGreaterThan(0.65);
      expect(median(samples.unknown) / wrong).toBeLessThan(1.35);
      expect(median(samples.cheap) / wrong).toBeGreaterThan(0.65);
      expect(median(samples.cheap) / wrong).toBeLessThan(1.35);
    } finally {
      await pool.close();
    }
  });
});
