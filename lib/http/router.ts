import type { NextFunction, Request, Response } from 'express';
import {
  AuthError,
  InternalError,
  MethodNotAllowedError,
  NoActiveAccountError,
} from '../errors';
import type { Config } from '../config/resolve';
import type { PasswordChecker } from '../passwords/bcrypt';
import type { TokenService } from '../tokens/service';
import type { TokenClaims } from '../tokens/codec';
import { readBody, stringFields } from './body';
import { sendJson, type ErrorRenderer } from './respond';
import { createLoginThrottle } from './throttle';

/** Headers on every answer of the token endpoints: tokens must not be cached (RFC 6749 §5.1). */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** A token endpoint: the body's parsed fields in, the 200 body out. */
type Endpoint = (req: Request, res: Response) => Promise<Record<string, unknown>>;

/** Calls a host callback; whatever it throws becomes a generic 500 (logged, never shown). */
export async function callHost<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw err instanceof AuthError ? err : new InternalError(err);
  }
}

/** The path below the mount point, without query string, always ending in `/`. */
function routePath(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.endsWith('/') ? path : `${path}/`;
}

/**
 * Builds the token router: a plain middleware (no Express import, so it works the same under Express 4 and 5)
 * serving `/`, `/refresh/` and `/verify/` below wherever the host mounts it.
 */
export function createTokenRouter(config: Config, tokens: TokenService, passwords: PasswordChecker, renderError: ErrorRenderer) {
  const { usernameField, bodyLimit, isUserActive, getUserId, getPasswordHash } = config;
  const throttleLogin = createLoginThrottle(config);

  async function userClaimsOf(user: unknown): Promise<Record<string, unknown>> {
    const id = await callHost(() => getUserId(user));
    if ((typeof id !== 'string' || id === '') && !(typeof id === 'number' && Number.isFinite(id))) {
      throw new InternalError(new TypeError('getUserId() returned no usable id (a non-empty string or a number)'));
    }
    const custom = config.customClaims ? await callHost(() => config.customClaims!(user)) : undefined;
    return callHost(() => tokens.userClaims(id, custom));
  }

  /** Finds the user behind the credentials, or throws the one "no active account" error for every failure. */
  async function checkCredentials(req: Request, username: string, password: string): Promise<unknown> {
    if (config.verifyCredentials) {
      const user = await callHost(() => config.verifyCredentials!(username, password, req));
      if (user === null || user === undefined || !(await callHost(() => isUserActive(user)))) throw new NoActiveAccountError();
      return user;
    }
    const find = config.findUserByUsername;
    if (!find) throw new InternalError(new TypeError('the login endpoint needs "findUserByUsername" or "verifyCredentials"'));
    const user = await callHost(() => find(username, req));
    const hash = user === null || user === undefined ? undefined : await callHost(() => getPasswordHash(user));
    // One bcrypt comparison whatever happens, so an unknown user costs as much as a wrong password.
    const matches = await passwords.check(password, hash);
    if (!matches || user === null || user === undefined || !(await callHost(() => isUserActive(user)))) {
      throw new NoActiveAccountError();
    }
    return user;
  }

  const obtainPair: Endpoint = async (req, res) => {
    const body = await readBody(req, bodyLimit);
    const fields = stringFields(body, [usernameField, 'password']);
    const username = fields[usernameField]!;
    if (throttleLogin) await throttleLogin(req, res, username);
    const user = await checkCredentials(req, username, fields.password!);
    const pair = tokens.issuePair(await userClaimsOf(user));
    return { refresh: pair.refresh.token, access: pair.access.token };
  };

  /** A verified refresh token whose user still exists and is active. */
  async function liveRefreshClaims(token: string): Promise<TokenClaims> {
    const claims = await tokens.verify(token, 'refresh');
    const id = tokens.userIdOf(claims);
    if (id !== undefined) {
      const user = id === null ? null : await callHost(() => config.findUserById(id));
      if (user === null || user === undefined || !(await callHost(() => isUserActive(user)))) {
        throw new NoActiveAccountError(true);
      }
    }
    return claims;
  }

  const refresh: Endpoint = async (req) => {
    const { refresh: token } = stringFields(await readBody(req, bodyLimit), ['refresh']);
    const claims = await liveRefreshClaims(token!);
    const access = tokens.accessFrom(claims);
    if (!config.rotateRefreshTokens) return { access: access.token };
    return { access: access.token, refresh: tokens.rotate(claims).token };
  };

  const verify: Endpoint = async (req) => {
    const { token } = stringFields(await readBody(req, bodyLimit), ['token']);
    await tokens.verify(token!, null);
    return {};
  };

  const endpoints = new Map<string, { name: string; handle: Endpoint }>([
    ['/', { name: 'Token Obtain Pair', handle: obtainPair }],
    ['/refresh/', { name: 'Token Refresh', handle: refresh }],
    ['/verify/', { name: 'Token Verify', handle: verify }],
  ]);

  function tokenRouter(req: Request, res: Response, next: NextFunction): void {
    const endpoint = endpoints.get(routePath(req.url));
    if (endpoint === undefined) return next();
    if (req.method === 'POST') {
      endpoint.handle(req, res).then(
        (body) => sendJson(res, 200, JSON.stringify(body), NO_STORE),
        (err) => renderError(err, req, res, NO_STORE),
      );
      return;
    }
    if (req.method === 'OPTIONS') {
      const body = JSON.stringify({
        name: endpoint.name,
        description: '',
        renders: ['application/json'],
        parses: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
      });
      return sendJson(res, 200, body, { Allow: 'POST, OPTIONS', ...NO_STORE });
    }
    renderError(new MethodNotAllowedError(req.method), req, res, NO_STORE);
  }

  return tokenRouter;
}
