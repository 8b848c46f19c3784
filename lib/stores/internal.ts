/**
 * Pieces the shipped stores share: option checks, the purge timer, and the rule that folds a recorded token into
 * its session's summary. Not exported from the package.
 */
import type { SessionInfo, TokenRecord } from './types';

/** Options every shipped store accepts. */
export interface StoreTimerOptions {
  /**
   * The clock, in milliseconds. Read only by the purge timer (and, for Redis, to turn expiry times into TTLs);
   * every decision uses the times the caller passes in. Default `Date.now`.
   */
  clock?: () => number;
  /** How often expired entries are purged, in seconds; `0` turns the timer off. Default `60`. */
  purgeIntervalSeconds?: number;
}

/** Validated timer options. */
export interface ResolvedTimerOptions {
  clock: () => number;
  purgeIntervalSeconds: number;
}

/** Checks the shared options, naming the store and the option in any TypeError. */
export function resolveTimerOptions(storeName: string, options: StoreTimerOptions): ResolvedTimerOptions {
  const { clock = Date.now, purgeIntervalSeconds = 60 } = options;
  if (typeof clock !== 'function') {
    throw new TypeError(`${storeName}: "clock" must be a function returning milliseconds, such as Date.now`);
  }
  if (typeof purgeIntervalSeconds !== 'number' || !Number.isFinite(purgeIntervalSeconds) || purgeIntervalSeconds < 0) {
    throw new TypeError(`${storeName}: "purgeIntervalSeconds" must be a number of seconds >= 0 (0 turns purging off)`);
  }
  return { clock, purgeIntervalSeconds };
}

/** Whole seconds of a millisecond clock. */
export function seconds(clock: () => number): number {
  return Math.floor(clock() / 1000);
}

/**
 * Calls `purge(now)` every `intervalSeconds` on an unref'ed timer, so the timer never keeps a process alive.
 * Failures are dropped: the next tick tries again. Returns `undefined` when the interval is 0.
 */
export function startPurgeTimer(
  intervalSeconds: number,
  clock: () => number,
  purge: (now: number) => unknown,
): NodeJS.Timeout | undefined {
  if (intervalSeconds === 0) return undefined;
  let running = false;
  const timer = setInterval(
    () => {
      if (running) return;
      running = true;
      Promise.resolve()
        .then(() => purge(seconds(clock)))
        .catch(() => undefined)
        .finally(() => {
          running = false;
        });
    },
    Math.max(1, Math.round(intervalSeconds * 1000)),
  );
  timer.unref();
  return timer;
}

/** Token types that carry a session (rotation issues a new one); access tokens only ride along. */
export function isSessionToken(type: string): boolean {
  return type === 'refresh' || type === 'sliding';
}

/**
 * What a store remembers about one family (session), updated on every `record()`:
 * - `createdAt`: the smallest `sessionStartedAt` seen;
 * - `lastUsedAt`: the largest `issuedAt` of any token of the family, access tokens included;
 * - `currentJti`/`currentIssuedAt`/`expiresAt`: the newest refresh or sliding token (ties go to the one recorded
 *   later) and its `exp`. A family with no such token is not a session and is never listed;
 * - `purgeAt`: the largest `expiresAt` of any token, when the summary itself may go.
 */
export interface FamilyState {
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  currentJti: string | undefined;
  currentIssuedAt: number | undefined;
  expiresAt: number | undefined;
  purgeAt: number;
  userAgent: string | undefined;
  ip: string | undefined;
}

/** The family summary after recording `record` (`previous` is left untouched). */
export function foldFamily(previous: FamilyState | undefined, record: TokenRecord): FamilyState {
  const next: FamilyState = previous
    ? { ...previous }
    : {
        userId: record.userId,
        createdAt: record.sessionStartedAt,
        lastUsedAt: record.issuedAt,
        currentJti: undefined,
        currentIssuedAt: undefined,
        expiresAt: undefined,
        purgeAt: record.expiresAt,
        userAgent: undefined,
        ip: undefined,
      };
  next.createdAt = Math.min(next.createdAt, record.sessionStartedAt);
  next.lastUsedAt = Math.max(next.lastUsedAt, record.issuedAt);
  next.purgeAt = Math.max(next.purgeAt, record.expiresAt);
  next.userAgent ??= record.userAgent;
  next.ip ??= record.ip;
  if (isSessionToken(record.type) && (next.currentIssuedAt === undefined || record.issuedAt >= next.currentIssuedAt)) {
    next.currentJti = record.jti;
    next.currentIssuedAt = record.issuedAt;
    next.expiresAt = record.expiresAt;
  }
  return next;
}

/** A `SessionInfo` without `undefined`-valued optional keys. */
export function sessionInfo(
  id: string,
  createdAt: number,
  lastUsedAt: number,
  expiresAt: number,
  userAgent: string | null | undefined,
  ip: string | null | undefined,
): SessionInfo {
  const info: SessionInfo = { id, createdAt, lastUsedAt, expiresAt };
  if (userAgent != null) info.userAgent = userAgent;
  if (ip != null) info.ip = ip;
  return info;
}

/** A copy of a record without `undefined`-valued optional keys, so stored and returned records compare equal. */
export function copyRecord(record: TokenRecord): TokenRecord {
  const copy: TokenRecord = {
    jti: record.jti,
    userId: record.userId,
    familyId: record.familyId,
    type: record.type,
    issuedAt: record.issuedAt,
    expiresAt: record.expiresAt,
    sessionStartedAt: record.sessionStartedAt,
    sessionExpiresAt: record.sessionExpiresAt,
  };
  if (record.userAgent != null) copy.userAgent = record.userAgent;
  if (record.ip != null) copy.ip = record.ip;
  return copy;
}

/** The TypeError `consume()` throws when the successor names another family; nothing is changed first. */
export function successorFamilyError(storeName: string): TypeError {
  return new TypeError(`${storeName}.consume(): the successor must belong to the consumed token's family`);
}

/** Orders sessions oldest first, ties by id, so every store lists them the same way. */
export function bySessionAge(a: SessionInfo, b: SessionInfo): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
