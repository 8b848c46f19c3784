import { failure, makeFlow, REQ } from './flow';

const blacklisted = { status: 401, body: { detail: 'Token is blacklisted', code: 'token_not_valid' } };

describe('the session manager', () => {
  let flow: ReturnType<typeof makeFlow>;
  afterEach(() => flow?.close());

  function pair() {
    return flow.issuer.issuePair(flow.issuer.userClaims('1', undefined));
  }

  it('records a login, and a logout revokes the token and its session', async () => {
    flow = makeFlow();
    const login = pair();
    await flow.sessions.startSession(login, REQ);
    expect(flow.sessions.revocationCheck(login.refresh.claims)).toBeUndefined();
    expect(await flow.sessions.sessions('1')).toHaveLength(1);
    await flow.sessions.logout(login.refresh.claims);
    expect(() => flow.sessions.revocationCheck(login.refresh.claims)).toThrow('Token is blacklisted');
    expect(await flow.sessions.sessions('1')).toHaveLength(0);
  });

  it('rotates without extending the session, and a rotated token presented again ends the session', async () => {
    flow = makeFlow({ rotateRefreshTokens: true });
    const login = pair();
    await flow.sessions.startSession(login, REQ);
    flow.clock.advance(100);
    const rotated = await flow.sessions.rotate(login.refresh.claims, REQ);
    expect(rotated.refresh.claims.jti).not.toBe(login.refresh.claims.jti);
    expect(rotated.refresh.claims.exp).toBe(login.refresh.claims.exp);
    expect(await failure(() => flow.sessions.rotate(login.refresh.claims, REQ))).toMatchObject(blacklisted);
    expect(() => flow.sessions.revocationCheck(rotated.refresh.claims)).toThrow('Token is blacklisted');
  });

  it('refuses a login past the per-user cap when told to', async () => {
    flow = makeFlow({ maxSessionsPerUser: 1, sessionLimitPolicy: 'refuse' });
    await flow.sessions.startSession(pair(), REQ);
    expect(await failure(() => flow.sessions.startSession(pair(), REQ))).toMatchObject({ body: { code: 'session_limit' } });
  });

  it('ends every session of a user ("log out everywhere"), tokens issued later still work', async () => {
    flow = makeFlow();
    const first = pair();
    await flow.sessions.startSession(first, REQ);
    await flow.sessions.revokeUser('1');
    expect(() => flow.sessions.revocationCheck(first.refresh.claims)).toThrow('Token is blacklisted');
    flow.clock.advance(1);
    const later = pair();
    await flow.sessions.startSession(later, REQ);
    expect(flow.sessions.revocationCheck(later.refresh.claims)).toBeUndefined();
  });

  it('answers 503 and issues nothing when the store fails', async () => {
    flow = makeFlow();
    flow.store.startSession = () => {
      throw new Error('disk full');
    };
    expect(await failure(() => flow.sessions.startSession(pair(), REQ))).toMatchObject({ status: 503 });
  });
});
