import express, { type Express } from 'express';
import { prometheusMetrics, simpleJwt, type Options, type SimpleJwt } from '../lib';
import { isDemoAdmin, type DemoUser } from './users';

/** Where the demo finds its users: the SQLite table, or an in-memory table in tests. */
export interface UserLookup {
  findByUsername(username: string): DemoUser | undefined;
  findById(id: string): DemoUser | undefined;
}

/**
 * The tutorial's app: `/api/token/` endpoints, `GET /hello/` behind `authenticate()`, the public keys at
 * `/.well-known/jwks.json` (an empty set with an HMAC secret), the OpenAPI 3.1 document at `/api/schema/`, and the
 * lifetimes router for the `admin` user at `/api/admin/token-lifetimes/`.
 *
 * @example
 * const { app } = createDemoApp(new SqliteUsers('demo.sqlite3'), { secret: process.env.JWT_SECRET });
 * app.listen(8000);
 */
export function createDemoApp(
  users: UserLookup,
  options: Partial<Options<DemoUser>> = {},
  demo: { metrics?: boolean } = {},
): { app: Express; auth: SimpleJwt } {
  const auth = simpleJwt<DemoUser>({
    findUserByUsername: (username) => users.findByUsername(username),
    findUserById: (id) => users.findById(id),
    isAdmin: isDemoAdmin,
    ...options,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use('/api/token', auth.router);
  app.use('/api/admin/token-lifetimes', auth.adminRouter);
  app.get('/.well-known/jwks.json', auth.jwksHandler);
  app.get('/api/schema/', (_req, res) => void res.json(auth.openapi({ adminPath: '/api/admin/token-lifetimes' })));
  app.get('/hello/', auth.authenticate(), (_req, res) => {
    res.json({ message: 'Hello, World!' });
  });
  // JWT_METRICS=true: Prometheus metrics of the kit's events (keep such an endpoint off the public internet).
  if (demo.metrics) app.get('/metrics', prometheusMetrics(auth).handler);
  return { app, auth };
}
