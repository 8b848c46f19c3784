#!/usr/bin/env node
// Starts one example app (examples/<name>) exactly as its README says, with `npm start` in its folder, on a
// free port, then drives it over HTTP as a user would: log in, call /hello/, log out, and check that the
// logged-out refresh token is refused. Stops it by its process group id (npm start runs the app in a child
// process) and checks it exits on SIGTERM.
//
// Usage: node scripts/check-example.mjs <example folder> [NAME=value ...]
//   The folder must have its dependencies installed (scripts/test-package.sh installs the packed kit).
//   --with-redis starts a throwaway redis-server (no persistence) on a free port and passes its REDIS_URL.
//   --restart starts the app a second time (same environment; give JWT_SECRET) and checks the logout held.
//   EXAMPLE_PORTS=52000-52999 (default) is the range the free ports are picked from.
/* global fetch, setTimeout */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { basename, resolve } from 'node:path';

const args = process.argv.slice(2);
const withRedis = args.includes('--with-redis');
const restart = args.includes('--restart');
const [folder, ...assignments] = args.filter((arg) => !arg.startsWith('--'));
if (!folder) {
  console.error('usage: node scripts/check-example.mjs [--with-redis] [--restart] <example folder> [NAME=value ...]');
  process.exit(2);
}
const dir = resolve(folder);
const label = basename(dir);
const extraEnv = Object.fromEntries(assignments.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));

/** A port in EXAMPLE_PORTS nobody listens on (tried at random, then handed to the app). */
async function freePort() {
  const [low, high] = (process.env.EXAMPLE_PORTS || '52000-52999').split('-').map(Number);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    const server = createServer();
    const ok = await new Promise((done) => {
      server.once('error', () => done(false));
      server.listen(port, '127.0.0.1', () => done(true));
    });
    if (ok) {
      await new Promise((done) => server.close(done));
      return port;
    }
  }
  throw new Error(`no free port in ${low}-${high}`);
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

const redis = withRedis ? await startRedis() : undefined;
if (redis) extraEnv.REDIS_URL = redis.url;
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
    // A persistent store: the logout outlives the process (same secret, same database or Redis).
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
  redis?.stop();
}
if (failed) {
  console.error(`FAIL ${label}: ${failed.message}\n--- its output:\n${output}`);
  process.exit(1);
}
console.log(`ok  example ${label} (npm start on port ${port}: login, /hello/, refresh, logout${restart ? ', logout kept across a restart' : ''})`);
