// A CommonJS consumer: `require` the kit and Express, as a plain JavaScript app would.
/* global require, process, console */
'use strict';
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
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
