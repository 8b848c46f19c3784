import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { RedisStore, SqliteStore, type TokenStore } from '../../lib';
import { makeApp } from '../helpers/app';
import { useBackends } from '../helpers/backends';
import { cli, cliProcess, expectNoStack } from './run';

const backends = useBackends('cli-flush');
const YEAR_LATER = () => Date.now() + 400 * 86_400_000;

/** Logs in twice through the kit and blacklists one refresh token: live records and a blacklist entry. */
async function seed(store: TokenStore): Promise<void> {
  const made = makeApp({ store });
  for (let i = 0; i < 2; i += 1) {
    const login = await request(made.app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(login.status).toBe(200);
    if (i === 0) expect((await request(made.app).post('/api/token/blacklist/').send({ refresh: login.body.refresh })).status).toBe(200);
  }
  await made.auth.close();
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('flush-expired with SQLite', () => {
  it('removes only what has expired, and says how much', async () => {
    const file = join(backends.dir(), 'tokens.sqlite3');
    const store = new SqliteStore(file, { purgeIntervalSeconds: 0 });
    await seed(store);
    await store.close();
    const now = await cli(['flush-expired', '--store', `sqlite:${file}`]);
    expect(now).toEqual({ code: 0, stdout: 'Removed 0 expired entries.\n', stderr: '' });
    const later = await cli(['flush-expired', '--store', `sqlite:${file}`], { now: YEAR_LATER });
    expect(later.stderr).toBe('');
    expect(later.stdout).toMatch(/^Removed [1-9]\d* expired entr(y|ies)\.\n$/);
    expect(later.code).toBe(0);
    expect((await cli(['flush-expired', '--store', `sqlite:${file}`], { now: YEAR_LATER })).stdout).toBe('Removed 0 expired entries.\n');
  });

  it('refuses a path that does not exist, and creates nothing', async () => {
    const file = join(backends.dir(), 'typo.sqlite3');
    const run = await cli(['flush-expired', '--store', `sqlite:${file}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`express-simplejwt flush-expired: ${file} does not exist (flush-expired never creates a database; check the path)\n`);
    expect(run.stdout).toBe('');
    expect(existsSync(file)).toBe(false);
  });

  it("refuses a database without the store's tables, and a file that is not SQLite", async () => {
    const other = join(backends.dir(), 'app.sqlite3');
    const db = new Database(other);
    db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY)');
    db.close();
    const run = await cli(['flush-expired', '--store', `sqlite:${other}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/app\.sqlite3 has no express-simplejwt tables \(sjwt_\*\): is it the token store's database\?/);
    const check = new Database(other, { readonly: true });
    expect(check.prepare("SELECT count(*) FROM sqlite_master WHERE name LIKE 'sjwt%'").pluck().get()).toBe(0);
    check.close();

    const text = join(backends.dir(), 'notes.txt');
    writeFileSync(text, 'not a database, but long enough to have a header page. '.repeat(10));
    const notDb = await cli(['flush-expired', '--store', `sqlite:${text}`]);
    expect(notDb.code).toBe(1);
    expect(notDb.stderr).toMatch(/notes\.txt is not a SQLite database/);
    expectNoStack(notDb.stderr);
  });
});

describe('flush-expired with Redis', () => {
  it('removes expired entries under the default prefix, or under --prefix', async () => {
    const url = `redis://${backends.redis().host}:${backends.redis().port}/0`;
    const client = await backends.redisClient();
    await seed(new RedisStore(client, { purgeIntervalSeconds: 0 }));
    await seed(new RedisStore(client, { purgeIntervalSeconds: 0, prefix: '{app2}:' }));
    const keys = async (pattern: string) => (await client.keys(pattern)).length;
    const [defaultKeys, app2Keys] = [await keys('sjwt:*'), await keys('{app2}:*')];
    expect(defaultKeys).toBeGreaterThan(0);

    expect((await cli(['flush-expired', '--store', url])).stdout).toBe('Removed 0 expired entries.\n');
    const app2 = await cli(['flush-expired', '--store', url, '--prefix', '{app2}:'], { now: YEAR_LATER });
    expect(app2.stdout).toMatch(/^Removed [1-9]\d* expired entr(y|ies)\.\n$/);
    expect(app2.code).toBe(0);
    expect(await keys('{app2}:*')).toBeLessThan(app2Keys);
    expect(await keys('sjwt:*')).toBe(defaultKeys);
    const main = await cli(['flush-expired', '-s', url], { now: YEAR_LATER });
    expect(main.stdout).toMatch(/^Removed [1-9]\d* expired entr(y|ies)\.\n$/);
  });

  it('exits 1 at once when nothing listens, without printing the password', async () => {
    const started = Date.now();
    const run = await cli(['flush-expired', '--store', `redis://:hunter2@127.0.0.1:${await closedPort()}/0`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^express-simplejwt flush-expired: cannot connect to redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: .*ECONNREFUSED/);
    expect(run.stderr).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('exits 1 after --timeout when the server accepts but never answers', async () => {
    const url = `redis://${backends.redis().host}:${backends.redis().port}/0`;
    backends.redis().freeze();
    try {
      const started = Date.now();
      const run = await cli(['flush-expired', '--store', url, '--timeout', '1']);
      const took = Date.now() - started;
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`express-simplejwt flush-expired: ${url} did not answer within 1s (is it running and reachable? --timeout waits longer)\n`);
      expect(took).toBeGreaterThanOrEqual(950);
      expect(took).toBeLessThan(3000);
    } finally {
      backends.redis().thaw();
    }
  });

  it('as a process, ends with exit 1 within the timeout too (nothing keeps it alive)', async () => {
    const url = `redis://${backends.redis().host}:${backends.redis().port}/0`;
    // The start-up through tsx, measured in this run: what the process costs before it does anything.
    const warm = Date.now();
    expect((await cliProcess(['--version'])).code).toBe(0);
    const startUp = Date.now() - warm;
    backends.redis().freeze();
    try {
      const started = Date.now();
      const run = await cliProcess(['flush-expired', '--store', url, '--timeout', '1']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/did not answer within 1s/);
      // Start-up, the 1 s timeout, and slack; a handle left open would keep it alive far longer.
      expect(Date.now() - started).toBeLessThan(2 * startUp + 4000);
    } finally {
      backends.redis().thaw();
    }
  });
});

describe('a missing optional driver', () => {
  afterEach(() => {
    jest.dontMock('ioredis');
    jest.dontMock('better-sqlite3');
  });

  it.each([
    ['ioredis', 'redis://127.0.0.1:6379/0'],
    ['better-sqlite3', 'sqlite:'],
  ])('%s: one clear error naming the package and how to install it, exit 1', async (name, store) => {
    const absent = () => {
      throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
    };
    let isolated!: typeof import('../../lib/cli/main');
    jest.isolateModules(() => {
      jest.doMock(name, absent);
      isolated = require('../../lib/cli/main');
    });
    const spec = store === 'sqlite:' ? `sqlite:${join(backends.dir(), 'tokens.sqlite3')}` : store;
    const lines: string[] = [];
    const io = { out: (t: string) => void lines.push(t), err: (t: string) => void lines.push(t), now: Date.now, readStdin: async () => '' };
    const code = await isolated.main(['flush-expired', '--store', spec], io);
    expect(code).toBe(1);
    const scheme = store.startsWith('redis') ? 'redis://' : 'sqlite:';
    expect(lines).toEqual([
      `express-simplejwt flush-expired: flush-expired --store ${scheme} needs the optional package ${name}, which is not installed: npm install ${name}`,
    ]);
  });
});
