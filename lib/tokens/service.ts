import type { Config } from '../config/resolve';
import { createCodec, type TokenClaims } from './codec';
import { createTokenFactory, type IssuedToken, type TokenType } from './tokens';

/** The tokens of one login: simplejwt's pair. */
export interface TokenPair {
  refresh: IssuedToken;
  access: IssuedToken;
}

/**
 * A check run after signature and expiry and before the claim checks (WIRE.md's `Token is blacklisted` slot).
 * Returns `undefined` when it can answer at once, else a promise; it throws or rejects with a `TokenError`.
 */
export type RevocationCheck = (claims: TokenClaims, expected: TokenType | null) => void | Promise<void>;

/**
 * Everything about tokens, bound to one configuration: issue pairs, derive access tokens, verify.
 */
export function createTokenService(config: Config) {
  const { audience, issuer } = config;
  const codec = createCodec({ keys: config.keys, leeway: config.leeway, audience, issuer });
  const factory = createTokenFactory(codec, config.claims, { audience, issuer });
  const { clock, accessLifetime, refreshLifetime } = config;
  let revocation: RevocationCheck | undefined;

  /** The clock, in whole seconds. */
  function now(): number {
    return Math.floor(clock() / 1000);
  }

  /**
   * Verifies a token completely: signature, time claims, revocation, claim presence and type (`expected` null
   * skips the type check, as verify does). Synchronous unless the key comes from a remote JWKS or a revocation
   * check has to wait. `checkRevocation` false skips the store (access tokens, unless `revokeAccessTokens`).
   */
  function verify(token: string, expected: TokenType | null, checkRevocation = true): TokenClaims | Promise<TokenClaims> {
    const decoded = codec.decode(token, now());
    if (decoded instanceof Promise) return decoded.then(({ claims }) => checked(claims, expected, checkRevocation));
    return checked(decoded.claims, expected, checkRevocation);
  }

  /** Revocation, then the claim checks, after signature and expiry. */
  function checked(claims: TokenClaims, expected: TokenType | null, checkRevocation: boolean): TokenClaims | Promise<TokenClaims> {
    const pending = checkRevocation ? revocation?.(claims, expected) : undefined;
    if (pending === undefined) {
      factory.checkClaims(claims, expected);
      return claims;
    }
    return pending.then(() => {
      factory.checkClaims(claims, expected);
      return claims;
    });
  }

  /** A refresh + access pair for a user's claims (`user_id` and custom claims); same `iat`, different `jti`s. */
  function issuePair(userClaims: Record<string, unknown>): TokenPair {
    const at = now();
    const refresh = factory.issue('refresh', at, refreshLifetime, userClaims);
    const access = factory.issue('access', at, accessLifetime, refresh.claims);
    return { refresh, access };
  }

  /** A new access token carrying every other claim of a verified refresh token. */
  function accessFrom(refreshClaims: TokenClaims): IssuedToken {
    return factory.issue('access', now(), accessLifetime, refreshClaims);
  }

  /** The rotated refresh token: the old payload with a new `jti`, `iat` and `exp`. */
  function rotate(refreshClaims: TokenClaims, lifetime = refreshLifetime): IssuedToken {
    return factory.issue('refresh', now(), lifetime, refreshClaims);
  }

  return {
    verify,
    /** `false` in verify-only mode (only a public key, or a remote JWKS): issuing throws `VerifyOnlyError`. */
    canSign: codec.canSign,
    issuePair,
    accessFrom,
    rotate,
    now,
    userClaims: factory.userClaims,
    userIdOf: factory.userIdOf,
    claimNames: factory.names,
    /** Installs the revocation check (the token store's), once. */
    setRevocationCheck(check: RevocationCheck): void {
      revocation = check;
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
