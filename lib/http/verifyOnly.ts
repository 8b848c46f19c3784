import type { NextFunction, Request, Response } from 'express';
import { AuthError } from '../errors';
import type { ErrorRenderer } from './respond';
import { ROUTES, routePath } from './routes';

/** The endpoints that issue tokens, below the router's mount point (the route table's `issues`). */
const ISSUING_PATHS: ReadonlySet<string> = new Set(ROUTES.filter((route) => route.mount === 'token' && route.issues).map((route) => route.path));

/**
 * Wraps the token router of a verify-only kit (a public key or a remote JWKS, no signing key): login and refresh
 * answer `404 {"detail": "This server only verifies tokens; ...", "code": "verify_only"}` at once, before any
 * body is read or password checked; `/verify/` and anything else go to the router.
 */
export function verifyOnlyRouter(
  router: (req: Request, res: Response, next: NextFunction) => void,
  renderError: ErrorRenderer,
) {
  const headers = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
  return function tokenRouter(req: Request, res: Response, next: NextFunction): void {
    if (ISSUING_PATHS.has(routePath(req.url))) return renderError(new AuthError('verify_only'), req, res, headers, next);
    router(req, res, next);
  };
}
