import type { Request } from 'express';
import type { Config } from '../config/resolve';
import {
  SessionLimitError,
  StoreUnavailableError,
  TOKEN_MESSAGES,
  TokenError,
} from '../errors';
import { describeError } from '../http/respond';
import type { Awaitable, SessionInfo, TokenRecord } from '../stores/types';
import type { TokenClaims } from './codec';
import type { TokenPair, TokenService } from './service';
import { REFRESH_EXP_CLAIM, type IssuedToken } from './tokens';
import { isThenable } from '../util';
import { createLifetimeSettings, NEVER_EXPIRES, storeExpiry, type Lifetimes } from './lifetimes';


const MAX_USER_AGENT = 256;

/** What a session start or refresh learns about the client. */
function clientOf(req: Request | undefined): { userAgent?: string; ip?: string } {
  if (!req) return {};
  const agent = req.headers['user-agent'];
  const out: { userAgent?: string; ip?: string } = {};
  if (typeof agent === 'string' && agent !== '') out.userAgent = agent.slice(0, MAX_USER_AGENT);
  if (req.ip) out.ip = req.ip;
  return out;
}

/**
 * Sessions on top of the token store: recording logins, rotation with reuse detection, logout, "log out
 * everywhere", the per-user cap, and the revocation check `verify()` runs. Every store call is bounded by
 * `storeTimeoutMs`; a store that fails or times out makes the operation answer 503 and issue nothing (fail
 * closed), and the next call tries the store again (recovery needs nothing).
 */
export function createSessionManager(config: Config, tokens: TokenService) {
  const { store, storeTimeoutMs, logger } = config;
  const jtiClaim = config.claims.jti;
  const blacklisted = () => new TokenError(TOKEN_MESSAGES.blacklisted);
  let lastFailureLog = 0;

  function unavailable(err: unknown): StoreUnavailableError {
    const now = Date.now();
    if (now - lastFailureLog > 10_000) {
      lastFailureLog = now;
      logger.error(`[express-simplejwt] token store unavailable: ${describeError(err)}`);
    }
    return new StoreUnavailableError(err);
  }

  /** Runs one store operation, synchronously when the store is synchronous, else bounded by the timeout. */
  function guard<T>(operation: () => Awaitable<T>): T | Promise<T> {
    let result: Awaitable<T>;
    try {
      result = operation();
    } catch (err) {
      throw unavailable(err);
    }
    if (!isThenable(result)) return result;
    const pending = result;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(unavailable(new Error(`no answer within ${storeTimeoutMs} ms`))), storeTimeoutMs);
      timer.unref?.();
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(unavailable(err));
        },
      );
    });
  }

  /** The lifetimes shared through the store (the admin router changes them); read at each issue. */
  const lifetimes = createLifetimeSettings({
    defaults: config.lifetimes,
    allowNever: config.allowNonExpiring,
    logger,
    getSetting: (name) => guard(() => store.getSetting(name)),
    setSetting: (name, value) => guard(() => store.setSetting(name, value)),
  });

  function jtiOf(claims: TokenClaims): string {
    return claims[jtiClaim] as string;
  }

  function isSliding(claims: TokenClaims): boolean {
    return claims[config.claims.tokenType] === 'sliding';
  }

  /**
   * When a session token stops being usable, as the store keeps it: a refresh token's `exp`, a sliding token's
   * `refresh_exp` (it is refreshable past its `exp`); `NEVER_EXPIRES` for a token without one.
   */
  function sessionExpiry(claims: TokenClaims): number {
    return storeExpiry(isSliding(claims) ? claims[REFRESH_EXP_CLAIM] : claims.exp);
  }

  function userIdOf(claims: TokenClaims): string {
    return tokens.userIdOf(claims) ?? '';
  }

  /**
   * The `Token is blacklisted` check: jti, session or user revoked. Synchronous with a synchronous store.
   * A token without a `jti` is left to the claim checks (`Token has no id`).
   */
  function revocationCheck(claims: TokenClaims): void | Promise<void> {
    const jti = claims[jtiClaim];
    if (typeof jti !== 'string') return;
    const iat = typeof claims.iat === 'number' ? claims.iat : 0;
    const revoked = guard(() => store.isRevoked(jti, userIdOf(claims), iat));
    if (isThenable(revoked)) {
      return revoked.then((value) => {
        if (value) throw blacklisted();
      });
    }
    if (revoked) throw blacklisted();
  }

  function recordOf(token: IssuedToken, familyId: string, sessionStartedAt: number, sessionExpiresAt: number, req?: Request): TokenRecord {
    const { claims } = token;
    return {
      jti: jtiOf(claims),
      userId: userIdOf(claims),
      familyId,
      type: String(claims[config.claims.tokenType]),
      issuedAt: claims.iat as number,
      expiresAt: sessionExpiry(claims),
      sessionStartedAt,
      sessionExpiresAt,
      ...clientOf(req),
    };
  }

  /** Records the access token too when access-token revocation is on, so ending its session ends it. */
  async function recordAccess(access: IssuedToken, familyId: string, sessionExpiresAt: number): Promise<void> {
    if (!config.revokeAccessTokens) return;
    await guard(() => store.record(recordOf(access, familyId, access.claims.iat as number, sessionExpiresAt)));
  }

  /** Enforces the per-user cap, then records a login's refresh token as a new session. */
  async function startSession(pair: TokenPair, req: Request): Promise<void> {
    await begin(pair.refresh, req, pair.access);
  }

  /** The same for a sliding login: the sliding token is the session, revocable like a refresh token. */
  async function startSlidingSession(sliding: IssuedToken, req: Request): Promise<void> {
    await begin(sliding, req, undefined);
  }

  async function begin(refresh: IssuedToken, req: Request, access: IssuedToken | undefined): Promise<void> {
    const userId = userIdOf(refresh.claims);
    const live = await guard(() => store.sessions(userId, tokens.now()));
    const excess = live.length - config.maxSessionsPerUser + 1;
    if (excess > 0) {
      if (config.sessionLimitPolicy === 'refuse') throw new SessionLimitError();
      for (const session of live.slice(0, excess)) {
        await guard(() => store.revokeFamily(session.id, session.expiresAt));
      }
    }
    const familyId = jtiOf(refresh.claims);
    const exp = sessionExpiry(refresh.claims);
    await guard(() => store.record(recordOf(refresh, familyId, refresh.claims.iat as number, exp, req)));
    if (access) await recordAccess(access, familyId, exp);
  }

  /**
   * Refresh with rotation: the presented token is consumed atomically (exactly one of N concurrent refreshes
   * wins), its successor keeps the session and never outlives it; a token presented again after its
   * rotation revokes the whole session (reuse detection) unless within `reuseInterval`.
   */
  async function rotate(
    claims: TokenClaims,
    req: Request,
    current: Pick<Lifetimes, 'access' | 'refresh'> = config.lifetimes,
  ): Promise<{ access: IssuedToken; refresh: IssuedToken }> {
    const jti = jtiOf(claims);
    const exp = storeExpiry(claims.exp);
    // Rotation never extends a session: the successor expires when the presented token does, at the latest.
    const lifetime = Math.min(current.refresh, typeof claims.exp === 'number' ? claims.exp - tokens.now() : Infinity);
    const successor = tokens.rotate(claims, lifetime);
    const access = tokens.accessFrom(successor.claims, current.access);
    let familyId = await guard(() => store.familyOf(jti));
    if (familyId === undefined) {
      // Issued before this store knew it (another store, a restart of a memory store, simplejwt): adopt it.
      familyId = jti;
      await guard(() => store.record({ ...recordOf({ token: '', claims }, jti, claims.iat as number, exp, req) }));
    }
    if (!config.blacklistAfterRotation) {
      await guard(() => store.record(recordOf(successor, familyId, claims.iat as number, exp, req)));
      await recordAccess(access, familyId, exp);
      return { access, refresh: successor };
    }
    const now = tokens.now();
    const result = await guard(() => store.consume(jti, now, recordOf(successor, familyId, claims.iat as number, exp, req)));
    if (result.status === 'ok') {
      await recordAccess(access, familyId, exp);
      return { access, refresh: successor };
    }
    if (result.status === 'reused') {
      if (config.reuseInterval > 0 && now - result.rotatedAt <= config.reuseInterval) {
        await guard(() => store.record(recordOf(successor, result.record.familyId, result.record.sessionStartedAt, exp, req)));
        await recordAccess(access, result.record.familyId, exp);
        return { access, refresh: successor };
      }
      if (config.reuseDetection) await reuseDetected(claims, result.record, result.rotatedAt, req);
    }
    throw blacklisted();
  }

  async function reuseDetected(claims: TokenClaims, record: TokenRecord, rotatedAt: number, req: Request): Promise<void> {
    await guard(() => store.revokeFamily(record.familyId, record.sessionExpiresAt));
    const event = { jti: jtiOf(claims), userId: record.userId, familyId: record.familyId, rotatedAt, ...clientOf(req) };
    logger.warn(
      `[express-simplejwt] TOKEN_REUSE: a rotated refresh token of user ${JSON.stringify(event.userId)} was presented again ` +
        `from ${event.ip ?? 'an unknown address'}; its session was revoked`,
    );
    if (config.onTokenReuse) {
      try {
        await config.onTokenReuse({ ip: undefined, userAgent: undefined, ...event });
      } catch (err) {
        logger.error(`[express-simplejwt] onTokenReuse threw: ${describeError(err)}`);
      }
    }
  }

  /** Without rotation: a new access token, recorded in the session when access tokens are revocable. */
  async function refreshAccess(claims: TokenClaims, lifetime = config.lifetimes.access): Promise<IssuedToken> {
    const access = tokens.accessFrom(claims, lifetime);
    if (config.revokeAccessTokens) {
      const jti = jtiOf(claims);
      const familyId = (await guard(() => store.familyOf(jti))) ?? jti;
      await recordAccess(access, familyId, storeExpiry(claims.exp));
    }
    return access;
  }

  /**
   * A sliding refresh: the same token with a new `exp` (same `jti`, so its session record and any revocation
   * keep applying). A sliding token the store does not know yet (issued before the store was set up) is adopted.
   */
  async function slide(claims: TokenClaims, req: Request, lifetime = config.lifetimes.sliding): Promise<IssuedToken> {
    const jti = jtiOf(claims);
    if ((await guard(() => store.familyOf(jti))) === undefined) {
      const exp = sessionExpiry(claims);
      await guard(() => store.record(recordOf({ token: '', claims }, jti, claims.iat as number, exp, req)));
    }
    return tokens.slide(claims, lifetime);
  }

  /** Logout: the presented refresh (or sliding) token and its whole session are revoked. */
  async function logout(claims: TokenClaims): Promise<void> {
    const jti = jtiOf(claims);
    const exp = sessionExpiry(claims);
    const familyId = (await guard(() => store.familyOf(jti))) ?? jti;
    await guard(() => store.revoke(jti, exp));
    await guard(() => store.revokeFamily(familyId, exp));
  }

  /** Ends every session of a user and every token issued to them until now ("log out everywhere"). */
  async function revokeUser(userId: string): Promise<void> {
    const now = tokens.now();
    for (const session of await guard(() => store.sessions(userId, now))) {
      await guard(() => store.revokeFamily(session.id, session.expiresAt));
    }
    // Kept as long as any token issued so far may live: the longest lifetime ever in use (for ever: the sentinel).
    const retain = await lifetimes.retainSeconds();
    await guard(() => store.revokeUser(userId, now, Number.isFinite(retain) ? retain : NEVER_EXPIRES - now));
  }

  /** A user's live sessions. */
  async function sessions(userId: string): Promise<SessionInfo[]> {
    return guard(() => store.sessions(userId, tokens.now()));
  }

  /** Ends one of the user's sessions; `false` when the user has no such live session. */
  async function endSession(userId: string, sessionId: string): Promise<boolean> {
    const session = (await sessions(userId)).find((s) => s.id === sessionId);
    if (!session) return false;
    await guard(() => store.revokeFamily(session.id, session.expiresAt));
    return true;
  }

  return {
    revocationCheck,
    startSession,
    startSlidingSession,
    rotate,
    refreshAccess,
    slide,
    logout,
    revokeUser,
    sessions,
    endSession,
    guard,
    lifetimes,
  };
}

export type SessionManager = ReturnType<typeof createSessionManager>;
