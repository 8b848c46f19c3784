import type { Config } from '../config/resolve';
import {
  BadAuthorizationHeaderError,
  InternalError,
  KeysUnavailableError,
  NoActiveAccountError,
  NotAuthenticatedError,
  NotFoundError,
  NoUserIdError,
  PasswordChangedError,
  PayloadTooLargeError,
  SessionLimitError,
  StoreUnavailableError,
  TOKEN_MESSAGES,
  UserInactiveError,
  UserNotFoundError,
  type AuthError,
  type TokenMessage,
} from '../errors';
import { FIELD_MESSAGES } from './body';

/**
 * The OpenAPI 3.1 description of the token endpoints, generated from the resolved configuration: the username
 * field's name, rotation, throttling, the session policy, verify-only mode and the accepted header schemes all
 * show in it. Every body schema is exact (`additionalProperties: false`, `const` where the text is fixed), taken
 * from the error classes themselves where it can be, so the document cannot drift from what goes on the wire.
 *
 * Endpoints are described by the path builders in `PATH_BUILDERS`, one per feature; a feature that adds routes
 * (sliding tokens, cookies) adds a builder that returns its paths, or `undefined` when it is off.
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
  /** `[]` for the public token endpoints (they ignore `Authorization`), `[{ bearerAuth: [] }]` for the others. */
  security: Record<string, string[]>[];
  responses: Record<string, OpenApiResponse | OpenApiRef>;
}

/** An OpenAPI Path Item Object. */
export interface OpenApiPathItem {
  summary?: string;
  get?: OpenApiOperation;
  post?: OpenApiOperation;
  delete?: OpenApiOperation;
}

/** An OpenAPI security scheme: `http` with the first accepted scheme, or `apiKey` for another header name. */
export type OpenApiSecurityScheme =
  | { type: 'http'; scheme: string; bearerFormat?: 'JWT'; description: string }
  | { type: 'apiKey'; in: 'header'; name: string; description: string };

/**
 * The OpenAPI 3.1 document `auth.openapi()` returns: plain JSON, ready for `res.json()` or a file.
 *
 * @example
 * const doc: OpenApiDocument = auth.openapi();
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
 * Options of `auth.openapi()`.
 *
 * @example
 * app.use('/auth/jwt', auth.router);
 * app.get('/api/schema/', (req, res) => res.json(auth.openapi({ basePath: '/auth/jwt', title: 'Shop API', version: '2.1.0' })));
 */
export interface OpenApiOptions {
  /** Where the host mounts `auth.router`. Default `'/api/token'` (`''` for the root). */
  basePath?: string;
  /** `info.title`. Default `'Token API'`. */
  title?: string;
  /** `info.version`: the version of your API. Default `'1.0.0'`. */
  version?: string;
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
}

/** Describes one feature's routes, keyed by their path below the mount point (`'/refresh/'`); `undefined` when off. */
export type PathBuilder = (ctx: OpenApiContext) => Record<string, OpenApiPathItem> | undefined;

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
const wwwAuthenticate = { 'WWW-Authenticate': ref('headers', 'WWW-Authenticate') };
const retryAfter = { 'Retry-After': ref('headers', 'Retry-After') };

/** A compact JWS: three base64url parts. */
function jwt(ctx: OpenApiContext): OpenApiRef {
  return ctx.schema('JWT', {
    type: 'string',
    description: 'A signed JSON Web Token (compact serialization).',
    pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*$',
    examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjk0NjY4NDgwMH0.jvxQgXCSDToR8uKoRJcMT-LmMJJn2-NM76nfSR2FOgs'],
  });
}

/** A token endpoint's 401 for a token that fails: one of the WIRE.md messages. */
function tokenErrorBody(ctx: OpenApiContext, name: string, messages: readonly TokenMessage[]): OpenApiRef {
  return ctx.schema(
    name,
    exactObject(
      { detail: { type: 'string', enum: [...messages] }, code: { const: 'token_not_valid' } },
      'The token failed a check; the first failure, in the order listed, is reported.',
    ),
  );
}

/** The 401 bodies `authenticate()` answers, as configured. */
function middlewareErrors(ctx: OpenApiContext): OpenApiRef[] {
  const { config } = ctx;
  const bodies = [
    ctx.schema('NotAuthenticated', exactBody(new NotAuthenticatedError(), 'No credentials (no header, or another scheme).')),
    ctx.schema('BadAuthorizationHeader', exactBody(new BadAuthorizationHeaderError(), 'The scheme alone, or more than two parts.')),
    ctx.schema(
      'InvalidToken',
      exactObject(
        {
          detail: { const: 'Given token not valid for any token type' },
          code: { const: 'token_not_valid' },
          messages: {
            type: 'array',
            description: 'One entry per accepted token class, in order.',
            minItems: 1,
            items: exactObject({
              token_class: { const: 'AccessToken' },
              token_type: { const: 'access' },
              message: { type: 'string', enum: Object.values(TOKEN_MESSAGES) },
            }),
          },
        },
        'The access token failed a check.',
      ),
    ),
    ctx.schema('NoUserId', exactBody(new NoUserIdError(), 'A valid token without the user id claim.')),
    ctx.schema('UserNotFound', exactBody(new UserNotFoundError(), "The token's user does not exist.")),
    ctx.schema('UserInactive', exactBody(new UserInactiveError(), "The token's user is inactive.")),
  ];
  if (config.getCredentialsChangedAt) bodies.push(passwordChanged(ctx));
  return bodies;
}

function passwordChanged(ctx: OpenApiContext): OpenApiRef {
  return ctx.schema('PasswordChanged', exactBody(new PasswordChangedError(), "The token predates the user's last password change."));
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
  const properties: Record<string, JsonSchema> = {};
  for (const field of fields) properties[field] = messages;
  const fieldErrors = ctx.schema(`${name}FieldErrors`, {
    type: 'object',
    description: 'Every failing field, in declaration order.',
    properties,
    minProperties: 1,
    additionalProperties: false,
  });
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
  return jsonResponse('A field is missing, blank, null or not a string; or the body is malformed.', { anyOf: [fieldErrors, parseError, notADictionary] });
}

/** The responses every endpoint may give, registered once. */
function commonResponses(ctx: OpenApiContext) {
  const { config } = ctx;
  const unavailable = [ctx.schema('StoreUnavailable', exactBody(new StoreUnavailableError(), 'The token store did not answer in time; nothing was issued or revoked.'))];
  if (config.keys.mode === 'remote') {
    unavailable.push(ctx.schema('KeysUnavailable', exactBody(new KeysUnavailableError(), 'The trusted JWKS could not be fetched.')));
  }
  return {
    methodNotAllowed: ctx.response(
      'MethodNotAllowed',
      jsonResponse(
        'Any other method (`OPTIONS` answers 200 with the endpoint\'s metadata).',
        ctx.schema('MethodNotAllowed', detailBody('^Method "[^"]+" not allowed\\.$', ['Method "GET" not allowed.'])),
        { Allow: ref('headers', 'Allow') },
      ),
    ),
    payloadTooLarge: ctx.response(
      'PayloadTooLarge',
      jsonResponse(`The body is larger than ${config.bodyLimit} bytes.`, ctx.schema('PayloadTooLarge', exactBody(new PayloadTooLargeError(config.bodyLimit)))),
    ),
    unsupportedMediaType: ctx.response(
      'UnsupportedMediaType',
      jsonResponse(
        'A content type other than JSON, urlencoded or multipart; a body without one; or a compressed body.',
        ctx.schema(
          'UnsupportedMediaType',
          detailBody('^Unsupported (media type|content encoding) "[^"]*" in request\\.$', ['Unsupported media type "text/plain" in request.']),
        ),
      ),
    ),
    internalError: ctx.response(
      'InternalError',
      jsonResponse('A host callback threw (logged in one line; never shown).', ctx.schema('InternalError', exactBody(new InternalError()))),
    ),
    serviceUnavailable: ctx.response('ServiceUnavailable', jsonResponse('Try again after `Retry-After` seconds.', oneOrMany(unavailable), retryAfter)),
  };
}

/** The response every endpoint that needs a bearer token gives when `authenticate()` refuses it. */
function unauthenticated(ctx: OpenApiContext): OpenApiRef {
  return ctx.response(
    'Unauthenticated',
    jsonResponse('`authenticate()` refused the request: no credentials, a malformed header, or a bad token or user.', { anyOf: middlewareErrors(ctx) }, wwwAuthenticate),
  );
}

/** A public `POST` token endpoint: a body of string fields in, a JSON object out. */
function tokenEndpoint(
  ctx: OpenApiContext,
  spec: {
    operationId: string;
    name: string;
    summary: string;
    description: string;
    fields: readonly string[];
    ok: JsonSchema;
    unauthorized: JsonSchema[];
    extra?: Record<string, OpenApiResponse | OpenApiRef>;
  },
): OpenApiPathItem {
  const common = commonResponses(ctx);
  const properties: Record<string, JsonSchema> = {};
  for (const field of spec.fields) properties[field] = { type: 'string', minLength: 1 };
  const request = ctx.schema(`${spec.name}Request`, {
    type: 'object',
    description: 'Other fields are ignored. A JSON number is read as its string.',
    properties,
    required: [...spec.fields],
  });
  const responses: Record<string, OpenApiResponse | OpenApiRef> = {
    '200': jsonResponse('Success.', spec.ok, noStore),
    '400': badRequest(ctx, spec.name, spec.fields),
    '401': jsonResponse('The credentials or the token were refused.', oneOrMany(spec.unauthorized), wwwAuthenticate),
    ...spec.extra,
    '405': common.methodNotAllowed,
    '413': common.payloadTooLarge,
    '415': common.unsupportedMediaType,
    '500': common.internalError,
    '503': common.serviceUnavailable,
  };
  return {
    post: {
      operationId: spec.operationId,
      summary: spec.summary,
      description: spec.description,
      tags: ['token'],
      requestBody: { required: true, content: Object.fromEntries(BODY_TYPES.map((type) => [type, { schema: request }])) },
      security: [],
      responses: sortByStatus(responses),
    },
  };
}

/** An endpoint behind `authenticate()`. */
function authenticatedOperation(
  ctx: OpenApiContext,
  spec: Omit<OpenApiOperation, 'security' | 'tags' | 'responses'> & { responses: Record<string, OpenApiResponse | OpenApiRef> },
): OpenApiOperation {
  const common = commonResponses(ctx);
  return {
    ...spec,
    tags: ['sessions'],
    security: [{ [SECURITY_SCHEME]: [] }],
    responses: sortByStatus({
      ...spec.responses,
      '401': unauthenticated(ctx),
      '405': common.methodNotAllowed,
      '500': common.internalError,
      '503': common.serviceUnavailable,
    }),
  };
}

function sortByStatus<T>(responses: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

// ---------------------------------------------------------------------------------------------------------------
// The path builders, one per feature

const ALL_TOKEN_MESSAGES = Object.values(TOKEN_MESSAGES);
/** `/verify/` accepts any token type, so the type checks never fail there. */
const VERIFY_MESSAGES = ALL_TOKEN_MESSAGES.filter((m) => m !== TOKEN_MESSAGES.noType && m !== TOKEN_MESSAGES.wrongType);

const obtainPairPath: PathBuilder = (ctx) => {
  const { config } = ctx;
  if (!ctx.canSign) return undefined;
  const extra: Record<string, OpenApiResponse> = {};
  if (config.sessionLimitPolicy === 'refuse') {
    extra['403'] = jsonResponse(
      `The user already has ${config.maxSessionsPerUser} live sessions.`,
      ctx.schema('SessionLimit', exactBody(new SessionLimitError())),
      noStore,
    );
  }
  if (config.loginThrottle !== false) {
    const { limit, windowSeconds } = config.loginThrottle.rate;
    extra['429'] = jsonResponse(
      `More than ${limit} failed logins in ${windowSeconds} seconds from this client for this username.`,
      ctx.schema(
        'Throttled',
        detailBody('^Request was throttled\\. Expected available in [1-9][0-9]* seconds?\\.$', ['Request was throttled. Expected available in 900 seconds.'], 'throttled'),
      ),
      retryAfter,
    );
  }
  const pair = ctx.schema('TokenPair', exactObject({ refresh: jwt(ctx), access: jwt(ctx) }));
  return {
    '/': tokenEndpoint(ctx, {
      operationId: 'tokenObtainPair',
      name: 'TokenObtainPair',
      summary: 'Log in: obtain an access and a refresh token',
      description: `Checks \`${config.usernameField}\` and \`password\` and answers a token pair (simplejwt's \`TokenObtainPairView\`).`,
      fields: [config.usernameField, 'password'],
      ok: pair,
      unauthorized: [ctx.schema('NoActiveAccount', exactBody(new NoActiveAccountError(), 'Wrong password, unknown user or inactive user: one body for all.'))],
      extra,
    }),
  };
};

const refreshPath: PathBuilder = (ctx) => {
  const { config } = ctx;
  if (!ctx.canSign) return undefined;
  const unauthorized: JsonSchema[] = [
    tokenErrorBody(ctx, 'RefreshTokenError', ALL_TOKEN_MESSAGES),
    ctx.schema('NoActiveAccountForToken', exactBody(new NoActiveAccountError(true), "The token's user was deleted or deactivated since.")),
  ];
  if (config.getCredentialsChangedAt) unauthorized.push(passwordChanged(ctx));
  const rotate = config.rotateRefreshTokens;
  const ok = rotate
    ? ctx.schema('TokenRefreshRotatedResponse', exactObject({ access: jwt(ctx), refresh: jwt(ctx) }, 'Rotation is on: a new refresh token comes with the access token.'))
    : ctx.schema('TokenRefreshResponse', exactObject({ access: jwt(ctx) }));
  const consumed = rotate && config.blacklistAfterRotation ? ' The presented refresh token is consumed: presenting it again answers `Token is blacklisted`.' : '';
  return {
    '/refresh/': tokenEndpoint(ctx, {
      operationId: 'tokenRefresh',
      name: 'TokenRefresh',
      summary: rotate ? 'Refresh: a new access token and a new refresh token' : 'Refresh: a new access token',
      description: `Exchanges a refresh token (simplejwt's \`TokenRefreshView\`).${consumed}`,
      fields: ['refresh'],
      ok,
      unauthorized,
    }),
  };
};

const verifyPath: PathBuilder = (ctx) => ({
  '/verify/': tokenEndpoint(ctx, {
    operationId: 'tokenVerify',
    name: 'TokenVerify',
    summary: 'Verify a token of any type',
    description: "Answers `{}` when the token's signature, claims and revocation state are good (simplejwt's `TokenVerifyView`). The user is not checked.",
    fields: ['token'],
    ok: ctx.schema('Empty', { type: 'object', additionalProperties: false, maxProperties: 0 }),
    unauthorized: [tokenErrorBody(ctx, 'VerifyTokenError', VERIFY_MESSAGES)],
  }),
});

const blacklistPath: PathBuilder = (ctx) => ({
  '/blacklist/': tokenEndpoint(ctx, {
    operationId: 'tokenBlacklist',
    name: 'TokenBlacklist',
    summary: 'Log out: revoke a refresh token and its session',
    description: "Revokes the refresh token and every token of its session (simplejwt's `TokenBlacklistView`).",
    fields: ['refresh'],
    ok: ctx.schema('Empty', { type: 'object', additionalProperties: false, maxProperties: 0 }),
    unauthorized: [tokenErrorBody(ctx, 'RefreshTokenError', ALL_TOKEN_MESSAGES)],
  }),
});

const sessionsPaths: PathBuilder = (ctx) => {
  const nullableText = { type: ['string', 'null'] };
  const time = { type: 'string', format: 'date-time' };
  const session = ctx.schema(
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
  const noContent: OpenApiResponse = { description: 'Done.', headers: noStore };
  return {
    '/sessions/': {
      get: authenticatedOperation(ctx, {
        operationId: 'sessionsList',
        summary: "List the caller's live sessions",
        responses: { '200': jsonResponse('Oldest first.', { type: 'array', items: session }, noStore) },
      }),
      delete: authenticatedOperation(ctx, {
        operationId: 'sessionsDeleteAll',
        summary: 'Log out everywhere',
        description: "Ends every session of the caller's and revokes every token issued to them until now.",
        responses: { '204': noContent },
      }),
    },
    '/sessions/{id}/': {
      delete: authenticatedOperation(ctx, {
        operationId: 'sessionsDelete',
        summary: 'End one session',
        parameters: [{ name: 'id', in: 'path', required: true, description: 'A session id from the list.', schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } }],
        responses: {
          '204': noContent,
          '404': jsonResponse("The caller has no such live session.", ctx.schema('NotFound', exactBody(new NotFoundError()))),
        },
      }),
    },
  };
};

/**
 * Every feature's path builder, in document order. To describe new routes, add a builder here that returns its
 * paths (relative to the mount point), or `undefined` when the configuration turns the feature off.
 */
export const PATH_BUILDERS: readonly PathBuilder[] = [obtainPairPath, refreshPath, verifyPath, blacklistPath, sessionsPaths];

// ---------------------------------------------------------------------------------------------------------------

/** Adds a component once; the same name registered with a different value is a bug in a path builder. */
function register<T>(section: Record<string, T>, kind: string, name: string, value: T): void {
  const existing = section[name];
  if (existing === undefined) section[name] = value;
  else if (JSON.stringify(existing) !== JSON.stringify(value)) throw new Error(`openapi: two different ${kind} named "${name}"`);
}

function checkOpenApiOptions(options: OpenApiOptions | undefined): Required<OpenApiOptions> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError('openapi() takes an options object such as { basePath: \'/api/token\' }');
  }
  const known = new Set(['basePath', 'title', 'version']);
  for (const key of Object.keys(options ?? {})) {
    if (!known.has(key)) throw new TypeError(`Unknown openapi() option "${key}"; known: "basePath", "title", "version"`);
  }
  const basePath = options?.basePath ?? '/api/token';
  if (typeof basePath !== 'string' || (basePath !== '' && !basePath.startsWith('/')) || /[?#{}\s]/.test(basePath)) {
    throw new TypeError(`"basePath" must be the path auth.router is mounted at, such as '/api/token' (or '' for the root)`);
  }
  for (const name of ['title', 'version'] as const) {
    const value = options?.[name];
    if (value !== undefined && (typeof value !== 'string' || value === '')) throw new TypeError(`"${name}" must be a non-empty string`);
  }
  return { basePath: basePath.replace(/\/+$/, ''), title: options?.title ?? 'Token API', version: options?.version ?? '1.0.0' };
}

/**
 * Builds the OpenAPI 3.1 document of the token endpoints for this configuration. Each call returns a new object.
 */
export function createOpenApiDocument(config: Config, options?: OpenApiOptions): OpenApiDocument {
  const { basePath, title, version } = checkOpenApiOptions(options);
  const schemas: Record<string, JsonSchema> = {};
  const responses: Record<string, OpenApiResponse> = {};
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
  };
  const paths: Record<string, OpenApiPathItem> = {};
  for (const build of PATH_BUILDERS) {
    for (const [path, item] of Object.entries(build(ctx) ?? {})) paths[`${basePath}${path}`] = item;
  }
  const scheme = config.authHeaderTypes[0]!;
  const schemes = config.authHeaderTypes.map((t) => `\`${t}\``).join(', ');
  const securityScheme: OpenApiSecurityScheme =
    config.authHeaderKey === 'authorization'
      ? {
          type: 'http',
          scheme,
          // OpenAPI allows bearerFormat with the bearer scheme only.
          ...(scheme.toLowerCase() === 'bearer' ? { bearerFormat: 'JWT' as const } : {}),
          description: `An access token: \`Authorization: ${scheme} <token>\`. Accepted schemes: ${schemes} (any case).`,
        }
      : {
          type: 'apiKey',
          in: 'header',
          name: config.authHeaderKey,
          description: `An access token: \`${config.authHeaderKey}: ${scheme} <token>\`. Accepted schemes: ${schemes} (any case).`,
        };
  const rotation = config.rotateRefreshTokens ? 'on' : 'off';
  return {
    openapi: '3.1.0',
    info: {
      title,
      version,
      description:
        `djangorestframework-simplejwt's token endpoints, served by express-simplejwt. Log in with \`${config.usernameField}\` and ` +
        `\`password\`; refresh-token rotation is ${rotation}.${ctx.canSign ? '' : ' This server only verifies tokens: it issues none.'} ` +
        'Bodies may be JSON, urlencoded or multipart; every answer is JSON.',
    },
    tags: [
      { name: 'token', description: 'Obtain, refresh, verify and revoke tokens. Public: the `Authorization` header is ignored.' },
      { name: 'sessions', description: "The caller's sessions; needs an access token." },
    ],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))),
      responses,
      headers: sharedHeaders(config),
      securitySchemes: { [SECURITY_SCHEME]: securityScheme },
    },
  };
}
