import express, { type Express } from 'express';
import { simpleJwt, type Options } from '../lib';
import { UserTable, type DemoUser } from './users';

/** Settings the demo reads from its environment and command line. */
export interface DemoSettings {
  secret?: string;
  accessTokenLifetime?: string | number;
  refreshTokenLifetime?: string | number;
  loginThrottle?: string | false;
  users?: UserTable;
  /** Any other kit option, for tests. */
  extra?: Partial<Options<DemoUser>>;
}

/**
 * The tutorial's app: `/api/token/` endpoints and `GET /hello/` behind `authenticate()`.
 *
 * @example
 * createDemoApp({ secret: process.env.JWT_SECRET }).listen(8000);
 */
export function createDemoApp(settings: DemoSettings = {}): Express {
  const users = settings.users ?? new UserTable();
  const auth = simpleJwt<DemoUser>({
    secret: settings.secret,
    accessTokenLifetime: settings.accessTokenLifetime,
    refreshTokenLifetime: settings.refreshTokenLifetime,
    loginThrottle: settings.loginThrottle,
    findUserByUsername: (username) => users.findByUsername(username),
    findUserById: (id) => users.findById(id),
    ...settings.extra,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use('/api/token', auth.router);
  app.get('/hello/', auth.authenticate(), (_req, res) => {
    res.json({ message: 'Hello, World!' });
  });
  return app;
}
