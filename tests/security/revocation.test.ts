/**
 * Revocation under attack, against the demo as `npm start` runs it (users and tokens in one SQLite file):
 * logout, replay of a rotated refresh token, deleted and deactivated users, password changes, a restart, a
 * re-encoded copy of a revoked token, and refresh floods. Each test names its source (RFC 9700 OAuth 2.0 Security
 * BCP, RFC 7009, OWASP JSON Web Token and Session Management cheat sheets, ASVS 5.0 V7).
 *
 * Revocation latency (SECURITY.md): refresh tokens die at once; access tokens die at once only with
 * `revokeAccessTokens: true`, otherwise they live out their lifetime (5 minutes by default).
 */
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { keyPairFor } from '../helpers/keys';
import { decodePart } from '../helpers/jwt';
import { manualClock } from '../helpers/app';
import { hello, itLeaksNothing, login, post, recorder, sqliteDemo, tokenFailure } from './harness';

const rec = recorder();
const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };
const clock = manualClock();

function rows(db: { prepare(sql: string): { get(): unknown } }): number {
  let total = 0;
  for (const table of ['sjwt_tokens', 'sjwt_families', 'sjwt_blacklist', 'sjwt_revoked_families', 'sjwt_revoked_users']) {
    total += (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  }
  return total;
}

describe('logout (RFC 7009 §2.2; OWASP JWT cheat sheet "token revocation"; ASVS 5.0 7.4.1)', () => {
  const { app } = sqliteDemo(rec, { clock: clock.now });

  it('a logged-out refresh token is dead at /refresh/, /verify/ and /blacklist/ at once; another session lives', async () => {
    const a = await login(app);
    const b = await login(app);
    expect((await post(app, rec, 'blacklist', a.refresh)).status).toBe(200);
    for (const path of ['refresh', 'blacklist', 'verify'] as const) {
      const res = await post(app, rec, path, a.refresh);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(BLACKLISTED);
    }
    expect((await post(app, rec, 'refresh', b.refresh)).status).toBe(200);
  });

  it('an access token of the logged-out session lives out its lifetime by default, and no longer (the documented latency)', async () => {
    const pair = await login(app);
    await post(app, rec, 'blacklist', pair.refresh);
    expect((await hello(app, rec, pair.access)).status).toBe(200);
    clock.advance(300);
    expect((await hello(app, rec, pair.access)).body).toEqual(tokenFailure('Token is expired'));
  });

  it('with revokeAccessTokens the access tokens of the session die at once, those minted by refreshes included', async () => {
    const strict = sqliteDemo(rec, { clock: clock.now, revokeAccessTokens: true });
    const pair = await login(strict.app);
    const refreshed = (await post(strict.app, rec, 'refresh', pair.refresh)).body.access as string;
    await post(strict.app, rec, 'blacklist', pair.refresh);
    for (const access of [pair.access, refreshed]) {
      expect((await hello(strict.app, rec, access)).body).toEqual(tokenFailure('Token is blacklisted'));
    }
  });
});

describe('replay of a rotated refresh token (RFC 9700 §4.14.2 refresh token rotation; OWASP JWT cheat sheet)', () => {
  const { app } = sqliteDemo(rec, { clock: clock.now, rotateRefreshTokens: true, revokeAccessTokens: true });

  it('the old token is refused and its whole session dies, the thief\'s and the owner\'s newest tokens alike', async () => {
    const stolen = await login(app);
    const first = await post(app, rec, 'refresh', stolen.refresh);
    expect(first.status).toBe(200);
    const replay = await post(app, rec, 'refresh', stolen.refresh);
    expect(replay.body).toEqual(BLACKLISTED);
    expect((await post(app, rec, 'refresh', first.body.refresh)).body).toEqual(BLACKLISTED);
    expect((await hello(app, rec, first.body.access)).body).toEqual(tokenFailure('Token is blacklisted'));
    expect(rec.log.some((line) => line.includes('TOKEN_REUSE'))).toBe(true);
  });
});

describe('the user behind a token changes (OWASP Session Management cheat sheet "renew/revoke on privilege change"; ASVS 5.0 7.4.2)', () => {
  it('a deleted user: refresh is "No active account found for the given token.", /hello/ is user_not_found', async () => {
    const demo = sqliteDemo(rec, { clock: clock.now });
    const id = demo.users.create('leaver', demo.users.findByUsername('vitor')!.password);
    const pair = await login(demo.app, 'leaver');
    demo.users.db.prepare('DELETE FROM users WHERE id = ?').run(id);
    const refreshed = await post(demo.app, rec, 'refresh', pair.refresh);
    expect(refreshed.status).toBe(401);
    expect(refreshed.body).toEqual({ detail: 'No active account found for the given token.', code: 'no_active_account' });
    expect((await hello(demo.app, rec, pair.access)).body).toEqual({ detail: 'User not found', code: 'user_not_found' });
  });

  it('a deactivated user: refresh is refused, /hello/ is user_inactive, login is the generic 401', async () => {
    const demo = sqliteDemo(rec, { clock: clock.now });
    const pair = await login(demo.app);
    demo.users.db.prepare('UPDATE users SET is_active = 0 WHERE id = 1').run();
    expect((await post(demo.app, rec, 'refresh', pair.refresh)).body).toEqual({ detail: 'No active account found for the given token.', code: 'no_active_account' });
    expect((await hello(demo.app, rec, pair.access)).body).toEqual({ detail: 'User is inactive', code: 'user_inactive' });
    expect((await request(demo.app).post('/api/token/').send({ username: 'vitor', password: '123' })).status).toBe(401);
  });

  it('a password change with getCredentialsChangedAt: older tokens answer password_changed at once; a new login works', async () => {
    const changedAt = new Map<number, number>();
    const demo = sqliteDemo(rec, { clock: clock.now, getCredentialsChangedAt: (user) => changedAt.get(user.id) });
    const before = await login(demo.app);
    clock.advance(5);
    changedAt.set(1, clock.now());
    clock.advance(1);
    expect((await hello(demo.app, rec, before.access)).body).toEqual({ detail: "The user's password has been changed.", code: 'password_changed' });
    expect((await post(demo.app, rec, 'refresh', before.refresh)).body).toEqual({ detail: "The user's password has been changed.", code: 'password_changed' });
    const after = await login(demo.app);
    expect((await hello(demo.app, rec, after.access)).status).toBe(200);
  });

  it('a password change with auth.revokeUser(id) ("log out everywhere"): every refresh token of the user dies', async () => {
    const demo = sqliteDemo(rec, { clock: clock.now });
    const a = await login(demo.app);
    const b = await login(demo.app);
    await demo.auth.revokeUser(1);
    clock.advance(1);
    for (const token of [a.refresh, b.refresh]) expect((await post(demo.app, rec, 'refresh', token)).body).toEqual(BLACKLISTED);
    expect((await post(demo.app, rec, 'refresh', (await login(demo.app)).refresh)).status).toBe(200);
  });

  it('a password change with neither: the old refresh token still works (why SECURITY.md makes the host do one of them)', async () => {
    const demo = sqliteDemo(rec, { clock: clock.now });
    const pair = await login(demo.app);
    demo.users.db.prepare("UPDATE users SET password = 'x' WHERE id = 1").run();
    expect((await post(demo.app, rec, 'refresh', pair.refresh)).status).toBe(200);
  });
});

describe('a restart (OWASP Session Management cheat sheet; the store is persistent)', () => {
  it('a logged-out token stays dead and a rotated one is still detected as reused after the demo restarts on the same SQLite file', async () => {
    const first = sqliteDemo(rec, { clock: clock.now, rotateRefreshTokens: true });
    const loggedOut = await login(first.app);
    await post(first.app, rec, 'blacklist', loggedOut.refresh);
    const rotated = await login(first.app);
    const successor = (await post(first.app, rec, 'refresh', rotated.refresh)).body.refresh as string;
    await first.auth.close();
    first.users.close();

    const second = sqliteDemo(rec, { clock: clock.now, rotateRefreshTokens: true }, first.path);
    expect((await post(second.app, rec, 'refresh', loggedOut.refresh)).body).toEqual(BLACKLISTED);
    expect((await post(second.app, rec, 'refresh', rotated.refresh)).body).toEqual(BLACKLISTED);
    expect((await post(second.app, rec, 'refresh', successor)).body).toEqual(BLACKLISTED);
    expect((await post(second.app, rec, 'refresh', (await login(second.app)).refresh)).status).toBe(200);
  });
});

describe('a revoked token in another spelling (ECDSA signature malleability: (r, s) and (r, n − s) both verify)', () => {
  it('the high-S twin of a logged-out ES256 refresh token is still blacklisted: revocation goes by jti, not by token text', async () => {
    const { app } = sqliteDemo(rec, { clock: clock.now, algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey });
    const pair = await login(app);
    const [h, p, s] = pair.refresh.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    const n = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
    const twinS = (n - BigInt(`0x${sig.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0');
    const twin = `${h}.${p}.${Buffer.concat([sig.subarray(0, 32), Buffer.from(twinS, 'hex')]).toString('base64url')}`;
    expect(twin).not.toBe(pair.refresh);
    expect((await post(app, rec, 'verify', twin)).status).toBe(200); // the twin verifies: ECDSA allows it
    await post(app, rec, 'blacklist', pair.refresh);
    expect((await post(app, rec, 'refresh', twin)).body).toEqual(BLACKLISTED);
    expect(decodePart(twin, 1).jti).toBe(decodePart(pair.refresh, 1).jti);
  });
});

describe('refresh floods (OWASP DoS cheat sheet; RFC 9700 §4.14.2)', () => {
  it('300 concurrent refreshes without rotation all succeed, write nothing to the store, and log nothing', async () => {
    const demo = sqliteDemo(rec, { clock: clock.now });
    const pair = await login(demo.app);
    const before = { rows: rows(demo.users.db), log: rec.log.length };
    const results = await Promise.all(Array.from({ length: 300 }, () => request(demo.app).post('/api/token/refresh/').send({ refresh: pair.refresh })));
    expect(results.map((r) => r.status).filter((s) => s !== 200)).toEqual([]);
    expect(rows(demo.users.db)).toBe(before.rows);
    expect(rec.log.length).toBe(before.log);
    expect((await hello(demo.app, rec, results[299]!.body.access)).status).toBe(200);
  });

  it('50 concurrent refreshes of one token with rotation: exactly one wins, the others are blacklisted, none fails with 5xx', async () => {
    const demo = sqliteDemo(rec, { clock: clock.now, rotateRefreshTokens: true });
    const pair = await login(demo.app);
    rec.protect(pair.refresh);
    const results = await Promise.all(Array.from({ length: 50 }, () => request(demo.app).post('/api/token/refresh/').send({ refresh: pair.refresh })));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401 && r.body.detail === 'Token is blacklisted')).toHaveLength(49);
  });

  it('500 garbage and forged refresh tokens: all 401, nothing written to the store, nothing logged', async () => {
    const demo = sqliteDemo(rec, { clock: clock.now });
    const pair = await login(demo.app);
    const [h, p] = pair.refresh.split('.');
    const before = { rows: rows(demo.users.db), log: rec.log.length };
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        request(demo.app as RequestListener).post('/api/token/refresh/').send({ refresh: i % 2 ? `garbage-${i}` : `${h}.${p}.${'A'.repeat(42)}${i % 10}` }),
      ),
    );
    expect(results.map((r) => r.status).filter((s) => s !== 401)).toEqual([]);
    expect(rows(demo.users.db)).toBe(before.rows);
    expect(rec.log.length).toBe(before.log);
  });
});

itLeaksNothing(rec);
