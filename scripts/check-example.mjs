#!/usr/bin/env node
// Starts one example app (examples/<name>) exactly as its README says, with `npm start` in its folder, on a
// free port, then drives it over HTTP as a user would: log in, call /hello/, log out, and check that the
// logged-out refresh token is refused. Stops it by its process group id (npm start runs the app in a child
// process) and checks it exits on SIGTERM.
//
// Usage: node scripts/check-example.mjs <example folder> [NAME=value ...]
//   The folder must have its dependencies installed (scripts/test-package.sh installs the packed kit).
//   --with-redis starts a throwaway redis-server (no persistence) on a free port and passes its REDIS_URL.
//   --with-redis-cluster starts three redis-server --cluster-enabled nodes, joins them (redis-cli --cluster
//     create, no replicas) and passes REDIS_CLUSTER_NODES=host:port,host:port,host:port.
//   --with-postgres starts a throwaway PostgreSQL (initdb and pg_ctl, as user postgres when run as root) on a
//     free port and passes its DATABASE_URL; stopped by its PID at the end, its directory removed.
//   --restart starts the app a second time (same environment; give JWT_SECRET) and checks the logout held.
//   EXAMPLE_PORTS=52000-52999 (default) is the range the free ports are picked from.
/* global fetch, setTimeout */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const args = process.argv.slice(2);
const withRedis = args.includes('--with-redis');
const withRedisCluster = args.includes('--with-redis-cluster');
const withPostgres = args.includes('--with-postgres');
const restart = args.includes('--restart');
const [folder, ...assignments] = args.filter((arg) => !arg.startsWith('--'));
if (!folder) {
  console.error('usage: node scripts/check-example.mjs [--with-redis | --with-redis-cluster | --with-postgres] [--restart] <example folder> [NAME=value ...]');
  process.exit(2);
}
const dir = resolve(folder);
const label = basename(dir);
const extraEnv = Object.fromEntries(assignments.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));

function portFree(port) {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/**
 * A port in EXAMPLE_PORTS nobody listens on (tried at random, then handed to the app). `busToo`: port + 10000 (a
 * Redis Cluster node's bus port) must be free as well.
 */
async function freePort({ busToo = false } = {}) {
  const [low, high] = (process.env.EXAMPLE_PORTS || '52000-52999').split('-').map(Number);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (busToo && port + 10000 > 65535) continue;
    if ((await portFree(port)) && (!busToo || (await portFree(port + 10000)))) return port;
  }
  throw new Error(`no free port in ${low}-${high}${busToo ? ' (with a free bus port, port + 10000)' : ''}`);
}

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Runs a program to its end; rejects with its output if it fails. */
function run(file, argv, options = {}) {
  return new Promise((done, fail) => {
    execFile(file, argv, { encoding: 'utf8', timeout: 60_000, ...options }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${file} ${argv.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else done(stdout);
    });
  });
}

/** A redis-server of our own, stopped by its pid at the end. */
async function startRedis() {
  const redisPort = await freePort();
  const server = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  server.stdout.on('data', (chunk) => (log += chunk));
  const deadline = Date.now() + 10_000;
  while (!/Ready to accept connections/i.test(log)) {
    if (server.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start: ${log}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  return { url: `redis://127.0.0.1:${redisPort}`, stop: () => server.kill('SIGKILL') };
}

/** Three cluster-enabled redis-servers joined into one cluster of three masters, each stopped by its pid at the end. */
async function startRedisCluster() {
  const dir = mkdtempSync(join(tmpdir(), 'sjwt-example-cluster-'));
  const nodes = [];
  const stop = async () => {
    await Promise.all(
      nodes.map(async ({ server }) => {
        if (server.exitCode === null && server.signalCode === null) {
          server.kill('SIGKILL');
          await once(server, 'exit');
        }
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      let port;
      do port = await freePort({ busToo: true });
      while (nodes.some((node) => node.port === port));
      const server = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '5000', '--save', '', '--appendonly', 'no', '--dir', dir],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const node = { port, server, log: '' };
      server.stdout.on('data', (chunk) => (node.log += chunk));
      nodes.push(node);
    }
    for (const node of nodes) {
      const deadline = Date.now() + 10_000;
      while (!/Ready to accept connections/i.test(node.log)) {
        if (node.server.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server on ${node.port} did not start: ${node.log}`);
        await sleep(50);
      }
    }
    const addresses = nodes.map(({ port }) => `127.0.0.1:${port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    for (const { port } of nodes) {
      const deadline = Date.now() + 30_000;
      while (!(await run('redis-cli', ['-p', String(port), 'cluster', 'info']).catch(() => '')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`the cluster is not ok on ${port} after 30 s`);
        await sleep(100);
      }
    }
    return { nodes: addresses.join(','), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The newest installed PostgreSQL's bin directory (Debian's layout). */
function postgresBin() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0]) throw new Error('PostgreSQL not found in /usr/lib/postgresql; install it (apt-get install postgresql)');
  return join(root, versions[0], 'bin');
}

/** A PostgreSQL cluster of our own in a temp dir (trust authentication, no durability), stopped by its pid at the end. */
async function startPostgres() {
  const bin = postgresBin();
  const isRoot = process.getuid?.() === 0;
  // The server refuses to run as root: as root, initdb and pg_ctl run as user postgres, which owns the dir.
  const asOwner = (program, argv) => (isRoot ? run('runuser', ['-u', 'postgres', '--', program, ...argv]) : run(program, argv));
  const dir = mkdtempSync(join(tmpdir(), 'sjwt-example-pg-'));
  const data = join(dir, 'data');
  let pid;
  const stop = async () => {
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGINT'); // fast shutdown: clients disconnected
      } catch {
        // already gone
      }
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          process.kill(pid, 0);
        } catch {
          break; // exited
        }
        if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
        await sleep(25);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (isRoot) {
      const id = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, id('-u'), id('-g'));
    }
    await asOwner(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    const port = await freePort();
    const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await asOwner(join(bin, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', data, '-l', join(dir, 'server.log'), '-o', settings]);
    pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const services = [];
try {
  if (withRedis) {
    const redis = await startRedis();
    services.push(redis);
    extraEnv.REDIS_URL = redis.url;
  }
  if (withRedisCluster) {
    const cluster = await startRedisCluster();
    services.push(cluster);
    extraEnv.REDIS_CLUSTER_NODES = cluster.nodes;
  }
  if (withPostgres) {
    const postgres = await startPostgres();
    services.push(postgres);
    extraEnv.DATABASE_URL = postgres.url;
  }
} catch (err) {
  for (const service of services) await service.stop();
  console.error(`FAIL ${label}: ${err.message}`);
  process.exit(1);
}
/** `npm start` in the example's folder, in its own process group (npm and the app it starts stop together). */
async function startApp(env) {
  const port = await freePort();
  const child = spawn('npm', ['start', '--silent'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = once(child, 'exit');
  const signal = (name) => {
    try {
      process.kill(-child.pid, name);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  running.add(signal);
  const deadline = Date.now() + 60_000;
  let base;
  while (!base) {
    base = /listening on (http:\/\/[\d.]+:\d+)/.exec(output.slice(mark))?.[1];
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before listening`);
    if (Date.now() > deadline) throw new Error('not listening after 60 s');
    if (!base) await new Promise((done) => setTimeout(done, 100));
  }
  assert.equal(base, `http://127.0.0.1:${port}`, 'the app must listen on PORT');
  return {
    base,
    port,
    /** SIGTERM to the group, as Ctrl-C or a process manager would: everything must be gone soon. */
    async stop() {
      signal('SIGTERM');
      await exited;
      const until = Date.now() + 10_000;
      while (signal(0) && Date.now() < until) await new Promise((done) => setTimeout(done, 100));
      assert.ok(!signal(0), 'the app is still running 10 s after SIGTERM');
      running.delete(signal);
    },
  };
}

let output = '';
let mark = 0;
const running = new Set();

async function call(base, method, path, { body, token } = {}) {
  const headers = {};
  if (body) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

let failed;
let port;
try {
  let app = await startApp(extraEnv);
  const { base } = app;
  port = app.port;

  const wrong = await call(base, 'POST', '/api/token/', { body: { username: 'vitor', password: 'nope' } });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.code, 'no_active_account');

  const login = await call(base, 'POST', '/api/token/', { body: { username: 'vitor', password: '123' } });
  assert.equal(login.status, 200, `login: ${JSON.stringify(login.body)}`);
  const { access, refresh } = login.body;
  assert.equal(typeof access, 'string');
  assert.equal(typeof refresh, 'string');

  const anonymous = await call(base, 'GET', '/hello/');
  assert.equal(anonymous.status, 401);
  const hello = await call(base, 'GET', '/hello/', { token: access });
  assert.equal(hello.status, 200);
  assert.deepEqual(hello.body, { message: 'Hello, vitor!' });

  const refreshed = await call(base, 'POST', '/api/token/refresh/', { body: { refresh } });
  assert.equal(refreshed.status, 200, `refresh: ${JSON.stringify(refreshed.body)}`);

  const logout = await call(base, 'POST', '/api/token/blacklist/', { body: { refresh } });
  assert.equal(logout.status, 200, `logout: ${JSON.stringify(logout.body)}`);
  const blacklisted = { detail: 'Token is blacklisted', code: 'token_not_valid' };
  const after = await call(base, 'POST', '/api/token/refresh/', { body: { refresh } });
  assert.equal(after.status, 401);
  assert.deepEqual(after.body, blacklisted);
  await app.stop();

  if (restart) {
    // A persistent store: the logout outlives the process (same secret, same database, Redis or cluster).
    mark = output.length;
    app = await startApp(extraEnv);
    const again = await call(app.base, 'POST', '/api/token/refresh/', { body: { refresh } });
    assert.deepEqual([again.status, again.body], [401, blacklisted], 'the logout must survive a restart');
    await app.stop();
  }
} catch (err) {
  failed = err;
} finally {
  for (const signal of running) signal('SIGKILL'); // whatever is left
  for (const service of services) await service.stop();
}
if (failed) {
  console.error(`FAIL ${label}: ${failed.message}\n--- its output:\n${output}`);
  process.exit(1);
}
console.log(`ok  example ${label} (npm start on port ${port}: login, /hello/, refresh, logout${restart ? ', logout kept across a restart' : ''})`);
