import type { AuthenticateOptions, Options } from './config/options';
import { resolveOptions } from './config/resolve';
import { createAuthenticate } from './http/authenticate';
import { createErrorRenderer } from './http/respond';
import { createTokenRouter } from './http/router';
import { createPasswordChecker } from './passwords/bcrypt';
import { createTokenService } from './tokens/service';
import type { RequestHandler } from 'express';

/** What `simpleJwt()` returns. */
export interface SimpleJwt {
  /** The token endpoints (`/`, `/refresh/`, `/verify/`); mount with `app.use('/api/token', auth.router)`. */
  router: RequestHandler;
  /** Middleware factory: `app.get('/hello/', auth.authenticate(), handler)`. */
  authenticate: (options?: AuthenticateOptions) => RequestHandler;
  /** Low-level token operations, for tests and custom endpoints. */
  tokens: ReturnType<typeof createTokenService>;
}

/**
 * Creates the kit: validates the options once, prepares keys and parsers, and returns the router and the
 * `authenticate()` middleware factory.
 *
 * @example
 * const auth = simpleJwt({
 *   secret: process.env.JWT_SECRET,
 *   findUserByUsername: (username) => users.byName(username),
 *   findUserById: (id) => users.byId(id),
 * });
 * app.use('/api/token', auth.router);
 * app.get('/hello/', auth.authenticate(), (req, res) => res.json({ message: 'Hello, World!' }));
 */
export function simpleJwt<U = any>(options: Options<U>): SimpleJwt {
  const config = resolveOptions(options);
  const tokens = createTokenService(config);
  const renderError = createErrorRenderer(config.wwwAuthenticate, config.logger, config.renderError);
  const passwords = createPasswordChecker(config.bcryptRounds, (message) => config.logger.warn(`[express-simplejwt] ${message}`));
  void passwords.warmUp();
  return {
    router: createTokenRouter(config, tokens, passwords, renderError) as RequestHandler,
    authenticate: createAuthenticate(config, tokens, renderError),
    tokens,
  };
}
