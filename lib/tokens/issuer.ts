import type { Config } from '../config/resolve';
import type { Codec, TokenClaims } from './codec';
import type { Lifetimes } from './lifetimes';
import { REFRESH_EXP_CLAIM, type IssuedToken, type TokenFactory } from './tokens';

/**
 * The tokens of one login: simplejwt's pair.
 *
 * @example
 * const { refresh, access }: TokenPair = auth.tokens.issuePair(auth.tokens.userClaims(user.id));
 */
export interface TokenPair {
  refresh: IssuedToken;
  access: IssuedToken;
}

/**
 * Signs tokens with simplejwt's claims, claim order and lifetimes: pairs, access tokens derived from a refresh
 * token, rotated refresh tokens, sliding tokens. Knows nothing of the store: the session manager records what it
 * issues. `now` is the kit's clock in whole seconds.
 */
export function createIssuer(config: Config, codec: Codec, factory: TokenFactory, now: () => number) {
  const defaults = config.lifetimes;

  /** A refresh + access pair for a user's claims (`user_id` and custom claims); same `iat`, different `jti`s. */
  function issuePair(userClaims: Record<string, unknown>, lifetimes: Pick<Lifetimes, 'access' | 'refresh'> = defaults): TokenPair {
    const at = now();
    const refresh = factory.issue('refresh', at, lifetimes.refresh, userClaims);
    const access = factory.issue('access', at, lifetimes.access, refresh.claims);
    return { refresh, access };
  }

  /** A new access token carrying every other claim of a verified refresh token. */
  function accessFrom(refreshClaims: TokenClaims, lifetime = defaults.access): IssuedToken {
    return factory.issue('access', now(), lifetime, refreshClaims);
  }

  /**
   * The rotated refresh token: the old payload with a new `jti`, `iat` and `exp`. With `again`, the successor an
   * earlier rotation issued (its `jti` and `iat`), rebuilt claim for claim.
   */
  function rotate(refreshClaims: TokenClaims, lifetime = defaults.refresh, again?: { jti: string; issuedAt: number }): IssuedToken {
    if (again) return factory.issue('refresh', again.issuedAt, lifetime, refreshClaims, { jti: again.jti });
    return factory.issue('refresh', now(), lifetime, refreshClaims);
  }

  /**
   * A sliding token for a user's claims: `token_type`, `exp`, `iat`, `jti`, `refresh_exp`, `user_id`, custom
   * claims. Its `exp` never passes its `refresh_exp`.
   */
  function issueSliding(userClaims: Record<string, unknown>, lifetimes: Pick<Lifetimes, 'sliding' | 'slidingRefresh'> = defaults): IssuedToken {
    const at = now();
    const refreshExp = at + lifetimes.slidingRefresh;
    return factory.issue('sliding', at, lifetimes.sliding, userClaims, { refreshExp, expNotAfter: refreshExp });
  }

  /**
   * A sliding refresh: the same token (same `jti`, same `refresh_exp`, same claims in the same order) with a new
   * `iat` and `exp`, the `exp` capped at `refresh_exp`, as simplejwt's `set_exp()` / `set_iat()` do.
   */
  function slide(slidingClaims: TokenClaims, lifetime = defaults.sliding): IssuedToken {
    const refreshExp = slidingClaims[REFRESH_EXP_CLAIM];
    return factory.issue('sliding', now(), lifetime, slidingClaims, {
      jti: slidingClaims[config.claims.jti] as string,
      ...(typeof refreshExp === 'number' ? { expNotAfter: refreshExp } : {}),
    });
  }

  return {
    /** `false` in verify-only mode (only a public key, or a remote JWKS): issuing throws 404 `verify_only`. */
    canSign: codec.canSign,
    now,
    issuePair,
    accessFrom,
    rotate,
    issueSliding,
    slide,
    userClaims: factory.userClaims,
    userIdOf: factory.userIdOf,
  };
}

export type Issuer = ReturnType<typeof createIssuer>;
