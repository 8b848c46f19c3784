import type { NextFunction, Request, Response } from 'express';
import {
  AuthError,
  InternalError,
  MethodNotAllowedError,
  NoActiveAccountError,
  NotFoundError,
  PasswordChangedError,
} from '../errors';
import type { SessionManager } from '../tokens/sessions';
import type { SessionInfo } from '../stores/types';
import { credentialsChangedSince } from './authenticate';
import type { Config } from '../config/resolve';
import type { PasswordChecker } from '../passwords/bcrypt';
import type { TokenService } from '../tokens/service';
import type { TokenClaims } from '../tokens/codec';
import { readBody, stringFields } from './body';
import { sendJson, type ErrorRenderer } from './respond';
import { createLoginThrottle } from './throttle';

/** Headers on every answer of the token endpoints: tokens must not be cached (RFC 6749 §5.1). */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** A token endpoint: the request in, the 200 body out (`undefined`: 204 No Content). */
type Endpoint = (req: Request, res: Response) => Promise<Record<string, unknown> | unknown[] | undefined>;

/** A route: its methods and handlers; `authenticated` routes run `authenticate()` first. */
interface Route {
  name: string;
  methods: Partial<Record<'POST' | 'GET' | 'DELETE', Endpoint>>;
  allow: string;
  authenticated?: boolean;
}

const SESSION_PATH = /^\/sessions\/([0-9a-f]{32})\/$/;

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** A session as `GET /sessions/` lists it (snake_case, ISO 8601 times, as DRF would render it). */
function sessionJson(session: SessionInfo): Record<string, unknown> {
  return {
    id: session.id,
    created: iso(session.createdAt),
    last_used: iso(session.lastUsedAt),
    expires: iso(session.expiresAt),
    user_agent: session.userAgent ?? null,
    ip: session.ip ?? null,
  };
}

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
export function createTokenRouter(
  config: Config,
  tokens: TokenService,
  sessions: SessionManager,
  passwords: PasswordChecker,
  requireAuth: (req: Request, res: Response, next: NextFunction) => void,
  renderError: ErrorRenderer,
) {
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
    await sessions.startSession(pair, req);
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
      const changed = config.getCredentialsChangedAt;
      if (changed && credentialsChangedSince(await callHost(() => changed(user)), claims)) throw new PasswordChangedError();
    }
    return claims;
  }

  const refresh: Endpoint = async (req) => {
    const { refresh: token } = stringFields(await readBody(req, bodyLimit), ['refresh']);
    const claims = await liveRefreshClaims(token!);
    if (!config.rotateRefreshTokens) return { access: (await sessions.refreshAccess(claims)).token };
    const rotated = await sessions.rotate(claims, req);
    return { access: rotated.access.token, refresh: rotated.refresh.token };
  };

  const blacklist: Endpoint = async (req) => {
    const { refresh: token } = stringFields(await readBody(req, bodyLimit), ['refresh']);
    await sessions.logout(await tokens.verify(token!, 'refresh'));
    return {};
  };

  function callerId(req: Request): string {
    return tokens.userIdOf(req.auth ?? {}) as string;
  }

  const listSessions: Endpoint = async (req) => (await sessions.sessions(callerId(req))).map(sessionJson);

  const endAllSessions: Endpoint = async (req) => {
    await sessions.revokeUser(callerId(req));
    return undefined;
  };

  const endOneSession: Endpoint = async (req) => {
    const id = SESSION_PATH.exec(routePath(req.url))![1]!;
    if (!(await sessions.endSession(callerId(req), id))) throw new NotFoundError();
    return undefined;
  };

  const verify: Endpoint = async (req) => {
    const { token } = stringFields(await readBody(req, bodyLimit), ['token']);
    await tokens.verify(token!, null);
    return {};
  };

  const post = (name: string, handle: Endpoint): Route => ({ name, methods: { POST: handle }, allow: 'POST, OPTIONS' });
  const routes = new Map<string, Route>([
    ['/', post('Token Obtain Pair', obtainPair)],
    ['/refresh/', post('Token Refresh', refresh)],
    ['/verify/', post('Token Verify', verify)],
    ['/blacklist/', post('Token Blacklist', blacklist)],
    ['/sessions/', { name: 'Sessions', methods: { GET: listSessions, DELETE: endAllSessions }, allow: 'GET, DELETE, OPTIONS', authenticated: true }],
  ]);
  const oneSession: Route = { name: 'Session', methods: { DELETE: endOneSession }, allow: 'DELETE, OPTIONS', authenticated: true };

  function run(route: Route, handle: Endpoint, req: Request, res: Response): void {
    handle(req, res).then(
      (body) => {
        if (body === undefined) {
          res.statusCode = 204;
          for (const [name, value] of Object.entries(NO_STORE)) res.setHeader(name, value);
          res.end();
        } else sendJson(res, 200, JSON.stringify(body), NO_STORE);
      },
      (err) => renderError(err, req, res, NO_STORE),
    );
  }

  function tokenRouter(req: Request, res: Response, next: NextFunction): void {
    const path = routePath(req.url);
    const route = routes.get(path) ?? (SESSION_PATH.test(path) ? oneSession : undefined);
    if (route === undefined) return next();
    if (req.method === 'OPTIONS') {
      const body = JSON.stringify({
        name: route.name,
        description: '',
        renders: ['application/json'],
        parses: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
      });
      return sendJson(res, 200, body, { Allow: route.allow, ...NO_STORE });
    }
    const handle = route.methods[req.method as 'POST'];
    if (route.authenticated) {
      // Authentication runs before method handling, as in DRF.
      requireAuth(req, res, () => {
        if (handle) run(route, handle, req, res);
        else renderError(new MethodNotAllowedError(req.method, route.allow), req, res, NO_STORE);
      });
      return;
    }
    if (handle) return run(route, handle, req, res);
    renderError(new MethodNotAllowedError(req.method, route.allow), req, res, NO_STORE);
  }

  return tokenRouter;
}
