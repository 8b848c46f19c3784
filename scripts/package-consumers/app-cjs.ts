// A TypeScript consumer compiled to CommonJS (`module: commonjs`, classic resolution), the usual Express setup.
import express from 'express';
import * as kit from 'express-simplejwt';
import { simpleJwt, hashPassword, type Options } from 'express-simplejwt';
import { exercise, makeUsers, SECRET } from './harness.cjs';
import type { MyUser } from './types';

async function main(): Promise<void> {
  const users = await makeUsers(hashPassword);
  const options: Options<MyUser> = {
    secret: SECRET,
    warnings: false,
    findUserByUsername: (username) => users.byName(username),
    findUserById: (id) => users.byId(id),
  };
  const auth = simpleJwt<MyUser>(options);
  const app = express();
  app.use('/api/token', auth.router);
  app.get('/hello/', auth.authenticate(), (req, res) => {
    const user = req.user;
    if (user === undefined) throw new Error('authenticate() sets req.user');
    const username: string = user.username; // typed through the augmentation
    // @ts-expect-error MyUser has no such field: req.user is not `any`
    void user.nickname;
    const userId: string | number | undefined = req.auth?.user_id;
    void userId;
    res.json({ message: `Hello, ${username}!` });
  });
  await exercise(app, kit, 'TypeScript strict, CommonJS');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
