/**
 * `WEB_CONCURRENCY=N npm start`: the demo on N node:cluster workers sharing one port and one store, so a token
 * logged out through one process is refused by every other; settings the processes cannot share are refused up
 * front; SIGTERM to the primary stops every worker gracefully.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { checkSharedState, parseWebConcurrency } from '../../../demo-app/cluster';
import { startDemo, type Demo } from '../../helpers/demo';

const SECRET = 'cluster-test-secret-0123456789abcdef-0123456789abcdef';

describe('parseWebConcurrency', () => {
  it('reads a count or auto, and one process when unset', () => {
    expect(parseWebConcurrency(undefined)).toBe(1);
    expect(parseWebConcurrency('')).toBe(1);
    expect(parseWebConcurrency('3')).toBe(3);
    expect(parseWebConcurrency('auto')).toBeGreaterThanOrEqual(1);
  });

  it.each(['0', '-1', '2.5', 'two', '1000'])('refuses %p, naming the setting', (value) => {
    expect(() => parseWebConcurrency(value)).toThrow(/^WEB_CONCURRENCY must be a number of processes from 1 to 999 or auto/);
  });
});

describe('checkSharedState', () => {
  it('accepts the SQLite file, Redis and PostgreSQL', () => {
    for (const store of [undefined, 'sqlite', 'sqlite:/tmp/t.sqlite3', 'redis://127.0.0.1:6379/0', 'postgres://u@h/db']) {
      expect(() => checkSharedState({ DEMO_DB: '/tmp/demo.sqlite3', JWT_STORE: store }, 2)).not.toThrow();
    }
  });

  it('refuses a store or users in one process\'s memory', () => {
    expect(() => checkSharedState({ DEMO_DB: '/tmp/demo.sqlite3', JWT_STORE: 'memory' }, 2)).toThrow(/needs a store the processes share/);
    expect(() => checkSharedState({ DEMO_DB: '/tmp/demo.sqlite3', JWT_STORE: 'sqlite::memory:' }, 2)).toThrow(/needs a store the processes share/);
    expect(() => checkSharedState({ DEMO_DB: ':memory:' }, 2)).toThrow(/needs DEMO_DB to be a file/);
  });

  it('makes the demo exit with 2 and the reason before forking', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'demo-app/server.ts'], {
      cwd: join(__dirname, '../../..'),
      env: { ...process.env, WEB_CONCURRENCY: '2', JWT_STORE: 'memory', JWT_SECRET: SECRET, PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('demo-app: WEB_CONCURRENCY=2 needs a store the processes share');
  });
});

describe('WEB_CONCURRENCY=2 on the SQLite file', () => {
  let demo: Demo;
  beforeAll(async () => {
    demo = await startDemo([], { WEB_CONCURRENCY: '2', JWT_SECRET: SECRET, JWT_LOGIN_THROTTLE: 'off', JWT_ROTATE_REFRESH_TOKENS: 'true' });
  }, 120_000); // three processes compiling the sources with tsx on a busy machine
  afterAll(() => demo?.stop());

  const post = (path: string, body: object) =>
    fetch(demo.base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('serves from two processes that share the store: a logged-out token is refused by both', async () => {
    const login = (await (await post('/api/token/', { username: 'vitor', password: '123' })).json()) as { refresh: string };
    const rotated = (await (await post('/api/token/refresh/', { refresh: login.refresh })).json()) as { refresh: string };
    expect((await post('/api/token/blacklist/', { refresh: rotated.refresh })).status).toBe(200);
    // New connections go to the workers in turn: each of them refuses the logged-out and the rotated token.
    for (let i = 0; i < 4; i++) {
      const res = await post('/api/token/refresh/', { refresh: i % 2 === 0 ? rotated.refresh : login.refresh });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('token_not_valid');
    }
    expect(demo.output()).toMatch(/demo-app: 2 worker processes \(node:cluster, WEB_CONCURRENCY=2\)/);
    expect(demo.output()).toMatch(/demo-app: worker \d+ on http/);
  });

  it('stops every worker on SIGTERM to the primary, and exits 0', async () => {
    await demo.stop();
    expect(demo.child.exitCode).toBe(0);
    expect(demo.output().match(/demo-app: SIGTERM, finishing the requests in flight/g)).toHaveLength(2);
  });
});
