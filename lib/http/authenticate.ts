import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthenticateOptions, AuthTokenClass } from '../config/options';
import {
  AuthError,
  BadAuthorizationHeaderError,
  InvalidTokenError,
  NoUserIdError,
  NotAuthenticatedError,
  PasswordChangedError,
  UserInactiveError,
  UserNotFoundError,
} from '../errors';
import type { Config } from '../config/resolve';
import type { TokenClaims } from '../tokens/codec';
import type { TokenService } from '../tokens/service';
import { CREDENTIALS_CLAIM } from '../tokens/tokens';
import type { ErrorRenderer } from './respond';
import { isThenable } from '../util';
import type { TokenClassMessage } from '../errors';
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
 * A `getCredentialsChangedAt` answer as epoch milliseconds, or `null` (never changed, or not a usable time).
 *
 * @example
 * credentialsVersion(new Date('2026-01-01T00:00:00.250Z')) // 1767225600250
 */
export function credentialsVersion(changedAt: Date | number | null | undefined): number | null {
  if (changedAt === null || changedAt === undefined) return null;
  const ms = changedAt instanceof Date ? changedAt.getTime() : changedAt;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}

/**
 * Whether the user's credentials changed since the token's session began. A token carrying `CREDENTIALS_CLAIM`
 * (every token the kit mints with `getCredentialsChangedAt`) is compared exactly, so a change ends it even in the
 * second it was issued. A token without it (minted before the option, or by simplejwt) is refused when issued in
 * the change's second or before: `iat` has one-second resolution, so it cannot tell which came first. A token
 * without `iat` predates any change.
 */
export function credentialsChangedSince(changedAt: Date | number | null | undefined, claims: TokenClaims): boolean {
  const current = credentialsVersion(changedAt);
  if (Object.prototype.hasOwnProperty.call(claims, CREDENTIALS_CLAIM)) return claims[CREDENTIALS_CLAIM] !== current;
  if (current === null) return false;
  const iat = typeof claims.iat === 'number' ? claims.iat : 0;
  return iat <= Math.floor(current / 1000);
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

/** How the entries of `authenticate()`'s 401 `messages` name each token class (simplejwt's class names). */
export const TOKEN_CLASS_LABELS = {
  access: { token_class: 'AccessToken', token_type: 'access' },
  sliding: { token_class: 'SlidingToken', token_type: 'sliding' },
} as const satisfies Record<AuthTokenClass, Omit<TokenClassMessage, 'message'>>;

function isTokenError(err: unknown): err is AuthError {
  return err instanceof AuthError && err.code === 'token_not_valid';
}

/**
 * Builds `authenticate()`: it checks the header (or, with access cookies, the cookie and then the CSRF token),
 * the token against each accepted token class in order, and the user, then sets `req.user` and `req.auth`.
 */
export function createAuthenticate(config: Config, tokens: TokenService, renderError: ErrorRenderer, cookies?: CookieTransport) {
  const { authSchemes, authHeaderKey, findUserById, isUserActive, revokeAccessTokens, getCredentialsChangedAt } = config;
  const readAccessCookie = cookies?.config.access ? cookies.readAccess : undefined;
  /** simplejwt's AUTH_TOKEN_CLASSES: sliding tokens are session tokens, so their revocation is always checked. */
  const classes = config.authTokenClasses.map((type) => ({
    type,
    label: TOKEN_CLASS_LABELS[type],
    checkRevocation: type === 'sliding' || revokeAccessTokens,
  }));

  /** Every class failed the same way (bad signature, expired): one entry each, as simplejwt lists them. */
  function allFailed(err: unknown): unknown {
    return isTokenError(err) ? new InvalidTokenError(classes.map((c) => ({ ...c.label, message: err.message })), err) : err;
  }

  /** Tries the classes from `index` on; the first that accepts the token wins, else one message per class. */
  function tryClasses(claims: TokenClaims, index: number, messages: TokenClassMessage[]): TokenClaims | Promise<TokenClaims> {
    for (let i = index; i < classes.length; i++) {
      const c = classes[i]!;
      let result: TokenClaims | Promise<TokenClaims>;
      try {
        result = tokens.checked(claims, c.type, c.checkRevocation);
      } catch (err) {
        if (!isTokenError(err)) throw err;
        messages.push({ ...c.label, message: err.message });
        continue;
      }
      if (!isThenable(result)) return result;
      return Promise.resolve(result).catch((err: unknown) => {
        if (!isTokenError(err)) throw err;
        messages.push({ ...c.label, message: err.message });
        return tryClasses(claims, i + 1, messages);
      });
    }
    throw new InvalidTokenError(messages);
  }

  /** Signature and expiry once, then the classes; synchronous unless a key or the store answers later. */
  function verifyToken(token: string): TokenClaims | Promise<TokenClaims> {
    let decoded;
    try {
      decoded = tokens.decode(token);
    } catch (err) {
      throw allFailed(err);
    }
    if (isThenable(decoded)) {
      return Promise.resolve(decoded).then(
        (d) => tryClasses(d.claims, 0, []),
        (err: unknown) => {
          throw allFailed(err);
        },
      );
    }
    return tryClasses(decoded.claims, 0, []);
  }

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
    const notAuthenticated = new NotAuthenticatedError();
    const badHeader = new BadAuthorizationHeaderError();

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
        verified = verifyToken(credential.token);
      } catch (err) {
        return fail(err, req, res, next);
      }
      if (isThenable(verified)) verified.then((claims) => withClaims(claims, req, res, next), (err: unknown) => fail(err, req, res, next));
      else withClaims(verified, req, res, next);
    }

    function withClaims(claims: TokenClaims, req: Request, res: Response, next: NextFunction): void {
      const id = tokens.userIdOf(claims);
      if (id === undefined) return fail(new NoUserIdError(), req, res, next);
      if (id === null) return fail(new UserNotFoundError(), req, res, next);
      if (stateless) {
        return accept(req, { id, pk: id, isActive: true, claims } satisfies TokenUser, claims, next);
      }
      let found;
      try {
        found = findUserById(id);
      } catch (err) {
        return fail(err, req, res, next);
      }
      // The synchronous look-up (the common case) allocates nothing per request.
      if (isThenable(found)) found.then((user) => withUser(user, claims, req, res, next), (err: unknown) => fail(err, req, res, next));
      else withUser(found, claims, req, res, next);
    }

    function withUser(user: unknown, claims: TokenClaims, req: Request, res: Response, next: NextFunction): void {
      if (user === null || user === undefined) return fail(new UserNotFoundError(), req, res, next);
      let active: boolean;
      try {
        active = isUserActive(user);
      } catch (err) {
        return fail(err, req, res, next);
      }
      if (!active) return fail(new UserInactiveError(), req, res, next);
      if (getCredentialsChangedAt) {
        try {
          if (credentialsChangedSince(getCredentialsChangedAt(user), claims)) return fail(new PasswordChangedError(), req, res, next);
        } catch (err) {
          return fail(err, req, res, next);
        }
      }
      accept(req, user, claims, next);
    }

    return authenticateMiddleware;
  }

  return authenticate;
}
