// A CommonJS consumer: `require` the kit and Express, as a plain JavaScript app would.
/* global require, process, console */
'use strict';
const assert = require('node:assert/strict');
const express = require('express');
const kit = require('express-simplejwt');
const { simpleJwt, hashPassword } = require('express-simplejwt');
const { exercise, makeUsers, SECRET } = require('./harness.cjs');

(async () => {
  const users = await makeUsers(hashPassword);
  const auth = simpleJwt({
    secret: SECRET,
    warnings: false,
    findUserByUsername: (username) => users.byName(username),
    findUserById: (id) => users.byId(id),
  });
  const app = express();
  app.use('/api/token', auth.router);
  app.get('/hello/', auth.authenticate(), (req, res) => res.json({ message: `Hello, ${req.user.username}!` }));
  await exercise(app, kit, 'CommonJS require');
  // The OpenAPI generator is an entry point of its own: the main one never loads it.
  const loaded = () => Object.keys(require.cache).filter((file) => /[\\/]dist[\\/]cjs[\\/](http[\\/])?openapi\.js$/.test(file));
  assert.deepEqual(loaded(), [], 'require("express-simplejwt") must not load the OpenAPI generator');
  const { openApiDocument } = require('express-simplejwt/openapi');
  assert.equal(loaded().length, 2);
  assert.equal(openApiDocument(auth).openapi, '3.1.0');
  assert.ok(openApiDocument(auth, { basePath: '/api/token' }).paths['/api/token/refresh/']);
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
