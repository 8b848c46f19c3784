#!/usr/bin/env node
// Starts one example app (examples/<name>) exactly as its README says, with `npm start` in its folder, on a
// free port, then drives it over HTTP as a user would: log in, call /hello/, log out, and check that the
// logged-out refresh token is refused. Stops it by its process group id (npm start runs the app in a child
// process) and checks it exits on SIGTERM.
//
// Usage: node scripts/check-example.mjs <example folder> [NAME=value ...]
//   The folder must have its dependencies installed (scripts/test-package.sh installs the packed kit).
//   --with-redis starts a throwaway redis-server (no persistence) on a free port and passes its REDIS_URL.
//   EXAMPLE_PORTS=52000-52999 (default) is the range the free ports are picked from.
/* global fetch, setTimeout */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { basename, resolve } from 'node:path';

const args = process.argv.slice(2);
const withRedis = args.includes('--with-redis');
const [folder, ...assignments] = args.filter((arg) => arg !== '--with-redis');
if (!folder) {
  console.error('usage: node scripts/check-example.mjs [--with-redis] <example folder> [NAME=value ...]');
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
const port = await freePort();
const child = spawn('npm', ['start', '--silent'], {
  cwd: dir,
  env: { ...process.env, PORT: String(port), NODE_ENV: 'development', ...extraEnv },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true, // its own process group, so npm and the app it starts stop together
});
let output = '';
child.stdout.on('data', (chunk) => (output += chunk));
child.stderr.on('data', (chunk) => (output += chunk));
const exited = once(child, 'exit');

function stop(signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function groupAlive() {
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitForListening(ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output);
    if (match) return match[1];
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before listening`);
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`not listening after ${ms / 1000} s`);
}

async function call(base, method, path, { body, token } = {}) {
  const headers = {};
  if (body) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body && JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

let failed;
try {
  const base = await waitForListening(60_000);
  assert.equal(base, `http://127.0.0.1:${port}`, 'the app must listen on PORT');

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
  const after = await call(base, 'POST', '/api/token/refresh/', { body: { refresh } });
  assert.equal(after.status, 401);
  assert.deepEqual(after.body, { detail: 'Token is blacklisted', code: 'token_not_valid' });

  // SIGTERM to the group (npm and the app, as Ctrl-C or a process manager would): everything must be gone soon.
  stop('SIGTERM');
  await exited;
  const deadline = Date.now() + 10_000;
  while (groupAlive() && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
  assert.ok(!groupAlive(), 'the app is still running 10 s after SIGTERM');
} catch (err) {
  failed = err;
} finally {
  stop('SIGKILL'); // whatever is left of the group
  redis?.stop();
}
if (failed) {
  console.error(`FAIL ${label}: ${failed.message}\n--- its output:\n${output}`);
  process.exit(1);
}
console.log(`ok  example ${label} (npm start on port ${port}: login, /hello/, refresh, logout)`);
