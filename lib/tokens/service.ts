import type { Config } from '../config/resolve';
import { TOKEN_MESSAGES, TokenError } from '../errors';
import { isThenable } from '../util';
import { createCodec, type DecodedToken, type TokenClaims } from './codec';
import type { Lifetimes } from './lifetimes';
import { createTokenFactory, REFRESH_EXP_CLAIM, type IssuedToken, type TokenType } from './tokens';

/** The tokens of one login: simplejwt's pair. */
export interface TokenPair {
  refresh: IssuedToken;
  access: IssuedToken;
}

/**
 * A check run after signature and expiry and before the claim checks (where simplejwt answers `Token is blacklisted`).
 * Returns `undefined` when it can answer at once, else a promise; it throws or rejects with a `TokenError`.
 */
export type RevocationCheck = (claims: TokenClaims, expected: TokenType | null) => void | Promise<void>;

/**
 * Everything about tokens, bound to one configuration: issue pairs, derive access tokens, verify.
 */
export function createTokenService(config: Config) {
  const { audience, issuer } = config;
  const codec = createCodec({ keys: config.keys, leeway: config.leeway, audience, issuer });
  const factory = createTokenFactory(codec, config.claims, { audience, issuer }, config.allowNonExpiring);
  const { clock, lifetimes: defaults, leeway, allowNonExpiring } = config;
  const tokenTypeClaim = config.claims.tokenType;
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

  /** The signature and claims of a token, expiry checked unless `checkExp` is false; nothing else. */
  function decode(token: string, checkExp = true): DecodedToken | Promise<DecodedToken> {
    return codec.decode(token, now(), checkExp);
  }

  /**
   * Verifies a token that keeps a session alive: a refresh token (by its `exp`) or, when `types` includes
   * `'sliding'`, a sliding token, which is judged by its `refresh_exp` instead: it stays refreshable (and can be
   * logged out) after its `exp`, as simplejwt's documentation promises (its issue #154), until `refresh_exp`.
   * Checks revocation unless `checkRevocation` is false (a refresh, whose store step checks it in the same
   * atomic step). The first type in `types` is the one a token of any other type is "wrong" for.
   */
  function verifySession(token: string, types: readonly ('refresh' | 'sliding')[], checkRevocation = true): TokenClaims | Promise<TokenClaims> {
    const finish = ({ claims }: DecodedToken): TokenClaims | Promise<TokenClaims> => {
      const sliding = types.includes('sliding') && claims[tokenTypeClaim] === 'sliding';
      const at = now();
      if (sliding) {
        const refreshExp = claims[REFRESH_EXP_CLAIM];
        if (refreshExp !== undefined && !Number.isSafeInteger(refreshExp)) throw new TokenError(TOKEN_MESSAGES.invalid);
        if (typeof refreshExp === 'number' && refreshExp <= at - leeway) throw new TokenError(TOKEN_MESSAGES.refreshExpired);
      } else if (typeof claims.exp === 'number' && claims.exp <= at - leeway) {
        throw new TokenError(TOKEN_MESSAGES.expired);
      }
      const result = checked(claims, sliding ? 'sliding' : types[0]!, checkRevocation);
      const last = (c: TokenClaims): TokenClaims => {
        if (sliding && c[REFRESH_EXP_CLAIM] === undefined && !allowNonExpiring) throw new TokenError(TOKEN_MESSAGES.noRefreshExp);
        return c;
      };
      return isThenable(result) ? Promise.resolve(result).then(last) : last(result);
    };
    const decoded = codec.decode(token, now(), false);
    return decoded instanceof Promise ? decoded.then(finish) : finish(decoded);
  }

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
    verify,
    decode,
    checked,
    verifySession,
    /** `false` in verify-only mode (only a public key, or a remote JWKS): issuing throws `VerifyOnlyError`. */
    canSign: codec.canSign,
    issuePair,
    accessFrom,
    rotate,
    issueSliding,
    slide,
    now,
    userClaims: factory.userClaims,
    userIdOf: factory.userIdOf,
    claimNames: factory.names,
    /** Installs the revocation check (the token store's), once. */
    setRevocationCheck(check: RevocationCheck): void {
      // simpleJwt() installs the store's check; a second call (a host reaching in) could switch revocation off.
      if (revocation !== undefined) throw new TypeError('the revocation check is installed by simpleJwt() and cannot be replaced');
      revocation = check;
    },
  };
}

export type TokenService = ReturnType<typeof createTokenService>;
