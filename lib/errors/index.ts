/**
 * One error hierarchy for everything the kit answers with. Each error knows its HTTP status, a stable `code`
 * and the exact JSON body simplejwt/DRF would send, so rendering is a lookup, never a guess.
 */

/**
 * Field errors as DRF renders them: `{"<field>": ["<message>"]}`.
 *
 * @example
 * const fields: FieldErrors = { username: ['This field is required.'] };
 */
export type FieldErrors = Record<string, string[]>;

/**
 * One entry of the middleware's `messages` array.
 *
 * @example
 * const entry: TokenClassMessage = { token_class: 'AccessToken', token_type: 'access', message: 'Token is expired' };
 */
export interface TokenClassMessage {
  token_class: string;
  token_type: string;
  message: string;
}

/**
 * The token messages, in the order they are checked (first failure wins).
 *
 * @example
 * if (err instanceof AuthError && err.code === 'token_not_valid' && err.message === TOKEN_MESSAGES.expired) {
 *   // refresh, then retry
 * }
 */
export const TOKEN_MESSAGES = {
  invalid: 'Token is invalid',
  expired: 'Token is expired',
  blacklisted: 'Token is blacklisted',
  noExp: "Token has no 'exp' claim",
  noId: 'Token has no id',
  noType: 'Token has no type',
  wrongType: 'Token has wrong type',
  /** A sliding token past its `refresh_exp`: it can no longer be refreshed (simplejwt's wording). */
  refreshExpired: "Token 'refresh_exp' claim has expired",
  /** A sliding token without `refresh_exp` (allowed only with `dangerouslyAllowNonExpiringTokens`). */
  noRefreshExp: "Token has no 'refresh_exp' claim",
  /** A valid token without the user id claim (`authenticate()`). */
  noUserId: 'Token contained no recognizable user identification',
} as const;
/**
 * One of the token messages.
 *
 * @example
 * const message: TokenMessage = 'Token is blacklisted';
 */
export type TokenMessage = (typeof TOKEN_MESSAGES)[keyof typeof TOKEN_MESSAGES];

/**
 * Why a CSRF check failed: Django's three double-submit reasons, and the two cookie-mode refusals of requests
 * another site can make a browser send (a cross-site request, a form body from a browser) to an endpoint that
 * sets or clears the session cookies.
 *
 * @example
 * const reason: CsrfFailure = 'CSRF token missing.';
 */
export type CsrfFailure =
  | 'CSRF cookie not set.'
  | 'CSRF token missing.'
  | 'CSRF token incorrect.'
  | 'Cross-site request refused.'
  | 'Form bodies from a browser must be same-origin; send JSON.';

/**
 * What the table says of one error code.
 *
 * @example
 * const spec: ErrorSpec = ERRORS.user_inactive; // { status: 401, detail: 'User is inactive', codeInBody: true, description: ... }
 */
export interface ErrorSpec {
  /** The HTTP status. */
  readonly status: number;
  /**
   * simplejwt's / DRF's message, the body's `detail`; `{name}` marks a value the thrower gives in `params`
   * (`new AuthError('method_not_allowed', { params: { method: 'GET' } })`).
   */
  readonly detail: string;
  /** The body carries `code` too (`{"detail", "code"}`); DRF's own errors (`{"detail"}` alone) do not. */
  readonly codeInBody: boolean;
  /** Seconds sent as `Retry-After` unless the thrower gives `retryAfter`. */
  readonly retryAfter?: number;
  /** When the kit answers with it, for people: README's errors table and the OpenAPI document say the same. */
  readonly description: string;
}

/**
 * Every error code the kit answers with: status, simplejwt's / DRF's message and when it happens. The one table
 * `AuthError`, README's errors table (checked by a test), the OpenAPI document and a host's exhaustive
 * `switch (err.code)` share.
 *
 * @example
 * ERRORS.store_unavailable.status // 503
 * ERRORS.user_inactive.detail // 'User is inactive'
 */
export const ERRORS = {
  invalid: { status: 400, detail: 'Invalid input.', codeInBody: true, description: 'A field is missing, blank, null or not a string (DRF field errors).' },
  parse_error: { status: 400, detail: 'Malformed request.', codeInBody: false, description: 'Malformed JSON, or a JSON value that is not an object.' },
  unsupported_media_type: {
    status: 415,
    detail: 'Unsupported {what} "{type}" in request.',
    codeInBody: false,
    description: 'A content type other than JSON/form/multipart, none with a body, or a compressed body.',
  },
  payload_too_large: { status: 413, detail: 'Request body is larger than {limit} bytes.', codeInBody: true, description: 'The body is over `bodyLimit`.' },
  method_not_allowed: { status: 405, detail: 'Method "{method}" not allowed.', codeInBody: false, description: 'A method the endpoint does not serve.' },
  no_active_account: {
    status: 401,
    detail: 'No active account found with the given credentials',
    codeInBody: true,
    description: 'Login with a wrong password, an unknown or inactive user; a refresh of a user deleted or deactivated since.',
  },
  token_not_valid: { status: 401, detail: TOKEN_MESSAGES.invalid, codeInBody: true, description: 'A bad token (see `TOKEN_MESSAGES`).' },
  not_authenticated: { status: 401, detail: 'Authentication credentials were not provided.', codeInBody: false, description: 'No credentials on a protected route.' },
  bad_authorization_header: {
    status: 401,
    detail: 'Authorization header must contain two space-delimited values',
    codeInBody: true,
    description: '`Bearer` alone, more than two parts, or the header sent twice.',
  },
  user_not_found: { status: 401, detail: 'User not found', codeInBody: true, description: "The token's user does not exist (or its id is not usable)." },
  user_inactive: { status: 401, detail: 'User is inactive', codeInBody: true, description: "The token's user is inactive." },
  password_changed: {
    status: 401,
    detail: "The user's password has been changed.",
    codeInBody: true,
    description: "The token predates the user's last credential change (`getCredentialsChangedAt`).",
  },
  csrf_failed: { status: 403, detail: 'CSRF Failed: {reason}', codeInBody: true, description: 'A cookie-authenticated request without the matching CSRF header, or a cross-site request to an endpoint that sets or clears cookies.' },
  permission_denied: {
    status: 403,
    detail: 'You do not have permission to perform this action.',
    codeInBody: true,
    description: 'Authenticated, but not allowed (a non-admin on the lifetimes router).',
  },
  session_limit: {
    status: 403,
    detail: 'Too many active sessions for this account; log out elsewhere first.',
    codeInBody: true,
    description: "The user has `maxSessionsPerUser` live sessions and `sessionLimitPolicy` is `'refuse'`.",
  },
  not_found: { status: 404, detail: 'Not found.', codeInBody: false, description: 'No such session of the caller.' },
  verify_only: {
    status: 404,
    detail: 'This server only verifies tokens; it has no signing key. Obtain tokens from the service that issues them.',
    codeInBody: true,
    description: 'Login or refresh on a kit with only a public key or a JWKS.',
  },
  throttled: {
    status: 429,
    detail: 'Request was throttled. Expected available in {seconds} second{s}.',
    codeInBody: true,
    description: 'Too many failed logins (`loginThrottle`); `Retry-After` says when to retry.',
  },
  internal_error: { status: 500, detail: 'Internal server error.', codeInBody: true, description: 'A host callback threw, or the kit was misused (logged, never shown).' },
  server_busy: {
    status: 503,
    detail: 'Too many login attempts are being processed; try again shortly.',
    codeInBody: true,
    retryAfter: 1,
    description: 'Too many password hashes are being computed at once.',
  },
  store_unavailable: {
    status: 503,
    detail: 'The token store is unavailable; try again shortly.',
    codeInBody: true,
    retryAfter: 1,
    description: 'The token store did not answer in time; nothing was issued.',
  },
  keys_unavailable: {
    status: 503,
    detail: 'The signing keys are unavailable; try again shortly.',
    codeInBody: true,
    retryAfter: 5,
    description: 'The trusted JWKS (`jwksUri`) could not be fetched.',
  },
} as const satisfies Record<string, ErrorSpec>;

/**
 * One of the kit's error codes, a string-literal union a host can switch on exhaustively.
 *
 * @example
 * function label(code: ErrorCode): string {
 *   switch (code) { case 'throttled': return 'slow down'; default: return code; }
 * }
 */
export type ErrorCode = keyof typeof ERRORS;

/**
 * Every error code and its HTTP status (`ERRORS` without the rest).
 *
 * @example
 * ERROR_STATUS.store_unavailable // 503
 */
export const ERROR_STATUS = Object.fromEntries(Object.entries(ERRORS).map(([code, spec]) => [code, spec.status])) as {
  readonly [C in ErrorCode]: (typeof ERRORS)[C]['status'];
};

/**
 * A refresh answers this (`no_active_account`) for a token whose user was deleted or deactivated (simplejwt's wording).
 *
 * @example
 * new AuthError('no_active_account', { detail: NO_ACTIVE_ACCOUNT_FOR_TOKEN }).body // { detail: 'No active account found for the given token.', code: 'no_active_account' }
 */
export const NO_ACTIVE_ACCOUNT_FOR_TOKEN = 'No active account found for the given token.';

/**
 * What a thrower may add to an error.
 *
 * @example
 * const options: AuthErrorOptions = { detail: TOKEN_MESSAGES.expired };
 */
export interface AuthErrorOptions {
  /** The `detail` in place of the table's message. */
  detail?: string;
  /** The values of the message's `{name}` placeholders. */
  params?: Readonly<Record<string, string | number>>;
  /** The whole wire body, when it is not `{"detail"}` / `{"detail", "code"}` (DRF's field errors). */
  body?: Record<string, unknown>;
  /** Extra response headers (`Allow`). */
  headers?: Record<string, string>;
  /** `Retry-After` in seconds, for the codes that send one. */
  retryAfter?: number;
  cause?: unknown;
}

function fill(template: string, params: Readonly<Record<string, string | number>> | undefined): string {
  return params === undefined ? template : template.replace(/\{(\w+)\}/g, (all, name: string) => (name in params ? String(params[name]) : all));
}

/**
 * Every error the kit produces: `status` (HTTP), `code` (stable, in `ERRORS` and README), the wire `body`, extra
 * `headers`; the message and the status come from `ERRORS`. Subclasses only where the body has more:
 * `ValidationError` (field errors), `InvalidTokenError` (`messages`), `ThrottledError` (`retryAfter`).
 *
 * @example
 * throw new AuthError('user_inactive'); // 401 {"detail": "User is inactive", "code": "user_inactive"}
 * throw new AuthError('token_not_valid', { detail: TOKEN_MESSAGES.expired });
 * throw new AuthError('server_busy', { retryAfter: 2 }); // 503 with Retry-After: 2
 *
 * app.use((err, req, res, next) => {
 *   if (err instanceof AuthError) return res.status(err.status).json(err.body);
 *   next(err);
 * });
 */
export class AuthError extends Error {
  /** HTTP status the kit answers with. */
  readonly status: number;
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** Extra response headers (`WWW-Authenticate`, `Retry-After`, `Allow`). */
  readonly headers: Readonly<Record<string, string>>;
  private readonly wireBody: Record<string, unknown>;

  constructor(code: ErrorCode, options: AuthErrorOptions = {}) {
    if (typeof code !== 'string' || !Object.prototype.hasOwnProperty.call(ERRORS, code)) {
      throw new TypeError(`AuthError: unknown code ${JSON.stringify(code)}; use one of ERRORS' codes, e.g. new AuthError('permission_denied')`);
    }
    const spec: ErrorSpec = ERRORS[code];
    const detail = options.detail ?? fill(spec.detail, options.params);
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = spec.status;
    this.code = code;
    const retryAfter = options.retryAfter ?? spec.retryAfter;
    this.headers = retryAfter === undefined ? (options.headers ?? {}) : { ...options.headers, 'Retry-After': String(retryAfter) };
    this.wireBody = options.body ?? (spec.codeInBody ? { detail, code } : { detail });
  }

  /** The JSON body sent to the client. */
  get body(): Record<string, unknown> {
    return this.wireBody;
  }
}

/**
 * 400: DRF field errors, e.g. `{"username": ["This field is required."]}`.
 *
 * @example
 * renderError: (err, req, res) => {
 *   if (err instanceof ValidationError) return void res.status(400).json({ errors: err.fields });
 *   res.status(err.status).json(err.body);
 * },
 */
export class ValidationError extends AuthError {
  readonly fields: FieldErrors;
  constructor(fields: FieldErrors = {}) {
    super('invalid', { body: fields });
    this.fields = fields;
  }
}

/**
 * 401 from `authenticate()`: no token class accepted the token; `messages` says why, class by class.
 *
 * @example
 * const err = new InvalidTokenError([{ token_class: 'AccessToken', token_type: 'access', message: 'Token is expired' }]);
 * err.body.detail // 'Given token not valid for any token type'
 */
export class InvalidTokenError extends AuthError {
  readonly messages: TokenClassMessage[];
  constructor(messages: TokenClassMessage[] = [], cause?: unknown) {
    const detail = 'Given token not valid for any token type';
    super('token_not_valid', { detail, body: { detail, code: 'token_not_valid', messages }, cause });
    this.messages = messages;
  }
}

/**
 * 429 with `Retry-After`, DRF's wording.
 *
 * @example
 * new ThrottledError(900).headers // { 'Retry-After': '900' }
 */
export class ThrottledError extends AuthError {
  readonly retryAfter: number;
  constructor(retryAfter = 1) {
    const seconds = Math.max(1, Math.ceil(retryAfter));
    super('throttled', { params: { seconds, s: seconds === 1 ? '' : 's' }, retryAfter: seconds });
    this.retryAfter = seconds;
  }
}

/**
 * A 401 token error with one of simplejwt's token messages (`token_not_valid`).
 *
 * @example
 * throw tokenError(TOKEN_MESSAGES.expired); // {"detail": "Token is expired", "code": "token_not_valid"}
 */
export function tokenError(message: TokenMessage, cause?: unknown): AuthError {
  return new AuthError('token_not_valid', { detail: message, cause });
}

/**
 * A 500 for what a host callback threw or a misuse: the body says no more than `Internal server error.`; the
 * cause is logged.
 *
 * @example
 * throw internalError(new TypeError('getUserId() returned no usable id')); // 500 {"detail": "Internal server error.", "code": "internal_error"}
 */
export function internalError(cause?: unknown): AuthError {
  return new AuthError('internal_error', { cause });
}

/**
 * A 403 CSRF failure, in Django's `CSRF Failed: ...` wording.
 *
 * @example
 * if (req.get('X-CSRFToken') !== cookies.csrftoken) throw csrfError('CSRF token incorrect.');
 */
export function csrfError(reason: CsrfFailure): AuthError {
  return new AuthError('csrf_failed', { params: { reason } });
}

/**
 * A 405 with the `Allow` header.
 *
 * @example
 * methodNotAllowed('GET', 'POST, OPTIONS').headers // { Allow: 'POST, OPTIONS' }
 */
export function methodNotAllowed(method: string, allow: string): AuthError {
  return new AuthError('method_not_allowed', { params: { method }, headers: { Allow: allow } });
}
