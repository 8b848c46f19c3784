import { randomUUID } from 'node:crypto';
import { tokenError, TOKEN_MESSAGES } from '../errors';
import type { Codec, TokenClaims } from './codec';

/**
 * The token types simplejwt knows.
 *
 * @example
 * const type: TokenType = 'refresh';
 * const claims = await auth.tokens.verify(token, type); // 401 'Token has wrong type' for an access token
 */
export type TokenType = 'access' | 'refresh' | 'sliding';

/** Claim names, configurable as in simplejwt (`USER_ID_CLAIM`, `TOKEN_TYPE_CLAIM`, `JTI_CLAIM`). */
export interface ClaimNames {
  userId: string;
  tokenType: string;
  jti: string;
}

/**
 * A freshly signed token with its claims.
 *
 * @example
 * const { token, claims }: IssuedToken = auth.tokens.accessFrom(auth.tokens.userClaims(1));
 * claims.exp; // iat + accessTokenLifetime
 */
export interface IssuedToken {
  token: string;
  claims: TokenClaims;
}

/** Claims the kit sets itself; custom claims may not use them. */
const RESERVED = new Set(['exp', 'iat', 'nbf', 'aud', 'iss', 'sub', 'refresh_exp']);
/** Claims that are never copied from a refresh token into a new token. */
const NOT_COPIED = new Set(['exp', 'iat', 'nbf', 'aud', 'iss', '__proto__']);

/**
 * With `getCredentialsChangedAt`: the user's last credential change (epoch ms, or `null` for never) as it was when
 * the session began. Written after the user id, carried through refresh, rotation and sliding like any user claim,
 * and compared exactly with the user's current value, so a change ends the session whatever second it falls in
 * (simplejwt's `CHECK_REVOKE_TOKEN` / `REVOKE_TOKEN_CLAIM`, with a time instead of a password digest).
 */
export const CREDENTIALS_CLAIM = 'credentials_changed_at';

/** The sliding token's hard end (simplejwt's `SLIDING_TOKEN_REFRESH_EXP_CLAIM`): refreshable until then, never moved. */
export const REFRESH_EXP_CLAIM = 'refresh_exp';

/**
 * A `getCredentialsChangedAt` answer as epoch milliseconds, or `null` (never changed, or not a usable time).
 *
 * @example
 * credentialsVersion(new Date('2026-01-01T00:00:00.250Z')) // 1767225600250
 */
export function credentialsVersion(changedAt: Date | number | null | undefined): number | null {
  if (changedAt === null || changedAt === undefined) return null;
  const ms = changedAt instanceof Date ? changedAt.getTime() : changedAt;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : null;
}

/**
 * Whether the user's credentials changed since the token's session began. A token carrying `CREDENTIALS_CLAIM`
 * (every token the kit mints with `getCredentialsChangedAt`) is compared exactly, so a change ends it even in the
 * second it was issued. A token without it (minted before the option, or by simplejwt) is refused when issued in
 * the change's second or before: `iat` has one-second resolution, so it cannot tell which came first. A token
 * without `iat` predates any change.
 */
export function credentialsChangedSince(changedAt: Date | number | null | undefined, claims: TokenClaims): boolean {
  const current = credentialsVersion(changedAt);
  if (Object.prototype.hasOwnProperty.call(claims, CREDENTIALS_CLAIM)) return claims[CREDENTIALS_CLAIM] !== current;
  if (current === null) return false;
  const iat = typeof claims.iat === 'number' ? claims.iat : 0;
  return iat <= Math.floor(current / 1000);
}

/** What `issue()` may set beyond the defaults. */
export interface IssueExtras {
  /** Keep this `jti` (a sliding refresh keeps the token's identity, as simplejwt does). Default: a new one. */
  jti?: string;
  /** `refresh_exp`, written right after `jti` (sliding tokens); `Infinity` writes none. */
  refreshExp?: number;
  /** `exp` never later than this (a sliding token's `exp` never passes its `refresh_exp`). */
  expNotAfter?: number;
}

/** 32 lowercase hex digits: a uuid4 without dashes, as simplejwt's `jti`. */
export function newJti(): string {
  const id = randomUUID();
  return id.slice(0, 8) + id.slice(9, 13) + id.slice(14, 18) + id.slice(19, 23) + id.slice(24);
}

/** The registered claims written at the end of every token when configured (simplejwt's `AUDIENCE`, `ISSUER`). */
export interface RegisteredClaims {
  audience?: string | readonly string[];
  issuer?: string;
}

/**
 * Builds and checks tokens with exactly simplejwt's claims and claim order:
 * `token_type`, `exp`, `iat`, `jti`, then `user_id` (a string), then custom claims, then `aud` and `iss` when
 * configured.
 */
export function createTokenFactory(codec: Codec, names: ClaimNames, registered: RegisteredClaims = {}, allowNoExp = false) {
  const audience = Array.isArray(registered.audience) ? [...registered.audience] : registered.audience;
  const { issuer } = registered;
  const reserved = new Set([...RESERVED, names.userId, names.tokenType, names.jti]);
  const notCopied = new Set([...NOT_COPIED, names.tokenType, names.jti]);

  /**
   * Signs a new token of `type`; `rest` holds the user id and custom claims, in order. A `lifetime` of
   * `Infinity` writes no `exp` (only reachable with `dangerouslyAllowNonExpiringTokens`).
   */
  function issue(type: TokenType, now: number, lifetime: number, rest: Record<string, unknown>, extras: IssueExtras = {}): IssuedToken {
    const claims: TokenClaims = {};
    claims[names.tokenType] = type;
    const exp = Math.min(now + lifetime, extras.expNotAfter ?? Infinity);
    if (Number.isFinite(exp)) claims.exp = exp;
    claims.iat = now;
    claims[names.jti] = extras.jti ?? newJti();
    if (extras.refreshExp !== undefined && Number.isFinite(extras.refreshExp)) claims[REFRESH_EXP_CLAIM] = extras.refreshExp;
    for (const key of Object.keys(rest)) {
      if (!notCopied.has(key)) claims[key] = rest[key];
    }
    if (audience !== undefined) claims.aud = audience;
    if (issuer !== undefined) claims.iss = issuer;
    return { token: codec.sign(claims), claims };
  }

  /**
   * The user id claim, the credentials claim (when `credentials` is given: see `CREDENTIALS_CLAIM`) and the user's
   * custom claims, in that order; reserved names are refused.
   */
  function userClaims(userId: string | number, custom: Record<string, unknown> | undefined, credentials?: number | null): Record<string, unknown> {
    const out: Record<string, unknown> = { [names.userId]: String(userId) };
    if (credentials !== undefined) out[CREDENTIALS_CLAIM] = credentials;
    if (custom) {
      for (const key of Object.keys(custom)) {
        if (reserved.has(key) || key === '__proto__' || (credentials !== undefined && key === CREDENTIALS_CLAIM)) {
          throw new TypeError(`"customClaims" may not set the reserved claim "${key}"`);
        }
        out[key] = custom[key];
      }
    }
    return out;
  }

  /**
   * The checks after signature and expiry, in simplejwt's order: no `exp`, no id, no type, wrong type.
   * `expected` is `null` for verify, which accepts any type.
   */
  function checkClaims(claims: TokenClaims, expected: TokenType | null): void {
    if (claims.exp === undefined && !allowNoExp) throw tokenError(TOKEN_MESSAGES.noExp);
    // A jti that is not a non-empty string is no id: it could be neither revoked nor looked up in a store.
    const jti = claims[names.jti];
    if (typeof jti !== 'string' || jti === '') throw tokenError(TOKEN_MESSAGES.noId);
    if (expected === null) return;
    const type = claims[names.tokenType];
    if (type === undefined) throw tokenError(TOKEN_MESSAGES.noType);
    if (type !== expected) throw tokenError(TOKEN_MESSAGES.wrongType);
  }

  /** The claim's user id as a string, or `undefined` when it is absent or not a usable id. */
  function userIdOf(claims: TokenClaims): string | undefined | null {
    const value = claims[names.userId];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value.length > 0 && value.length <= 256 ? value : null;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    return null;
  }

  return { issue, userClaims, checkClaims, userIdOf, names };
}

export type TokenFactory = ReturnType<typeof createTokenFactory>;
