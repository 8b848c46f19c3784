import type { AuthTokenClass } from '../config/options';
import type { Config } from '../config/resolve';
import { AuthError, InvalidTokenError, tokenError, internalError, TOKEN_MESSAGES, NO_ACTIVE_ACCOUNT_FOR_TOKEN, type TokenClassMessage } from '../errors';
import { isThenable } from '../util';
import type { Codec, DecodedToken, TokenClaims } from './codec';
import { credentialsChangedSince, REFRESH_EXP_CLAIM, type TokenFactory, type TokenType } from './tokens';

/**
 * The revocation step (where simplejwt answers `Token is blacklisted`): the session manager's store check, given
 * to the verifier when it is built. Returns `undefined` when it can answer at once, else a promise; it throws or
 * rejects with a `token_not_valid` `AuthError`.
 */
export type RevocationCheck = (claims: TokenClaims) => void | Promise<void>;

/** The session token types a refresh or a logout accepts. */
export type SessionTokenType = 'refresh' | 'sliding';

/** How the entries of `authenticate()`'s 401 `messages` name each token class (simplejwt's class names). */
export const TOKEN_CLASS_LABELS = {
  access: { token_class: 'AccessToken', token_type: 'access' },
  sliding: { token_class: 'SlidingToken', token_type: 'sliding' },
} as const satisfies Record<AuthTokenClass, Omit<TokenClassMessage, 'message'>>;

/**
 * How the user step answers, per caller: `authenticate()` names each failure (simplejwt's `JWTAuthentication`),
 * a refresh answers `No active account found for the given token.` (simplejwt's `TokenRefreshSerializer`) and
 * skips a token without a user id, as simplejwt does.
 */
export interface UserStep {
  /** A token without the user id claim; `undefined`: no user to check, the step passes. */
  noId: (() => AuthError) | undefined;
  /** An unusable id, or no such user. */
  missing: () => AuthError;
  inactive: () => AuthError;
  /** What an error thrown by a host callback becomes. */
  hostError: (err: unknown) => unknown;
}

/** `authenticate()`'s user step: simplejwt's messages; a host callback's error goes on as is. */
export const REQUEST_USER: UserStep = {
  noId: () => new AuthError('token_not_valid', { detail: TOKEN_MESSAGES.noUserId }),
  missing: () => new AuthError('user_not_found'),
  inactive: () => new AuthError('user_inactive'),
  hostError: (err) => err,
};

/** A refresh's user step: one message for every failure; a host callback's error becomes a generic 500. */
export const SESSION_USER: UserStep = {
  noId: undefined,
  missing: () => new AuthError('no_active_account', { detail: NO_ACTIVE_ACCOUNT_FOR_TOKEN }),
  inactive: () => new AuthError('no_active_account', { detail: NO_ACTIVE_ACCOUNT_FOR_TOKEN }),
  hostError: (err) => (err instanceof AuthError ? err : internalError(err)),
};

function isTokenError(err: unknown): err is AuthError {
  return err instanceof AuthError && err.code === 'token_not_valid';
}

/**
 * The one token check, in simplejwt's order: decode (shape, signature, header, time claims: the codec), then the
 * claims (`exp`, `jti`), the type, revocation and the user (exists, active, credentials unchanged). Each caller
 * asks for the steps it needs: `/verify/` stops before the user, a refresh leaves revocation to the store's
 * rotation (checked there atomically), `authenticate()` tries each accepted token class. Synchronous unless a key
 * comes from a remote JWKS, the revocation store or the user look-up answers later.
 */
export function createVerifier(config: Config, codec: Codec, factory: TokenFactory, now: () => number, revocation: RevocationCheck) {
  const { leeway, allowNonExpiring, findUserById, isUserActive, getCredentialsChangedAt } = config;
  const tokenTypeClaim = config.claims.tokenType;
  /** simplejwt's AUTH_TOKEN_CLASSES: sliding tokens are session tokens, so their revocation is always checked. */
  const classes = config.authTokenClasses.map((type) => ({
    type,
    label: TOKEN_CLASS_LABELS[type],
    checkRevocation: type === 'sliding' || config.revokeAccessTokens,
  }));

  /** Whether any accepted class asks the store, so `authenticate()` makes no per-request closure when none does. */
  const anyClassRevocable = classes.some((c) => c.checkRevocation);

  /** Revocation (`revoked`: this request's one store answer, or none), then the claim checks, after signature and expiry. */
  function checked(claims: TokenClaims, expected: TokenType | null, revoked: (() => void | Promise<void>) | undefined): TokenClaims | Promise<TokenClaims> {
    const pending = revoked?.();
    if (pending === undefined) {
      factory.checkClaims(claims, expected);
      return claims;
    }
    return pending.then(() => {
      factory.checkClaims(claims, expected);
      return claims;
    });
  }

  /**
   * Verifies a token up to the user: signature, time claims, revocation, claim presence and type (`expected` null
   * skips the type check, as `/verify/` does). `checkRevocation` false skips the store.
   */
  function verify(token: string, expected: TokenType | null, checkRevocation = true): TokenClaims | Promise<TokenClaims> {
    const decoded = codec.decode(token, now());
    if (isThenable(decoded)) return Promise.resolve(decoded).then(({ claims }) => checked(claims, expected, checkRevocation ? () => revocation(claims) : undefined));
    return checked(decoded.claims, expected, checkRevocation ? () => revocation(decoded.claims) : undefined);
  }

  /**
   * Verifies a token that keeps a session alive: a refresh token (by its `exp`) or, when `types` includes
   * `'sliding'`, a sliding token, which is judged by its `refresh_exp` instead: it stays refreshable (and can be
   * logged out) after its `exp`, as simplejwt's documentation promises (its issue #154), until `refresh_exp`.
   * The first type in `types` is the one a token of any other type is "wrong" for.
   */
  function verifySession(token: string, types: readonly SessionTokenType[], checkRevocation = true): TokenClaims | Promise<TokenClaims> {
    const finish = ({ claims }: DecodedToken): TokenClaims | Promise<TokenClaims> => {
      const sliding = types.includes('sliding') && claims[tokenTypeClaim] === 'sliding';
      const at = now();
      if (sliding) {
        const refreshExp = claims[REFRESH_EXP_CLAIM];
        if (refreshExp !== undefined && !Number.isSafeInteger(refreshExp)) throw tokenError(TOKEN_MESSAGES.invalid);
        if (typeof refreshExp === 'number' && refreshExp <= at - leeway) throw tokenError(TOKEN_MESSAGES.refreshExpired);
      } else if (typeof claims.exp === 'number' && claims.exp <= at - leeway) {
        throw tokenError(TOKEN_MESSAGES.expired);
      }
      const result = checked(claims, sliding ? 'sliding' : types[0]!, checkRevocation ? () => revocation(claims) : undefined);
      const last = (c: TokenClaims): TokenClaims => {
        if (sliding && c[REFRESH_EXP_CLAIM] === undefined && !allowNonExpiring) throw tokenError(TOKEN_MESSAGES.noRefreshExp);
        return c;
      };
      return isThenable(result) ? Promise.resolve(result).then(last) : last(result);
    };
    const decoded = codec.decode(token, now(), false);
    return isThenable(decoded) ? Promise.resolve(decoded).then(finish) : finish(decoded);
  }

  /** Every class failed the same way (bad signature, expired): one entry each, as simplejwt lists them. */
  function allFailed(err: unknown): unknown {
    return isTokenError(err) ? new InvalidTokenError(classes.map((c) => ({ ...c.label, message: err.message })), err) : err;
  }

  /**
   * The store's answer for `claims`, asked at most once per request however many classes check revocation (the
   * answer depends on the claims alone): a sliding token tried as an access token first costs one look-up, not two.
   */
  function revokedOnce(claims: TokenClaims): () => void | Promise<void> {
    let answer: { value: void | Promise<void> } | { error: unknown } | undefined;
    return () => {
      if (answer === undefined) {
        try {
          answer = { value: revocation(claims) };
        } catch (error) {
          answer = { error };
        }
      }
      if ('error' in answer) throw answer.error;
      return answer.value;
    };
  }

  /** Tries the classes from `index` on; the first that accepts the token wins, else one message per class. */
  function tryClasses(
    claims: TokenClaims,
    index: number,
    messages: TokenClassMessage[],
    revoked = anyClassRevocable ? revokedOnce(claims) : undefined,
  ): TokenClaims | Promise<TokenClaims> {
    for (let i = index; i < classes.length; i++) {
      const c = classes[i]!;
      let result: TokenClaims | Promise<TokenClaims>;
      try {
        result = checked(claims, c.type, c.checkRevocation ? revoked : undefined);
      } catch (err) {
        if (!isTokenError(err)) throw err;
        messages.push({ ...c.label, message: err.message });
        continue;
      }
      if (!isThenable(result)) return result;
      return Promise.resolve(result).catch((err: unknown) => {
        if (!isTokenError(err)) throw err;
        messages.push({ ...c.label, message: err.message });
        return tryClasses(claims, i + 1, messages, revoked);
      });
    }
    throw new InvalidTokenError(messages);
  }

  /**
   * `authenticate()`'s check up to the user: decode once, then each accepted token class (`authTokenClasses`) in
   * order; a failure lists one message per class.
   */
  function verifyRequest(token: string): TokenClaims | Promise<TokenClaims> {
    let decoded;
    try {
      decoded = codec.decode(token, now());
    } catch (err) {
      throw allFailed(err);
    }
    if (isThenable(decoded)) {
      return Promise.resolve(decoded).then(
        (d) => tryClasses(d.claims, 0, []),
        (err: unknown) => {
          throw allFailed(err);
        },
      );
    }
    return tryClasses(decoded.claims, 0, []);
  }

  /** The token's user id, as the user step needs it (`undefined`: none, and `step` lets that pass). */
  function userId(claims: TokenClaims, step: UserStep): string | undefined {
    const id = factory.userIdOf(claims);
    if (id === undefined) {
      if (step.noId) throw step.noId();
      return undefined;
    }
    if (id === null) throw step.missing();
    return id;
  }

  /**
   * The user step: the token's user exists, is active and has not changed credentials since the token's session
   * began. Returns the user (`undefined` when `step.noId` lets a token without a user id pass); synchronous when
   * `findUserById` is.
   */
  function user(claims: TokenClaims, step: UserStep): unknown {
    const id = userId(claims, step);
    if (id === undefined) return undefined;
    let found;
    try {
      found = findUserById(id);
    } catch (err) {
      throw step.hostError(err);
    }
    if (!isThenable(found)) return userChecked(found, claims, step);
    return Promise.resolve(found).then(
      (value) => userChecked(value, claims, step),
      (err: unknown) => {
        throw step.hostError(err);
      },
    );
  }

  function userChecked(found: unknown, claims: TokenClaims, step: UserStep): unknown {
    if (found === null || found === undefined) throw step.missing();
    let active: boolean;
    let changed = false;
    try {
      active = isUserActive(found);
      if (active && getCredentialsChangedAt) changed = credentialsChangedSince(getCredentialsChangedAt(found), claims);
    } catch (err) {
      throw step.hostError(err);
    }
    if (!active) throw step.inactive();
    if (changed) throw new AuthError('password_changed');
    return found;
  }

  /** A session token (`verifySession`) whose user still passes (`SESSION_USER`): what a refresh accepts. */
  async function verifyLive(token: string, types: readonly SessionTokenType[], checkRevocation: boolean): Promise<TokenClaims> {
    const claims = await verifySession(token, types, checkRevocation);
    await user(claims, SESSION_USER);
    return claims;
  }

  return { verify, verifySession, verifyRequest, verifyLive, user, userId };
}

export type Verifier = ReturnType<typeof createVerifier>;
