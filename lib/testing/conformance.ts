/**
 * The store contract's conformance suite, shipped as `express-simplejwt/testing` so the author of a custom store
 * runs the very tests the shipped stores pass, with jest, vitest or node:test:
 *
 * @example
 * // jest / vitest: the globals
 * import { runStoreConformance } from 'express-simplejwt/testing';
 * runStoreConformance('MyStore', { describe, it, beforeEach, afterEach }, (clock) => ({ store: new MyStore({ clock }) }));
 *
 * // node:test
 * import { describe, it, beforeEach, afterEach } from 'node:test';
 * runStoreConformance('MyStore', { describe, it, beforeEach, afterEach }, async () => ({ store: await MyStore.open() }));
 *
 * Assertions use node:assert, so the suite needs nothing of the runner but these four functions.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type {
  Awaitable,
  NewToken,
  PresentedToken,
  Rotation,
  RotationResult,
  SessionStart,
  TokenRecord,
  TokenStore,
} from '../stores/types';

/** The four functions of a test runner the suite uses (jest's and vitest's globals, node:test's exports). */
export interface TestRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
  beforeEach(fn: () => Promise<void>): unknown;
  afterEach(fn: () => Promise<void>): unknown;
}

/** What a store factory hands the suite for one test. */
export interface StoreUnderTest {
  /** A fresh, empty store. */
  store: TokenStore;
  /**
   * Stores over the same data through their own connections (other SQLite connections to the file, other Redis
   * clients, other app servers), used by the race tests. Defaults to `[store]`.
   */
  peers?: TokenStore[];
  /** Closes whatever was opened for this test. Defaults to `store.close()`. */
  close?: () => Awaitable<void>;
}

/** Makes a fresh, empty store whose timers (if any) read `clock` (milliseconds). */
export type MakeStore = (clock: () => number) => Awaitable<StoreUnderTest>;

/** The suite's "now": 2026-06-01T00:00:00Z, in seconds. Stores get a clock frozen here. */
export const T0 = Date.UTC(2026, 5, 1) / 1000;
const DAY = 86_400;
const MINUTE = 60;

/** A random 32-hex-digit jti. */
export function newJti(): string {
  return randomBytes(16).toString('hex');
}

/** The refresh token of a new login (its own session) at `overrides.issuedAt` (default T0) for user '1'. */
export function loginRecord(overrides: Partial<TokenRecord> = {}): TokenRecord {
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
    sessionExpiresAt: issuedAt + DAY,
    userAgent: 'HTTPie/3.2.4',
    ip: '203.0.113.7',
    ...overrides,
  };
}

/** A login as `startSession()` takes it: no cap unless given. */
export function login(session: TokenRecord, overrides: Partial<SessionStart> = {}): SessionStart {
  return { now: session.issuedAt, session, maxSessions: Infinity, whenFull: 'evict-oldest', ...overrides };
}

/** A token issued at `at` (refresh by default, expiring a day later). */
export function issued(at: number, overrides: Partial<NewToken> = {}): NewToken {
  return { jti: newJti(), type: 'refresh', issuedAt: at, expiresAt: at + DAY, ...overrides };
}

/** An access token issued at `at`. */
export function accessAt(at: number): NewToken {
  return issued(at, { type: 'access', expiresAt: at + 5 * MINUTE });
}

/** A token as a client presents it. */
export function presentedOf(token: TokenRecord | NewToken, userId = '1'): PresentedToken {
  return { jti: token.jti, userId: 'userId' in token ? token.userId : userId, type: token.type, issuedAt: token.issuedAt, expiresAt: token.expiresAt };
}

/** A rotation of `token` at `now` with simplejwt's defaults plus blacklist after rotation. */
export function rotation(token: TokenRecord | NewToken | PresentedToken, now: number, overrides: Partial<Rotation> = {}): Rotation {
  const presented = 'familyId' in token || !('userId' in token) ? presentedOf(token as TokenRecord) : token;
  return {
    now,
    token: presented,
    successor: issued(now),
    consume: true,
    reuseInterval: 0,
    reuseDetection: true,
    adoptUnknown: false,
    ...overrides,
  };
}

/** Runs every conformance test against the stores `makeStore` produces. */
export function runStoreConformance(name: string, runner: TestRunner, makeStore: MakeStore): void {
  const { describe, it, beforeEach, afterEach } = runner;

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

    async function started(session = loginRecord(), overrides: Partial<SessionStart> = {}): Promise<TokenRecord> {
      const result = await store.startSession(login(session, overrides));
      assert.equal(result.status, 'ok');
      return session;
    }

    async function revoked(token: TokenRecord | NewToken, now = T0, mustBeKnown = false, userId = '1'): Promise<boolean> {
      return store.isRevoked({ now, jti: token.jti, userId, issuedAt: token.issuedAt, mustBeKnown });
    }

    async function ids(userId = '1', now = T0): Promise<string[]> {
      return (await store.sessions(userId, now)).map((s) => s.id);
    }

    /** Asserts that the store never recorded `token`: rotating it adopts it as a session of its own. */
    async function notRecorded(token: NewToken, now: number): Promise<void> {
      const result = await store.rotate(rotation(token, now));
      assert.equal(result.status, 'ok', `${token.jti} was recorded: ${JSON.stringify(result)}`);
      assert.equal(result.status === 'ok' && result.session.id, token.jti, `${token.jti} was recorded in another session`);
    }

    /** Rotates and asserts the status. */
    async function rotated<S extends RotationResult['status']>(r: Rotation, status: S): Promise<Extract<RotationResult, { status: S }>> {
      const result = await store.rotate(r);
      assert.equal(result.status, status, `rotate() answered ${JSON.stringify(result)}`);
      return result as Extract<RotationResult, { status: S }>;
    }

    describe('startSession()', () => {
      it('records a session that sessions() lists with what the login recorded', async () => {
        const session = await started();
        assert.deepEqual(await store.sessions('1', T0), [
          { id: session.jti, createdAt: T0, lastUsedAt: T0, expiresAt: T0 + DAY, userAgent: 'HTTPie/3.2.4', ip: '203.0.113.7' },
        ]);
        assert.equal(await revoked(session, T0, true), false);
      });

      it('keeps absent optional fields absent', async () => {
        const { userAgent: _ua, ip: _ip, ...bare } = loginRecord();
        await started(bare);
        assert.deepEqual(await store.sessions('1', T0), [{ id: bare.jti, createdAt: T0, lastUsedAt: T0, expiresAt: T0 + DAY }]);
      });

      it('records the access token in the session: ending the session revokes it', async () => {
        const access = accessAt(T0);
        const session = await started(loginRecord(), { access });
        assert.equal(await revoked(access, T0, true), false);
        await store.revokeToken(presentedOf(session));
        assert.equal(await revoked(access, T0, true), true);
      });

      it('evicts the oldest sessions at the cap and names them', async () => {
        const first = await started(loginRecord({ issuedAt: T0 }));
        const second = await started(loginRecord({ issuedAt: T0 + 1 }));
        const third = loginRecord({ issuedAt: T0 + 2 });
        const result = await store.startSession(login(third, { maxSessions: 2 }));
        assert.deepEqual(result, { status: 'ok', ended: [first.jti] });
        assert.deepEqual(await ids(), [second.jti, third.jti]);
        assert.equal(await revoked(first), true);
      });

      it('refuses at the cap with whenFull "refuse" and changes nothing', async () => {
        const first = await started(loginRecord({ issuedAt: T0 }));
        const second = loginRecord({ issuedAt: T0 + 1 });
        assert.deepEqual(await store.startSession(login(second, { maxSessions: 1, whenFull: 'refuse', access: accessAt(T0 + 1) })), {
          status: 'full',
        });
        assert.deepEqual(await ids(), [first.jti]);
        await rotated(rotation(second, T0 + 2, { adoptUnknown: false }), 'ok'); // unknown but issued since: adopted
      });

      it('counts only live sessions of that user toward the cap', async () => {
        await started(loginRecord({ userId: '2' }));
        const expired = await started(loginRecord({ issuedAt: T0 - 2 * DAY, expiresAt: T0 - DAY, sessionExpiresAt: T0 - DAY }));
        const loggedOut = await started();
        await store.revokeToken(presentedOf(loggedOut));
        const result = await store.startSession(login(loginRecord({ issuedAt: T0 + 1 }), { maxSessions: 1, whenFull: 'refuse' }));
        assert.deepEqual(result, { status: 'ok', ended: [] });
        assert.equal((await ids('1', T0)).includes(expired.jti), false, 'the expired session was not counted');
      });
    });

    describe('rotate()', () => {
      it('consumes the token, records the successor and the access token, and answers the session', async () => {
        const session = await started();
        const r = rotation(session, T0 + 60, { access: accessAt(T0 + 60) });
        const result = await rotated(r, 'ok');
        assert.deepEqual(result.session, { id: session.jti, userId: '1', startedAt: T0, expiresAt: T0 + DAY });
        assert.equal(await revoked(session, T0 + 60, true), true, 'a consumed token is revoked everywhere');
        assert.equal(await revoked(r.successor!, T0 + 60, true), false);
        assert.equal(await revoked(r.access!, T0 + 60, true), false);
        assert.deepEqual(await store.sessions('1', T0 + 60), [
          { id: session.jti, createdAt: T0, lastUsedAt: T0 + 60, expiresAt: T0 + 60 + DAY, userAgent: 'HTTPie/3.2.4', ip: '203.0.113.7' },
        ]);
      });

      it('keeps the session across rotations: the successor rotates in turn', async () => {
        const session = await started();
        const first = rotation(session, T0 + 60);
        await rotated(first, 'ok');
        const second = rotation(presentedOf(first.successor!), T0 + 120);
        const result = await rotated(second, 'ok');
        assert.equal(result.session.id, session.jti);
        await store.revokeToken(presentedOf(second.successor!));
        assert.deepEqual(await ids('1', T0 + 120), []);
      });

      it('answers reused for a consumed token and ends the session (reuse detection)', async () => {
        const session = await started();
        const first = rotation(session, T0 + 60);
        await rotated(first, 'ok');
        const again = await rotated(rotation(session, T0 + 61), 'reused');
        assert.equal(again.rotatedAt, T0 + 60);
        assert.equal(again.session.id, session.jti);
        assert.equal(await revoked(first.successor!, T0 + 61), true, 'the live branch is ended');
        assert.deepEqual(await ids('1', T0 + 61), []);
      });

      it('answers reused without ending the session when reuse detection is off', async () => {
        const session = await started();
        const first = rotation(session, T0 + 60);
        await rotated(first, 'ok');
        await rotated(rotation(session, T0 + 61, { reuseDetection: false }), 'reused');
        assert.equal(await revoked(first.successor!, T0 + 61), false);
      });

      it('gives the same successor back within reuseInterval, and ends nothing', async () => {
        const session = await started();
        const first = rotation(session, T0 + 60, { reuseInterval: 30 });
        await rotated(first, 'ok');
        for (const at of [T0 + 61, T0 + 90]) {
          const access = accessAt(at);
          const retry = await rotated(rotation(session, at, { reuseInterval: 30, access }), 'retry');
          assert.deepEqual(retry.successor, first.successor);
          assert.equal(retry.session.id, session.jti);
          assert.equal(await revoked(access, at, true), false, 'the retry\'s access token is recorded');
        }
        assert.deepEqual(await ids('1', T0 + 90), [session.jti]);
        assert.equal(await revoked(first.successor!, T0 + 90), false);
        await rotated(rotation(session, T0 + 91, { reuseInterval: 30 }), 'reused');
        assert.equal(await revoked(first.successor!, T0 + 91), true);
      });

      it('treats a retry as reuse once the successor has itself been rotated', async () => {
        const session = await started();
        const first = rotation(session, T0 + 60, { reuseInterval: 30 });
        await rotated(first, 'ok');
        await rotated(rotation(presentedOf(first.successor!), T0 + 61, { reuseInterval: 30 }), 'ok');
        await rotated(rotation(session, T0 + 62, { reuseInterval: 30 }), 'reused');
        assert.deepEqual(await ids('1', T0 + 62), []);
      });

      it('without consume, leaves the presented token usable and records the successor', async () => {
        const session = await started();
        const r = rotation(session, T0 + 60, { consume: false });
        await rotated(r, 'ok');
        assert.equal(await revoked(session, T0 + 60, true), false);
        await rotated(rotation(session, T0 + 61, { consume: false }), 'ok');
        assert.equal(await revoked(r.successor!, T0 + 61, true), false);
      });

      it('without a successor, checks the token and records the access token', async () => {
        const session = await started();
        const access = accessAt(T0 + 60);
        const { successor: _none, ...r } = rotation(session, T0 + 60, { consume: false, access });
        await rotated(r, 'ok');
        await store.revokeToken(presentedOf(session));
        assert.equal(await revoked(access, T0 + 60, true), true);
        await rotated({ ...r, now: T0 + 61 }, 'revoked');
      });

      it('answers revoked after logout, after the session ended, and before the user cutoff; changes nothing', async () => {
        const a = await started(loginRecord({ issuedAt: T0 }));
        await store.revokeToken(presentedOf(a));
        const r = rotation(a, T0 + 1);
        await rotated(r, 'revoked');
        await notRecorded(r.successor!, T0 + 1);

        const b = await started(loginRecord({ issuedAt: T0 }));
        assert.equal(await store.endSession('1', b.jti, T0 + 1), true);
        await rotated(rotation(b, T0 + 2), 'revoked');

        const c = await started(loginRecord({ issuedAt: T0 }));
        await store.revokeUser({ userId: '1', before: T0 + 3, retainUntil: T0 + DAY });
        await rotated(rotation(c, T0 + 4), 'revoked');
        const d = await started(loginRecord({ issuedAt: T0 + 3 }));
        await rotated(rotation(d, T0 + 4), 'ok');
      });

      it('adopts an unknown token issued since the store began, as a session of its own', async () => {
        await started(loginRecord({ userId: '1', issuedAt: T0 }));
        const foreign = { jti: newJti(), userId: '1', type: 'refresh', issuedAt: T0 + 10, expiresAt: T0 + 10 + DAY };
        const r = rotation(foreign, T0 + 20);
        const result = await rotated(r, 'ok');
        assert.equal(result.session.id, foreign.jti);
        assert.equal((await ids('1', T0 + 20)).includes(foreign.jti), true);
        await rotated(rotation(foreign, T0 + 21), 'reused');
      });

      it('answers unknown for a token older than its memory unless adoptUnknown, and changes nothing', async () => {
        await started(loginRecord({ userId: '2', issuedAt: T0 }));
        await started(loginRecord({ userId: '1', issuedAt: T0 }));
        const old = { jti: newJti(), userId: '1', type: 'refresh', issuedAt: T0 - DAY / 2, expiresAt: T0 + DAY / 2 };
        const refused = rotation(old, T0 + 10);
        await rotated(refused, 'unknown');
        await notRecorded(refused.successor!, T0 + 10);
        assert.equal(await revoked(old, T0 + 10, true), true, 'isRevoked with mustBeKnown agrees');
        assert.equal(await revoked(old, T0 + 10, false), false);
        const adopted = await rotated(rotation(old, T0 + 11, { adoptUnknown: true }), 'ok');
        assert.equal(adopted.session.id, old.jti);
      });

      it('gives exactly one ok among 20 concurrent rotations of one token, across peers', async () => {
        const session = await started();
        const peers = sut.peers ?? [store];
        const attempts = Array.from({ length: 20 }, (_, i) => peers[i % peers.length]!.rotate(rotation(session, T0 + 60)));
        const statuses = (await Promise.all(attempts)).map((r) => r.status).sort();
        assert.deepEqual(statuses, ['ok', ...Array<string>(19).fill('reused')]);
        assert.deepEqual(await ids('1', T0 + 60), [], 'reuse ended the session');
      });

      it('gives exactly one ok and only retries within reuseInterval, across peers: one live branch', async () => {
        const session = await started();
        const peers = sut.peers ?? [store];
        const attempts = Array.from({ length: 10 }, (_, i) =>
          peers[i % peers.length]!.rotate(rotation(session, T0 + 60, { reuseInterval: 30 })),
        );
        const results = await Promise.all(attempts);
        const oks = results.filter((r) => r.status === 'ok');
        assert.equal(oks.length, 1);
        const successors = new Set(results.map((r) => (r.status === 'retry' ? r.successor.jti : undefined)).filter(Boolean));
        assert.ok(successors.size <= 1, 'every retry names the same successor');
        assert.equal(results.filter((r) => r.status === 'retry').length, 9);
        assert.deepEqual(await ids('1', T0 + 60), [session.jti]);
      });
    });

    describe('revokeToken()', () => {
      it('logs out: the token and its whole session, including tokens issued later in it', async () => {
        const session = await started();
        const r = rotation(session, T0 + 60, { consume: false });
        await rotated(r, 'ok');
        await store.revokeToken(presentedOf(r.successor!));
        assert.equal(await revoked(session, T0 + 60), true);
        assert.equal(await revoked(r.successor!, T0 + 60), true);
        assert.deepEqual(await ids('1', T0 + 60), []);
      });

      it('blacklists a token it does not know', async () => {
        const foreign = { jti: newJti(), userId: '1', type: 'refresh', issuedAt: T0, expiresAt: T0 + DAY };
        await store.revokeToken(foreign);
        assert.equal(await revoked(foreign), true);
        await rotated(rotation(foreign, T0 + 1, { adoptUnknown: true }), 'revoked');
      });

      it('leaves other sessions of the user alone', async () => {
        const a = await started(loginRecord({ issuedAt: T0 }));
        const b = await started(loginRecord({ issuedAt: T0 + 1 }));
        await store.revokeToken(presentedOf(a));
        assert.deepEqual(await ids('1', T0 + 1), [b.jti]);
      });
    });

    describe('revokeUser()', () => {
      it('revokes tokens issued before the cutoff and every live session, even of that very second', async () => {
        const before = await started(loginRecord({ issuedAt: T0 }));
        const sameSecond = await started(loginRecord({ issuedAt: T0 + 10 }));
        await store.revokeUser({ userId: '1', before: T0 + 10, retainUntil: T0 + DAY });
        assert.equal(await revoked(before, T0 + 10), true);
        assert.equal(await revoked(sameSecond, T0 + 10), true);
        assert.deepEqual(await ids('1', T0 + 10), []);
        const after = await started(loginRecord({ issuedAt: T0 + 10 }));
        assert.equal(await revoked(after, T0 + 10), false, 'a login right after it stands');
        assert.deepEqual(await ids('1', T0 + 10), [after.jti]);
        assert.equal(await revoked({ ...accessAt(T0), jti: newJti() }, T0 + 10, false, '1'), true, 'unrecorded tokens too');
        assert.equal(await revoked({ ...accessAt(T0), jti: newJti() }, T0 + 10, false, '2'), false, 'only that user');
      });

      it('lets the larger cutoff win whatever the order of calls', async () => {
        await store.revokeUser({ userId: '1', before: T0 + 20, retainUntil: T0 + DAY });
        await store.revokeUser({ userId: '1', before: T0 + 10, retainUntil: T0 + 2 * DAY });
        assert.equal(await revoked(accessAt(T0 + 15), T0 + 20), true);
        await store.purgeExpired(T0 + DAY + 1);
        assert.equal(await revoked(accessAt(T0 + 15), T0 + DAY + 1), true, 'kept until the later end');
      });
    });

    describe('endSession()', () => {
      it('ends one live session of the user and answers true', async () => {
        const a = await started(loginRecord({ issuedAt: T0 }));
        const access = accessAt(T0 + 1);
        const b = await started(loginRecord({ issuedAt: T0 + 1 }), { access });
        assert.equal(await store.endSession('1', b.jti, T0 + 2), true);
        assert.deepEqual(await ids('1', T0 + 2), [a.jti]);
        assert.equal(await revoked(access, T0 + 2), true);
      });

      it('answers false for another user\'s session, an unknown one and an ended one, changing nothing', async () => {
        const a = await started();
        assert.equal(await store.endSession('2', a.jti, T0), false);
        assert.equal(await store.endSession('1', newJti(), T0), false);
        assert.deepEqual(await ids(), [a.jti]);
        assert.equal(await store.endSession('1', a.jti, T0), true);
        assert.equal(await store.endSession('1', a.jti, T0), false);
      });
    });

    describe('isRevoked()', () => {
      it('knows nothing revoked by default, and a forgotten token only with mustBeKnown', async () => {
        const session = await started();
        assert.equal(await revoked(session, T0, true), false);
        const old = { ...accessAt(T0 - 3600) };
        assert.equal(await revoked(old, T0, false), false);
        assert.equal(await revoked(old, T0, true), true);
        const recent = { ...accessAt(T0) };
        assert.equal(await revoked(recent, T0, true), false, 'issued since the store began: not forgotten');
      });
    });

    describe('sessions()', () => {
      it('lists live sessions oldest first, ties by id', async () => {
        const late = await started(loginRecord({ issuedAt: T0 + 5 }));
        const x = await started(loginRecord({ issuedAt: T0, jti: 'b'.repeat(32), familyId: 'b'.repeat(32) }));
        const y = await started(loginRecord({ issuedAt: T0, jti: 'a'.repeat(32), familyId: 'a'.repeat(32) }));
        assert.deepEqual(await ids('1', T0 + 5), [y.jti, x.jti, late.jti]);
      });

      it('counts access tokens as use but not as the session\'s expiry', async () => {
        const session = await started();
        const { successor: _s, ...r } = rotation(session, T0 + 100, { consume: false, access: accessAt(T0 + 100) });
        await rotated(r, 'ok');
        const [info] = await store.sessions('1', T0 + 100);
        assert.equal(info?.lastUsedAt, T0 + 100);
        assert.equal(info?.expiresAt, T0 + DAY);
      });

      it('leaves out a session once its newest token has expired', async () => {
        await started();
        assert.equal((await ids('1', T0 + DAY - 1)).length, 1);
        assert.deepEqual(await ids('1', T0 + DAY), []);
      });
    });

    describe('purgeExpired()', () => {
      it('removes what has expired and keeps revocations until their end', async () => {
        const session = await started(loginRecord({ expiresAt: T0 + 100, sessionExpiresAt: T0 + 100 }));
        const r = rotation(session, T0 + 10, { successor: issued(T0 + 10, { expiresAt: T0 + 100 }) });
        await rotated(r, 'ok');
        await store.revokeToken(presentedOf(r.successor!));
        await store.purgeExpired(T0 + 99);
        assert.equal(await revoked(r.successor!, T0 + 99), true);
        const removed = await store.purgeExpired(T0 + 100);
        assert.ok(removed >= 2, `purgeExpired() counted ${removed}`);
        assert.deepEqual(await ids('1', T0 + 100), []);
      });

      it('keeps a session ended at logout ended for as long as any of its tokens could verify', async () => {
        const access = issued(T0, { type: 'access', expiresAt: T0 + 2 * DAY });
        const session = await started(loginRecord({ expiresAt: T0 + DAY }), { access });
        await store.revokeToken(presentedOf(session));
        await store.purgeExpired(T0 + DAY + 1);
        assert.equal(await revoked(access, T0 + DAY + 1), true);
      });
    });

    describe('settings', () => {
      it('round-trips a shared setting', async () => {
        assert.equal(await store.getSetting('lifetimes'), undefined);
        await store.setSetting('lifetimes', '{"access":60}');
        await store.setSetting('lifetimes', '{"access":120}');
        assert.equal(await store.getSetting('lifetimes'), '{"access":120}');
      });
    });
  });
}
