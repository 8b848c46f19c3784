import type { AuthenticateOptions, Options } from './config/options';
import { resolveOptions } from './config/resolve';
import { createResources } from './config/resources';
import { createAdminRouter } from './http/admin';
import { createAuthenticate } from './http/authenticate';
import { createCookieTransport } from './http/cookies';
import { createJwksHandler } from './http/jwks';
import { createErrorRenderer } from './http/respond';
import { createTokenRouter } from './http/router';
import { createLoginLimiter } from './http/throttle';
import { verifyOnlyRouter } from './http/verifyOnly';
import { KIT_CONFIG } from './http/routes';
import type { JwkSet } from './keys/jwk';
import { createPasswordChecker } from './passwords/bcrypt';
import { createTokenService, type TokenApi } from './tokens/service';
import type { TokenStore } from './stores/types';
import type { KitEvents } from './events';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthenticatedRequest } from './http/express-types';

/**
 * What `simpleJwt()` returns.
 *
 * @example
 * const auth: SimpleJwt = simpleJwt({ findUserByUsername, findUserById });
 * app.use('/api/token', auth.router);
 * app.get('/me/', auth.authenticate(), (req, res) => res.json(req.user));
 * process.once('SIGTERM', () => void auth.close());
 */
export interface SimpleJwt<U = any> {
  /** The token endpoints (`/`, `/refresh/`, `/verify/`); mount with `app.use('/api/token', auth.router)`. */
  router: RequestHandler;
  /**
   * `GET` / `PUT` / `PATCH` of the token lifetimes, for admins (`isAdmin`); mount it yourself:
   * `app.use('/api/admin/token-lifetimes', auth.adminRouter)`.
   */
  adminRouter: RequestHandler;
  /** Middleware factory: `app.get('/hello/', auth.authenticate(), handler)`. */
  authenticate: (options?: AuthenticateOptions) => RequestHandler;
  /**
   * `authenticate()` and your handler in one, with `req.user` typed as your user type `U` (from
   * `simpleJwt<U>()`) and `req.auth` as the claims, both present: no global declaration, no `!`. A promise your
   * handler returns is awaited and a rejection passed to `next()` (on Express 4 too).
   *
   * @example
   * const auth = simpleJwt<MyUser>({ ... });
   * app.get('/me/', auth.protect((req, res) => res.json({ name: req.user.name })));
   */
  protect: <P = Record<string, string>, ResBody = any, ReqBody = any>(
    handler: (req: AuthenticatedRequest<U, P, ResBody, ReqBody>, res: Response<ResBody>, next: NextFunction) => unknown,
    options?: { stateless?: boolean },
  ) => RequestHandler<P, ResBody, ReqBody>;
  /** Token operations for custom endpoints and tests: verify a token, issue one (see `TokenApi`). */
  tokens: TokenApi;
  /**
   * Structured events (login, loginFailed, refresh, tokenReuse, logout, sessionsEnded, authenticationFailed,
   * storeError, storeOperation): `auth.events.on('loginFailed', (e) => ...)`. See `prometheusMetrics()` for counters.
   */
  events: KitEvents;
  /** The token store in use. */
  store: TokenStore;
  /** Ends every session of a user and every token issued to them until now ("log out everywhere"). */
  revokeUser: (userId: string | number) => Promise<void>;
  /**
   * Releases what the kit holds so the process can exit: the login limiter's timers, a password pool made for
   * this kit (`passwordHashing`), and the token store (`store.close()`: timers, connections). Idempotent: later
   * calls return the first call's promise. Call it after `server.close()` has let requests in flight finish.
   */
  close: () => Promise<void>;
  /** The public JWK set (RFC 7517) of the configured RS/PS/ES keys; never a secret or private member, never an HMAC key. */
  jwks: () => JwkSet;
  /** Serves `jwks()` with `Cache-Control: public, max-age=300`: `app.get('/.well-known/jwks.json', auth.jwksHandler)`. */
  jwksHandler: (req: Request, res: Response) => void;
}

/**
 * Creates the kit: validates the options once, prepares keys and parsers, and returns the router, the
 * `authenticate()` middleware factory and the JWKS of its public keys.
 *
 * @example
 * const auth = simpleJwt({
 *   secret: process.env.JWT_SECRET,
 *   findUserByUsername: (username) => users.byName(username),
 *   findUserById: (id) => users.byId(id),
 * });
 * app.use('/api/token', auth.router);
 * app.get('/hello/', auth.authenticate(), (req, res) => res.json({ message: 'Hello, World!' }));
 * app.use('/api/admin/token-lifetimes', auth.adminRouter); // with isAdmin: (user) => user.isStaff
 * app.get('/.well-known/jwks.json', auth.jwksHandler); // with RS/PS/ES keys
 * const schema = openApiDocument(auth); // from 'express-simplejwt/openapi', built once
 * app.get('/api/schema/', (req, res) => res.json(schema));
 */
export function simpleJwt<U = any>(options: Options<U>): SimpleJwt<U> {
  // Resolving is pure; the store (a MemoryStore's timer) and the password pool are made here, at start.
  const config = createResources(resolveOptions(options));
  const tokens = createTokenService(config);
  const { issuer, verifier, sessions } = tokens;
  const renderError = createErrorRenderer(config.wwwAuthenticate, config.logger, config.renderError, config.errors);
  const passwords = createPasswordChecker(config.bcryptRounds, (message) => config.logger.warn(`[express-simplejwt] ${message}`), config.bcryptCompare);
  const cookies = config.cookies && createCookieTransport(config.cookies, issuer.now);
  const authenticate = createAuthenticate(config, verifier, renderError, cookies);
  const requireAuth = authenticate();
  const limiter = createLoginLimiter(config);
  const tokenRouter = createTokenRouter(config, tokens, sessions, passwords, requireAuth, renderError, cookies, limiter);
  const ready = config.store.init?.();
  if (ready) ready.catch((err: unknown) => config.logger.error(`[express-simplejwt] store init failed: ${String((err as Error)?.message ?? err)}`));
  const jwksJson = JSON.stringify(config.keys.jwks);
  let closing: Promise<void> | undefined;
  const kit: SimpleJwt<U> = {
    router: (issuer.canSign ? tokenRouter : verifyOnlyRouter(tokenRouter, renderError)) as RequestHandler,
    adminRouter: createAdminRouter(config, sessions, requireAuth, renderError) as RequestHandler,
    authenticate,
    protect: (handler, protectOptions) => {
      if (typeof handler !== 'function') throw new TypeError('protect() takes your route handler: auth.protect((req, res) => ...)');
      const guard = authenticate(protectOptions?.stateless ? { stateless: true } : {});
      return function protectedHandler(req, res, next) {
        guard(req as unknown as Request, res as unknown as Response, (failed?: unknown) => {
          if (failed !== undefined) return next(failed);
          try {
            const result = handler(req as unknown as Parameters<typeof handler>[0], res, next);
            if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(undefined, next);
          } catch (err) {
            next(err);
          }
        });
      };
    },
    tokens: tokens.api,
    events: config.events,
    store: config.store,
    revokeUser: (userId) => sessions.revokeUser(String(userId)),
    close: () => {
      closing ??= (async () => {
        await limiter?.close();
        if (config.ownsHashingPool) await config.hashingPool.close();
        await config.store.close?.();
      })();
      return closing;
    },
    jwks: () => JSON.parse(jwksJson) as JwkSet,
    jwksHandler: createJwksHandler(config.keys.jwks, renderError),
  };
  // For `openApiDocument(auth)` of `express-simplejwt/openapi`: hidden from spreads, JSON and key listings.
  Object.defineProperty(kit, KIT_CONFIG, { value: config });
  return kit;
}
