import type { Config } from '../config/resolve';
import { createCodec, type TokenClaims } from './codec';
import { createIssuer, type TokenPair } from './issuer';
import type { Lifetimes } from './lifetimes';
import { createSessionManager } from './sessions';
import { createTokenFactory, type IssuedToken, type TokenType } from './tokens';
import { createVerifier } from './verifier';

/**
 * What `auth.tokens` offers a host: verify a token completely (as `/verify/` does, revocation included), and
 * issue tokens for custom endpoints and tests. Tokens issued here are not recorded as sessions; the token
 * endpoints do that.
 *
 * @example
 * // A token from elsewhere (a query string, a WebSocket message), checked as the kit checks its own:
 * const claims = await auth.tokens.verify(token, 'access'); // throws AuthError (401 token_not_valid)
 *
 * // A pair for a user, in a test or a custom login:
 * const { access, refresh } = auth.tokens.issuePair(auth.tokens.userClaims(user.id, { role: 'admin' }));
 */
export interface TokenApi {
  /**
   * Verifies a token: signature, time claims, revocation, claim presence and, unless `type` is `null`, its type.
   * Synchronous (claims, or a thrown `AuthError`) unless the key comes from a remote JWKS or the store answers
   * asynchronously: then a promise.
   */
  verify(token: string, type: TokenType | null): TokenClaims | Promise<TokenClaims>;
  /** The claims identifying a user: the user id claim (as a string), then `custom` (reserved claim names throw). */
  userClaims(userId: string | number, custom?: Record<string, unknown>): Record<string, unknown>;
  /** A refresh and an access token for `userClaims`, same `iat`, the configured (or given) lifetimes in seconds. */
  issuePair(userClaims: Record<string, unknown>, lifetimes?: Pick<Lifetimes, 'access' | 'refresh'>): TokenPair;
  /** An access token carrying the other claims of `claims` (such as a verified refresh token's), for `lifetime` seconds. */
  accessFrom(claims: TokenClaims, lifetime?: number): IssuedToken;
  /** A sliding token for `userClaims`, with the configured (or given) lifetimes in seconds. */
  issueSliding(userClaims: Record<string, unknown>, lifetimes?: Pick<Lifetimes, 'sliding' | 'slidingRefresh'>): IssuedToken;
  /** `false` in verify-only mode (only a public key, or a remote JWKS): the issuing methods throw 404 `verify_only`. */
  readonly canSign: boolean;
}

/**
 * The token layer of one configuration, built in one direction: the codec (signatures), the claim rules, then
 * the issuer and the session manager on the store, then the verifier, given the session manager's revocation
 * check at construction (it cannot be replaced or switched off afterwards).
 */
export function createTokenService(config: Config) {
  const { audience, issuer: iss } = config;
  const codec = createCodec({ keys: config.keys, leeway: config.leeway, audience, issuer: iss });
  const factory = createTokenFactory(codec, config.claims, { audience, issuer: iss }, config.allowNonExpiring);
  const { clock } = config;
  /** The clock, in whole seconds. */
  const now = (): number => Math.floor(clock() / 1000);
  const issuer = createIssuer(config, codec, factory, now);
  const sessions = createSessionManager(config, issuer);
  const verifier = createVerifier(config, codec, factory, now, sessions.revocationCheck);
  const api: TokenApi = {
    verify: (token, type) => verifier.verify(token, type),
    userClaims: (userId, custom) => issuer.userClaims(userId, custom),
    issuePair: issuer.issuePair,
    accessFrom: issuer.accessFrom,
    issueSliding: issuer.issueSliding,
    canSign: issuer.canSign,
  };
  return { issuer, verifier, sessions, api: Object.freeze(api) };
}

export type TokenService = ReturnType<typeof createTokenService>;
