import {
  bySessionAge,
  copyRecord,
  foldFamily,
  resolveTimerOptions,
  sessionInfo,
  startPurgeTimer,
  successorFamilyError,
  type FamilyState,
  type StoreTimerOptions,
} from './internal';
import type { ConsumeResult, SessionInfo, TokenRecord, TokenStore } from './types';

/**
 * Options of `new MemoryStore()`.
 *
 * @example
 * new MemoryStore({ purgeIntervalSeconds: 0 }); // no timer: call store.purgeExpired(now) yourself
 */
export type MemoryStoreOptions = StoreTimerOptions;

/** Width of an expiry bucket, in seconds. */
const BUCKET_SECONDS = 60;

/**
 * Keys grouped by the minute they expire in, so a purge visits only what has expired instead of every entry.
 * A key whose expiry moves later is added again under the new minute; the sweep asks the owner for the current
 * expiry, so stale copies are dropped rather than honoured.
 */
class ExpiryBuckets {
  private readonly buckets = new Map<number, string[]>();

  add(key: string, expiresAt: number): void {
    const minute = Math.ceil(expiresAt / BUCKET_SECONDS);
    const bucket = this.buckets.get(minute);
    if (bucket) bucket.push(key);
    else this.buckets.set(minute, [key]);
  }

  /**
   * Removes every key whose current expiry (`expiryOf`, `undefined` once gone) is `<= now`, through `remove`.
   * Returns how many were removed.
   */
  sweep(now: number, expiryOf: (key: string) => number | undefined, remove: (key: string) => void): number {
    let removed = 0;
    for (const [minute, keys] of this.buckets) {
      if ((minute - 1) * BUCKET_SECONDS >= now) continue; // everything in it expires after `now`
      const kept: string[] = [];
      for (const key of keys) {
        const expiresAt = expiryOf(key);
        if (expiresAt === undefined) continue;
        if (expiresAt <= now) {
          remove(key);
          removed += 1;
        } else if (Math.ceil(expiresAt / BUCKET_SECONDS) === minute) {
          kept.push(key);
        }
      }
      if (kept.length === 0) this.buckets.delete(minute);
      else this.buckets.set(minute, kept);
    }
    return removed;
  }

  clear(): void {
    this.buckets.clear();
  }
}

/** A recorded token and, once consumed, when. */
interface Entry {
  record: TokenRecord;
  rotatedAt: number | undefined;
}

/** A user's "log out everywhere" cutoff and how long it is kept. */
interface Cutoff {
  before: number;
  until: number;
}

/**
 * The default store: everything in this process's memory, gone on restart, not shared between processes.
 * Fine for development, tests and a single server; use `SqliteStore` or `RedisStore` when several processes
 * serve the same users. Every method is synchronous, so the ATOMIC ones are trivially so.
 *
 * Expired entries are purged in bulk by an unref'ed timer (`purgeIntervalSeconds`, default 60) that never keeps
 * the process alive; `close()` stops it. A revoked `jti` costs about 90 bytes (a `Map` from the jti string to its
 * expiry, plus a slot in a per-minute expiry bucket).
 *
 * How the contract's open questions are answered (the same in every shipped store):
 * - Revocation entries count while present: `isRevoked()` has no `now`, so an entry holds until it is purged
 *   (at its expiry). Revoking again with a later expiry extends it; an earlier one never shortens it. If tokens
 *   are verified with leeway, pass `exp + leeway` so the entry outlives the token.
 * - `consume()`: a record whose `expiresAt <= now` is treated as purged (`unknown`, or `revoked` if the `jti` is
 *   blacklisted). A rotated token answers `reused` even when it was also revoked since, because with
 *   blacklist-after-rotation every rotated token is blacklisted and reuse must still be detected. A successor of
 *   another family is a programming error: TypeError, nothing changed.
 * - `isRevoked()`: a `familyId` argument is used as given; otherwise the record's family, if any.
 * - `revokeUser()`: the cutoff is kept until `before + retainSeconds`; the larger `before` and the later end win.
 * - `sessions()`: a family is a session once a refresh or sliding token of it is recorded. It is live while its
 *   newest such token is unexpired (`expiresAt > now`), not blacklisted and issued at or after the user's cutoff,
 *   and the family is not revoked. `lastUsedAt` counts every recorded token, access tokens included; `expiresAt`
 *   is the newest refresh or sliding token's. Oldest first, ties by id.
 * - `purgeExpired(now)` removes entries expiring at or before `now` and counts token records, blacklisted jtis,
 *   family revocations and user cutoffs (not the session summaries, which go with their last token).
 *
 * @example
 * const store = new MemoryStore();
 * const auth = simpleJwt({ secret, store, findUserByUsername, findUserById });
 * // in tests: new MemoryStore({ purgeIntervalSeconds: 0 }) and call store.purgeExpired(now) yourself
 */
export class MemoryStore implements TokenStore {
  private readonly records = new Map<string, Entry>();
  private readonly blacklist = new Map<string, number>();
  private readonly revokedFamilies = new Map<string, number>();
  private readonly cutoffs = new Map<string, Cutoff>();
  private readonly families = new Map<string, FamilyState>();
  private readonly familiesByUser = new Map<string, Set<string>>();
  private readonly settings = new Map<string, string>();

  private readonly recordExpiry = new ExpiryBuckets();
  private readonly blacklistExpiry = new ExpiryBuckets();
  private readonly familyRevocationExpiry = new ExpiryBuckets();
  private readonly cutoffExpiry = new ExpiryBuckets();
  private readonly familyExpiry = new ExpiryBuckets();

  private timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions = {}) {
    const { clock, purgeIntervalSeconds } = resolveTimerOptions('MemoryStore', options);
    this.timer = startPurgeTimer(purgeIntervalSeconds, clock, (now) => this.purgeExpired(now));
  }

  /** Stops the purge timer. The data stays readable. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  record(record: TokenRecord): void {
    if (this.records.has(record.jti)) return;
    this.put(copyRecord(record));
  }

  consume(jti: string, now: number, successor: TokenRecord): ConsumeResult {
    const entry = this.records.get(jti);
    if (!entry || entry.record.expiresAt <= now) {
      return this.blacklist.has(jti) ? { status: 'revoked' } : { status: 'unknown' };
    }
    const { record } = entry;
    if (entry.rotatedAt !== undefined) return { status: 'reused', record: copyRecord(record), rotatedAt: entry.rotatedAt };
    if (this.isRevoked(jti, record.userId, record.issuedAt, record.familyId)) return { status: 'revoked' };
    if (successor.familyId !== record.familyId) throw successorFamilyError('MemoryStore');
    entry.rotatedAt = now;
    this.record(successor);
    return { status: 'ok', record: copyRecord(record) };
  }

  revoke(jti: string, expiresAt: number): void {
    const current = this.blacklist.get(jti);
    if (current !== undefined && current >= expiresAt) return;
    this.blacklist.set(jti, expiresAt);
    this.blacklistExpiry.add(jti, expiresAt);
  }

  revokeFamily(familyId: string, expiresAt: number): void {
    const current = this.revokedFamilies.get(familyId);
    if (current !== undefined && current >= expiresAt) return;
    this.revokedFamilies.set(familyId, expiresAt);
    this.familyRevocationExpiry.add(familyId, expiresAt);
  }

  revokeUser(userId: string, before: number, retainSeconds: number): void {
    const current = this.cutoffs.get(userId);
    const until = Math.max(current?.until ?? -Infinity, before + retainSeconds);
    this.cutoffs.set(userId, { before: Math.max(current?.before ?? -Infinity, before), until });
    if (current?.until !== until) this.cutoffExpiry.add(userId, until);
  }

  isRevoked(jti: string, userId: string, issuedAt: number, familyId?: string): boolean {
    if (this.blacklist.has(jti)) return true;
    const family = familyId ?? this.records.get(jti)?.record.familyId;
    if (family !== undefined && this.revokedFamilies.has(family)) return true;
    const cutoff = this.cutoffs.get(userId);
    return cutoff !== undefined && issuedAt < cutoff.before;
  }

  familyOf(jti: string): string | undefined {
    return this.records.get(jti)?.record.familyId;
  }

  sessions(userId: string, now: number): SessionInfo[] {
    const ids = this.familiesByUser.get(userId);
    if (!ids) return [];
    const before = this.cutoffs.get(userId)?.before ?? -Infinity;
    const live: SessionInfo[] = [];
    for (const id of ids) {
      const family = this.families.get(id);
      if (!family || family.currentJti === undefined || family.expiresAt === undefined) continue;
      if (family.expiresAt <= now || (family.currentIssuedAt ?? -Infinity) < before) continue;
      if (this.revokedFamilies.has(id) || this.blacklist.has(family.currentJti)) continue;
      live.push(sessionInfo(id, family.createdAt, family.lastUsedAt, family.expiresAt, family.userAgent, family.ip));
    }
    return live.sort(bySessionAge);
  }

  purgeExpired(now: number): number {
    let removed = 0;
    removed += this.recordExpiry.sweep(
      now,
      (jti) => this.records.get(jti)?.record.expiresAt,
      (jti) => this.records.delete(jti),
    );
    removed += this.blacklistExpiry.sweep(
      now,
      (jti) => this.blacklist.get(jti),
      (jti) => this.blacklist.delete(jti),
    );
    removed += this.familyRevocationExpiry.sweep(
      now,
      (id) => this.revokedFamilies.get(id),
      (id) => this.revokedFamilies.delete(id),
    );
    removed += this.cutoffExpiry.sweep(
      now,
      (userId) => this.cutoffs.get(userId)?.until,
      (userId) => this.cutoffs.delete(userId),
    );
    this.familyExpiry.sweep(
      now,
      (id) => this.families.get(id)?.purgeAt,
      (id) => this.dropFamily(id),
    );
    return removed;
  }

  getSetting(name: string): string | undefined {
    return this.settings.get(name);
  }

  setSetting(name: string, value: string): void {
    this.settings.set(name, value);
  }

  /** Stores a new record and folds it into its family. */
  private put(record: TokenRecord): void {
    this.records.set(record.jti, { record, rotatedAt: undefined });
    this.recordExpiry.add(record.jti, record.expiresAt);
    const previous = this.families.get(record.familyId);
    const family = foldFamily(previous, record);
    this.families.set(record.familyId, family);
    if (!previous || family.purgeAt > previous.purgeAt) this.familyExpiry.add(record.familyId, family.purgeAt);
    if (!previous) {
      const ids = this.familiesByUser.get(family.userId);
      if (ids) ids.add(record.familyId);
      else this.familiesByUser.set(family.userId, new Set([record.familyId]));
    }
  }

  private dropFamily(id: string): void {
    const family = this.families.get(id);
    if (!family) return;
    this.families.delete(id);
    const ids = this.familiesByUser.get(family.userId);
    ids?.delete(id);
    if (ids?.size === 0) this.familiesByUser.delete(family.userId);
  }
}
