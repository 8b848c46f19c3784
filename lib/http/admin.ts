import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../config/resolve';
import { AuthError, ValidationError, methodNotAllowed, type FieldErrors } from '../errors';
import type { SessionManager } from '../tokens/sessions';
import { lifetimeConflict, lifetimeJson, parseLifetime, type Lifetimes } from '../tokens/lifetimes';
import { FIELD_MESSAGES, readBody } from './body';
import { sendJson, type ErrorRenderer } from './respond';
import { callHost } from './router';
import { adminLifetimeFields, allowOf, operationOf, optionsBody, routeOf, routePath } from './routes';

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;
/** The lifetimes router's entry of the route table. */
const ROUTE = routeOf('lifetimes');
/** The methods of the lifetimes router. */
const ADMIN_ALLOW = allowOf(ROUTE);

/**
 * The lifetimes router (TuGraph's `get_token_time` / `update_token_time`), mounted by the host, e.g.
 * `app.use('/api/admin/token-lifetimes', auth.adminRouter)`. `GET` shows the lifetimes new tokens get; `PUT`
 * replaces them (every field required) and `PATCH` changes some, validated as DRF would (400 field errors,
 * `non_field_errors` when access outlives refresh). Changes go to the token store, so every server sharing it
 * issues with them from the next token on. The caller must be authenticated (`authenticate()`) and
 * `isAdmin(user, req)` must return `true`; otherwise 401 / 403 `permission_denied`.
 */
export function createAdminRouter(
  config: Config,
  sessions: SessionManager,
  requireAuth: (req: Request, res: Response, next: NextFunction) => void,
  renderError: ErrorRenderer,
) {
  const fields = adminLifetimeFields(config);
  const options = optionsBody(ROUTE);
  // PUT needs every field, PATCH reads those sent (the table's `required`).
  const replaceAll = operationOf('lifetimes', 'PUT').body!.required;
  const replaceSome = operationOf('lifetimes', 'PATCH').body!.required;
  const { logger } = config;
  const log = (message: string) => (logger.info ?? logger.warn).call(logger, `[express-simplejwt] ${message}`);

  /** `{"access_token_lifetime": 300, ..., "text": {"access_token_lifetime": "5m", ...}}`; `null` / `"never"` for no expiry. */
  function view(lifetimes: Lifetimes): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const text: Record<string, string> = {};
    for (const [key, field] of fields) {
      const shown = lifetimeJson(lifetimes[key]);
      out[field] = shown.seconds;
      text[field] = shown.text;
    }
    out.text = text;
    return out;
  }

  async function update(req: Request, required: boolean): Promise<Record<string, unknown>> {
    const body = await readBody(req, config.bodyLimit);
    const next = { ...(await sessions.lifetimes.current()) };
    const errors: FieldErrors = {};
    for (const [key, field] of fields) {
      if (!Object.prototype.hasOwnProperty.call(body, field)) {
        if (required) errors[field] = [FIELD_MESSAGES.required];
        continue;
      }
      const parsed = parseLifetime(body[field], config.allowNonExpiring);
      if (typeof parsed === 'number') next[key] = parsed;
      else errors[field] = [parsed.error];
    }
    if (Object.keys(errors).length > 0) throw new ValidationError(errors);
    const conflict = lifetimeConflict(next);
    if (conflict !== undefined) throw new ValidationError({ non_field_errors: [conflict] });
    await sessions.lifetimes.set(next);
    const who = JSON.stringify(String((req.auth ?? {})[config.claims.userId] ?? ''));
    const summary = fields.map(([key, field]) => `${field}=${lifetimeJson(next[key]).text}`).join(', ');
    log(`LIFETIMES_CHANGED: user ${who} set the token lifetimes: ${summary}`);
    if (fields.some(([key]) => !Number.isFinite(next[key]))) {
      logger.warn(`[express-simplejwt] UNLIMITED_TOKENS: user ${who} made tokens that never expire; only revocation ends them now`);
    }
    return view(next);
  }

  async function handle(req: Request): Promise<Record<string, unknown>> {
    const isAdmin = config.isAdmin;
    if (!isAdmin || (await callHost(() => isAdmin(req.user, req))) !== true) throw new AuthError('permission_denied');
    switch (req.method) {
      case 'GET':
        return view(await sessions.lifetimes.current());
      case 'PUT':
        return update(req, replaceAll);
      case 'PATCH':
        return update(req, replaceSome);
      default:
        throw methodNotAllowed(req.method, ADMIN_ALLOW);
    }
  }

  return function adminRouter(req: Request, res: Response, next: NextFunction): void {
    if (routePath(req.url) !== '/') return next();
    if (req.method === 'OPTIONS') return sendJson(res, 200, options, { Allow: ADMIN_ALLOW, ...NO_STORE });
    // Authentication, then permission, then the method, as DRF orders them.
    requireAuth(req, res, (failed?: unknown) => {
      if (failed !== undefined) return next(failed); // errors: 'next': authentication failed, never run the handler
      handle(req).then(
        (body) => sendJson(res, 200, JSON.stringify(body), NO_STORE),
        (err: unknown) => renderError(err, req, res, NO_STORE, next),
      );
    });
  };
}
