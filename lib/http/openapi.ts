import type { Config } from '../config/resolve';
import {
  AuthError,
  csrfError,
  type CsrfFailure,
  NO_ACTIVE_ACCOUNT_FOR_TOKEN,
  TOKEN_MESSAGES,
  ERRORS,
  type ErrorCode,
  type TokenMessage,
} from '../errors';
import { LIFETIME_MESSAGES, MAX_LIFETIME } from '../tokens/lifetimes';
import { TOKEN_CLASS_LABELS } from '../tokens/verifier';
import { FIELD_MESSAGES } from './body';
import { TOKEN_KEYS } from './router';
import { ROUTES, allowOf, operationOf, routeOf, type HttpMethod, type Mount, type OperationSpec, type RouteKey, type RouteSpec } from './routes';

/**
 * The OpenAPI 3.1 description of the token endpoints, generated from the resolved configuration: the username
 * field's name, rotation, throttling, the session policy, verify-only mode, the accepted header schemes, sliding
 * tokens, refresh by Bearer, the cookie transport with its CSRF check, `loginResponse` and (when told where it is
 * mounted) the lifetimes router all show in it. Every body schema is exact (`additionalProperties: false`, `const`
 * where the text is fixed), taken from the error classes and the router's own constants where it can be, so the
 * document cannot drift from what goes on the wire.
 *
 * The paths, methods, operation ids, summaries and body fields come from the route table (`ROUTES` in routes.ts),
 * the one the routers are built from. The error answers are generated from each operation's error codes there and
 * the `ERRORS` table (status, body, description, headers by status); `answers()` says which codes a configuration
 * can answer. `DESCRIBERS` adds the rest of each entry's answers (success bodies, token messages, cookies) for this
 * configuration. An entry the configuration does not serve is left out, as the router leaves it out.
 */

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = { [keyword: string]: unknown };

/** `{"$ref": "#/components/..."}`. */
export type OpenApiRef = { $ref: string };

/** An OpenAPI Header Object. */
export interface OpenApiHeader {
  description?: string;
  required?: boolean;
  schema: JsonSchema;
}

/** An OpenAPI Response Object. */
export interface OpenApiResponse {
  description: string;
  headers?: Record<string, OpenApiHeader | OpenApiRef>;
  content?: Record<string, { schema: JsonSchema }>;
}

/** An OpenAPI Parameter Object (path parameters only, here). */
export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

/** An OpenAPI Operation Object. */
export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  /**
   * `[]` for the public token endpoints (they ignore `Authorization`), `[{ bearerAuth: [] }]` for the others; a
   * token endpoint that may read its token from the header or a cookie lists `{}` and those alternatives.
   */
  security: Record<string, string[]>[];
  responses: Record<string, OpenApiResponse | OpenApiRef>;
}

/** An OpenAPI Path Item Object. */
export interface OpenApiPathItem {
  summary?: string;
  get?: OpenApiOperation;
  post?: OpenApiOperation;
  put?: OpenApiOperation;
  patch?: OpenApiOperation;
  delete?: OpenApiOperation;
}

/**
 * An OpenAPI security scheme: `http` with the first accepted scheme, or `apiKey` for another header name, a
 * cookie (the cookie transport) or the CSRF header.
 */
export type OpenApiSecurityScheme =
  | { type: 'http'; scheme: string; bearerFormat?: 'JWT'; description: string }
  | { type: 'apiKey'; in: 'header' | 'cookie'; name: string; description: string };

/**
 * The OpenAPI 3.1 document `openApiDocument(auth)` returns: plain JSON, ready for `res.json()` or a file.
 *
 * @example
 * const doc: OpenApiDocument = openApiDocument(auth);
 * writeFileSync('openapi.json', JSON.stringify(doc, null, 2));
 */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: { name: string; description: string }[];
  paths: Record<string, OpenApiPathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, OpenApiResponse>;
    headers: Record<string, OpenApiHeader>;
    securitySchemes: Record<string, OpenApiSecurityScheme>;
  };
}

/**
 * Options of `openApiDocument(auth, options)`.
 *
 * @example
 * app.use('/auth/jwt', auth.router);
 * app.get('/api/schema/', (req, res) => res.json(openApiDocument(auth, { basePath: '/auth/jwt', title: 'Shop API', version: '2.1.0' })));
 */
export interface OpenApiOptions {
  /** Where the host mounts `auth.router`. Default `'/api/token'` (`''` for the root). */
  basePath?: string;
  /** `info.title`. Default `'Token API'`. */
  title?: string;
  /** `info.version`: the version of your API. Default `'1.0.0'`. */
  version?: string;
  /**
   * Where the host mounts `auth.adminRouter` (`'/api/admin/token-lifetimes'`): its `GET` / `PUT` / `PATCH` are
   * documented there. Default: left out of the document.
   */
  adminPath?: string;
}

/** What a path builder is given: the configuration, and the registry of shared components. */
export interface OpenApiContext {
  config: Config;
  /** `false` for a verify-only kit (a public key or a remote JWKS, no signing key): it issues nothing. */
  canSign: boolean;
  /** Registers a schema under `components.schemas` and returns a reference to it; a name means one schema. */
  schema(name: string, schema: JsonSchema): OpenApiRef;
  /** Registers a response under `components.responses` and returns a reference to it; a name means one response. */
  response(name: string, response: OpenApiResponse): OpenApiRef;
  /** Registers a security scheme under `components.securitySchemes` and returns its name; a name means one scheme. */
  securityScheme(name: string, scheme: OpenApiSecurityScheme): string;
}

/**
 * Describes the operations of one entry of the route table, by method, for this configuration: each one the
 * entry's operation, with its description, security and answers.
 */
export type Describer = (ctx: OpenApiContext) => Partial<Record<HttpMethod, OpenApiOperation>>;

const JSON_TYPE = 'application/json';
const BODY_TYPES = [JSON_TYPE, 'application/x-www-form-urlencoded', 'multipart/form-data'] as const;
const SECURITY_SCHEME = 'bearerAuth';

// ---------------------------------------------------------------------------------------------------------------
// Schema helpers

const ref = (section: 'schemas' | 'responses' | 'headers', name: string): OpenApiRef => ({ $ref: `#/components/${section}/${name}` });

/** An object with exactly these properties, all required. */
function exactObject(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description === undefined ? {} : { description }),
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

/** The exact wire body of an error whose body never varies (every value a `const`). */
function exactBody(err: AuthError, description?: string): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, value] of Object.entries(err.body)) properties[key] = { const: value };
  return exactObject(properties, description);
}

/** `user_not_found` → `UserNotFound`: the component name of an error of the table. */
const schemaName = (code: ErrorCode): string => code.replace(/(?:^|_)([a-z])/g, (_, c: string) => c.toUpperCase());

/** The exact body of an error of the table (`ERRORS`), registered once under its code's name and described by the table. */
function errorSchema(ctx: OpenApiContext, code: ErrorCode, params?: Record<string, string | number>): OpenApiRef {
  return ctx.schema(schemaName(code), exactBody(new AuthError(code, params === undefined ? {} : { params }), ERRORS[code].description));
}

/** A `{"detail": ...}` or `{"detail": ..., "code": ...}` body whose detail varies within a pattern. */
function detailBody(pattern: string, examples: string[], code?: string): JsonSchema {
  const properties: Record<string, JsonSchema> = { detail: { type: 'string', pattern, examples } };
  if (code !== undefined) properties.code = { const: code };
  return exactObject(properties);
}

/** A JSON body response. */
function jsonResponse(description: string, schema: JsonSchema, headers?: Record<string, OpenApiHeader | OpenApiRef>): OpenApiResponse {
  return { description, ...(headers ? { headers } : {}), content: { [JSON_TYPE]: { schema } } };
}

const oneOrMany = (schemas: JsonSchema[]): JsonSchema => (schemas.length === 1 ? schemas[0]! : { anyOf: schemas });

/** `text` as a JSON Schema pattern (ECMA-262, `u` flag) that matches exactly it. */
const escapePattern = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');

/** A list of names for a description: `` `a`, `b` and `c` ``. */
function names(list: readonly string[]): string {
  const quoted = list.map((name) => `\`${name}\``);
  return quoted.length <= 1 ? quoted.join('') : `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Shared pieces: headers, the JWT string, error bodies, shared responses

function sharedHeaders(config: Config): Record<string, OpenApiHeader> {
  return {
    'WWW-Authenticate': {
      description: 'On every 401: the first accepted scheme and realm `api`.',
      required: true,
      schema: { type: 'string', const: config.wwwAuthenticate },
    },
    'Retry-After': {
      description: 'Seconds to wait before trying again.',
      required: true,
      schema: { type: 'integer', minimum: 1 },
    },
    Allow: {
      description: 'The methods the path accepts.',
      required: true,
      schema: { type: 'string', examples: ['POST, OPTIONS'] },
    },
    'Cache-Control': {
      description: 'Token endpoint answers are never cached (RFC 6749 §5.1).',
      required: true,
      schema: { type: 'string', const: 'no-store' },
    },
  };
}

const noStore = { 'Cache-Control': ref('headers', 'Cache-Control') };
/** The headers an error answer carries, by status: the challenge on 401, the methods on 405, when to retry on 429 and 503. */
const ERROR_HEADERS: Partial<Record<number, Record<string, OpenApiRef>>> = {
  401: { 'WWW-Authenticate': ref('headers', 'WWW-Authenticate') },
  405: { Allow: ref('headers', 'Allow') },
  429: { 'Retry-After': ref('headers', 'Retry-After') },
  503: { 'Retry-After': ref('headers', 'Retry-After') },
};

/** The bodies of the table's errors whose detail varies (a method, a media type, seconds): a pattern and an example. */
const VARYING_DETAILS: Partial<Record<ErrorCode, [pattern: string, example: string]>> = {
  method_not_allowed: ['^Method "[^"]+" not allowed\\.$', 'Method "GET" not allowed.'],
  unsupported_media_type: ['^Unsupported (media type|content encoding) "[^"]*" in request\\.$', 'Unsupported media type "text/plain" in request.'],
  throttled: ['^Request was throttled\\. Expected available in [1-9][0-9]* seconds?\\.$', 'Request was throttled. Expected available in 900 seconds.'],
};

/**
 * Whether this configuration answers an error the table lists for an operation (the table lists every one some
 * configuration may answer): the session cap only with the `'refuse'` policy, the throttle only with `loginThrottle`, `keys_unavailable` only with a
 * remote JWKS, `password_changed` only with `getCredentialsChangedAt`, a malformed header on a token endpoint only
 * with `refreshByBearer`; a CSRF failure only where a cookie carries a token (behind `authenticate()`, to a
 * method that changes state) or the entry sets the cookies.
 */
function answers(ctx: OpenApiContext, route: RouteSpec, method: HttpMethod, code: ErrorCode): boolean {
  const { config } = ctx;
  switch (code) {
    case 'session_limit':
      return config.sessionLimitPolicy === 'refuse';
    case 'throttled':
      return config.loginThrottle !== false;
    case 'keys_unavailable':
      return config.keys.mode === 'remote';
    case 'password_changed':
      return config.getCredentialsChangedAt !== undefined;
    case 'bad_authorization_header':
      return route.authenticated === true || config.refreshByBearer;
    case 'csrf_failed':
      return route.authenticated ? config.cookies?.access === true && method !== 'GET' && method !== 'HEAD' : route.setsCookies?.(config) === true;
    default:
      return true;
  }
}

/** The table's codes of an operation with this status that this configuration answers, in the table's order. */
const answered = (ctx: OpenApiContext, route: RouteSpec, op: OperationSpec, status: number): ErrorCode[] =>
  op.errors.filter((code) => ERRORS[code].status === status && answers(ctx, route, op.method, code));

/** The answers of an operation with this status: the bodies of the table's codes this configuration answers, described by `ERRORS`. */
function refusals(ctx: OpenApiContext, route: RouteSpec, op: OperationSpec, status: number, headers?: Record<string, OpenApiRef>): Record<string, OpenApiResponse> {
  const codes = answered(ctx, route, op, status);
  if (codes.length === 0) return {};
  const description = codes.map((code) => describe(ctx, code)).join(' Or: ');
  const all = { ...ERROR_HEADERS[status], ...headers };
  return { [status]: jsonResponse(description, oneOrMany(codes.map((code) => errorBody(ctx, code))), Object.keys(all).length > 0 ? all : undefined) };
}

/** What an answer with this code is, for this configuration: `ERRORS`' description, or its figures where it has some. */
function describe(ctx: OpenApiContext, code: ErrorCode): string {
  const { config } = ctx;
  if (code === 'payload_too_large') return `The body is larger than ${config.bodyLimit} bytes.`;
  if (code === 'session_limit') return `The user already has ${config.maxSessionsPerUser} live sessions.`;
  if (code === 'throttled' && config.loginThrottle !== false) {
    const { limit, windowSeconds } = config.loginThrottle.rate;
    return `More than ${limit} failed logins in ${windowSeconds} seconds from this client for this username.`;
  }
  return ERRORS[code].description;
}

/** The body of an error of the table: its pattern when the detail varies, else the exact body. */
function errorBody(ctx: OpenApiContext, code: ErrorCode): OpenApiRef {
  if (code === 'csrf_failed') return csrfFailed(ctx);
  const varying = VARYING_DETAILS[code];
  if (varying === undefined) return errorSchema(ctx, code, code === 'payload_too_large' ? { limit: ctx.config.bodyLimit } : undefined);
  return ctx.schema(schemaName(code), detailBody(varying[0], [varying[1]], ERRORS[code].codeInBody ? code : undefined));
}

/** A compact JWS: three base64url parts. */
function jwt(ctx: OpenApiContext): OpenApiRef {
  return ctx.schema('JWT', {
    type: 'string',
    description: 'A signed JSON Web Token (compact serialization).',
    pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$',
    examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk0NjY4NDgwMH0.jvxQgXCSDToR8uKoRJcMT-LmMJJn2-NM76nfSR2FOgs'],
  });
}

/** `{}`: verify, logout, and a refresh whose tokens all went into cookies. */
function empty(ctx: OpenApiContext): OpenApiRef {
  return ctx.schema('Empty', { type: 'object', additionalProperties: false, maxProperties: 0 });
}

/**
 * A 200 body of tokens: these keys, each a JWT. `open` (a login with `loginResponse`) lets the host's extra fields
 * follow, which can be anything but the token keys the router reserves.
 */
function tokenBody(ctx: OpenApiContext, name: string, keys: readonly string[], open: boolean, description?: string): OpenApiRef {
  const properties: Record<string, JsonSchema> = {};
  for (const key of keys) properties[key] = jwt(ctx);
  const schema = exactObject(properties, description);
  if (open) {
    schema.additionalProperties = true;
    const reserved = [...TOKEN_KEYS].filter((key) => !keys.includes(key));
    if (reserved.length > 0) schema.propertyNames = { not: { enum: reserved } };
  }
  return ctx.schema(name, schema);
}

/** A token endpoint's 401 for a token that fails: one of simplejwt's token messages. */
function tokenErrorBody(ctx: OpenApiContext, name: string, messages: readonly TokenMessage[]): OpenApiRef {
  return ctx.schema(
    name,
    exactObject(
      { detail: { type: 'string', enum: [...messages] }, code: { const: 'token_not_valid' } },
      'The token failed a check; the first failure, in the order listed, is reported.',
    ),
  );
}

const ALL_TOKEN_MESSAGES = Object.values(TOKEN_MESSAGES);
/** Only a sliding token judged as a session token (a sliding refresh, a logout) fails on its `refresh_exp`. */
const SLIDING_SESSION_MESSAGES: readonly TokenMessage[] = [TOKEN_MESSAGES.refreshExpired, TOKEN_MESSAGES.noRefreshExp];
/** What a token checked by its `exp` and type (a refresh token, an access token) can fail with. */
const TOKEN_CHECK_MESSAGES = ALL_TOKEN_MESSAGES.filter((m) => !SLIDING_SESSION_MESSAGES.includes(m));
/** `/verify/` accepts any token type, so the type checks never fail there. */
const VERIFY_MESSAGES = TOKEN_CHECK_MESSAGES.filter((m) => m !== TOKEN_MESSAGES.noType && m !== TOKEN_MESSAGES.wrongType);

/** The 401 bodies `authenticate()` answers to this operation, as configured: the table's, a bad token two ways. */
function middlewareErrors(ctx: OpenApiContext, route: RouteSpec, op: OperationSpec): OpenApiRef[] {
  const { config } = ctx;
  const invalidToken = () => [
    ctx.schema(
      'InvalidToken',
      exactObject(
        {
          detail: { const: 'Given token not valid for any token type' },
          code: { const: 'token_not_valid' },
          messages: {
            type: 'array',
            description: 'One entry per accepted token class, in order.',
            prefixItems: config.authTokenClasses.map((type) =>
              exactObject({
                token_class: { const: TOKEN_CLASS_LABELS[type].token_class },
                token_type: { const: TOKEN_CLASS_LABELS[type].token_type },
                message: { type: 'string', enum: TOKEN_CHECK_MESSAGES },
              }),
            ),
            items: false,
            minItems: config.authTokenClasses.length,
          },
        },
        'The access token failed a check.',
      ),
    ),
    ctx.schema('NoUserId', exactBody(new AuthError('token_not_valid', { detail: TOKEN_MESSAGES.noUserId }), 'A valid token without the user id claim.')),
  ];
  return answered(ctx, route, op, 401).flatMap((code) => (code === 'token_not_valid' ? invalidToken() : [errorBody(ctx, code)]));
}

/** 400 bodies every endpoint that reads a body may answer: not JSON, or JSON that is not an object. */
function malformedBodies(ctx: OpenApiContext): OpenApiRef[] {
  const parseError = ctx.schema(
    'ParseError',
    detailBody(
      '^(JSON parse error - [\\s\\S]*|Multipart form parse error - [\\s\\S]*|Could not read the request body\\.|The request was aborted\\.)$',
      ['JSON parse error - Unexpected end of JSON input'],
    ),
  );
  const notADictionary = ctx.schema(
    'NonFieldErrors',
    exactObject({
      non_field_errors: {
        type: 'array',
        items: { type: 'string', pattern: '^Invalid data\\. Expected a dictionary, but got [A-Za-z]+\\.$', examples: ['Invalid data. Expected a dictionary, but got list.'] },
        minItems: 1,
        maxItems: 1,
      },
    }),
  );
  return [parseError, notADictionary];
}

/** `{"<field>": ["<message>"]}` for these fields: every failing one, in declaration order. */
function fieldErrors(ctx: OpenApiContext, name: string, fields: readonly string[], messages: OpenApiRef): OpenApiRef {
  const properties: Record<string, JsonSchema> = {};
  for (const field of fields) properties[field] = messages;
  return ctx.schema(`${name}FieldErrors`, {
    type: 'object',
    description: 'Every failing field, in declaration order.',
    properties,
    minProperties: 1,
    additionalProperties: false,
  });
}

/** 400: DRF field errors for these fields, a body that is not JSON, or JSON that is not an object. */
function badRequest(ctx: OpenApiContext, name: string, fields: readonly string[]): OpenApiResponse {
  const messages = ctx.schema('FieldMessages', {
    type: 'array',
    description: 'One message per failing field.',
    items: { type: 'string', enum: Object.values(FIELD_MESSAGES) },
    minItems: 1,
    maxItems: 1,
  });
  return jsonResponse('A field is missing, blank, null or not a string; or the body is malformed.', {
    anyOf: [fieldErrors(ctx, name, fields, messages), ...malformedBodies(ctx)],
  });
}

/** Answered alike by every operation whose table entry lists them, each a shared response: body, description and headers from `ERRORS`. */
const SHARED_ERRORS = ['method_not_allowed', 'payload_too_large', 'unsupported_media_type', 'internal_error'] as const satisfies readonly ErrorCode[];
/** The 503s, in the order documented: `server_busy` only where the table lists it (a login). */
const UNAVAILABLE_ERRORS = ['store_unavailable', 'keys_unavailable', 'server_busy'] as const satisfies readonly ErrorCode[];

/** The answers of an operation that the table's error codes and `ERRORS` say all by themselves: 405, 413, 415, 500, 503. */
function sharedResponses(ctx: OpenApiContext, route: RouteSpec, op: OperationSpec): Record<string, OpenApiRef> {
  const out: Record<string, OpenApiRef> = {};
  for (const code of SHARED_ERRORS.filter((code) => op.errors.includes(code))) {
    const { status } = ERRORS[code];
    out[status] = ctx.response(schemaName(code), jsonResponse(describe(ctx, code), errorBody(ctx, code), ERROR_HEADERS[status]));
  }
  const unavailable = UNAVAILABLE_ERRORS.filter((code) => op.errors.includes(code) && answers(ctx, route, op.method, code));
  if (unavailable.length > 0) {
    const login = unavailable.includes('server_busy');
    const bodies = unavailable.map((code) => errorBody(ctx, code));
    out['503'] = ctx.response(login ? 'LoginUnavailable' : 'ServiceUnavailable', jsonResponse('Try again after `Retry-After` seconds.', oneOrMany(bodies), ERROR_HEADERS[503]));
  }
  return out;
}

/** The response every endpoint that needs a bearer token gives when `authenticate()` refuses it. */
function unauthenticated(ctx: OpenApiContext, route: RouteSpec, op: OperationSpec): OpenApiRef {
  return ctx.response(
    'Unauthenticated',
    jsonResponse('`authenticate()` refused the request: no credentials, a malformed header, or a bad token or user.', { anyOf: middlewareErrors(ctx, route, op) }, ERROR_HEADERS[401]),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Credentials: the header schemes, the cookies and the CSRF token

/** A scheme for the token header (`Authorization`, or the configured one) carrying `what`. */
function headerScheme(config: Config, what: string): OpenApiSecurityScheme {
  const scheme = config.authHeaderTypes[0]!;
  const schemes = config.authHeaderTypes.map((t) => `\`${t}\``).join(', ');
  if (config.authHeaderKey === 'authorization') {
    return {
      type: 'http',
      scheme,
      // OpenAPI allows bearerFormat with the bearer scheme only.
      ...(scheme.toLowerCase() === 'bearer' ? { bearerFormat: 'JWT' as const } : {}),
      description: `${what}: \`Authorization: ${scheme} <token>\`. Accepted schemes: ${schemes} (any case).`,
    };
  }
  return {
    type: 'apiKey',
    in: 'header',
    name: config.authHeaderKey,
    description: `${what}: \`${config.authHeaderKey}: ${scheme} <token>\`. Accepted schemes: ${schemes} (any case).`,
  };
}

/** `refreshByBearer`: the token to refresh in the token header, read when the body has no field. */
function refreshBearer(ctx: OpenApiContext): Record<string, string[]> {
  const what = `A refresh token${ctx.config.slidingTokens ? ' (a sliding token at `/sliding/refresh/`)' : ''}, read only when the body has no token field`;
  return { [ctx.securityScheme('refreshBearerAuth', headerScheme(ctx.config, what))]: [] };
}

/**
 * A cookie of the cookie transport as a credential; `unsafe` (a state-changing request) adds the CSRF header it
 * must come with (double submit: the CSRF cookie's value, echoed).
 */
function cookieCredential(ctx: OpenApiContext, cookie: 'refresh' | 'access', unsafe: boolean): Record<string, string[]> {
  const cookies = ctx.config.cookies!;
  const requirement: Record<string, string[]> = {};
  if (cookie === 'refresh') {
    const what = `The refresh token, set by login and refresh (HttpOnly, \`Path\` = the token router's mount path); read by \`/refresh/\` and \`/blacklist/\` when the body has no \`refresh\`.`;
    requirement[ctx.securityScheme('refreshCookie', { type: 'apiKey', in: 'cookie', name: cookies.refreshName, description: what })] = [];
  } else {
    const sliding = ctx.config.slidingTokens;
    const what =
      `The access token${sliding ? ' or the sliding token' : ''}, set by login${sliding ? ' and the refreshes' : ' and refresh'} (HttpOnly, \`Path=/\`); ` +
      `\`authenticate()\` reads it when no header is sent${sliding ? ', and `/sliding/refresh/` when the body has no `token`' : ''}.`;
    requirement[ctx.securityScheme('accessCookie', { type: 'apiKey', in: 'cookie', name: cookies.accessName, description: what })] = [];
  }
  if (unsafe) {
    const what = `The value of the \`${cookies.csrfName}\` cookie, echoed: needed when a cookie carries the token and the method changes state.`;
    requirement[ctx.securityScheme('csrfToken', { type: 'apiKey', in: 'header', name: cookies.csrfHeaderName, description: what })] = [];
  }
  return requirement;
}

/**
 * 403 `csrf_failed`: a cookie carried the token and the CSRF header did not echo the CSRF cookie, or a request
 * another site made the browser send reached an endpoint that sets or clears the session cookies.
 */
function csrfFailed(ctx: OpenApiContext): OpenApiRef {
  const cookies = ctx.config.cookies!;
  // The reasons csrfError() takes (the compiler checks each one), the first three worded as Django words them.
  const reasons: Record<CsrfFailure, true> = {
    'CSRF cookie not set.': true,
    'CSRF token missing.': true,
    'CSRF token incorrect.': true,
    'Cross-site request refused.': true,
    'Form bodies from a browser must be same-origin; send JSON.': true,
  };
  const failures = (Object.keys(reasons) as CsrfFailure[]).map((reason) => csrfError(reason));
  return ctx.schema(
    'CsrfFailed',
    exactObject(
      { detail: { type: 'string', enum: failures.map((err) => err.message) }, code: { const: failures[0]!.code } },
      `A cookie carried the token, and \`${cookies.csrfHeaderName}\` did not echo the \`${cookies.csrfName}\` cookie; or, on an endpoint that sets or clears the cookies, ` +
        'the request was cross-site (`Sec-Fetch-Site: cross-site`), or a form body came from a browser (`Origin` or `Sec-Fetch-Site` sent) other than same-origin.',
    ),
  );
}

/**
 * The `Set-Cookie` lines of an answer that sets (or, `cleared`, expires) the session cookies, as cookies.ts
 * writes them. OpenAPI names a header once, so one entry describes every line.
 */
function setCookies(ctx: OpenApiContext, which: { refresh: boolean; access: boolean; cleared?: boolean }): Record<string, OpenApiHeader> {
  const cookies = ctx.config.cookies!;
  const set: string[] = [];
  const told: string[] = [];
  if (which.refresh) {
    set.push(cookies.refreshName);
    told.push(`\`${cookies.refreshName}\`, the refresh token (HttpOnly, \`Path\` = the token router's mount path)`);
  }
  if (which.access && cookies.access) {
    set.push(cookies.accessName);
    told.push(`\`${cookies.accessName}\`, the ${ctx.config.slidingTokens ? 'access or sliding' : 'access'} token (HttpOnly, \`Path=/\`)`);
  }
  set.push(cookies.csrfName);
  told.push(`\`${cookies.csrfName}\`, the CSRF token to echo in \`${cookies.csrfHeaderName}\` (readable by script, \`Path=/\`; kept for the session)`);
  const description = which.cleared
    ? `Expires ${names(set)} (empty values, \`Max-Age=0\`).`
    : `Sets ${told.join('; ')}. \`Max-Age\` is what is left of the token's lifetime (the session's, for the CSRF cookie).`;
  const domain = cookies.domain === undefined ? '' : `; Domain=${escapePattern(cookies.domain)}`;
  return {
    'Set-Cookie': {
      description: `${description} One line per cookie, each \`Secure; SameSite=${cookies.sameSite}\`.`,
      required: true,
      schema: {
        type: 'string',
        pattern: `^(?:${set.map(escapePattern).join('|')})=[^;\\s]*; Path=/[^;]*${domain}; Max-Age=[0-9]+(?:; HttpOnly)?; Secure; SameSite=${cookies.sameSite}$`,
      },
    },
  };
}

/** Where a session token may come from besides its body field, as the router reads it. */
interface TokenSources {
  /** The body field that may then be left out. */
  field: string;
  /** `refreshByBearer`: the token header. */
  bearer: boolean;
  /** A cookie of the cookie transport (which must come with the CSRF header). */
  cookies: ('refresh' | 'access')[];
}

/** What `tokenEndpoint` needs to document a token taken from the body, else the header, else a cookie. */
function alternatives(ctx: OpenApiContext, sources: TokenSources): TokenEndpointSpec['alternatives'] {
  if (!sources.bearer && sources.cookies.length === 0) return undefined;
  const cookies = ctx.config.cookies;
  const security = [
    ...(sources.bearer ? [refreshBearer(ctx)] : []),
    ...sources.cookies.map((cookie) => cookieCredential(ctx, cookie, true)),
  ];
  const from = [
    ...(sources.bearer ? [`the \`${ctx.config.authHeaderKey === 'authorization' ? 'Authorization' : ctx.config.authHeaderKey}\` header`] : []),
    ...sources.cookies.map((cookie) => `the \`${cookie === 'refresh' ? cookies!.refreshName : cookies!.accessName}\` cookie`),
  ];
  const csrf = sources.cookies.length > 0 ? ` (a cookie must come with the \`${cookies!.csrfHeaderName}\` header)` : '';
  return {
    field: sources.field,
    note: `Optional: without it the token is read from ${from.join(', else ')}${csrf}; with none of them, the field is required.`,
    security,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Operations

interface TokenEndpointSpec {
  description: string;
  ok: JsonSchema;
  okHeaders?: Record<string, OpenApiHeader>;
  /** The 401 body of a token that fails (`token_not_valid`), where the endpoint takes one. */
  tokenError?: OpenApiRef;
  /** The one field the header or a cookie may stand in for, and the security alternatives that say how. */
  alternatives?: { field: string; note: string; security: Record<string, string[]>[] };
}

/** The table's operation id, summary and body fields for this configuration. */
function tableOperation(ctx: OpenApiContext, op: OperationSpec) {
  const summary = typeof op.summary === 'string' ? op.summary : op.summary(ctx.config);
  return { operationId: op.operationId, summary, fields: op.body?.fields(ctx.config) ?? [] };
}

/** A public `POST` token endpoint of the table: a body of string fields in, a JSON object out. */
function tokenEndpoint(ctx: OpenApiContext, key: RouteKey, spec: TokenEndpointSpec): OpenApiOperation {
  const op = operationOf(key, 'POST');
  const { operationId, summary, fields } = tableOperation(ctx, op);
  const name = operationId[0]!.toUpperCase() + operationId.slice(1);
  const alt = spec.alternatives;
  const properties: Record<string, JsonSchema> = {};
  for (const field of fields) {
    properties[field] = { type: 'string', minLength: 1, ...(field === alt?.field ? { description: alt.note } : {}) };
  }
  const request = ctx.schema(`${name}Request`, {
    type: 'object',
    description: 'Other fields are ignored. A JSON number is read as its string.',
    properties,
    required: fields.filter((field) => field !== alt?.field),
  });
  // A token endpoint's `no_active_account` is a refresh's: the token's user was deleted or deactivated since.
  const noAccountSince = () =>
    ctx.schema('NoActiveAccountForToken', exactBody(new AuthError('no_active_account', { detail: NO_ACTIVE_ACCOUNT_FOR_TOKEN }), "The token's user was deleted or deactivated since."));
  const unauthorized = answered(ctx, routeOf(key), op, 401).map((code) =>
    code === 'token_not_valid' ? spec.tokenError! : code === 'no_active_account' && spec.tokenError ? noAccountSince() : errorBody(ctx, code),
  );
  const responses: Record<string, OpenApiResponse | OpenApiRef> = {
    '200': jsonResponse('Success.', spec.ok, { ...noStore, ...spec.okHeaders }),
    '400': badRequest(ctx, name, fields),
    '401': jsonResponse('The credentials or the token were refused.', oneOrMany(unauthorized), ERROR_HEADERS[401]),
    ...refusals(ctx, routeOf(key), op, 403, noStore),
    ...refusals(ctx, routeOf(key), op, 429),
    ...sharedResponses(ctx, routeOf(key), op),
  };
  return {
    operationId,
    summary,
    description: spec.description,
    tags: [routeOf(key).tag],
    requestBody: { required: alt === undefined, content: Object.fromEntries(BODY_TYPES.map((type) => [type, { schema: request }])) },
    security: alt === undefined ? [] : [{}, ...alt.security],
    responses: sortByStatus(responses),
  };
}

/**
 * An endpoint of the table behind `authenticate()`; with access cookies, the cookie is the alternative (plus CSRF
 * unless the method is safe).
 */
function authenticatedOperation(
  ctx: OpenApiContext,
  key: RouteKey,
  method: HttpMethod,
  spec: Pick<OpenApiOperation, 'description' | 'parameters' | 'requestBody'> & {
    responses: Record<string, OpenApiResponse | OpenApiRef>;
  },
): OpenApiOperation {
  const { responses, ...operation } = spec;
  const op = operationOf(key, method);
  const { operationId, summary } = tableOperation(ctx, op);
  const safe = method === 'GET' || method === 'HEAD';
  const cookie = ctx.config.cookies?.access === true;
  return {
    operationId,
    summary,
    ...operation,
    tags: [routeOf(key).tag],
    security: [{ [SECURITY_SCHEME]: [] }, ...(cookie ? [cookieCredential(ctx, 'access', !safe)] : [])],
    responses: sortByStatus({
      ...responses,
      '401': unauthenticated(ctx, routeOf(key), op),
      // No Cache-Control promised: `authenticate()` refuses a CSRF failure before the endpoint sets its headers.
      ...refusals(ctx, routeOf(key), op, 403),
      ...refusals(ctx, routeOf(key), op, 404),
      ...sharedResponses(ctx, routeOf(key), op),
    }),
  };
}

function sortByStatus<T>(responses: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------------------------------
// The path builders, one per feature

/** Which tokens the JSON bodies carry: all of them, unless the cookie transport says otherwise. */
function inBody(config: Config): { refresh: boolean; access: boolean } {
  return { refresh: !config.cookies || config.cookies.refreshInBody, access: !config.cookies || config.cookies.accessInBody };
}

/** Which tokens the cookie transport keeps out of the JSON bodies (`refreshInBody` / `accessInBody` off), said. */
function cookieOnly(config: Config, tokens: readonly ('refresh' | 'access' | 'token')[]): string {
  const body = inBody(config);
  const left = tokens.filter((token) => (token === 'refresh' ? !body.refresh : !body.access && config.cookies?.access === true));
  return left.length === 0 ? '' : ` The body leaves out ${names(left)}: ${left.length === 1 ? 'it travels' : 'they travel'} only in ${left.length === 1 ? 'its cookie' : 'their cookies'}.`;
}

/** What login answers say about cookies and `loginResponse`. */
function loginNotes(ctx: OpenApiContext, tokens: readonly ('refresh' | 'access' | 'token')[]): string {
  const { config } = ctx;
  let out = '';
  if (config.cookies && (tokens.includes('refresh') || config.cookies.access)) {
    out += ` Sets the session cookies (see \`Set-Cookie\`); the front end echoes the \`${config.cookies.csrfName}\` cookie in \`${config.cookies.csrfHeaderName}\`.`;
    out += cookieOnly(config, tokens);
  }
  if (config.loginResponse) out += ' The fields `loginResponse()` returns follow the tokens.';
  return out;
}

/** The one body field of an entry that the header or a cookie may stand in for. */
const tokenField = (ctx: OpenApiContext, key: RouteKey): string => operationOf(key).body!.fields(ctx.config)[0]!;

const obtainPair: Describer = (ctx) => {
  const { config } = ctx;
  const body = inBody(config);
  const keys = [...(body.refresh ? ['refresh'] : []), ...(body.access ? ['access'] : [])];
  const open = config.loginResponse !== undefined;
  const ok =
    keys.length === 2 && !open
      ? tokenBody(ctx, 'TokenPair', keys, false)
      : keys.length === 0 && !open
        ? empty(ctx)
        : tokenBody(ctx, 'TokenObtainPairResponse', keys, open);
  return {
    POST: tokenEndpoint(ctx, 'obtainPair', {
      description: `Checks \`${config.usernameField}\` and \`password\` and answers a token pair (simplejwt's \`TokenObtainPairView\`).${loginNotes(ctx, ['refresh', 'access'])}`,
      ok,
      ...(config.cookies ? { okHeaders: setCookies(ctx, { refresh: true, access: true }) } : {}),
    }),
  };
};

const refresh: Describer = (ctx) => {
  const { config } = ctx;
  const rotate = config.rotateRefreshTokens;
  const body = inBody(config);
  const keys = [...(body.access ? ['access'] : []), ...(rotate && body.refresh ? ['refresh'] : [])];
  const ok =
    keys.length === 0
      ? empty(ctx)
      : rotate
        ? tokenBody(
            ctx,
            'TokenRefreshRotatedResponse',
            keys,
            false,
            body.refresh ? 'Rotation is on: a new refresh token comes with the access token.' : 'Rotation is on: the new refresh token is in its cookie.',
          )
        : tokenBody(ctx, 'TokenRefreshResponse', keys, false);
  const consumed = rotate && config.blacklistAfterRotation ? ' The presented refresh token is consumed: presenting it again answers `Token is blacklisted`.' : '';
  const cookies = config.cookies ? ` Sets the session cookies again (see \`Set-Cookie\`).${cookieOnly(config, rotate ? ['access', 'refresh'] : ['access'])}` : '';
  return {
    POST: tokenEndpoint(ctx, 'refresh', {
      description: `Exchanges a refresh token (simplejwt's \`TokenRefreshView\`).${consumed}${cookies}`,
      ok,
      ...(config.cookies ? { okHeaders: setCookies(ctx, { refresh: true, access: true }) } : {}),
      tokenError: tokenErrorBody(ctx, 'RefreshTokenError', TOKEN_CHECK_MESSAGES),
      alternatives: alternatives(ctx, { field: tokenField(ctx, 'refresh'), bearer: config.refreshByBearer, cookies: config.cookies ? ['refresh'] : [] }),
    }),
  };
};

const verify: Describer = (ctx) => ({
  POST: tokenEndpoint(ctx, 'verify', {
    description: "Answers `{}` when the token's signature, claims and revocation state are good (simplejwt's `TokenVerifyView`). The user is not checked.",
    ok: empty(ctx),
    tokenError: tokenErrorBody(ctx, 'VerifyTokenError', VERIFY_MESSAGES),
  }),
});

const blacklist: Describer = (ctx) => {
  const { config } = ctx;
  const sliding = config.slidingTokens;
  const cookies: TokenSources['cookies'] = !config.cookies ? [] : sliding && config.cookies.access ? ['refresh', 'access'] : ['refresh'];
  return {
    POST: tokenEndpoint(ctx, 'blacklist', {
      description:
        `Revokes the refresh token${sliding ? ' (or a sliding token, even past its `exp`)' : ''} and every token of its session (simplejwt's \`TokenBlacklistView\`).` +
        (config.cookies ? ' Expires the session cookies (see `Set-Cookie`).' : ''),
      ok: empty(ctx),
      ...(config.cookies ? { okHeaders: setCookies(ctx, { refresh: true, access: true, cleared: true }) } : {}),
      tokenError: sliding ? tokenErrorBody(ctx, 'SessionTokenError', ALL_TOKEN_MESSAGES) : tokenErrorBody(ctx, 'RefreshTokenError', TOKEN_CHECK_MESSAGES),
      alternatives: alternatives(ctx, { field: tokenField(ctx, 'blacklist'), bearer: false, cookies }),
    }),
  };
};

/** What both sliding endpoints answer: the token in the body (or `{}` when it only goes into its cookie). */
function slidingAnswer(ctx: OpenApiContext) {
  const cookie = ctx.config.cookies?.access === true;
  // Without access cookies the sliding token has nowhere else to go: it is always in the body.
  const keys = !cookie || inBody(ctx.config).access ? ['token'] : [];
  const sliding = keys.length === 1 ? tokenBody(ctx, 'SlidingToken', keys, false) : empty(ctx);
  const headers = cookie ? { okHeaders: setCookies(ctx, { refresh: false, access: true }) } : {};
  return { cookie, keys, sliding, headers };
}

const obtainSliding: Describer = (ctx) => {
  const { config } = ctx;
  const { keys, sliding, headers } = slidingAnswer(ctx);
  const open = config.loginResponse !== undefined;
  return {
    POST: tokenEndpoint(ctx, 'obtainSliding', {
      description:
        `Checks \`${config.usernameField}\` and \`password\` and answers one sliding token (simplejwt's \`TokenObtainSlidingView\`): ` +
        `it authenticates until its \`exp\` and can be refreshed until its \`refresh_exp\`.${loginNotes(ctx, ['token'])}`,
      ok: open ? tokenBody(ctx, 'TokenObtainSlidingResponse', keys, true) : sliding,
      ...headers,
    }),
  };
};

const refreshSliding: Describer = (ctx) => {
  const { config } = ctx;
  const { cookie, sliding, headers } = slidingAnswer(ctx);
  return {
    POST: tokenEndpoint(ctx, 'refreshSliding', {
      description:
        "Answers the same token (same `jti`, same `refresh_exp`) with a new `iat` and `exp`, capped at `refresh_exp` (simplejwt's `TokenRefreshSlidingView`). " +
        `The token may be past its \`exp\`; past its \`refresh_exp\` it answers \`${TOKEN_MESSAGES.refreshExpired}\`.` +
        (cookie ? ` Sets the cookies again (see \`Set-Cookie\`).${cookieOnly(config, ['token'])}` : ''),
      ok: sliding,
      ...headers,
      tokenError: tokenErrorBody(ctx, 'SessionTokenError', ALL_TOKEN_MESSAGES),
      alternatives: alternatives(ctx, { field: tokenField(ctx, 'refreshSliding'), bearer: config.refreshByBearer, cookies: cookie ? ['access'] : [] }),
    }),
  };
};

/** A live session as `GET /sessions/` lists it. */
function sessionSchema(ctx: OpenApiContext): OpenApiRef {
  const nullableText = { type: ['string', 'null'] };
  const time = { type: 'string', format: 'date-time' };
  return ctx.schema(
    'Session',
    exactObject(
      {
        id: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'The session id: the `jti` of its first refresh token.' },
        created: time,
        last_used: time,
        expires: time,
        user_agent: nullableText,
        ip: nullableText,
      },
      'A live session (a login and its refreshes).',
    ),
  );
}

const noContent: OpenApiResponse = { description: 'Done.', headers: noStore };

const sessions: Describer = (ctx) => {
  const session = sessionSchema(ctx);
  return {
    GET: authenticatedOperation(ctx, 'sessions', 'GET', {
      responses: { '200': jsonResponse('Oldest first.', { type: 'array', items: session }, noStore) },
    }),
    DELETE: authenticatedOperation(ctx, 'sessions', 'DELETE', {
      description: "Ends every session of the caller's and revokes every token issued to them until now.",
      responses: { '204': noContent },
    }),
  };
};

const session: Describer = (ctx) => {
  sessionSchema(ctx);
  return {
    DELETE: authenticatedOperation(ctx, 'session', 'DELETE', {
      parameters: [{ name: 'id', in: 'path', required: true, description: 'A session id from the list.', schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } }],
      responses: {
        '204': noContent,
      },
    }),
  };
};

/** The lifetimes router (`auth.adminRouter`): `GET`, `PUT` and `PATCH` at its mount point. */
const tokenLifetimes: Describer = (ctx) => {
  const { config } = ctx;
  const fields = operationOf('lifetimes', 'PUT').body!.fields(config);
  const never = config.allowNonExpiring;
  const seconds: JsonSchema = never
    ? { type: ['integer', 'null'], minimum: 1, maximum: MAX_LIFETIME, description: 'Seconds; `null`: tokens of this kind never expire.' }
    : { type: 'integer', minimum: 1, maximum: MAX_LIFETIME, description: 'Seconds.' };
  const text: JsonSchema = {
    type: 'string',
    pattern: never ? '^(?:[1-9][0-9]*[smhd]|never)$' : '^[1-9][0-9]*[smhd]$',
    examples: ['5m', '1d'],
  };
  const shown: Record<string, JsonSchema> = {};
  const texts: Record<string, JsonSchema> = {};
  for (const field of fields) {
    shown[field] = seconds;
    texts[field] = text;
  }
  const lifetimes = ctx.schema(
    'TokenLifetimes',
    exactObject({ ...shown, text: exactObject(texts, 'The same lifetimes, short: `5m`, `1d`.') }, 'The lifetimes new tokens get, for every server sharing the token store.'),
  );
  const value: JsonSchema = {
    anyOf: [
      { type: 'integer', minimum: 1, maximum: MAX_LIFETIME, description: 'Seconds.' },
      { type: 'string', minLength: 1, description: "A duration such as '5m', '1d' or '30d', or seconds as text.", examples: ['10m'] },
      ...(never ? [{ type: 'null', description: 'Never expires.' }] : []),
    ],
  };
  const requestBody = (method: HttpMethod) => {
    const name = method === 'PUT' ? 'TokenLifetimesPut' : 'TokenLifetimesPatch';
    const required = operationOf('lifetimes', method).body!.required ? fields : [];
    const properties: Record<string, JsonSchema> = {};
    for (const field of fields) properties[field] = value;
    const schema = ctx.schema(name, { type: 'object', description: 'Other fields are ignored.', properties, required: [...required] });
    return { required: true, content: Object.fromEntries(BODY_TYPES.map((type) => [type, { schema }])) };
  };
  const perField = [FIELD_MESSAGES.required, ...Object.values(LIFETIME_MESSAGES).filter((m) => m !== LIFETIME_MESSAGES.accessOutlivesRefresh && m !== LIFETIME_MESSAGES.slidingOutlivesRefresh)]
    .filter((m) => !never || m !== LIFETIME_MESSAGES.neverNotAllowed);
  const messages = ctx.schema('LifetimeMessages', { type: 'array', description: 'One message per failing field.', items: { type: 'string', enum: perField }, minItems: 1, maxItems: 1 });
  const conflicts = [LIFETIME_MESSAGES.accessOutlivesRefresh, ...(config.slidingTokens ? [LIFETIME_MESSAGES.slidingOutlivesRefresh] : [])];
  const conflict = ctx.schema(
    'TokenLifetimesConflict',
    exactObject({ non_field_errors: { type: 'array', items: { type: 'string', enum: conflicts }, minItems: 1, maxItems: 1 } }, 'The lifetimes contradict each other.'),
  );
  const badRequest = jsonResponse('A lifetime is missing (`PUT`) or not valid, the lifetimes contradict each other, or the body is malformed.', {
    anyOf: [fieldErrors(ctx, 'TokenLifetimes', fields, messages), conflict, ...malformedBodies(ctx)],
  });
  const who = config.isAdmin
    ? 'Needs an access token whose user `isAdmin` accepts; other users get 403.'
    : 'No `isAdmin` is configured, so every caller gets 403.';
  const ok = jsonResponse('The lifetimes now in force.', lifetimes, noStore);
  const change = `Takes effect from the next token any server issues; tokens already issued keep theirs. ${who} Methods: \`${allowOf(routeOf('lifetimes'))}\`.`;
  return {
    GET: authenticatedOperation(ctx, 'lifetimes', 'GET', {
      description: `The lifetimes new tokens get (TuGraph's \`get_token_time\`). ${who}`,
      responses: { '200': ok },
    }),
    PUT: authenticatedOperation(ctx, 'lifetimes', 'PUT', {
      description: `Every lifetime is required (TuGraph's \`update_token_time\`). ${change}`,
      requestBody: requestBody('PUT'),
      responses: { '200': ok, '400': badRequest },
    }),
    PATCH: authenticatedOperation(ctx, 'lifetimes', 'PATCH', {
      description: `Only the lifetimes sent change. ${change}`,
      requestBody: requestBody('PATCH'),
      responses: { '200': ok, '400': badRequest },
    }),
  };
};

/**
 * What each entry of the route table answers, for this configuration. A new entry in the table needs its
 * describer here (the compiler says so), with exactly the table's methods (the generator checks).
 */
const DESCRIBERS: Record<Exclude<RouteKey, 'jwks'>, Describer> = {
  obtainPair,
  refresh,
  verify,
  blacklist,
  obtainSliding,
  refreshSliding,
  sessions,
  session,
  lifetimes: tokenLifetimes,
};

// ---------------------------------------------------------------------------------------------------------------

/** Adds a component once; the same name registered with a different value is a bug in a path builder. */
function register<T>(section: Record<string, T>, kind: string, name: string, value: T): void {
  const existing = section[name];
  if (existing === undefined) section[name] = value;
  else if (JSON.stringify(existing) !== JSON.stringify(value)) throw new Error(`openapi: two different ${kind} named "${name}"`);
}

interface CheckedOptions {
  basePath: string;
  title: string;
  version: string;
  adminPath: string | undefined;
}

/** A mount path: `''` (the root, if `root` allows it) or `/...`, without query, fragment, braces or spaces; trailing slashes dropped. */
function mountPath(value: unknown, root: boolean): string | undefined {
  if (typeof value !== 'string' || (value === '' ? !root : !value.startsWith('/')) || /[?#{}\s]/.test(value)) return undefined;
  return value.replace(/\/+$/, '');
}

function checkOpenApiOptions(options: OpenApiOptions | undefined): CheckedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('openApiDocument(auth, options) takes an options object such as { basePath: \'/api/token\' }');
  }
  const known = ['basePath', 'title', 'version', 'adminPath'];
  for (const key of Object.keys(options ?? {})) {
    if (!known.includes(key)) throw new TypeError(`Unknown openApiDocument() option "${key}"; known: ${known.map((k) => `"${k}"`).join(', ')}`);
  }
  const basePath = mountPath(options?.basePath ?? '/api/token', true);
  if (basePath === undefined) {
    throw new TypeError(`"basePath" must be the path auth.router is mounted at, such as '/api/token' (or '' for the root)`);
  }
  const adminPath = options?.adminPath === undefined ? undefined : mountPath(options.adminPath, false);
  if (options?.adminPath !== undefined && adminPath === undefined) {
    throw new TypeError(`"adminPath" must be the path auth.adminRouter is mounted at, such as '/api/admin/token-lifetimes'`);
  }
  for (const name of ['title', 'version'] as const) {
    const value = options?.[name];
    if (value !== undefined && (typeof value !== 'string' || value === '')) throw new TypeError(`"${name}" must be a non-empty string`);
  }
  return { basePath, title: options?.title ?? 'Token API', version: options?.version ?? '1.0.0', adminPath };
}

/** An entry's path item: exactly its methods in the table, each described. */
function pathItem(route: RouteSpec, described: Partial<Record<HttpMethod, OpenApiOperation>>): OpenApiPathItem {
  const item: Record<string, OpenApiOperation> = {};
  for (const { method } of route.operations) {
    const operation = described[method];
    if (operation === undefined) throw new Error(`openapi: ${method} ${route.path} is in the route table but not described`);
    item[method.toLowerCase()] = operation;
  }
  const extra = Object.keys(described).filter((method) => !route.operations.some((op) => op.method === method));
  if (extra.length > 0) throw new Error(`openapi: ${extra.join(', ')} ${route.path} is described but not in the route table`);
  return item;
}

/**
 * Builds the OpenAPI 3.1 document of the token endpoints for this configuration. Each call returns a new object.
 */
export function createOpenApiDocument(config: Config, options?: OpenApiOptions): OpenApiDocument {
  const { basePath, title, version, adminPath } = checkOpenApiOptions(options);
  const schemas: Record<string, JsonSchema> = {};
  const responses: Record<string, OpenApiResponse> = {};
  const securitySchemes: Record<string, OpenApiSecurityScheme> = {};
  const ctx: OpenApiContext = {
    config,
    canSign: config.keys.signer !== undefined,
    schema(name, schema) {
      register(schemas, 'schemas', name, schema);
      return ref('schemas', name);
    },
    response(name, response) {
      register(responses, 'responses', name, response);
      return ref('responses', name);
    },
    securityScheme(name, scheme) {
      register(securitySchemes, 'security schemes', name, scheme);
      return name;
    },
  };
  ctx.securityScheme(SECURITY_SCHEME, headerScheme(config, 'An access token'));
  const paths: Record<string, OpenApiPathItem> = {};
  const mounts: Partial<Record<Mount, string>> = { token: basePath, admin: adminPath };
  for (const route of ROUTES) {
    const mount = mounts[route.mount];
    if (mount === undefined || route.key === 'jwks' || !(route.when?.(config) ?? true) || (route.issues && !ctx.canSign)) continue;
    paths[`${mount}${route.path}`] = pathItem(route, DESCRIBERS[route.key](ctx));
  }
  const rotation = config.rotateRefreshTokens ? 'on' : 'off';
  const features = [
    ...(config.slidingTokens && ctx.canSign ? ['Sliding tokens are served at `/sliding/` and `/sliding/refresh/`.'] : []),
    ...(config.cookies
      ? [
          `The session tokens also travel in HttpOnly cookies; a request whose token comes from a cookie and that changes state must echo the \`${config.cookies.csrfName}\` cookie in \`${config.cookies.csrfHeaderName}\`.`,
        ]
      : []),
  ];
  const bearerRefresh = config.refreshByBearer && ctx.canSign;
  return {
    openapi: '3.1.0',
    info: {
      title,
      version,
      description:
        `djangorestframework-simplejwt's token endpoints, served by express-simplejwt. Log in with \`${config.usernameField}\` and ` +
        `\`password\`; refresh-token rotation is ${rotation}.${ctx.canSign ? '' : ' This server only verifies tokens: it issues none.'} ` +
        [...features, 'Bodies may be JSON, urlencoded or multipart; every answer is JSON.'].join(' '),
    },
    tags: [
      {
        name: 'token',
        description: bearerRefresh
          ? 'Obtain, refresh, verify and revoke tokens. Public: the `Authorization` header is ignored, except that the refreshes read the token to refresh from it when the body has none.'
          : 'Obtain, refresh, verify and revoke tokens. Public: the `Authorization` header is ignored.',
      },
      { name: 'sessions', description: "The caller's sessions; needs an access token." },
      ...(adminPath === undefined ? [] : [{ name: 'admin', description: 'The token lifetimes, for admins (`isAdmin`).' }]),
    ],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
      responses,
      headers: sharedHeaders(config),
      securitySchemes,
    },
  };
}
