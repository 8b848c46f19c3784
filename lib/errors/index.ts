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
 * Every error code the kit answers with, and its HTTP status: the one table the error classes, README's errors
 * table (checked by a test) and a host's exhaustive `switch (err.code)` share.
 *
 * @example
 * ERROR_STATUS.store_unavailable // 503
 */
export const ERROR_STATUS = {
  invalid: 400,
  parse_error: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  method_not_allowed: 405,
  no_active_account: 401,
  token_not_valid: 401,
  not_authenticated: 401,
  bad_authorization_header: 401,
  user_not_found: 401,
  user_inactive: 401,
  password_changed: 401,
  csrf_failed: 403,
  permission_denied: 403,
  session_limit: 403,
  not_found: 404,
  verify_only: 404,
  throttled: 429,
  internal_error: 500,
  server_busy: 503,
  store_unavailable: 503,
  keys_unavailable: 503,
} as const;

/**
 * One of the kit's error codes, a string-literal union a host can switch on exhaustively.
 *
 * @example
 * function label(code: ErrorCode): string {
 *   switch (code) { case 'throttled': return 'slow down'; default: return code; }
 * }
 */
export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Base class of every error the kit produces. `status` is the HTTP status, `code` is stable and documented in
 * the README, `body` is exactly what goes on the wire.
 *
 * @example
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

  constructor(
    code: ErrorCode,
    detail: string,
    options: { body?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = ERROR_STATUS[code];
    this.code = code;
    this.headers = options.headers ?? {};
    this.wireBody = options.body ?? { detail, code };
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
  constructor(fields: FieldErrors) {
    super('invalid', 'Invalid input.', { body: fields });
    this.fields = fields;
  }
}

/**
 * 400: the body is not valid JSON (or not a dictionary).
 *
 * @example
 * new ParseError('JSON parse error - Unexpected end of JSON input').body // { detail: 'JSON parse error - Unexpected end of JSON input' }
 */
export class ParseError extends AuthError {
  constructor(detail: string, body?: Record<string, unknown>, cause?: unknown) {
    super('parse_error', detail, { body: body ?? { detail }, cause });
  }
}

/**
 * 413: the body is larger than the configured limit.
 *
 * @example
 * new PayloadTooLargeError(16384).body // { detail: 'Request body is larger than 16384 bytes.', code: 'payload_too_large' }
 */
export class PayloadTooLargeError extends AuthError {
  constructor(limit: number) {
    const detail = `Request body is larger than ${limit} bytes.`;
    super('payload_too_large', detail);
  }
}

/**
 * 415: the body's content type (or content encoding) is not one the endpoint parses.
 *
 * @example
 * new UnsupportedMediaTypeError('text/plain').body // { detail: 'Unsupported media type "text/plain" in request.' }
 */
export class UnsupportedMediaTypeError extends AuthError {
  constructor(mediaType: string, what = 'media type') {
    const detail = `Unsupported ${what} "${mediaType}" in request.`;
    super('unsupported_media_type', detail, { body: { detail } });
  }
}

/**
 * 405 with `Allow: POST, OPTIONS`.
 *
 * @example
 * new MethodNotAllowedError('GET').headers // { Allow: 'POST, OPTIONS' }
 */
export class MethodNotAllowedError extends AuthError {
  constructor(method: string, allow = 'POST, OPTIONS') {
    const detail = `Method "${method}" not allowed.`;
    super('method_not_allowed', detail, { body: { detail }, headers: { Allow: allow } });
  }
}

/**
 * 401 raised by a token check; `message` is one of simplejwt's token messages.
 *
 * @example
 * new TokenError(TOKEN_MESSAGES.expired).body // { detail: 'Token is expired', code: 'token_not_valid' }
 */
export class TokenError extends AuthError {
  constructor(message: TokenMessage, cause?: unknown) {
    super('token_not_valid', message, { cause });
  }
  get tokenMessage(): TokenMessage {
    return this.message as TokenMessage;
  }
}

/**
 * The token messages, in the order they are checked (first failure wins).
 *
 * @example
 * if (err instanceof TokenError && err.message === TOKEN_MESSAGES.expired) {
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
} as const;
/**
 * One of the token messages.
 *
 * @example
 * const message: TokenMessage = 'Token is blacklisted';
 */
export type TokenMessage = (typeof TOKEN_MESSAGES)[keyof typeof TOKEN_MESSAGES];

/**
 * 401 from `authenticate()`: no token class accepted the token.
 *
 * @example
 * const err = new InvalidTokenError([{ token_class: 'AccessToken', token_type: 'access', message: 'Token is expired' }]);
 * err.body.detail // 'Given token not valid for any token type'
 */
export class InvalidTokenError extends AuthError {
  readonly messages: TokenClassMessage[];
  constructor(messages: TokenClassMessage[], cause?: unknown) {
    const detail = 'Given token not valid for any token type';
    super('token_not_valid', detail, { body: { detail, code: 'token_not_valid', messages }, cause });
    this.messages = messages;
  }
}

/**
 * 401 from `authenticate()`: no credentials on a route that requires them.
 *
 * @example
 * new NotAuthenticatedError().body // { detail: 'Authentication credentials were not provided.' }
 */
export class NotAuthenticatedError extends AuthError {
  constructor() {
    const detail = 'Authentication credentials were not provided.';
    super('not_authenticated', detail, { body: { detail } });
  }
}

/**
 * 401: `Bearer` alone, or more than two parts in the header.
 *
 * @example
 * new BadAuthorizationHeaderError().code // 'bad_authorization_header'
 */
export class BadAuthorizationHeaderError extends AuthError {
  constructor() {
    super('bad_authorization_header', 'Authorization header must contain two space-delimited values');
  }
}

/**
 * 401: a valid token without the user id claim.
 *
 * @example
 * new NoUserIdError().body // { detail: 'Token contained no recognizable user identification', code: 'token_not_valid' }
 */
export class NoUserIdError extends AuthError {
  constructor() {
    super('token_not_valid', 'Token contained no recognizable user identification');
  }
}

/**
 * 401: the token's user does not exist (or its id cannot be parsed by the host).
 *
 * @example
 * new UserNotFoundError().body // { detail: 'User not found', code: 'user_not_found' }
 */
export class UserNotFoundError extends AuthError {
  constructor() {
    super('user_not_found', 'User not found');
  }
}

/**
 * 401: the token's user exists but is inactive.
 *
 * @example
 * new UserInactiveError().body // { detail: 'User is inactive', code: 'user_inactive' }
 */
export class UserInactiveError extends AuthError {
  constructor() {
    super('user_inactive', 'User is inactive');
  }
}

/**
 * 401: the token predates the user's last credential change.
 *
 * @example
 * simpleJwt({ getCredentialsChangedAt: (user) => user.passwordChangedAt, findUserByUsername, findUserById });
 * // tokens issued before the change now answer new PasswordChangedError().body:
 * // { detail: "The user's password has been changed.", code: 'password_changed' }
 */
export class PasswordChangedError extends AuthError {
  constructor() {
    super('password_changed', "The user's password has been changed.");
  }
}

/**
 * 401: login failed (unknown user, wrong password, inactive user: one body for all) or the token's user is gone.
 *
 * @example
 * new NoActiveAccountError().body // { detail: 'No active account found with the given credentials', code: 'no_active_account' }
 * new NoActiveAccountError(true).body.detail // 'No active account found for the given token.'
 */
export class NoActiveAccountError extends AuthError {
  constructor(forToken = false) {
    super('no_active_account',
      forToken ? 'No active account found for the given token.' : 'No active account found with the given credentials',
    );
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
  constructor(retryAfter: number) {
    const seconds = Math.max(1, Math.ceil(retryAfter));
    super('throttled', `Request was throttled. Expected available in ${seconds} second${seconds === 1 ? '' : 's'}.`, {
      headers: { 'Retry-After': String(seconds) },
    });
    this.retryAfter = seconds;
  }
}

/**
 * 503: the token store could not be reached in time; nothing was issued.
 *
 * @example
 * new StoreUnavailableError().body // { detail: 'The token store is unavailable; try again shortly.', code: 'store_unavailable' }
 */
export class StoreUnavailableError extends AuthError {
  constructor(cause?: unknown, retryAfter = 1) {
    super('store_unavailable', 'The token store is unavailable; try again shortly.', {
      headers: { 'Retry-After': String(retryAfter) },
      cause,
    });
  }
}

/**
 * 503: too many password hashes are being computed at once.
 *
 * @example
 * verifyCredentials: async (username, password) => {
 *   if (ldapQueue.size > 100) throw new ServerBusyError(2); // 503 with Retry-After: 2
 *   return ldap.check(username, password);
 * },
 */
export class ServerBusyError extends AuthError {
  constructor(retryAfter = 1) {
    super('server_busy', 'Too many login attempts are being processed; try again shortly.', {
      headers: { 'Retry-After': String(retryAfter) },
    });
  }
}

/**
 * 503: the trusted JWKS (`jwksUri`) could not be fetched or is being refetched too often; nothing was decided.
 *
 * @example
 * new KeysUnavailableError().headers // { 'Retry-After': '5' }
 */
export class KeysUnavailableError extends AuthError {
  constructor(cause?: unknown, retryAfter = 5) {
    super('keys_unavailable', 'The signing keys are unavailable; try again shortly.', {
      headers: { 'Retry-After': String(retryAfter) },
      cause,
    });
  }
}

/**
 * 404: this kit only verifies tokens (it has a public key or a JWKS, no signing key), so it issues none.
 *
 * @example
 * new VerifyOnlyError().code // 'verify_only': what login and refresh answer on a kit with only a public key
 */
export class VerifyOnlyError extends AuthError {
  constructor() {
    super('verify_only', 'This server only verifies tokens; it has no signing key. Obtain tokens from the service that issues them.');
  }
}

/**
 * 500: a host callback threw or the kit was misused. The body never says more than this.
 *
 * @example
 * new InternalError(new Error('db down')).body // { detail: 'Internal server error.', code: 'internal_error' }
 */
export class InternalError extends AuthError {
  constructor(cause?: unknown) {
    super('internal_error', 'Internal server error.', { cause });
  }
}

/**
 * 403: the user already has `maxSessionsPerUser` live sessions and the policy is `'refuse'`.
 *
 * @example
 * simpleJwt({ maxSessionsPerUser: 5, sessionLimitPolicy: 'refuse', findUserByUsername, findUserById });
 * // a sixth login answers 403 new SessionLimitError().body, code 'session_limit'
 */
export class SessionLimitError extends AuthError {
  constructor() {
    super('session_limit', 'Too many active sessions for this account; log out elsewhere first.');
  }
}

/**
 * 404: no such session of the caller's (DRF's `Not found.`).
 *
 * @example
 * new NotFoundError().body // { detail: 'Not found.' }
 */
export class NotFoundError extends AuthError {
  constructor() {
    const detail = 'Not found.';
    super('not_found', detail, { body: { detail } });
  }
}

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
 * 403: a state-changing request authenticated by a cookie came without a matching CSRF token (double submit:
 * the CSRF cookie's value echoed in the CSRF header). The details follow Django's `CSRF Failed: ...` wording.
 *
 * @example
 * if (req.get('X-CSRFToken') !== cookies.csrftoken) throw new CsrfError('CSRF token incorrect.');
 */
export class CsrfError extends AuthError {
  constructor(reason: CsrfFailure) {
    super('csrf_failed', `CSRF Failed: ${reason}`);
  }
}

/**
 * 403: authenticated, but not allowed (DRF's `PermissionDenied`), e.g. a non-admin on the lifetimes router.
 *
 * @example
 * app.delete('/things/:id', auth.authenticate(), (req, res, next) => (isOwner(req) ? next() : next(new PermissionDeniedError())));
 */
export class PermissionDeniedError extends AuthError {
  constructor() {
    super('permission_denied', 'You do not have permission to perform this action.');
  }
}
