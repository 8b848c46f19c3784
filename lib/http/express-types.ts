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
