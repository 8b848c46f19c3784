import express, { type Express } from 'express';
import { join } from 'node:path';
import { prometheusMetrics, simpleJwt, type Options, type SimpleJwt } from '../lib';
import { openApiDocument } from '../lib/openapi';
import { isDemoAdmin, type DemoUser } from './users';

/** Where the demo finds its users: the SQLite table, or an in-memory table in tests. */
export interface UserLookup {
  findByUsername(username: string): DemoUser | undefined;
  findById(id: string): DemoUser | undefined;
}

/**
 * The tutorial's app: `/api/token/` endpoints, `GET /hello/` behind `authenticate()`, the public keys at
 * `/.well-known/jwks.json` (an empty set with an HMAC secret), the OpenAPI 3.1 document at `/api/schema/`, the
 * lifetimes router for the `admin` user at `/api/admin/token-lifetimes/`, who am I at `/api/me/`, and a browser
 * page at `/` (log in, my sessions, log out; for cookie mode, `JWT_COOKIES=access`).
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
  // The configuration is fixed at start-up, so the document is built once, not per request.
  const schema = openApiDocument(auth, { adminPath: '/api/admin/token-lifetimes' });
  app.get('/api/schema/', (_req, res) => void res.json(schema));
  app.get('/hello/', auth.authenticate(), (_req, res) => {
    res.json({ message: 'Hello, World!' });
  });
  // JWT_METRICS=true: Prometheus metrics of the kit's events (keep such an endpoint off the public internet).
  if (demo.metrics) app.get('/metrics', prometheusMetrics(auth).handler);
  // Who am I, for the browser page.
  app.get('/api/me/', auth.authenticate(), (req, res) => {
    const user = req.user as DemoUser;
    res.json({ id: user.id, username: user.username });
  });
  // The browser page (demo-app/public/): plain HTML and a script of our own, nothing else allowed to run.
  app.use(
    express.static(join(__dirname, 'public'), {
      setHeaders: (res) => {
        res.setHeader('Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Referrer-Policy', 'no-referrer');
      },
    }),
  );
  return { app, auth };
}
