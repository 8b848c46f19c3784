import './http/express-types';

/** The factory: `simpleJwt(options)` returns `{ router, authenticate, tokens }`. */
export { simpleJwt, type SimpleJwt } from './simpleJwt';
/** Every option, with its default, and `authenticate()`'s options. */
export type {
  Options,
  AuthenticateOptions,
  Algorithm,
  HmacAlgorithm,
  AsymmetricAlgorithm,
  KeyInput,
  KeySetEntry,
  JwksUriOptions,
  LoginThrottle,
  MaybePromise,
  AuthTokenClass,
  CookieOptions,
  LoginFailedEvent,
  LoginFailureReason,
} from './config/options';
/** Token lifetimes as the admin router and the store keep them (`Infinity`: never expires). */
export { NEVER_EXPIRES, type Lifetimes } from './tokens/lifetimes';
/** The strict `Cookie` header reader the cookie transport uses. */
export { readCookie } from './http/cookies';
/** Public JSON Web Keys, as `auth.jwks()` returns them, and the RFC 7638 thumbprint. */
export { publicJwk, jwkThumbprint, type PublicJwk, type JwkSet } from './keys/jwk';
/** Durations (`'5m'`, `'1d'`) and DRF-style rates (`'10/15m'`), as the options parse them. */
export { parseDuration, type Duration } from './config/duration';
export { parseRate, type Rate } from './config/rate';
/** Logger and warning codes. */
export type { Logger, WarningCode } from './config/warnings';
/** The error hierarchy: one `AuthError` base with `status`, `code` and the wire `body`. */
export * from './errors';
/** bcrypt hashing for the host's user records. */
export { hashPassword, BCRYPT_MAX_BYTES } from './passwords/bcrypt';
/** Django's stored password hashes (`pbkdf2_sha256`, `bcrypt_sha256`, `argon2`, ...) verified as Django does. */
export { verifyDjangoPassword, type DjangoAlgorithm } from './passwords/django';
/** Header parsing, exposed for hosts that read tokens elsewhere. */
export { parseAuthorizationHeader, type TokenUser } from './http/authenticate';
/** Token claim and type names. */
export type { TokenClaims, DecodedToken } from './tokens/codec';
export type { TokenType, IssuedToken } from './tokens/tokens';
/** `auth.tokens`: verify a token as the kit does, issue tokens for custom endpoints and tests. */
export type { TokenApi } from './tokens/service';
export type { TokenPair } from './tokens/issuer';
/** Token stores: the `TokenStore` interface, `assertStore()`, and `MemoryStore`, `SqliteStore`, `RedisStore`, `PostgresStore`. */
export * from './stores';
/** Declaration merging for `req.auth`'s custom claims. */
export type { AuthenticatedRequest, CustomClaims } from './http/express-types';

/** Structured events (`auth.events`) and the optional Prometheus exporter. */
export { KitEvents, type KitEventMap, type KitEventName } from './events';
export { prometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from './metrics';
