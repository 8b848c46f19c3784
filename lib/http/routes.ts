import type { Config } from '../config/resolve';
import type { ErrorCode } from '../errors';
import { LIFETIME_FIELDS } from '../tokens/lifetimes';

/**
 * The one route table: every endpoint the kit serves, with its methods, path, body fields, the error codes it can
 * answer and its summary. The token router, the lifetimes router and the JWKS handler mount, validate and answer
 * `405` from it, and the OpenAPI generator (`express-simplejwt/openapi`) documents the same entries, so the two
 * cannot drift. Which entries a configuration serves is said here too (`when`, `issues`).
 */

/** A method an entry serves (`OPTIONS` is answered by the routers themselves, from the same entry). */
export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Which handler of the kit serves an entry: `auth.router`, `auth.adminRouter` or `auth.jwksHandler`. */
export type Mount = 'token' | 'admin' | 'jwks';

/** A request body: its fields, in the order their errors are reported, and how they are read. */
export interface BodySpec {
  /** The field names for this configuration. */
  fields: (config: Config) => readonly string[];
  /** `string`: DRF's `CharField` (trimmed, numbers read as text, not blank); `lifetime`: seconds or a duration. */
  type: 'string' | 'lifetime';
  /** Every field required (`false`: only the fields sent are read, as `PATCH`). */
  required: boolean;
}

/** One method of an entry. */
export interface OperationSpec {
  method: HttpMethod;
  operationId: string;
  summary: string | ((config: Config) => string);
  body?: BodySpec;
  /**
   * Every error code the operation can answer under some configuration (`ERROR_STATUS` gives the status). A
   * configuration answers a subset: `session_limit` only with `sessionLimitPolicy: 'refuse'`, and so on.
   */
  errors: readonly ErrorCode[];
}

/** One path and its methods. */
export interface RouteSpec {
  /** A stable name for the entry. */
  key: RouteKey;
  mount: Mount;
  /** Below the mount point, as OpenAPI writes it (`/sessions/{id}/`); always ends in `/`. */
  path: string;
  /** What a path below the mount point must match when the entry has a parameter. */
  pattern?: RegExp;
  /** The view name `OPTIONS` answers, as DRF's metadata does; entries without one answer `OPTIONS` with 405. */
  name?: string;
  /** The OpenAPI tag. */
  tag: 'token' | 'sessions' | 'admin' | 'jwks';
  operations: readonly OperationSpec[];
  /** `authenticate()` runs first, before the method is looked at (as DRF orders them). */
  authenticated?: boolean;
  /** Issues tokens: a verify-only kit (no signing key) answers `404 verify_only` and documents nothing. */
  issues?: boolean;
  /** Whether the configuration serves the entry. Default: always. */
  when?: (config: Config) => boolean;
  /** Sets or clears the session cookies: a cross-site request is refused before its body is read. */
  setsCookies?: (config: Config) => boolean;
}

export type RouteKey =
  | 'obtainPair'
  | 'refresh'
  | 'verify'
  | 'blacklist'
  | 'obtainSliding'
  | 'refreshSliding'
  | 'sessions'
  | 'session'
  | 'lifetimes'
  | 'jwks';

/** The lifetimes the admin router shows and sets, with their wire names: the sliding ones only when sliding tokens are served. */
export function adminLifetimeFields(config: Pick<Config, 'slidingTokens'>): readonly (typeof LIFETIME_FIELDS)[number][] {
  return config.slidingTokens ? LIFETIME_FIELDS : LIFETIME_FIELDS.slice(0, 2);
}

/** Every failure of reading a body: malformed, too large, of another type. */
const BODY_ERRORS = ['invalid', 'parse_error', 'payload_too_large', 'unsupported_media_type'] as const satisfies readonly ErrorCode[];
/** What any operation may answer: another method, a host callback that threw, the store down. */
const ANY_ERRORS = ['method_not_allowed', 'internal_error', 'store_unavailable', 'keys_unavailable'] as const satisfies readonly ErrorCode[];
/** What `authenticate()` may answer to a safe method. */
const AUTH_ERRORS = ['not_authenticated', 'bad_authorization_header', 'token_not_valid', 'user_not_found', 'user_inactive', 'password_changed'] as const satisfies readonly ErrorCode[];
/** What it may answer to a method that changes state: also the CSRF check, when the access cookie carried the token. */
const UNSAFE_AUTH_ERRORS = [...AUTH_ERRORS, 'csrf_failed'] as const;
const LOGIN_ERRORS = [...BODY_ERRORS, ...ANY_ERRORS, 'no_active_account', 'csrf_failed', 'session_limit', 'throttled', 'server_busy'] as const;
const SESSION_TOKEN_ERRORS = [...BODY_ERRORS, ...ANY_ERRORS, 'token_not_valid', 'no_active_account', 'password_changed', 'bad_authorization_header', 'csrf_failed'] as const;

const loginFields = (config: Config) => [config.usernameField, 'password'];
const field = (name: string) => (): readonly string[] => [name];
const lifetimeFields = (config: Config) => adminLifetimeFields(config).map(([, name]) => name);
const withSliding = (config: Config) => config.slidingTokens;

/** A public token endpoint: `POST` of string fields (DRF's `CharField`), below `auth.router`. */
function tokenPost(
  key: RouteKey,
  path: string,
  name: string,
  post: Pick<OperationSpec, 'operationId' | 'summary' | 'errors'> & { fields: BodySpec['fields'] },
  more: Pick<RouteSpec, 'issues' | 'when' | 'setsCookies'> = {},
): RouteSpec {
  const { fields, ...operation } = post;
  return { key, mount: 'token', path, name, tag: 'token', ...more, operations: [{ method: 'POST', ...operation, body: { fields, type: 'string', required: true } }] };
}

const withCookies = (config: Config) => config.cookies !== undefined;
const withAccessCookie = (config: Config) => config.cookies?.access === true;

/** The table, in the order the OpenAPI document lists it. */
export const ROUTES: readonly RouteSpec[] = [
  tokenPost(
    'obtainPair',
    '/',
    'Token Obtain Pair',
    { operationId: 'tokenObtainPair', summary: 'Log in: obtain an access and a refresh token', fields: loginFields, errors: LOGIN_ERRORS },
    { issues: true, setsCookies: withCookies },
  ),
  tokenPost(
    'refresh',
    '/refresh/',
    'Token Refresh',
    {
      operationId: 'tokenRefresh',
      summary: (config) => (config.rotateRefreshTokens ? 'Refresh: a new access token and a new refresh token' : 'Refresh: a new access token'),
      fields: field('refresh'),
      errors: SESSION_TOKEN_ERRORS,
    },
    { issues: true, setsCookies: withCookies },
  ),
  tokenPost('verify', '/verify/', 'Token Verify', {
    operationId: 'tokenVerify',
    summary: 'Verify a token of any type',
    fields: field('token'),
    errors: [...BODY_ERRORS, ...ANY_ERRORS, 'token_not_valid'],
  }),
  tokenPost(
    'blacklist',
    '/blacklist/',
    'Token Blacklist',
    {
      operationId: 'tokenBlacklist',
      summary: 'Log out: revoke a refresh token and its session',
      fields: field('refresh'),
      errors: [...BODY_ERRORS, ...ANY_ERRORS, 'token_not_valid', 'csrf_failed'],
    },
    { setsCookies: withCookies },
  ),
  tokenPost(
    'obtainSliding',
    '/sliding/',
    'Token Obtain Sliding',
    { operationId: 'tokenObtainSliding', summary: 'Log in: obtain a sliding token', fields: loginFields, errors: LOGIN_ERRORS },
    { issues: true, when: withSliding, setsCookies: withAccessCookie },
  ),
  tokenPost(
    'refreshSliding',
    '/sliding/refresh/',
    'Token Refresh Sliding',
    { operationId: 'tokenRefreshSliding', summary: 'Refresh a sliding token', fields: field('token'), errors: SESSION_TOKEN_ERRORS },
    { issues: true, when: withSliding, setsCookies: withAccessCookie },
  ),
  {
    key: 'sessions',
    mount: 'token',
    path: '/sessions/',
    name: 'Sessions',
    tag: 'sessions',
    authenticated: true,
    operations: [
      { method: 'GET', operationId: 'sessionsList', summary: "List the caller's live sessions", errors: [...AUTH_ERRORS, ...ANY_ERRORS] },
      { method: 'DELETE', operationId: 'sessionsDeleteAll', summary: 'Log out everywhere', errors: [...UNSAFE_AUTH_ERRORS, ...ANY_ERRORS] },
    ],
  },
  {
    key: 'session',
    mount: 'token',
    path: '/sessions/{id}/',
    pattern: /^\/sessions\/([0-9a-f]{32})\/$/,
    name: 'Session',
    tag: 'sessions',
    authenticated: true,
    operations: [{ method: 'DELETE', operationId: 'sessionsDelete', summary: 'End one session', errors: [...UNSAFE_AUTH_ERRORS, ...ANY_ERRORS, 'not_found'] }],
  },
  {
    key: 'lifetimes',
    mount: 'admin',
    path: '/',
    name: 'Token Lifetimes',
    tag: 'admin',
    authenticated: true,
    operations: [
      { method: 'GET', operationId: 'tokenLifetimesGet', summary: 'Show the token lifetimes', errors: [...AUTH_ERRORS, ...ANY_ERRORS, 'permission_denied'] },
      {
        method: 'PUT',
        operationId: 'tokenLifetimesPut',
        summary: 'Replace the token lifetimes',
        body: { fields: lifetimeFields, type: 'lifetime', required: true },
        errors: ['permission_denied', ...UNSAFE_AUTH_ERRORS, ...ANY_ERRORS, ...BODY_ERRORS],
      },
      {
        method: 'PATCH',
        operationId: 'tokenLifetimesPatch',
        summary: 'Change some token lifetimes',
        body: { fields: lifetimeFields, type: 'lifetime', required: false },
        errors: ['permission_denied', ...UNSAFE_AUTH_ERRORS, ...ANY_ERRORS, ...BODY_ERRORS],
      },
    ],
  },
  {
    key: 'jwks',
    mount: 'jwks',
    path: '/',
    tag: 'jwks',
    operations: [
      { method: 'GET', operationId: 'jwksGet', summary: 'The public keys (JWKS)', errors: ['method_not_allowed'] },
      { method: 'HEAD', operationId: 'jwksHead', summary: 'The public keys (JWKS), headers only', errors: ['method_not_allowed'] },
    ],
  },
];

/** The table's entry of this key. */
export function routeOf(key: RouteKey): RouteSpec {
  return ROUTES.find((route) => route.key === key)!;
}

/** The one operation of an entry that has one method, or the one of this method. */
export function operationOf(key: RouteKey, method?: HttpMethod): OperationSpec {
  const operations = routeOf(key).operations;
  return (method === undefined ? operations[0] : operations.find((op) => op.method === method))!;
}

/** The entries of a mount this configuration serves (issuing ones too: a verify-only kit answers them 404). */
export function routesOf(config: Config, mount: Mount): RouteSpec[] {
  return ROUTES.filter((route) => route.mount === mount && (route.when?.(config) ?? true));
}

/** The body fields of an operation for this configuration (none when it reads no body). */
export function bodyFields(config: Config, key: RouteKey, method?: HttpMethod): readonly string[] {
  return operationOf(key, method).body?.fields(config) ?? [];
}

/** The `Allow` header of an entry: its methods, then `OPTIONS` when it answers it. */
export function allowOf(route: RouteSpec): string {
  return [...route.operations.map((op) => op.method), ...(route.name === undefined ? [] : ['OPTIONS'])].join(', ');
}

/** What `OPTIONS` answers, as DRF's `SimpleMetadata` renders it for our views. */
export function optionsBody(route: RouteSpec): string {
  return JSON.stringify({
    name: route.name,
    description: '',
    renders: ['application/json'],
    parses: ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'],
  });
}

/** The path below the mount point, without query string, always ending in `/`. */
export function routePath(url: string): string {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  return path.endsWith('/') ? path : `${path}/`;
}

/**
 * Where the kit object keeps what the OpenAPI generator needs (non-enumerable), so that the generator can live in
 * its own entry point (`express-simplejwt/openapi`) that hosts who do not want it never load.
 */
export const KIT_CONFIG: unique symbol = Symbol.for('express-simplejwt.config');
