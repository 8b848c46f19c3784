import {
  bySessionAge,
  copyRecord,
  foldFamily,
  resolveTimerOptions,
  sessionInfo,
  startPurgeTimer,
  type FamilyState,
  type StoreTimerOptions,
} from './internal';
import * as ops from './operations';
import type {
  PresentedToken,
  RevocationQuery,
  Rotation,
  RotationResult,
  SessionInfo,
  SessionStart,
  SessionStartResult,
  TokenRecord,
  TokenStore,
  UserRevocation,
} from './types';

/**
 * Options of `new MemoryStore()`.
 *
 * @example
 * new MemoryStore({ purgeIntervalSeconds: 0 }); // no timer: call store.purgeExpired(now) yourself
 * new MemoryStore({ maxRecords: 100_000 });     // a smaller cap
 */
export interface MemoryStoreOptions extends StoreTimerOptions {
  /**
   * Most entries (token records, blacklisted ids, ended sessions, user cutoffs) the store holds. Near it (90%)
   * the store emits a `SJWT_MEMORY_STORE_NEAR_CAP` process warning; at it, events that would add entries fail
   * (`503 store_unavailable`) until the purge frees room. Revocations are never evicted. Default `1_000_000`
   * (about 0.5 GB of heap at worst).
   */
  maxRecords?: number;
}

/** The cap's default, and the share of it at which the store warns. */
const DEFAULT_MAX_RECORDS = 1_000_000;
const WARN_SHARE = 0.9;

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

/** A recorded token and, once consumed, when and into what. */
type Entry = ops.StoredToken;

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
 * How the contract's open questions are answered (the same in every shipped store, in lib/stores/operations.ts):
 * - Revocation entries count while present: an entry holds until it is purged at its end, which the kit sets to
 *   the last moment a token it covers can verify (leeway included). Revoking again with a later end extends it;
 *   an earlier one never shortens it. Ending a session keeps it ended until its last recorded token expires.
 * - `rotate()`: a record whose `expiresAt <= now` counts as purged. A consumed token answers `retry` or `reused`
 *   even when its session was ended since, so reuse is always seen; `isRevoked()` counts it as revoked.
 * - The store's memory begins at its first event; an unknown token issued before it is `unknown` to `rotate()`
 *   (unless `adoptUnknown`) and revoked to `isRevoked()` with `mustBeKnown`.
 * - `sessions()`: a family is a session once a refresh or sliding token of it is recorded. It is live while its
 *   newest such token is unexpired (`expiresAt > now`), not blacklisted and issued at or after the user's cutoff,
 *   and the family is not revoked. `lastUsedAt` counts every recorded token, access tokens included; `expiresAt`
 *   is the newest refresh or sliding token's. Oldest first, ties by id.
 * - `purgeExpired(now)` removes entries expiring at or before `now` and counts token records, blacklisted jtis,
 *   ended sessions and user cutoffs (not the session summaries, which go with their last token).
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

  /** The cap on entries (`maxRecords`). */
  readonly maxRecords: number;
  private warned = false;
  private since: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly primitives: ops.Primitives;

  constructor(options: MemoryStoreOptions = {}) {
    const { clock, purgeIntervalSeconds } = resolveTimerOptions('MemoryStore', options);
    const { maxRecords = DEFAULT_MAX_RECORDS } = options;
    if (typeof maxRecords !== 'number' || !(Number.isInteger(maxRecords) || maxRecords === Infinity) || maxRecords < 1) {
      throw new TypeError('MemoryStore: "maxRecords" must be a whole number >= 1 (or Infinity)');
    }
    this.maxRecords = maxRecords;
    this.timer = startPurgeTimer(purgeIntervalSeconds, clock, (now) => this.purgeExpired(now));
    this.primitives = this.makePrimitives();
  }

  /** Stops the purge timer. The data stays readable. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** How many entries the store holds (what `maxRecords` caps). */
  get size(): number {
    return this.records.size + this.blacklist.size + this.revokedFamilies.size + this.cutoffs.size;
  }

  startSession(start: SessionStart): SessionStartResult {
    this.ensureRoom(2);
    return ops.startSession(this.primitives, start);
  }

  rotate(rotation: Rotation): RotationResult {
    this.ensureRoom(3);
    return ops.rotate(this.primitives, rotation);
  }

  revokeToken(token: PresentedToken): void {
    this.ensureRoom(2);
    ops.revokeToken(this.primitives, token);
  }

  revokeUser(revocation: UserRevocation): void {
    this.ensureRoom(1);
    ops.revokeUser(this.primitives, revocation);
  }

  endSession(userId: string, sessionId: string, now: number): boolean {
    this.ensureRoom(1);
    return ops.endSession(this.primitives, userId, sessionId, now);
  }

  isRevoked(query: RevocationQuery): boolean {
    return ops.isRevoked(this.primitives, query);
  }

  sessions(userId: string, now: number): SessionInfo[] {
    return this.liveSessions(userId, now);
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
    if (this.size < this.maxRecords * WARN_SHARE) this.warned = false;
    return removed;
  }

  getSetting(name: string): string | undefined {
    return this.settings.get(name);
  }

  setSetting(name: string, value: string): void {
    this.settings.set(name, value);
  }

  /**
   * Refuses (throws, which the kit answers with 503) an event that could take the store past its cap, and warns
   * once when it nears it. Checked before anything changes, so a refused event changes nothing.
   */
  private ensureRoom(adds: number): void {
    const size = this.size;
    if (size + adds > this.maxRecords) {
      throw new Error(`MemoryStore is full (${size} of maxRecords ${this.maxRecords} entries); revocations are never evicted`);
    }
    if (!this.warned && size + adds >= this.maxRecords * WARN_SHARE) {
      this.warned = true;
      process.emitWarning(
        `MemoryStore holds ${size} of its ${this.maxRecords} entries (maxRecords); past the cap, logins and refreshes answer 503. ` +
          'Raise maxRecords, shorten token lifetimes, or use SqliteStore or RedisStore.',
        { code: 'SJWT_MEMORY_STORE_NEAR_CAP' },
      );
    }
  }

  private liveSessions(userId: string, now: number): SessionInfo[] {
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

  private makePrimitives(): ops.Primitives {
    return {
      rememberedSince: (now) => (this.since ??= now),
      get: (jti) => this.records.get(jti),
      put: (record) => {
        if (!this.records.has(record.jti)) this.put(copyRecord(record));
      },
      markRotated: (jti, at, successorJti) => {
        const entry = this.records.get(jti);
        if (entry) {
          entry.rotatedAt = at;
          entry.rotatedTo = successorJti;
        }
      },
      blacklist: (jti, until) => {
        const current = this.blacklist.get(jti);
        if (current !== undefined && current >= until) return;
        this.blacklist.set(jti, until);
        this.blacklistExpiry.add(jti, until);
      },
      isBlacklisted: (jti) => this.blacklist.has(jti),
      revokeFamily: (familyId, until) => {
        const current = this.revokedFamilies.get(familyId);
        if (current !== undefined && current >= until) return;
        this.revokedFamilies.set(familyId, until);
        this.familyRevocationExpiry.add(familyId, until);
      },
      isFamilyRevoked: (familyId) => this.revokedFamilies.has(familyId),
      familyPurgeAt: (familyId) => this.families.get(familyId)?.purgeAt,
      cutoff: (userId) => this.cutoffs.get(userId)?.before,
      setCutoff: (userId, before, until) => {
        const current = this.cutoffs.get(userId);
        const end = Math.max(current?.until ?? -Infinity, until);
        this.cutoffs.set(userId, { before: Math.max(current?.before ?? -Infinity, before), until: end });
        if (current?.until !== end) this.cutoffExpiry.add(userId, end);
      },
      liveSessions: (userId, now) => this.liveSessions(userId, now),
    };
  }

  /** Stores a new record and folds it into its family. */
  private put(record: TokenRecord): void {
    this.records.set(record.jti, { record, rotatedAt: undefined, rotatedTo: undefined });
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
