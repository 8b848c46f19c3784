import express, { type Express } from 'express';
import { simpleJwt, type Algorithm, type KeyInput, type Options } from '../lib';
import { UserTable, type DemoUser } from './users';

/** Settings the demo reads from its environment and command line. */
export interface DemoSettings {
  /** HMAC secret; when absent the kit reads JWT_SECRET or JWT_SECRET_FILE. */
  secret?: string;
  /** `HS256` (default), `RS256`, `ES256`, ... */
  algorithm?: Algorithm;
  /** Private key (PEM text, path or KeyObject) for RS/PS/ES. */
  signingKey?: KeyInput;
  /** Public key for RS/PS/ES; alone, the demo only verifies. */
  verifyingKey?: KeyInput;
  audience?: string | string[];
  issuer?: string;
  accessTokenLifetime?: string | number;
  refreshTokenLifetime?: string | number;
  loginThrottle?: string | false;
  users?: UserTable;
  /** Any other kit option, for tests. */
  extra?: Partial<Options<DemoUser>>;
}

/**
 * The tutorial's app: `/api/token/` endpoints, `GET /hello/` behind `authenticate()`, and the public keys at
 * `/.well-known/jwks.json` (an empty set with an HMAC secret).
 *
 * @example
 * createDemoApp({ secret: process.env.JWT_SECRET }).listen(8000);
 */
export function createDemoApp(settings: DemoSettings = {}): Express {
  const users = settings.users ?? new UserTable();
  const auth = simpleJwt<DemoUser>({
    secret: settings.secret,
    algorithm: settings.algorithm,
    signingKey: settings.signingKey,
    verifyingKey: settings.verifyingKey,
    audience: settings.audience,
    issuer: settings.issuer,
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
  app.get('/.well-known/jwks.json', auth.jwksHandler);
  app.get('/hello/', auth.authenticate(), (_req, res) => {
    res.json({ message: 'Hello, World!' });
  });
  return app;
}
