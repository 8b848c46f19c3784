import type { Request } from 'express';
import type { Config } from '../config/resolve';
import { AuthError, tokenError, TOKEN_MESSAGES } from '../errors';
import type { Awaitable, NewToken, PresentedToken, Rotation, SessionInfo, SessionStart, TokenRecord } from '../stores/types';
import type { TokenClaims } from './codec';
import type { Issuer, TokenPair } from './issuer';
import { REFRESH_EXP_CLAIM, type IssuedToken } from './tokens';
import { describeError, isThenable } from '../util';
import { createLifetimeSettings, NEVER_EXPIRES, type Lifetimes } from './lifetimes';

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
 * Sessions on top of the token store: logins, rotation with reuse detection, logout, "log out everywhere", the
 * per-user cap, and the revocation check `verify()` runs. Each event is ONE store call, atomic in the store, so
 * a request that fails changes nothing and retrying it behaves as if it had never run. Every store call is bounded by
 * `storeTimeoutMs`; a store that fails or times out makes the operation answer 503 and issue nothing (fail
 * closed), and the next call tries the store again (recovery needs nothing).
 */
export function createSessionManager(config: Config, issuer: Issuer) {
  const { store, storeTimeoutMs, logger, events } = config;
  const jtiClaim = config.claims.jti;
  const blacklisted = () => tokenError(TOKEN_MESSAGES.blacklisted);
  let lastFailureLog = 0;

  function unavailable(err: unknown): AuthError {
    const now = Date.now();
    if (now - lastFailureLog > 10_000) {
      lastFailureLog = now;
      logger.error(`[express-simplejwt] token store unavailable: ${describeError(err)}`);
    }
    return new AuthError('store_unavailable', { cause: err });
  }

  /**
   * Runs one store operation, synchronously when the store is synchronous, else bounded by the timeout. Reports
   * `storeOperation` (and `storeError`) events when someone listens.
   */
  function guard<T>(name: string, operation: () => Awaitable<T>): T | Promise<T> {
    const timed = events.listening('storeOperation');
    const started = timed ? performance.now() : 0;
    const report = (ok: boolean) => {
      if (timed) events.send('storeOperation', { operation: name, durationMs: performance.now() - started, ok });
    };
    const fail = (err: unknown): AuthError => {
      report(false);
      events.send('storeError', { operation: name, message: describeError(err) });
      return unavailable(err);
    };
    let result: Awaitable<T>;
    try {
      result = operation();
    } catch (err) {
      throw fail(err);
    }
    if (!isThenable(result)) {
      report(true);
      return result;
    }
    const pending = result;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(fail(new Error(`no answer within ${storeTimeoutMs} ms`))), storeTimeoutMs);
      timer.unref?.();
      pending.then(
        (value) => {
          clearTimeout(timer);
          report(true);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(fail(err));
        },
      );
    });
  }

  /** The lifetimes shared through the store (the admin router changes them); read at each issue. */
  const lifetimes = createLifetimeSettings({
    defaults: config.lifetimes,
    allowNever: config.allowNonExpiring,
    logger,
    getSetting: (name) => guard('getSetting', () => store.getSetting(name)),
    setSetting: (name, value) => guard('setSetting', () => store.setSetting(name, value)),
  });

  function jtiOf(claims: TokenClaims): string {
    return claims[jtiClaim] as string;
  }

  function isSliding(claims: TokenClaims): boolean {
    return claims[config.claims.tokenType] === 'sliding';
  }

  /** Until when the store keeps what concerns a token: the last second it can verify (its time claim plus leeway). */
  function until(claim: unknown): number {
    return typeof claim === 'number' ? Math.min(claim + config.leeway, NEVER_EXPIRES) : NEVER_EXPIRES;
  }

  /**
   * When a session token stops being usable, as the store keeps it: a refresh token's `exp`, a sliding token's
   * `refresh_exp` (it is refreshable past its `exp`), plus leeway; `NEVER_EXPIRES` for a token without one.
   */
  function sessionExpiry(claims: TokenClaims): number {
    return until(isSliding(claims) ? claims[REFRESH_EXP_CLAIM] : claims.exp);
  }

  function userIdOf(claims: TokenClaims): string {
    return issuer.userIdOf(claims) ?? '';
  }

  function newToken(token: IssuedToken): NewToken {
    const { claims } = token;
    return { jti: jtiOf(claims), type: String(claims[config.claims.tokenType]), issuedAt: claims.iat as number, expiresAt: until(claims.exp) };
  }

  /** The access token as the store records it, when access tokens are revocable. */
  function accessRecord(access: IssuedToken | undefined): NewToken | undefined {
    return access && config.revokeAccessTokens ? newToken(access) : undefined;
  }

  function presented(claims: TokenClaims): PresentedToken {
    return {
      jti: jtiOf(claims),
      userId: userIdOf(claims),
      type: String(claims[config.claims.tokenType]),
      issuedAt: typeof claims.iat === 'number' ? claims.iat : 0,
      expiresAt: sessionExpiry(claims),
    };
  }

  /**
   * The `Token is blacklisted` check: jti, session or user revoked, consumed by rotation, or forgotten by the
   * store. Synchronous with a synchronous store. A token without a `jti` is left to the claim checks.
   */
  function revocationCheck(claims: TokenClaims): void | Promise<void> {
    const jti = claims[jtiClaim];
    if (typeof jti !== 'string') return;
    const type = claims[config.claims.tokenType];
    const recorded = type === 'access' ? config.revokeAccessTokens : type === 'refresh' || type === 'sliding';
    const query = {
      now: issuer.now(),
      jti,
      userId: userIdOf(claims),
      issuedAt: typeof claims.iat === 'number' ? claims.iat : 0,
      // Only an issuer records sessions: a verify-only kit (a public key or a remote JWKS) knows none of them.
      mustBeKnown: recorded && issuer.canSign && !config.adoptUnknownTokens,
    };
    const revoked = guard('isRevoked', () => store.isRevoked(query));
    if (isThenable(revoked)) {
      return revoked.then((value) => {
        if (value) throw blacklisted();
      });
    }
    if (revoked) throw blacklisted();
  }

  /** A login: the per-user cap, the session's token and its access token, in one store step. */
  async function startSession(pair: TokenPair, req: Request): Promise<void> {
    await begin(pair.refresh, req, pair.access);
  }

  /** The same for a sliding login: the sliding token is the session, revocable like a refresh token. */
  async function startSlidingSession(sliding: IssuedToken, req: Request): Promise<void> {
    await begin(sliding, req, undefined);
  }

  async function begin(token: IssuedToken, req: Request, access: IssuedToken | undefined): Promise<void> {
    const { claims } = token;
    const jti = jtiOf(claims);
    const exp = sessionExpiry(claims);
    const session: TokenRecord = {
      jti,
      userId: userIdOf(claims),
      familyId: jti,
      type: String(claims[config.claims.tokenType]),
      issuedAt: claims.iat as number,
      expiresAt: exp,
      sessionStartedAt: claims.iat as number,
      sessionExpiresAt: exp,
      ...clientOf(req),
    };
    const start: SessionStart = {
      now: issuer.now(),
      session,
      maxSessions: config.maxSessionsPerUser,
      whenFull: config.sessionLimitPolicy,
    };
    const recordedAccess = accessRecord(access);
    if (recordedAccess) start.access = recordedAccess;
    const result = await guard('startSession', () => store.startSession(start));
    if (result.status === 'full') throw new AuthError('session_limit');
    events.send('login', { userId: session.userId, sessionId: jti, ip: req.ip });
  }

  /** One `rotate()` store step for a refresh; refuses what the store refuses, reports reuse. */
  async function storeRotate(claims: TokenClaims, req: Request, rotation: Omit<Rotation, 'now' | 'token' | 'reuseInterval' | 'reuseDetection' | 'adoptUnknown'>) {
    const full: Rotation = {
      now: issuer.now(),
      token: presented(claims),
      reuseInterval: config.reuseInterval,
      reuseDetection: config.reuseDetection,
      adoptUnknown: config.adoptUnknownTokens,
      ...clientOf(req),
      ...rotation,
    };
    const result = await guard('rotate', () => store.rotate(full));
    if (result.status === 'reused' && config.reuseDetection) await reuseDetected(claims, result.session.id, result.rotatedAt, req);
    return result;
  }

  /**
   * Refresh with rotation: the presented token is consumed atomically (exactly one of N concurrent refreshes
   * wins), its successor keeps the session and never outlives it; a token presented again after its rotation
   * gets the same successor back within `reuseInterval`, and past it revokes the whole session (reuse detection).
   */
  async function rotate(
    claims: TokenClaims,
    req: Request,
    current: Pick<Lifetimes, 'access' | 'refresh'> = config.lifetimes,
  ): Promise<{ access: IssuedToken; refresh: IssuedToken }> {
    // Rotation never extends a session: the successor expires when the presented token does, at the latest.
    const lifetime = Math.min(current.refresh, typeof claims.exp === 'number' ? claims.exp - issuer.now() : Infinity);
    const successor = issuer.rotate(claims, lifetime);
    const access = issuer.accessFrom(successor.claims, current.access);
    const rotation: Parameters<typeof storeRotate>[2] = { successor: newToken(successor), consume: config.blacklistAfterRotation };
    const recordedAccess = accessRecord(access);
    if (recordedAccess) rotation.access = recordedAccess;
    const result = await storeRotate(claims, req, rotation);
    if (result.status === 'ok') {
      events.send('refresh', { userId: result.session.userId, sessionId: result.session.id, kind: 'rotated' });
      return { access, refresh: successor };
    }
    if (result.status === 'retry') {
      events.send('refresh', { userId: result.session.userId, sessionId: result.session.id, kind: 'retry' });
      // The same successor as the first answer (a client retrying after a lost reply): no second branch.
      const { jti, issuedAt, expiresAt } = result.successor;
      const again = issuer.rotate(claims, expiresAt >= NEVER_EXPIRES ? Infinity : expiresAt - config.leeway - issuedAt, { jti, issuedAt });
      return { access, refresh: again };
    }
    throw blacklisted();
  }

  async function reuseDetected(claims: TokenClaims, familyId: string, rotatedAt: number, req: Request): Promise<void> {
    const event = { jti: jtiOf(claims), userId: userIdOf(claims), familyId, rotatedAt, ...clientOf(req) };
    events.send('tokenReuse', { ip: undefined, userAgent: undefined, ...event });
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
  async function refreshAccess(claims: TokenClaims, req: Request, lifetime = config.lifetimes.access): Promise<IssuedToken> {
    const access = issuer.accessFrom(claims, lifetime);
    const rotation: Parameters<typeof storeRotate>[2] = { consume: false };
    const recordedAccess = accessRecord(access);
    if (recordedAccess) rotation.access = recordedAccess;
    const result = await storeRotate(claims, req, rotation);
    if (result.status !== 'ok') throw blacklisted();
    events.send('refresh', { userId: result.session.userId, sessionId: result.session.id, kind: 'access' });
    return access;
  }

  /**
   * A sliding refresh: the same token with a new `exp` (same `jti`, so its session record and any revocation
   * keep applying), after the store has checked it (and adopted it if it may).
   */
  async function slide(claims: TokenClaims, req: Request, lifetime = config.lifetimes.sliding): Promise<IssuedToken> {
    const result = await storeRotate(claims, req, { consume: false });
    if (result.status !== 'ok') throw blacklisted();
    events.send('refresh', { userId: result.session.userId, sessionId: result.session.id, kind: 'sliding' });
    return issuer.slide(claims, lifetime);
  }

  /** Logout: the presented refresh (or sliding) token and its whole session are revoked, in one store step. */
  async function logout(claims: TokenClaims): Promise<void> {
    await guard('revokeToken', () => store.revokeToken(presented(claims)));
    events.send('logout', { userId: userIdOf(claims), jti: jtiOf(claims) });
  }

  /** Ends every session of a user and every token issued to them until now ("log out everywhere"). */
  async function revokeUser(userId: string): Promise<void> {
    const now = issuer.now();
    // Kept as long as any token issued so far may live: the longest lifetime ever in use (for ever: the sentinel).
    const retain = await lifetimes.retainSeconds();
    const retainUntil = Number.isFinite(retain) ? Math.min(now + retain + config.leeway, NEVER_EXPIRES) : NEVER_EXPIRES;
    await guard('revokeUser', () => store.revokeUser({ userId, before: now, retainUntil }));
    events.send('sessionsEnded', { userId, sessionId: null });
  }

  /** A user's live sessions. */
  async function sessions(userId: string): Promise<SessionInfo[]> {
    return guard('sessions', () => store.sessions(userId, issuer.now()));
  }

  /** Ends one of the user's sessions; `false` when the user has no such live session. */
  async function endSession(userId: string, sessionId: string): Promise<boolean> {
    const ended = await guard('endSession', () => store.endSession(userId, sessionId, issuer.now()));
    if (ended) events.send('sessionsEnded', { userId, sessionId });
    return ended;
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
