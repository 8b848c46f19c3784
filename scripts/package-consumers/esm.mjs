// An ES module consumer: named imports from the kit, and proof that `import` and `require` see one instance.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import express from 'express';
import * as kit from 'express-simplejwt';
import { simpleJwt, hashPassword, AuthError } from 'express-simplejwt';
import { openApiDocument } from 'express-simplejwt/openapi';
import harness from './harness.cjs';

const require = createRequire(import.meta.url);
const required = require('express-simplejwt');
assert.equal(AuthError, required.AuthError, 'import and require must load one module instance');
assert.deepEqual(Object.keys(kit).sort(), Object.keys(required).sort(), 'the ESM entry must re-export every CommonJS export');

const users = await harness.makeUsers(hashPassword);
const auth = simpleJwt({
  secret: harness.SECRET,
  warnings: false,
  findUserByUsername: (username) => users.byName(username),
  findUserById: (id) => users.byId(id),
});
const app = express();
app.use('/api/token', auth.router);
app.get('/hello/', auth.authenticate(), (req, res) => res.json({ message: `Hello, ${req.user.username}!` }));
await harness.exercise(app, kit, 'ESM import');
assert.deepEqual(Object.keys(openApiDocument(auth).paths).slice(0, 2), ['/api/token/', '/api/token/refresh/'], 'express-simplejwt/openapi');
