/**
 * The session events, written once over a store's synchronous primitives. MemoryStore runs them as they are
 * (one synchronous block: atomic), SqliteStore inside one `BEGIN IMMEDIATE` transaction. RedisStore's Lua
 * scripts follow the same steps line by line. Not exported from the package.
 */
import type {
  NewToken,
  PresentedToken,
  RevocationQuery,
  Rotation,
  RotationResult,
  SessionInfo,
  SessionRef,
  SessionStart,
  SessionStartResult,
  TokenRecord,
  UserRevocation,
} from './types';

/** A recorded token and, once consumed by rotation, when and into which successor. */
export interface StoredToken {
  record: TokenRecord;
  rotatedAt: number | undefined;
  rotatedTo: string | undefined;
}

/** What a store provides for the shared operations. Every call happens inside one atomic step. */
export interface Primitives {
  /**
   * When the store's memory began (its first session event, at `now` if this is it): a token issued before
   * that which the store does not know may have been forgotten (a wiped or replaced store).
   */
  rememberedSince(now: number): number;
  get(jti: string): StoredToken | undefined;
  /** Records a token unless its jti exists, and folds it into its session's summary. */
  put(record: TokenRecord): void;
  markRotated(jti: string, at: number, successorJti: string): void;
  /** Blacklists a jti until `until` (an existing later end is kept). */
  blacklist(jti: string, until: number): void;
  isBlacklisted(jti: string): boolean;
  /** Ends a session until `until` (an existing later end is kept). */
  revokeFamily(familyId: string, until: number): void;
  isFamilyRevoked(familyId: string): boolean;
  /** When the last token recorded in the session expires (its summary's purge time), if the store knows it. */
  familyPurgeAt(familyId: string): number | undefined;
  /** The user's "log out everywhere" cutoff, if any. */
  cutoff(userId: string): number | undefined;
  setCutoff(userId: string, before: number, until: number): void;
  /** The user's live sessions, oldest first. */
  liveSessions(userId: string, now: number): SessionInfo[];
  /**
   * Optional: the three revocation checks (blacklisted, session ended, before the user's cutoff) in one look-up,
   * for a store where that saves round trips (one SQL statement instead of three).
   */
  revoked?(jti: string, userId: string, issuedAt: number, familyId: string | undefined): boolean;
}

/** Whether a known token (or one of `familyId`) is revoked: blacklisted, session ended, or before the cutoff. */
function revoked(p: Primitives, jti: string, userId: string, issuedAt: number, familyId: string | undefined): boolean {
  if (p.revoked) return p.revoked(jti, userId, issuedAt, familyId);
  if (p.isBlacklisted(jti)) return true;
  if (familyId !== undefined && p.isFamilyRevoked(familyId)) return true;
  const cutoff = p.cutoff(userId);
  return cutoff !== undefined && issuedAt < cutoff;
}

/** Ends a session for as long as any token recorded in it could still verify. */
function endFamily(p: Primitives, familyId: string, atLeastUntil: number): void {
  p.revokeFamily(familyId, Math.max(atLeastUntil, p.familyPurgeAt(familyId) ?? atLeastUntil));
}

function refOf(record: TokenRecord): SessionRef {
  return { id: record.familyId, userId: record.userId, startedAt: record.sessionStartedAt, expiresAt: record.sessionExpiresAt };
}

/** A token issued in `session`'s family. */
function inSession(token: NewToken, session: TokenRecord, client: { userAgent?: string; ip?: string } = {}): TokenRecord {
  const record: TokenRecord = {
    jti: token.jti,
    userId: session.userId,
    familyId: session.familyId,
    type: token.type,
    issuedAt: token.issuedAt,
    expiresAt: token.expiresAt,
    sessionStartedAt: session.sessionStartedAt,
    sessionExpiresAt: session.sessionExpiresAt,
  };
  if (client.userAgent !== undefined) record.userAgent = client.userAgent;
  if (client.ip !== undefined) record.ip = client.ip;
  return record;
}

export function startSession(p: Primitives, start: SessionStart): SessionStartResult {
  const { session } = start;
  p.rememberedSince(start.now);
  const ended: string[] = [];
  if (Number.isFinite(start.maxSessions)) {
    const live = p.liveSessions(session.userId, start.now);
    const excess = live.length - start.maxSessions + 1;
    if (excess > 0) {
      if (start.whenFull === 'refuse') return { status: 'full' };
      for (const old of live.slice(0, excess)) {
        endFamily(p, old.id, old.expiresAt);
        ended.push(old.id);
      }
    }
  }
  p.put(session);
  if (start.access) p.put(inSession(start.access, session));
  return { status: 'ok', ended };
}

export function rotate(p: Primitives, rotation: Rotation): RotationResult {
  const { token, now } = rotation;
  let stored = p.get(token.jti);
  if (stored === undefined || stored.record.expiresAt <= now) {
    if (p.isBlacklisted(token.jti)) return { status: 'revoked' };
    if (stored === undefined && !rotation.adoptUnknown && token.issuedAt < p.rememberedSince(now)) return { status: 'unknown' };
    if (revoked(p, token.jti, token.userId, token.issuedAt, token.jti)) return { status: 'revoked' };
    if (stored === undefined) {
      // Issued by another issuer sharing the keys (a Django app), or adopted on purpose: a session of its own.
      const adopted: TokenRecord = {
        jti: token.jti,
        userId: token.userId,
        familyId: token.jti,
        type: token.type,
        issuedAt: token.issuedAt,
        expiresAt: token.expiresAt,
        sessionStartedAt: token.issuedAt,
        sessionExpiresAt: token.expiresAt,
      };
      if (rotation.userAgent !== undefined) adopted.userAgent = rotation.userAgent;
      if (rotation.ip !== undefined) adopted.ip = rotation.ip;
      p.put(adopted);
      stored = p.get(token.jti)!;
    }
  }
  const { record } = stored;
  const session = refOf(record);
  if (stored.rotatedAt !== undefined) {
    if (rotation.reuseInterval > 0 && now - stored.rotatedAt <= rotation.reuseInterval && stored.rotatedTo !== undefined) {
      const next = p.get(stored.rotatedTo);
      if (
        next !== undefined &&
        next.rotatedAt === undefined &&
        next.record.expiresAt > now &&
        !revoked(p, next.record.jti, next.record.userId, next.record.issuedAt, next.record.familyId)
      ) {
        if (rotation.access) p.put(inSession(rotation.access, next.record));
        const { jti, type, issuedAt, expiresAt } = next.record;
        return { status: 'retry', session, successor: { jti, type, issuedAt, expiresAt } };
      }
    }
    if (rotation.reuseDetection) endFamily(p, record.familyId, record.sessionExpiresAt);
    return { status: 'reused', session, rotatedAt: stored.rotatedAt };
  }
  if (revoked(p, record.jti, record.userId, record.issuedAt, record.familyId)) return { status: 'revoked' };
  if (rotation.successor) {
    if (rotation.consume) p.markRotated(record.jti, now, rotation.successor.jti);
    p.put(inSession(rotation.successor, record));
  }
  if (rotation.access) p.put(inSession(rotation.access, record));
  return { status: 'ok', session };
}

export function revokeToken(p: Primitives, token: PresentedToken): void {
  const familyId = p.get(token.jti)?.record.familyId ?? token.jti;
  p.blacklist(token.jti, token.expiresAt);
  endFamily(p, familyId, token.expiresAt);
}

export function revokeUser(p: Primitives, revocation: UserRevocation): void {
  // The cutoff ends tokens issued before `before`; ending the live sessions too covers tokens of that very second.
  for (const session of p.liveSessions(revocation.userId, revocation.before)) endFamily(p, session.id, session.expiresAt);
  p.setCutoff(revocation.userId, revocation.before, revocation.retainUntil);
}

export function endSession(p: Primitives, userId: string, sessionId: string, now: number): boolean {
  const session = p.liveSessions(userId, now).find((s) => s.id === sessionId);
  if (!session) return false;
  endFamily(p, session.id, session.expiresAt);
  return true;
}

export function isRevoked(p: Primitives, query: RevocationQuery): boolean {
  const stored = p.get(query.jti);
  if (stored === undefined) {
    if (query.mustBeKnown && query.issuedAt < p.rememberedSince(query.now)) return true;
    return revoked(p, query.jti, query.userId, query.issuedAt, undefined);
  }
  if (stored.rotatedAt !== undefined) return true;
  return revoked(p, query.jti, query.userId, query.issuedAt, stored.record.familyId);
}
