/**
 * The one conformance suite every token store passes: `runStoreConformance('MemoryStore', () => ...)` inside a
 * `*.test.ts` file. It talks to the store only through `TokenStore`, so a custom store can run it too.
 */
import { randomBytes } from 'node:crypto';
import type { Awaitable, TokenRecord, TokenStore } from '../../lib/stores/types';

/** What a store factory hands the suite for one test. */
export interface StoreUnderTest {
  /** A fresh, empty store. */
  store: TokenStore;
  /**
   * Stores over the same data through their own connections (other SQLite connections to the file, other Redis
   * clients), used by the race test. Defaults to `[store]`.
   */
  peers?: TokenStore[];
  /** Closes whatever was opened for this test. Defaults to `store.close()`. */
  close?: () => Awaitable<void>;
}

/** Makes a fresh store whose timers (if any) read `clock` (milliseconds). */
export type MakeStore = (clock: () => number) => Awaitable<StoreUnderTest>;

/** The suite's "now": 2026-06-01T00:00:00Z, in seconds. Stores get a clock frozen here. */
export const T0 = Date.UTC(2026, 5, 1) / 1000;
const DAY = 86_400;

export function newJti(): string {
  return randomBytes(16).toString('hex');
}

/** The refresh token of a new login (its own family) at `overrides.issuedAt` (default T0) for user '1'. */
export function refreshRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
  const jti = overrides.jti ?? newJti();
  const issuedAt = overrides.issuedAt ?? T0;
  return {
    jti,
    userId: '1',
    familyId: jti,
    type: 'refresh',
    issuedAt,
    expiresAt: issuedAt + DAY,
    sessionStartedAt: issuedAt,
    sessionExpiresAt: issuedAt + 30 * DAY,
    userAgent: 'HTTPie/3.2.4',
    ip: '203.0.113.7',
    ...overrides,
  };
}

/** The refresh token a rotation at `at` issues for `record`. */
export function successorOf(record: TokenRecord, at: number, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    ...record,
    jti: newJti(),
    issuedAt: at,
    expiresAt: Math.min(at + DAY, record.sessionExpiresAt),
    ...overrides,
  };
}

/** An access token of `family`'s session issued at `at`. */
export function accessRecord(family: TokenRecord, at: number, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return successorOf(family, at, { type: 'access', expiresAt: at + 300, ...overrides });
}

/** Runs every conformance test against the stores `makeStore` produces. */
export function runStoreConformance(name: string, makeStore: MakeStore): void {
  describe(`${name} (TokenStore conformance)`, () => {
    let sut: StoreUnderTest;
    let store: TokenStore;

    beforeEach(async () => {
      sut = await makeStore(() => T0 * 1000);
      store = sut.store;
    });

    afterEach(async () => {
      if (sut.close) await sut.close();
      else await sut.store.close?.();
    });

    /** Records `record` and returns it. */
    async function recorded(record: TokenRecord): Promise<TokenRecord> {
      await store.record(record);
      return record;
    }

    describe('record() and familyOf()', () => {
      it('records a token and answers its family', async () => {
        const login = await recorded(refreshRecord());
        const access = await recorded(accessRecord(login, T0));
        expect(await store.familyOf(login.jti)).toBe(login.jti);
        expect(await store.familyOf(access.jti)).toBe(login.jti);
        expect(await store.familyOf(newJti())).toBeUndefined();
      });

      it('ignores a second record() of the same jti', async () => {
        const login = await recorded(refreshRecord());
        await store.record({ ...login, familyId: newJti(), userId: '2', expiresAt: T0 + 2 * DAY, userAgent: 'other' });
        expect(await store.familyOf(login.jti)).toBe(login.familyId);
        expect(await store.sessions('2', T0)).toEqual([]);
        const result = await store.consume(login.jti, T0 + 1, successorOf(login, T0 + 1));
        expect(result).toStrictEqual({ status: 'ok', record: login });
      });

      it('keeps absent optional fields absent', async () => {
        const { userAgent: _ua, ip: _ip, ...bare } = refreshRecord();
        await store.record(bare);
        const result = await store.consume(bare.jti, T0 + 1, successorOf(bare, T0 + 1));
        expect(result).toStrictEqual({ status: 'ok', record: bare });
      });
    });

    describe('consume()', () => {
      it('answers ok with the record, marks it rotated and records the successor', async () => {
        const login = await recorded(refreshRecord());
        const next = successorOf(login, T0 + 60);
        expect(await store.consume(login.jti, T0 + 60, next)).toStrictEqual({ status: 'ok', record: login });
        expect(await store.familyOf(next.jti)).toBe(login.familyId);
        const third = successorOf(next, T0 + 120);
        expect(await store.consume(next.jti, T0 + 120, third)).toStrictEqual({ status: 'ok', record: next });
      });

      it('answers reused, with when, for a rotated token and changes nothing', async () => {
        const login = await recorded(refreshRecord());
        await store.consume(login.jti, T0 + 60, successorOf(login, T0 + 60));
        const late = successorOf(login, T0 + 90);
        expect(await store.consume(login.jti, T0 + 90, late)).toStrictEqual({
          status: 'reused',
          record: login,
          rotatedAt: T0 + 60,
        });
        expect(await store.familyOf(late.jti)).toBeUndefined();
      });

      it('answers unknown for a jti it never recorded, and records nothing', async () => {
        const stranger = refreshRecord();
        const next = successorOf(stranger, T0 + 1);
        expect(await store.consume(stranger.jti, T0 + 1, next)).toStrictEqual({ status: 'unknown' });
        expect(await store.familyOf(next.jti)).toBeUndefined();
      });

      it('treats a record whose expiresAt <= now as purged (unknown)', async () => {
        const login = await recorded(refreshRecord({ expiresAt: T0 + 100 }));
        expect(await store.consume(login.jti, T0 + 100, successorOf(login, T0 + 100))).toStrictEqual({
          status: 'unknown',
        });
        const other = await recorded(refreshRecord({ expiresAt: T0 + 100 }));
        expect((await store.consume(other.jti, T0 + 99, successorOf(other, T0 + 99))).status).toBe('ok');
      });

      it('answers revoked for a blacklisted jti, recorded or not, and records nothing', async () => {
        const login = await recorded(refreshRecord());
        await store.revoke(login.jti, login.expiresAt);
        const next = successorOf(login, T0 + 1);
        expect(await store.consume(login.jti, T0 + 1, next)).toStrictEqual({ status: 'revoked' });
        expect(await store.familyOf(next.jti)).toBeUndefined();

        const stranger = newJti();
        await store.revoke(stranger, T0 + DAY);
        expect(await store.consume(stranger, T0 + 1, successorOf(login, T0 + 1))).toStrictEqual({ status: 'revoked' });
      });

      it('answers revoked after revokeFamily()', async () => {
        const login = await recorded(refreshRecord());
        const next = successorOf(login, T0 + 60);
        await store.consume(login.jti, T0 + 60, next);
        await store.revokeFamily(login.familyId, login.sessionExpiresAt);
        expect(await store.consume(next.jti, T0 + 120, successorOf(next, T0 + 120))).toStrictEqual({
          status: 'revoked',
        });
      });

      it('answers revoked after revokeUser() for tokens issued before the cutoff, ok from the cutoff on', async () => {
        const old = await recorded(refreshRecord({ issuedAt: T0 + 9 }));
        const sameSecond = await recorded(refreshRecord({ issuedAt: T0 + 10 }));
        await store.revokeUser('1', T0 + 10, 30 * DAY);
        expect(await store.consume(old.jti, T0 + 20, successorOf(old, T0 + 20))).toStrictEqual({ status: 'revoked' });
        expect((await store.consume(sameSecond.jti, T0 + 20, successorOf(sameSecond, T0 + 20))).status).toBe('ok');
      });

      it('still answers reused for a rotated token that was revoked since (blacklist after rotation)', async () => {
        const login = await recorded(refreshRecord());
        await store.consume(login.jti, T0 + 60, successorOf(login, T0 + 60));
        await store.revoke(login.jti, login.expiresAt);
        await store.revokeFamily(login.familyId, login.sessionExpiresAt);
        const again = await store.consume(login.jti, T0 + 90, successorOf(login, T0 + 90));
        expect(again).toStrictEqual({ status: 'reused', record: login, rotatedAt: T0 + 60 });
      });

      it('rejects a successor of another family with a TypeError and changes nothing', async () => {
        const login = await recorded(refreshRecord());
        const stray = successorOf(login, T0 + 1, { familyId: newJti() });
        await expect(async () => store.consume(login.jti, T0 + 1, stray)).rejects.toThrow(TypeError);
        expect(await store.familyOf(stray.jti)).toBeUndefined();
        expect((await store.consume(login.jti, T0 + 2, successorOf(login, T0 + 2))).status).toBe('ok');
      });
    });

    describe('revoke(), revokeFamily(), revokeUser() and isRevoked()', () => {
      it('is not revoked by default', async () => {
        const login = await recorded(refreshRecord());
        expect(await store.isRevoked(login.jti, '1', T0)).toBe(false);
        expect(await store.isRevoked(login.jti, '1', T0, login.familyId)).toBe(false);
        expect(await store.isRevoked(newJti(), '1', T0)).toBe(false);
      });

      it('blacklists one jti, recorded or not', async () => {
        const login = await recorded(refreshRecord());
        const stranger = newJti();
        await store.revoke(login.jti, login.expiresAt);
        await store.revoke(stranger, T0 + 300);
        expect(await store.isRevoked(login.jti, '1', T0)).toBe(true);
        expect(await store.isRevoked(stranger, '1', T0)).toBe(true);
        expect(await store.isRevoked(newJti(), '1', T0)).toBe(false);
        const sibling = await recorded(accessRecord(login, T0));
        expect(await store.isRevoked(sibling.jti, '1', T0, login.familyId)).toBe(false);
      });

      it('revokes a family through a recorded jti, a given familyId, and for tokens recorded later', async () => {
        const login = await recorded(refreshRecord());
        const other = await recorded(refreshRecord());
        await store.revokeFamily(login.familyId, login.sessionExpiresAt);
        expect(await store.isRevoked(login.jti, '1', T0)).toBe(true);
        expect(await store.isRevoked(newJti(), '1', T0, login.familyId)).toBe(true);
        const later = await recorded(accessRecord(login, T0 + 60));
        expect(await store.isRevoked(later.jti, '1', T0 + 60)).toBe(true);
        expect(await store.isRevoked(other.jti, '1', T0)).toBe(false);
        expect(await store.isRevoked(newJti(), '1', T0)).toBe(false);
      });

      it('revokes a user\'s tokens issued before the cutoff; a token issued in that very second stays valid', async () => {
        await store.revokeUser('1', T0 + 10, DAY);
        expect(await store.isRevoked(newJti(), '1', T0 + 9)).toBe(true);
        expect(await store.isRevoked(newJti(), '1', T0 + 10)).toBe(false);
        expect(await store.isRevoked(newJti(), '1', T0 + 11)).toBe(false);
        expect(await store.isRevoked(newJti(), '2', T0 + 9)).toBe(false);
      });

      it('lets the larger cutoff win whatever the order of calls', async () => {
        await store.revokeUser('1', T0 + 100, DAY);
        await store.revokeUser('1', T0 + 50, DAY);
        expect(await store.isRevoked(newJti(), '1', T0 + 60)).toBe(true);
        await store.revokeUser('1', T0 + 200, DAY);
        expect(await store.isRevoked(newJti(), '1', T0 + 150)).toBe(true);
        expect(await store.isRevoked(newJti(), '1', T0 + 200)).toBe(false);
      });

      it('uses a given familyId even when the jti is recorded in another family', async () => {
        const login = await recorded(refreshRecord());
        const other = newJti();
        await store.revokeFamily(other, T0 + DAY);
        expect(await store.isRevoked(login.jti, '1', T0, other)).toBe(true);
        expect(await store.isRevoked(login.jti, '1', T0)).toBe(false);
      });
    });

    describe('sessions()', () => {
      it('lists live sessions oldest first, with what the login recorded', async () => {
        const second = await recorded(refreshRecord({ issuedAt: T0 + 10 }));
        const { userAgent: _ua, ip: _ip, ...bare } = refreshRecord({ issuedAt: T0 + 20 });
        await store.record(bare);
        const first = await recorded(refreshRecord());
        await store.record(refreshRecord({ userId: '2' }));
        expect(await store.sessions('1', T0 + 30)).toStrictEqual([
          { id: first.familyId, createdAt: T0, lastUsedAt: T0, expiresAt: T0 + DAY, userAgent: 'HTTPie/3.2.4', ip: '203.0.113.7' },
          { id: second.familyId, createdAt: T0 + 10, lastUsedAt: T0 + 10, expiresAt: T0 + 10 + DAY, userAgent: 'HTTPie/3.2.4', ip: '203.0.113.7' },
          { id: bare.familyId, createdAt: T0 + 20, lastUsedAt: T0 + 20, expiresAt: T0 + 20 + DAY },
        ]);
        expect(await store.sessions('3', T0)).toEqual([]);
      });

      it('orders sessions that started in the same second by id', async () => {
        const ids = ['c', 'a', 'b'].map((c) => c.repeat(32));
        for (const id of ids) await store.record(refreshRecord({ jti: id, familyId: id }));
        expect((await store.sessions('1', T0)).map((s) => s.id)).toEqual([...ids].sort());
      });

      it('follows rotation: createdAt kept, lastUsedAt and expiresAt from the newest token', async () => {
        const login = await recorded(refreshRecord());
        const next = successorOf(login, T0 + 3600);
        await store.consume(login.jti, T0 + 3600, next);
        expect(await store.sessions('1', T0 + 3600)).toStrictEqual([
          {
            id: login.familyId,
            createdAt: T0,
            lastUsedAt: T0 + 3600,
            expiresAt: next.expiresAt,
            userAgent: login.userAgent,
            ip: login.ip,
          },
        ]);
      });

      it('counts access tokens as use but not as the session\'s expiry', async () => {
        const login = await recorded(refreshRecord());
        await store.record(accessRecord(login, T0 + 600));
        const [session] = await store.sessions('1', T0 + 600);
        expect(session).toMatchObject({ lastUsedAt: T0 + 600, expiresAt: login.expiresAt });
      });

      it('does not list a family of access tokens only', async () => {
        await store.record(accessRecord(refreshRecord(), T0));
        expect(await store.sessions('1', T0)).toEqual([]);
      });

      it('leaves out a session once its newest token has expired (expiresAt <= now)', async () => {
        const login = await recorded(refreshRecord({ expiresAt: T0 + 100 }));
        expect((await store.sessions('1', T0 + 99)).map((s) => s.id)).toEqual([login.familyId]);
        expect(await store.sessions('1', T0 + 100)).toEqual([]);
      });

      it('leaves out revoked families, blacklisted current tokens and sessions before the user cutoff', async () => {
        const revokedFamily = await recorded(refreshRecord());
        const blacklisted = await recorded(refreshRecord());
        const kept = await recorded(refreshRecord());
        await store.revokeFamily(revokedFamily.familyId, revokedFamily.sessionExpiresAt);
        await store.revoke(blacklisted.jti, blacklisted.expiresAt);
        expect((await store.sessions('1', T0 + 1)).map((s) => s.id)).toEqual([kept.familyId]);

        const rotated = successorOf(kept, T0 + 50);
        await store.consume(kept.jti, T0 + 50, rotated);
        const stale = await recorded(refreshRecord({ issuedAt: T0 + 40 }));
        await store.revokeUser('1', T0 + 50, DAY);
        const fresh = await recorded(refreshRecord({ issuedAt: T0 + 50 }));
        const ids = (await store.sessions('1', T0 + 60)).map((s) => s.id);
        expect(ids).toEqual([kept.familyId, fresh.familyId]);
        expect(ids).not.toContain(stale.familyId);
      });
    });

    describe('purgeExpired()', () => {
      it('removes and counts records, blacklisted jtis, family revocations and user cutoffs at or before now', async () => {
        const shortLived = await recorded(refreshRecord({ expiresAt: T0 + 100 }));
        const longLived = await recorded(refreshRecord({ expiresAt: T0 + 200 }));
        const gone = newJti();
        const stays = newJti();
        await store.revoke(gone, T0 + 100);
        await store.revoke(stays, T0 + 300);
        await store.revokeFamily('family-1', T0 + 100);
        await store.revokeUser('7', T0, 100);

        expect(await store.purgeExpired(T0 + 99)).toBe(0);
        expect(await store.isRevoked(gone, '1', T0)).toBe(true);
        expect(await store.purgeExpired(T0 + 100)).toBe(4);
        expect(await store.familyOf(shortLived.jti)).toBeUndefined();
        expect(await store.isRevoked(gone, '1', T0)).toBe(false);
        expect(await store.isRevoked(newJti(), '1', T0, 'family-1')).toBe(false);
        expect(await store.isRevoked(newJti(), '7', T0 - 1)).toBe(false);
        expect(await store.familyOf(longLived.jti)).toBe(longLived.familyId);
        expect(await store.isRevoked(stays, '1', T0)).toBe(true);

        expect(await store.purgeExpired(T0 + 100)).toBe(0);
        expect(await store.purgeExpired(T0 + 1000)).toBe(2);
        expect(await store.familyOf(longLived.jti)).toBeUndefined();
        expect(await store.isRevoked(stays, '1', T0)).toBe(false);
      });

      it('keeps an entry whose expiry was extended, and never shortens one', async () => {
        const extended = newJti();
        const notShortened = newJti();
        await store.revoke(extended, T0 + 100);
        await store.revoke(extended, T0 + 500);
        await store.revoke(notShortened, T0 + 500);
        await store.revoke(notShortened, T0 + 100);
        await store.revokeFamily('family-1', T0 + 100);
        await store.revokeFamily('family-1', T0 + 500);
        await store.revokeUser('7', T0, 100);
        await store.revokeUser('7', T0 - 50, 550);
        expect(await store.purgeExpired(T0 + 200)).toBe(0);
        expect(await store.isRevoked(extended, '1', T0)).toBe(true);
        expect(await store.isRevoked(notShortened, '1', T0)).toBe(true);
        expect(await store.isRevoked(newJti(), '1', T0, 'family-1')).toBe(true);
        expect(await store.isRevoked(newJti(), '7', T0 - 1)).toBe(true);
        expect(await store.purgeExpired(T0 + 500)).toBe(4);
      });

      it('keeps a session while it has live tokens and forgets it with its last one', async () => {
        const login = await recorded(refreshRecord({ expiresAt: T0 + 1000 }));
        const access = await recorded(accessRecord(login, T0 + 10));
        expect(await store.purgeExpired(access.expiresAt)).toBe(1);
        expect(await store.familyOf(access.jti)).toBeUndefined();
        expect((await store.sessions('1', access.expiresAt)).map((s) => s.id)).toEqual([login.familyId]);
        expect(await store.purgeExpired(T0 + 1000)).toBe(1);
        // A new token in the old family starts a fresh summary rather than reviving the purged one.
        const revived = await recorded(successorOf(login, T0 + 1000, { sessionStartedAt: T0 + 1000 }));
        expect(await store.sessions('1', T0 + 1000)).toMatchObject([{ id: login.familyId, createdAt: T0 + 1000 }]);
        expect(await store.familyOf(revived.jti)).toBe(login.familyId);
      });
    });

    describe('settings', () => {
      it('round-trips a shared setting', async () => {
        expect(await store.getSetting('accessLifetime')).toBeUndefined();
        await store.setSetting('accessLifetime', '300');
        expect(await store.getSetting('accessLifetime')).toBe('300');
        await store.setSetting('accessLifetime', '');
        expect(await store.getSetting('accessLifetime')).toBe('');
        expect(await store.getSetting('refreshLifetime')).toBeUndefined();
      });
    });

    describe('concurrency', () => {
      it('gives exactly one ok among 20 concurrent consume() calls of one jti', async () => {
        const peers = sut.peers ?? [store];
        const login = await recorded(refreshRecord());
        const successors = Array.from({ length: 20 }, () => successorOf(login, T0 + 5));
        const results = await Promise.all(
          successors.map((next, i) => Promise.resolve(peers[i % peers.length]!.consume(login.jti, T0 + 5, next))),
        );
        const statuses = results.map((r) => r.status);
        expect(statuses.filter((s) => s === 'ok')).toHaveLength(1);
        expect(statuses.filter((s) => s === 'reused')).toHaveLength(19);
        for (const r of results) if (r.status === 'reused') expect(r.rotatedAt).toBe(T0 + 5);
        const winner = successors[statuses.indexOf('ok')]!;
        const recordedSuccessors = await Promise.all(successors.map((s) => store.familyOf(s.jti)));
        expect(recordedSuccessors.filter((f) => f !== undefined)).toHaveLength(1);
        expect(await store.familyOf(winner.jti)).toBe(login.familyId);
      });
    });
  });
}
