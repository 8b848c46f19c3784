// Drives one consumer's app over real HTTP, as a newcomer would try it: log in (a bcrypt user and a user
// carried over from Django), call the protected route, and meet the first failures. Copied into each
// throwaway consumer by scripts/test-package.sh, so `require('express')` finds that consumer's Express.
/* global require, module, fetch, console */
'use strict';
const assert = require('node:assert/strict');
const { once } = require('node:events');

/** Made by Django 3.2's make_password('123') (tests/fixtures/django-password-hashes.json). */
const DJANGO_PBKDF2_123 = 'pbkdf2_sha256$260000$p0b28Juv283KasGVLn5JGx$CuyQrFnGP+A1wHWRPO0UG6lVVvcDdzuLdARIy4QCggU=';
const DJANGO_ARGON2_123 =
  'argon2$argon2id$v=19$m=102400,t=2,p=8$R0N3eTUzTEp4OGE3Y0cyMG1naThMbg$3S5Bxg/GlHNwV8PizsO95Q';
/** A 40-byte secret, for these throwaway apps only. */
const SECRET = 'package-test-secret-0123456789-abcdefghij';

/** The users table a host already has: `hashPassword` is the kit's, from whichever entry point the consumer used. */
async function makeUsers(hashPassword) {
  const rows = [
    { id: 1, username: 'ann', password: await hashPassword('correct horse battery staple', 4), isActive: true },
    { id: 2, username: 'django', password: DJANGO_PBKDF2_123, isActive: true },
  ];
  return {
    byName: (username) => rows.find((row) => row.username === username),
    byId: (id) => rows.find((row) => String(row.id) === id),
  };
}

async function post(base, path, body) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * Listens on a free loopback port and checks the token flow end to end. `app` must serve the kit's router at
 * /api/token and `GET /hello/` behind `authenticate()`, answering `{ message: 'Hello, <username>!' }`.
 */
async function exercise(app, kit, label) {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    for (const [username, password] of [['ann', 'correct horse battery staple'], ['django', '123']]) {
      const login = await post(base, '/api/token/', { username, password });
      assert.equal(login.status, 200, `login as ${username}: ${JSON.stringify(login.body)}`);
      assert.deepEqual(Object.keys(login.body).sort(), ['access', 'refresh']);
      const hello = await fetch(`${base}/hello/`, { headers: { Authorization: `Bearer ${login.body.access}` } });
      assert.equal(hello.status, 200);
      assert.deepEqual(await hello.json(), { message: `Hello, ${username}!` });
      const refreshed = await post(base, '/api/token/refresh/', { refresh: login.body.refresh });
      assert.equal(refreshed.status, 200);
      assert.equal(typeof refreshed.body.access, 'string');
    }

    const wrong = await post(base, '/api/token/', { username: 'ann', password: 'wrong' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, { detail: 'No active account found with the given credentials', code: 'no_active_account' });
    const anonymous = await fetch(`${base}/hello/`);
    assert.equal(anonymous.status, 401);
    assert.deepEqual(await anonymous.json(), { detail: 'Authentication credentials were not provided.' });

    // The kit's other exports from the same entry point.
    assert.equal(await kit.verifyDjangoPassword('123', DJANGO_PBKDF2_123), true);
    assert.equal(typeof kit.AuthError, 'function');
    // The optional peer @node-rs/argon2 is not installed here: argon2 hashes say how to get it.
    await assert.rejects(kit.verifyDjangoPassword('123', DJANGO_ARGON2_123), /npm install @node-rs\/argon2/);
  } finally {
    server.close();
    server.closeAllConnections();
  }
  console.log(`ok  ${label} (express ${require('express/package.json').version})`);
}

module.exports = { exercise, makeUsers, SECRET };
