// `jwksUri` from the installed package: one app issues ES256 tokens and serves its JWKS, a second app trusts that
// JWKS. With the optional peer jwks-rsa installed (the current major) the token works across the two; without it,
// `simpleJwt({ jwksUri })` throws one error saying how to install it.
/* global require, process, console, fetch */
'use strict';
const assert = require('node:assert/strict');
const { generateKeyPairSync } = require('node:crypto');
const { once } = require('node:events');
const express = require('express');
const { simpleJwt, hashPassword } = require('express-simplejwt');
const { makeUsers } = require('./harness.cjs');

async function listen(app) {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

(async () => {
  const users = await makeUsers(hashPassword);
  const findUserById = (id) => users.byId(id);
  let installed;
  try {
    installed = require('jwks-rsa/package.json').version;
  } catch {
    installed = undefined;
  }
  const jwksUri = { uri: 'http://127.0.0.1:9/.well-known/jwks.json', algorithms: ['ES256'] };
  if (installed === undefined) {
    assert.throws(() => simpleJwt({ jwksUri, findUserById, warnings: false }), {
      message: '"jwksUri" needs the optional package jwks-rsa, which is not installed: npm install jwks-rsa',
    });
    console.log('ok  jwksUri without jwks-rsa: one clear error');
    return;
  }

  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuer = simpleJwt({
    keys: [{ kid: 'k1', algorithm: 'ES256', signingKey: privateKey.export({ type: 'pkcs8', format: 'pem' }), signing: true }],
    warnings: false,
    findUserByUsername: (username) => users.byName(username),
    findUserById,
  });
  const issuerApp = express();
  issuerApp.use('/api/token', issuer.router);
  issuerApp.get('/.well-known/jwks.json', (req, res) => res.json(issuer.jwks()));
  const one = await listen(issuerApp);

  const verifier = simpleJwt({ jwksUri: { ...jwksUri, uri: `${one.base}/.well-known/jwks.json` }, findUserById, warnings: false });
  const verifierApp = express();
  verifierApp.get('/hello/', verifier.authenticate(), (req, res) => res.json({ message: `Hello, ${req.user.username}!` }));
  const two = await listen(verifierApp);
  try {
    const login = await fetch(`${one.base}/api/token/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'ann', password: 'correct horse battery staple' }),
    });
    assert.equal(login.status, 200);
    const { access } = await login.json();
    const hello = await fetch(`${two.base}/hello/`, { headers: { Authorization: `Bearer ${access}` } });
    assert.equal(hello.status, 200);
    assert.deepEqual(await hello.json(), { message: 'Hello, ann!' });
    const forged = await fetch(`${two.base}/hello/`, { headers: { Authorization: `Bearer ${access.slice(0, -4)}AAAA` } });
    assert.equal(forged.status, 401);
    console.log(`ok  jwksUri with jwks-rsa ${installed}`);
  } finally {
    one.server.close();
    two.server.close();
    await Promise.all([issuer.close(), verifier.close()]);
  }
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
