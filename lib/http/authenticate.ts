import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthenticateOptions } from '../config/options';
import { AuthError } from '../errors';
import type { Config } from '../config/resolve';
import type { TokenClaims } from '../tokens/codec';
import { REQUEST_USER, type Verifier } from '../tokens/verifier';
import type { ErrorRenderer } from './respond';
import { isThenable } from '../util';
import { SAFE_METHODS, type CookieTransport } from './cookies';
import { isRepeatedHeader } from './headers';

/** What a header yields: nothing to authenticate with, a malformed header, or a raw token. */
export type HeaderCredential = { kind: 'none' } | { kind: 'bad' } | { kind: 'token'; token: string };

const NONE: HeaderCredential = { kind: 'none' };
const BAD: HeaderCredential = { kind: 'bad' };

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * Parses `Authorization` the way simplejwt does: absent or blank is no credentials; parts split on runs of
 * whitespace; an unknown scheme is no credentials; a known scheme with other than exactly one token is an error.
 * The scheme is matched case-insensitively (RFC 7235).
 *
 * @example
 * parseAuthorizationHeader('Bearer eyJhbGciOi...', new Set(['bearer'])) // { kind: 'token', token: 'eyJhbGciOi...' }
 * parseAuthorizationHeader('Bearer', new Set(['bearer']))               // { kind: 'bad' }
 * parseAuthorizationHeader('Token abc', new Set(['bearer']))            // { kind: 'none' }
 */
export function parseAuthorizationHeader(value: string | string[] | undefined, schemes: ReadonlySet<string>): HeaderCredential {
  if (typeof value !== 'string') return value === undefined ? NONE : BAD;
  const parts: string[] = [];
  let start = -1;
  for (let i = 0; i <= value.length; i++) {
    const space = i === value.length || isSpace(value.charCodeAt(i));
    if (space && start !== -1) {
      parts.push(value.slice(start, i));
      start = -1;
      if (parts.length > 2) return schemes.has(parts[0]!.toLowerCase()) ? BAD : NONE;
    } else if (!space && start === -1) start = i;
  }
  if (parts.length === 0 || !schemes.has(parts[0]!.toLowerCase())) return NONE;
  if (parts.length !== 2) return BAD;
  return { kind: 'token', token: parts[1]! };
}

/**
 * The user `stateless` mode builds from the claims, like simplejwt's `TokenUser`.
 *
 * @example
 * app.get('/jobs/', auth.authenticate({ stateless: true }), (req, res) => {
 *   res.json({ userId: (req.user as TokenUser).id });
 * });
 */
export interface TokenUser {
  id: string;
  pk: string;
  isActive: true;
  claims: TokenClaims;
}

function looksLikeRequest(value: unknown): value is Request {
  return typeof value === 'object' && value !== null && 'headers' in value && 'method' in value && 'url' in value;
}

/** Explains `app.use(auth.authenticate)` written without `()`. */
export const MISSING_PARENS =
  'auth.authenticate is a factory: write app.use(auth.authenticate()) or app.get(path, auth.authenticate(), handler), with the parentheses';

/**
 * Builds `authenticate()`: it checks the header (or, with access cookies, the cookie and then the CSRF token),
 * then hands the token to the verifier (each accepted token class in order, then the user), and sets `req.user`
 * and `req.auth`.
 */
export function createAuthenticate(config: Config, verifier: Verifier, renderError: ErrorRenderer, cookies?: CookieTransport) {
  const { authSchemes, authHeaderKey } = config;
  const readAccessCookie = cookies?.config.access ? cookies.readAccess : undefined;

  function authenticate(options?: AuthenticateOptions): RequestHandler;
  function authenticate(this: unknown, ...args: unknown[]): RequestHandler | void {
    if (args.length >= 2 && looksLikeRequest(args[0])) {
      const [req, res] = args as [Request, Response];
      config.logger.error(`[express-simplejwt] ${MISSING_PARENS}`);
      renderError(new TypeError(MISSING_PARENS), req, res);
      return;
    }
    const options = (args[0] ?? {}) as AuthenticateOptions;
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('authenticate() takes an options object such as { optional: true } or { stateless: true }');
    }
    for (const key of Object.keys(options)) {
      if (key !== 'optional' && key !== 'stateless') {
        throw new TypeError(`Unknown authenticate() option "${key}"; known: "optional", "stateless"`);
      }
    }
    const optional = options.optional === true;
    const stateless = options.stateless === true;
    const notAuthenticated = new AuthError('not_authenticated');
    const badHeader = new AuthError('bad_authorization_header');

    function fail(err: unknown, req: Request, res: Response, next?: NextFunction): void {
      if (err instanceof AuthError && config.events.listening('authenticationFailed')) {
        config.events.send('authenticationFailed', { code: err.code, status: err.status });
      }
      renderError(err, req, res, undefined, next);
    }

    function accept(req: Request, user: unknown, claims: TokenClaims, next: NextFunction): void {
      req.user = user as Express.User;
      req.auth = claims;
      next();
    }

    function authenticateMiddleware(req: Request, res: Response, next: NextFunction): void {
      const value = req.headers[authHeaderKey];
      // Two header lines are refused rather than guessed between (Node keeps the first; a proxy may use the last).
      let credential = value !== undefined && isRepeatedHeader(req.rawHeaders, authHeaderKey) ? BAD : parseAuthorizationHeader(value, authSchemes);
      let fromCookie = false;
      if (credential.kind === 'none' && readAccessCookie) {
        const token = readAccessCookie(req);
        if (token !== undefined) {
          credential = { kind: 'token', token };
          fromCookie = true;
        }
      }
      if (credential.kind !== 'token') {
        if (credential.kind === 'bad') return fail(badHeader, req, res, next);
        if (optional) return next();
        return fail(notAuthenticated, req, res, next);
      }
      // A cookie is sent by the browser whoever made the page: a state-changing request needs the CSRF token too.
      if (fromCookie && !SAFE_METHODS.has(req.method)) {
        try {
          cookies!.checkCsrf(req);
        } catch (err) {
          return fail(err, req, res, next);
        }
      }
      let verified: TokenClaims | Promise<TokenClaims>;
      try {
        verified = verifier.verifyRequest(credential.token);
      } catch (err) {
        return fail(err, req, res, next);
      }
      if (isThenable(verified)) verified.then((claims) => withClaims(claims, req, res, next), (err: unknown) => fail(err, req, res, next));
      else withClaims(verified, req, res, next);
    }

    function withClaims(claims: TokenClaims, req: Request, res: Response, next: NextFunction): void {
      let user: unknown;
      try {
        if (!stateless) user = verifier.user(claims, REQUEST_USER);
        else {
          const id = verifier.userId(claims, REQUEST_USER)!;
          user = { id, pk: id, isActive: true, claims } satisfies TokenUser;
        }
      } catch (err) {
        return fail(err, req, res, next);
      }
      // The synchronous look-up (the common case) allocates nothing per request.
      if (isThenable(user)) user.then((found) => accept(req, found, claims, next), (err: unknown) => fail(err, req, res, next));
      else accept(req, user, claims, next);
    }

    return authenticateMiddleware;
  }

  return authenticate;
}
