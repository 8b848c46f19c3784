import type { TokenClaims } from '../tokens/codec';

/**
 * `req.user` and `req.auth`, typed through declaration merging. `Express.User` is the same empty interface
 * passport declares, so both libraries coexist; the host makes it its own user type:
 *
 * ```ts
 * declare global { namespace Express { interface User extends MyUser {} } }
 * ```
 *
 * and adds its custom claims to `req.auth` through `declare module 'express-simplejwt' { interface CustomClaims { ... } }`.
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User {}
    interface Request {
      /** The authenticated user: the host's user, or a `TokenUser` in stateless mode. */
      user?: User;
      /** The verified token's claims. */
      auth?: import('../tokens/codec').TokenClaims & import('./express-types').CustomClaims;
    }
  }
}

/**
 * Extend to type your custom claims on `req.auth`.
 *
 * @example
 * declare module 'express-simplejwt' {
 *   interface CustomClaims { roles: string[] }
 * }
 * app.get('/admin/', auth.authenticate(), (req, res) => res.json({ roles: req.auth!.roles }));
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CustomClaims {}

export type { TokenClaims };

/**
 * The request a handler behind `auth.protect()` gets: `req.user` is your user type, `req.auth` the verified
 * claims, both present (no `!`, no global declaration).
 *
 * @example
 * app.get('/me/', auth.protect((req: AuthenticatedRequest<MyUser>, res) => res.json({ name: req.user.name })));
 */
export type AuthenticatedRequest<
  U,
  P = Record<string, string>,
  ResBody = unknown,
  ReqBody = unknown,
> = Omit<import('express').Request<P, ResBody, ReqBody>, 'user' | 'auth'> & {
  user: U;
  auth: TokenClaims & CustomClaims;
};
