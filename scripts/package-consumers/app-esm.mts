// A TypeScript consumer compiled to ES modules (`module: nodenext`): the kit's types come from index.d.mts.
import express, { type Request, type Response } from 'express';
import * as kit from 'express-simplejwt';
import { simpleJwt, hashPassword, AuthError, type SimpleJwt } from 'express-simplejwt';
import harness from './harness.cjs';
import type { MyUser } from './types.js';

const users = await harness.makeUsers(hashPassword);
const auth: SimpleJwt = simpleJwt<MyUser>({
  secret: harness.SECRET,
  warnings: false,
  findUserByUsername: (username) => users.byName(username),
  findUserById: (id) => users.byId(id),
});
const app = express();
app.use('/api/token', auth.router);
app.get('/hello/', auth.authenticate(), (req: Request, res: Response) => {
  const username: string | undefined = req.user?.username; // typed through the augmentation
  // @ts-expect-error MyUser has no such field: req.user is not `any`
  void req.user?.nickname;
  res.json({ message: `Hello, ${username}!` });
});
app.use((err: unknown, _req: Request, res: Response, next: (err?: unknown) => void) => {
  if (err instanceof AuthError) res.status(err.status).json(err.body);
  else next(err);
});
await harness.exercise(app, kit, 'TypeScript strict, ESM');
