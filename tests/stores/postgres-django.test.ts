/**
 * simplejwt tables mode against the real Django side: Debian's djangorestframework-simplejwt with its token_blacklist
 * app on the same PostgreSQL database as the kit's PostgresStore (`simplejwtTables: true`).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { PostgresStore } from '../../lib/stores';
import { runStoreConformance } from '../../lib/testing/conformance';
import { makeApp, SECRET, type TestApp } from '../helpers/app';
import { startDemo } from '../helpers/demo';
import { freePortInRange, usePostgres } from '../helpers/postgres';

const PYTHON = '/usr/bin/python3';
const DJANGO_APP = join(__dirname, '..', 'fixtures', 'django', 'app.py');
const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };

const pg = usePostgres();
let django: ChildProcess | undefined;
let djangoBase = '';
let url = '';
let made: TestApp;

function djangoEnv(database: string): NodeJS.ProcessEnv {
  return { ...process.env, PGHOST: pg.server().host, PGPORT: String(pg.server().port), PGDATABASE: database, PGUSER: 'postgres', SIGNING_KEY: SECRET };
}

function manage(args: string[], database: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [DJANGO_APP, ...args], { env: djangoEnv(database), timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`app.py ${args.join(' ')}: ${err.message}\n${stdout}\n${stderr}`));
      else resolve();
    });
  });
}

beforeAll(async () => {
  url = await pg.server().createDatabase('django');
  await manage(['migrate', '--noinput'], 'django');
  await manage(['seed'], 'django');
  const port = await freePortInRange();
  djangoBase = `http://127.0.0.1:${port}`;
  django = spawn(PYTHON, [DJANGO_APP, 'runserver', `127.0.0.1:${port}`, '--noreload'], { env: djangoEnv('django'), stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await request(djangoBase).get('/hello/');
      break;
    } catch (err) {
      if (Date.now() > deadline || django.exitCode !== null) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  made = makeApp({
    store: new PostgresStore(url, { simplejwtTables: true, purgeIntervalSeconds: 0 }),
    rotateRefreshTokens: true,
    blacklistAfterRotation: true,
    adoptUnknownTokens: true,
  });
}, 180_000);

afterAll(async () => {
  await made?.auth.close();
  if (django && django.exitCode === null) {
    django.kill('SIGTERM');
    await new Promise((resolve) => django!.once('exit', resolve));
  }
});

type Pair = { access: string; refresh: string };
const credentials = { username: 'vitor', password: '123' };

async function loginOn(base: string | TestApp['app']): Promise<Pair> {
  const res = await request(base).post('/api/token/').send(credentials);
  expect(res.status).toBe(200);
  return res.body as Pair;
}
const refreshOn = (base: string | TestApp['app'], refresh: string) => request(base).post('/api/token/refresh/').send({ refresh });
const logoutOn = (base: string | TestApp['app'], refresh: string) => request(base).post('/api/token/blacklist/').send({ refresh });

let prefixes = 0;
// The contract holds in simplejwt tables mode too (each test on its own tables, Django's shared).
runStoreConformance('PostgresStore with simplejwtTables', { describe, it, beforeEach, afterEach }, async (clock) => {
  prefixes += 1;
  const options = { clock, purgeIntervalSeconds: 0, simplejwtTables: true, tablePrefix: `dj${prefixes}_` };
  const peers = [new PostgresStore(url, options), new PostgresStore(url, options)];
  await Promise.all(peers.map((peer) => peer.init()));
  return {
    store: peers[0]!,
    peers,
    async close() {
      for (const peer of peers) await peer.close();
    },
  };
});

describe('PostgresStore with simplejwtTables next to a Django app on the same database', () => {
  it('a Django refresh token logged out on ours is refused by Django', async () => {
    const pair = await loginOn(djangoBase);
    expect((await logoutOn(made.app, pair.refresh)).status).toBe(200);
    const res = await refreshOn(djangoBase, pair.refresh);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(BLACKLISTED);
  });

  it('ours logged out on Django is refused by ours', async () => {
    const pair = await loginOn(made.app);
    expect((await logoutOn(djangoBase, pair.refresh)).status).toBe(200);
    const res = await refreshOn(made.app, pair.refresh);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(BLACKLISTED);
  });

  it('a token rotated on ours is refused by Django, and one rotated on Django is refused by ours', async () => {
    const ours = await loginOn(made.app);
    expect((await refreshOn(made.app, ours.refresh)).status).toBe(200);
    expect((await refreshOn(djangoBase, ours.refresh)).body).toEqual(BLACKLISTED);

    const theirs = await loginOn(djangoBase);
    expect((await refreshOn(djangoBase, theirs.refresh)).status).toBe(200);
    expect((await refreshOn(made.app, theirs.refresh)).body).toEqual(BLACKLISTED);
  });

  it("Django's rotated successor refreshes on ours, and ours refreshes on Django", async () => {
    const theirs = await loginOn(djangoBase);
    const successor = await refreshOn(djangoBase, theirs.refresh);
    expect(successor.status).toBe(200);
    const onOurs = await refreshOn(made.app, successor.body.refresh);
    expect(onOurs.status).toBe(200);
    const backOnDjango = await refreshOn(djangoBase, onOurs.body.refresh);
    expect(backOnDjango.status).toBe(200);
    expect((await refreshOn(made.app, onOurs.body.refresh)).body).toEqual(BLACKLISTED);
  });

  it("writes Django's outstanding rows for the kit's logins, with the user when Django has it", async () => {
    const pair = await loginOn(made.app);
    const jti = JSON.parse(Buffer.from(pair.refresh.split('.')[1]!, 'base64url').toString()).jti as string;
    const { rows } = await pg.server().pool({ connectionString: url }).query(
      'SELECT user_id, expires_at > created_at AS ordered FROM token_blacklist_outstandingtoken WHERE jti = $1',
      [jti],
    );
    expect(rows).toEqual([{ user_id: 1, ordered: true }]);
  });

  it('the demo with JWT_SIMPLEJWT_TABLES=true: a Django token logged out on it is refused by Django', async () => {
    const demo = await startDemo([], { JWT_SECRET: SECRET, JWT_STORE: url, JWT_SIMPLEJWT_TABLES: 'true' });
    try {
      const pair = await loginOn(djangoBase);
      expect((await logoutOn(demo.base, pair.refresh)).status).toBe(200);
      expect((await refreshOn(djangoBase, pair.refresh)).body).toEqual(BLACKLISTED);
    } finally {
      demo.child.kill('SIGTERM');
    }
  }, 60_000);

  it('refuses to start without the token_blacklist tables, saying what to run', async () => {
    const store = new PostgresStore(await pg.server().createDatabase('no_django'), { simplejwtTables: true, purgeIntervalSeconds: 0 });
    await expect(store.init()).rejects.toThrow(
      'PostgresStore: "simplejwtTables" needs the tables of rest_framework_simplejwt.token_blacklist (token_blacklist_outstandingtoken, token_blacklist_blacklistedtoken) in this database; run the Django migrations first (python manage.py migrate token_blacklist)',
    );
    await store.close();
  });
});
