import type { NextFunction, Request, Response } from 'express';
import { AuthError, internalError, methodNotAllowed } from '../errors';
import type { SessionManager } from '../tokens/sessions';
import type { SessionInfo } from '../stores/types';
import { parseAuthorizationHeader } from './authenticate';
import { credentialsVersion } from '../tokens/tokens';
import type { Config } from '../config/resolve';
import type { LoginFailureReason } from '../config/options';
import type { CookieToken, CookieTransport } from './cookies';
import { REFRESH_EXP_CLAIM, type IssuedToken } from '../tokens/tokens';
import type { PasswordChecker } from '../passwords/bcrypt';
import type { TokenService } from '../tokens/service';
import { readBody, stringFields, type Body } from './body';
import { sendJson, type ErrorRenderer } from './respond';
import { describeError } from '../util';
import type { LoginAttempt, LoginLimiter } from './throttle';
import { allowOf, bodyFields, optionsBody, routePath, routesOf, type HttpMethod, type RouteKey, type RouteSpec } from './routes';

/** Headers on every answer of the token endpoints: tokens must not be cached (RFC 6749 §5.1). */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/** A token endpoint: the request in, the 200 body out (`undefined`: 204 No Content). */
type Endpoint = (req: Request, res: Response) => Promise<Record<string, unknown> | unknown[] | undefined>;

/** A mounted entry of the route table: its handlers by method, its `Allow` header, its cookie check resolved. */
interface Route {
  spec: RouteSpec;
  methods: Partial<Record<HttpMethod, Endpoint>>;
  allow: string;
  options: string;
  /** Sets or clears the session cookies: cross-site requests are refused first (`checkSameSite`). */
  setsCookies: boolean;
}

/** Keys of the login answers that `loginResponse()` may not override. */
export const TOKEN_KEYS: ReadonlySet<string> = new Set(['refresh', 'access', 'token']);

/** Where a session token came from: the body field, the `Authorization` header (`refreshByBearer`), or a cookie. */
type TokenSource = 'body' | 'bearer' | 'cookie';

/** A token as a cookie carries it: until its `exp`, or a sliding token's `refresh_exp`. */
function cookieToken(issued: IssuedToken, until: unknown = issued.claims.exp): CookieToken {
  return { token: issued.token, until: typeof until === 'number' ? until : undefined };
}

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
    throw err instanceof AuthError ? err : internalError(err);
  }
}

/** A user whose password checked out, with the credentials version read before the check (undefined without the hook). */
interface Credentials {
  user: unknown;
  credentials: number | null | undefined;
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
  cookies: CookieTransport | undefined,
  limiter: LoginLimiter | undefined,
) {
  const { usernameField, bodyLimit, isUserActive, getUserId, getPasswordHash, logger } = config;
  const refreshInBody = !cookies || cookies.config.refreshInBody;
  const accessInBody = !cookies || cookies.config.accessInBody;
  const accessCookie = cookies?.config.access === true;
  // The body fields, from the route table (`stringFields` validates them as DRF's `CharField`).
  const loginFields = bodyFields(config, 'obtainPair');
  const [refreshField] = bodyFields(config, 'refresh') as ['refresh'];
  const [slidingField] = bodyFields(config, 'refreshSliding') as ['token'];
  const [blacklistField] = bodyFields(config, 'blacklist') as ['refresh'];
  const verifyFields = bodyFields(config, 'verify');

  /** The user's claims; `credentials` is the credentials version read when the password was checked (see `CREDENTIALS_CLAIM`). */
  async function userClaimsOf(user: unknown, credentials: number | null | undefined): Promise<Record<string, unknown>> {
    const id = await callHost(() => getUserId(user));
    if ((typeof id !== 'string' || id === '') && !(typeof id === 'number' && Number.isFinite(id))) {
      throw internalError(new TypeError('getUserId() returned no usable id (a non-empty string or a number)'));
    }
    const custom = config.customClaims ? await callHost(() => config.customClaims!(user)) : undefined;
    return callHost(() => tokens.issuer.userClaims(id, custom, credentials));
  }

  /**
   * Tells `onLoginFailed`. Not awaited: how long the hook takes (say, a database write for known users only)
   * must not tell the reasons apart, which the answer never does.
   */
  function loginFailed(req: Request, username: string, reason: LoginFailureReason): void {
    const hook = config.onLoginFailed;
    const event = { username, reason, ip: req.ip };
    config.events.send('loginFailed', event);
    if (!hook) return;
    void Promise.resolve()
      .then(() => hook(event, req))
      .catch((err: unknown) => logger.error(`[express-simplejwt] onLoginFailed threw: ${describeError(err)}`));
  }

  /** Tells `onLoginSuccess` (awaited); a throw is logged and the login still succeeds. */
  async function loginSucceeded(req: Request, user: unknown): Promise<void> {
    if (!config.onLoginSuccess) return;
    try {
      await config.onLoginSuccess(user, req);
    } catch (err) {
      logger.error(`[express-simplejwt] onLoginSuccess threw: ${describeError(err)}`);
    }
  }

  /** `loginResponse()`'s extra fields, checked: an object that does not touch the token keys. */
  async function extraFields(req: Request, user: unknown): Promise<Record<string, unknown>> {
    if (!config.loginResponse) return {};
    const extra = await callHost(() => config.loginResponse!(user, req));
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
      throw internalError(new TypeError('loginResponse() must return an object of extra fields'));
    }
    for (const key of Object.keys(extra)) {
      if (TOKEN_KEYS.has(key)) throw internalError(new TypeError(`loginResponse() may not set "${key}"`));
    }
    return extra;
  }

  /** With `getCredentialsChangedAt`: the user's credentials version, to bind the new session to; else `undefined`. */
  async function credentialsOf(user: unknown): Promise<number | null | undefined> {
    const changed = config.getCredentialsChangedAt;
    return changed ? credentialsVersion(await callHost(() => changed(user))) : undefined;
  }

  /** Finds the user behind the credentials, or says why not (the client only ever learns "no active account"). */
  async function checkCredentials(req: Request, username: string, password: string): Promise<Credentials | { reason: LoginFailureReason }> {
    if (config.verifyCredentials) {
      const user = await callHost(() => config.verifyCredentials!(username, password, req));
      if (user === null || user === undefined) return { reason: 'invalid_credentials' };
      if (!(await callHost(() => isUserActive(user)))) return { reason: 'inactive' };
      return { user, credentials: await credentialsOf(user) };
    }
    const find = config.findUserByUsername;
    if (!find) throw internalError(new TypeError('the login endpoint needs "findUserByUsername" or "verifyCredentials"'));
    const user = await callHost(() => find(username, req));
    // The credentials version is read before the hash: a change landing in between leaves the token with the older
    // version (refused), never a token of the old password with the new version.
    const credentials = user === null || user === undefined ? undefined : await credentialsOf(user);
    const hash = user === null || user === undefined ? undefined : await callHost(() => getPasswordHash(user));
    // One bcrypt comparison whatever happens, so an unknown user costs as much as a wrong password.
    const matches = await passwords.check(password, hash);
    if (user === null || user === undefined) return { reason: 'unknown_user' };
    if (!matches) return { reason: 'wrong_password' };
    if (!(await callHost(() => isUserActive(user)))) return { reason: 'inactive' };
    return { user, credentials };
  }

  /**
   * Capacity and throttle, then credentials: the user, or the one "no active account" error for every failure.
   * Only that error counts against the limiter.
   */
  async function logIn(req: Request, res: Response, body: Body): Promise<Credentials & { username: string }> {
    const fields = stringFields(body, loginFields);
    const username = fields[usernameField]!;
    let attempt: LoginAttempt | undefined;
    if (limiter) {
      try {
        attempt = await limiter.begin(req, res, username);
      } catch (err) {
        if (err instanceof AuthError && err.code === 'throttled') loginFailed(req, username, 'throttled');
        throw err;
      }
    }
    try {
      const outcome = await checkCredentials(req, username, fields.password!);
      if ('reason' in outcome) {
        loginFailed(req, username, outcome.reason);
        await attempt?.failed();
        throw new AuthError('no_active_account');
      }
      return { ...outcome, username };
    } finally {
      attempt?.end();
    }
  }

  /** Records the new session; a refusal by the per-user cap is a failed login for `onLoginFailed`. */
  async function recordLogin(req: Request, username: string, start: () => Promise<void>): Promise<void> {
    try {
      await start();
    } catch (err) {
      if (err instanceof AuthError && err.code === 'session_limit') loginFailed(req, username, 'session_limit');
      throw err;
    }
  }

  const obtainPair: Endpoint = async (req, res) => {
    const { user, credentials, username } = await logIn(req, res, await readBody(req, bodyLimit));
    const extra = await extraFields(req, user);
    const pair = tokens.issuer.issuePair(await userClaimsOf(user, credentials), await sessions.lifetimes.current());
    await recordLogin(req, username, () => sessions.startSession(pair, req));
    await loginSucceeded(req, user);
    const body: Record<string, unknown> = {};
    if (refreshInBody) body.refresh = pair.refresh.token;
    if (accessInBody) body.access = pair.access.token;
    cookies?.setSession(req, res, { refresh: cookieToken(pair.refresh), access: cookieToken(pair.access), sessionEnd: pair.refresh.claims.exp, issuedAt: pair.access.claims.iat });
    return { ...body, ...extra };
  };

  const obtainSliding: Endpoint = async (req, res) => {
    const { user, credentials, username } = await logIn(req, res, await readBody(req, bodyLimit));
    const extra = await extraFields(req, user);
    const sliding = tokens.issuer.issueSliding(await userClaimsOf(user, credentials), await sessions.lifetimes.current());
    await recordLogin(req, username, () => sessions.startSlidingSession(sliding, req));
    await loginSucceeded(req, user);
    return { ...slidingAnswer(req, res, sliding), ...extra };
  };

  /** `{"token"}`, and with access cookies the cookie, which lives until `refresh_exp` so that it can be refreshed. */
  function slidingAnswer(req: Request, res: Response, sliding: IssuedToken): Record<string, unknown> {
    if (!accessCookie) return { token: sliding.token };
    const until = sliding.claims[REFRESH_EXP_CLAIM];
    cookies!.setSession(req, res, { access: cookieToken(sliding, until), sessionEnd: typeof until === 'number' ? until : undefined, issuedAt: sliding.claims.iat });
    return accessInBody ? { token: sliding.token } : {};
  }

  /**
   * The session token of a refresh or logout: the body field if sent (validated as DRF does), else with
   * `bearer` the `Authorization` header (HarperDB's refresh), else the cookie, which, being sent by the browser
   * whoever made the page, must come with the CSRF token. Nothing at all: the body field's "required" error.
   */
  function sessionCredential(
    req: Request,
    body: Body,
    field: 'refresh' | 'token',
    cookie: (() => string | undefined) | undefined,
    bearer: boolean,
  ): { token: string; source: TokenSource } {
    if (Object.prototype.hasOwnProperty.call(body, field)) return { token: stringFields(body, [field])[field], source: 'body' };
    if (bearer) {
      const credential = parseAuthorizationHeader(req.headers[config.authHeaderKey], config.authSchemes);
      if (credential.kind === 'bad') throw new AuthError('bad_authorization_header');
      if (credential.kind === 'token') return { token: credential.token, source: 'bearer' };
    }
    const fromCookie = cookie?.();
    if (fromCookie !== undefined) {
      cookies!.checkCsrf(req);
      return { token: fromCookie, source: 'cookie' };
    }
    return { token: stringFields(body, [field])[field], source: 'body' };
  }

  const refresh: Endpoint = async (req, res) => {
    const body = await readBody(req, bodyLimit);
    const { token } = sessionCredential(req, body, refreshField, cookies && (() => cookies.readRefresh(req)), config.refreshByBearer);
    // Revocation is checked by the session step itself, atomically with the rotation (or reuse) it decides.
    const claims = await tokens.verifier.verifyLive(token, ['refresh'], false);
    const current = await sessions.lifetimes.current();
    if (!config.rotateRefreshTokens) {
      const access = await sessions.refreshAccess(claims, req, current.access);
      cookies?.setSession(req, res, { refresh: { token, until: claims.exp }, access: cookieToken(access), sessionEnd: claims.exp, issuedAt: access.claims.iat });
      return accessInBody ? { access: access.token } : {};
    }
    const rotated = await sessions.rotate(claims, req, current);
    const out: Record<string, unknown> = {};
    if (accessInBody) out.access = rotated.access.token;
    if (refreshInBody) out.refresh = rotated.refresh.token;
    cookies?.setSession(req, res, { refresh: cookieToken(rotated.refresh), access: cookieToken(rotated.access), sessionEnd: rotated.refresh.claims.exp, issuedAt: rotated.access.claims.iat });
    return out;
  };

  const refreshSliding: Endpoint = async (req, res) => {
    const body = await readBody(req, bodyLimit);
    const cookie = accessCookie ? () => cookies!.readAccess(req) : undefined;
    const { token } = sessionCredential(req, body, slidingField, cookie, config.refreshByBearer);
    const claims = await tokens.verifier.verifyLive(token, ['sliding'], false);
    const slid = await sessions.slide(claims, req, (await sessions.lifetimes.current()).sliding);
    return slidingAnswer(req, res, slid);
  };

  /** Logout of a refresh token, or (with sliding tokens on) of a sliding one, even past its `exp`; clears the cookies. */
  const blacklist: Endpoint = async (req, res) => {
    const body = await readBody(req, bodyLimit);
    const cookie = cookies && (() => cookies.readRefresh(req) ?? (config.slidingTokens ? cookies.readAccess(req) : undefined));
    const { token } = sessionCredential(req, body, blacklistField, cookie, false);
    const claims = await tokens.verifier.verifySession(token, config.slidingTokens ? ['refresh', 'sliding'] : ['refresh']);
    await sessions.logout(claims);
    cookies?.clear(req, res);
    return {};
  };

  function callerId(req: Request): string {
    return tokens.issuer.userIdOf(req.auth ?? {}) as string;
  }

  const listSessions: Endpoint = async (req) => (await sessions.sessions(callerId(req))).map(sessionJson);

  const endAllSessions: Endpoint = async (req) => {
    await sessions.revokeUser(callerId(req));
    return undefined;
  };

  const endOneSession: Endpoint = async (req) => {
    const id = sessionPath.exec(routePath(req.url))![1]!;
    if (!(await sessions.endSession(callerId(req), id))) throw new AuthError('not_found');
    return undefined;
  };

  const verify: Endpoint = async (req) => {
    const fields = stringFields(await readBody(req, bodyLimit), verifyFields);
    await tokens.verifier.verify(fields[verifyFields[0]!]!, null);
    return {};
  };

  const handlers: Record<Exclude<RouteKey, 'lifetimes' | 'jwks'>, Partial<Record<HttpMethod, Endpoint>>> = {
    obtainPair: { POST: obtainPair },
    refresh: { POST: refresh },
    verify: { POST: verify },
    blacklist: { POST: blacklist },
    obtainSliding: { POST: obtainSliding },
    refreshSliding: { POST: refreshSliding },
    sessions: { GET: listSessions, DELETE: endAllSessions },
    session: { DELETE: endOneSession },
  };
  // The token router's entries of the route table this configuration serves: fixed paths by path, the rest by pattern.
  const routes = new Map<string, Route>();
  const patterned: Route[] = [];
  for (const spec of routesOf(config, 'token')) {
    const own = handlers[spec.key as keyof typeof handlers];
    const methods: Route['methods'] = {};
    for (const op of spec.operations) methods[op.method] = own[op.method];
    const route: Route = { spec, methods, allow: allowOf(spec), options: optionsBody(spec), setsCookies: cookies !== undefined && spec.setsCookies?.(config) === true };
    if (spec.pattern) patterned.push(route);
    else routes.set(spec.path, route);
  }
  const sessionPath = patterned.find((route) => route.spec.key === 'session')!.spec.pattern!;

  function run(route: Route, handle: Endpoint, req: Request, res: Response, next: NextFunction): void {
    handle(req, res).then(
      (body) => {
        if (body === undefined) {
          res.statusCode = 204;
          for (const [name, value] of Object.entries(NO_STORE)) res.setHeader(name, value);
          res.end();
        } else sendJson(res, 200, JSON.stringify(body), NO_STORE);
      },
      (err) => renderError(err, req, res, NO_STORE, next),
    );
  }

  function tokenRouter(req: Request, res: Response, next: NextFunction): void {
    const path = routePath(req.url);
    const route = routes.get(path) ?? patterned.find((candidate) => candidate.spec.pattern!.test(path));
    if (route === undefined) return next();
    if (req.method === 'OPTIONS') return sendJson(res, 200, route.options, { Allow: route.allow, ...NO_STORE });
    const handle = route.methods[req.method as HttpMethod];
    if (route.spec.authenticated) {
      // Authentication runs before method handling, as in DRF.
      requireAuth(req, res, (failed?: unknown) => {
        if (failed !== undefined) return next(failed); // errors: 'next': authentication failed, never run the handler
        if (handle) run(route, handle, req, res, next);
        else renderError(methodNotAllowed(req.method, route.allow), req, res, NO_STORE, next);
      });
      return;
    }
    if (handle && route.setsCookies) {
      // Before the body is read: nothing of a cross-site request is parsed.
      try {
        cookies!.checkSameSite(req);
      } catch (err) {
        return renderError(err, req, res, NO_STORE, next);
      }
    }
    if (handle) return run(route, handle, req, res, next);
    renderError(methodNotAllowed(req.method, route.allow), req, res, NO_STORE, next);
  }

  return tokenRouter;
}
