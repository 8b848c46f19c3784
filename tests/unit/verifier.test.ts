import { REQUEST_USER, SESSION_USER } from '../../lib/tokens/verifier';
import { failure, makeFlow, REQ } from './flow';

/** The body a token error carries for `/verify/` and the session endpoints. */
const tokenError = (detail: string) => ({ status: 401, body: { detail, code: 'token_not_valid' } });

describe('the verifier', () => {
  let flow: ReturnType<typeof makeFlow>;
  afterEach(() => flow?.close());

  /** A login: a pair recorded as a session. */
  async function login() {
    const pair = flow.issuer.issuePair(flow.issuer.userClaims('1', undefined));
    await flow.sessions.startSession(pair, REQ);
    return pair;
  }

  it('accepts a live token synchronously with a synchronous store, claims as signed', async () => {
    flow = makeFlow();
    const { access } = await login();
    const claims = flow.verifier.verify(access.token, 'access');
    expect(claims).not.toBeInstanceOf(Promise);
    expect(claims).toEqual(access.claims);
  });

  it('checks expiry before revocation: an expired revoked token says expired', async () => {
    flow = makeFlow();
    const { refresh } = await login();
    await flow.sessions.logout(refresh.claims);
    expect(await failure(() => flow.verifier.verify(refresh.token, 'refresh'))).toMatchObject(tokenError('Token is blacklisted'));
    flow.clock.advance(86_400);
    expect(await failure(() => flow.verifier.verify(refresh.token, 'refresh'))).toMatchObject(tokenError('Token is expired'));
  });

  it('checks revocation before the type, as simplejwt does', async () => {
    flow = makeFlow();
    const { refresh } = await login();
    expect(await failure(() => flow.verifier.verify(refresh.token, 'access'))).toMatchObject(tokenError('Token has wrong type'));
    await flow.sessions.logout(refresh.claims);
    expect(await failure(() => flow.verifier.verify(refresh.token, 'access'))).toMatchObject(tokenError('Token is blacklisted'));
  });

  it('accepts any type with `null` (/verify/), and skips revocation when asked (a refresh: the store checks it)', async () => {
    flow = makeFlow();
    const { refresh, access } = await login();
    expect(flow.verifier.verify(access.token, null)).toEqual(access.claims);
    await flow.sessions.logout(refresh.claims);
    expect(flow.verifier.verify(refresh.token, 'refresh', false)).toEqual(refresh.claims);
    await expect(flow.verifier.verifyLive(refresh.token, ['refresh'], false)).resolves.toEqual(refresh.claims);
  });

  it('honours the leeway on both sides of exp', async () => {
    flow = makeFlow({ leeway: 10 });
    const { access } = await login();
    flow.clock.advance(300 + 9);
    expect(flow.verifier.verify(access.token, 'access')).toEqual(access.claims);
    flow.clock.advance(1);
    expect(await failure(() => flow.verifier.verify(access.token, 'access'))).toMatchObject(tokenError('Token is expired'));
  });

  it('lists one message per accepted class for authenticate()', async () => {
    flow = makeFlow({ authTokenClasses: ['access', 'sliding'] });
    const { refresh } = await login();
    const err = await failure(() => flow.verifier.verifyRequest(refresh.token));
    expect(err.status).toBe(401);
    expect(err.body.messages).toEqual([
      { token_class: 'AccessToken', token_type: 'access', message: 'Token has wrong type' },
      { token_class: 'SlidingToken', token_type: 'sliding', message: 'Token has wrong type' },
    ]);
    flow.clock.advance(86_401);
    const expired = await failure(() => flow.verifier.verifyRequest(refresh.token));
    expect((expired.body.messages as { message: string }[]).map((m) => m.message)).toEqual(['Token is expired', 'Token is expired']);
  });

  it('asks the store once per request however many classes check revocation', async () => {
    flow = makeFlow({ authTokenClasses: ['access', 'sliding'], revokeAccessTokens: true, slidingTokens: true });
    const sliding = flow.issuer.issueSliding(flow.issuer.userClaims('1', undefined));
    await flow.sessions.startSlidingSession(sliding, REQ);
    const asked = jest.spyOn(flow.store, 'isRevoked');
    expect(await flow.verifier.verifyRequest(sliding.token)).toEqual(sliding.claims);
    expect(asked).toHaveBeenCalledTimes(1);
    await flow.sessions.logout(sliding.claims);
    asked.mockClear();
    const err = await failure(() => flow.verifier.verifyRequest(sliding.token));
    expect((err.body.messages as { message: string }[]).map((m) => m.message)).toEqual(['Token is blacklisted', 'Token is blacklisted']);
    expect(asked).toHaveBeenCalledTimes(1);
  });

  describe('the user step', () => {
    it('names each failure for authenticate() and answers "no active account" for a refresh', async () => {
      flow = makeFlow();
      const { access, refresh } = await login();
      expect(flow.verifier.user(access.claims, REQUEST_USER)).toEqual({ id: '1', active: true, changedAt: null });
      flow.users.get('1')!.active = false;
      expect(await failure(() => flow.verifier.user(access.claims, REQUEST_USER))).toMatchObject({ status: 401, body: { code: 'user_inactive' } });
      flow.users.delete('1');
      expect(await failure(() => flow.verifier.user(access.claims, REQUEST_USER))).toMatchObject({ status: 401, body: { code: 'user_not_found' } });
      expect(await failure(() => flow.verifier.verifyLive(refresh.token, ['refresh'], false))).toMatchObject({
        status: 401,
        body: { detail: 'No active account found for the given token.', code: 'no_active_account' },
      });
    });

    it('refuses a token without a user id for authenticate() and lets it pass a refresh, as simplejwt does', () => {
      flow = makeFlow();
      const claims = { token_type: 'access', jti: 'a'.repeat(32) };
      expect(() => flow.verifier.user(claims, REQUEST_USER)).toThrow(expect.objectContaining({ code: 'token_not_valid' }));
      expect(flow.verifier.user(claims, SESSION_USER)).toBeUndefined();
    });

    it('ends the session of a user whose credentials changed, even in the second the token was issued', async () => {
      flow = makeFlow({ getCredentialsChangedAt: (user) => user.changedAt });
      const claims = flow.issuer.userClaims('1', undefined, null);
      const pair = flow.issuer.issuePair(claims);
      expect(flow.verifier.user(pair.access.claims, REQUEST_USER)).toBeDefined();
      flow.users.get('1')!.changedAt = flow.clock.now();
      expect(await failure(() => flow.verifier.user(pair.access.claims, REQUEST_USER))).toMatchObject({ status: 401, body: { code: 'password_changed' } });
    });

    it('waits for an asynchronous look-up, and turns a host error into a 500 for a refresh only', async () => {
      const boom = new Error('db down');
      flow = makeFlow({ findUserById: () => Promise.reject(boom) });
      const claims = { token_type: 'access', jti: 'a'.repeat(32), user_id: '1' };
      await expect(flow.verifier.user(claims, REQUEST_USER)).rejects.toBe(boom);
      await expect(flow.verifier.user(claims, SESSION_USER)).rejects.toMatchObject({ status: 500, cause: boom });
    });
  });
});
