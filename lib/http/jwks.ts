import type { NextFunction, Request, Response } from 'express';
import { methodNotAllowed } from '../errors';
import type { JwkSet } from '../keys/jwk';
import { sendJson, type ErrorRenderer } from './respond';
import { allowOf, routeOf } from './routes';

/**
 * How long clients and proxies may cache the JWKS, in seconds. Rotation waits at least this long between adding
 * a key and signing with it, so that every verifier has seen the new key first (see "Keys and rotation").
 */
export const JWKS_MAX_AGE = 300;

/**
 * Builds the JWKS handler: a plain `(req, res)` function (no Express import, so it works under Express 4 and 5)
 * answering GET and HEAD with the public key set, precomputed once, and `Cache-Control: public, max-age=300`.
 */
export function createJwksHandler(jwks: JwkSet, renderError: ErrorRenderer) {
  const body = JSON.stringify(jwks);
  const headers = { 'Cache-Control': `public, max-age=${JWKS_MAX_AGE}` } as const;
  const route = routeOf('jwks');
  const methods = new Set<string>(route.operations.map((op) => op.method));
  const allow = allowOf(route);

  return function jwksHandler(req: Request, res: Response, next?: NextFunction): void {
    if (!methods.has(req.method)) {
      return renderError(methodNotAllowed(req.method, allow), req, res, undefined, next);
    }
    sendJson(res, 200, body, headers);
  };
}
