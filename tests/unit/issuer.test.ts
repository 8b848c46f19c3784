import { makeFlow } from './flow';

describe('the issuer', () => {
  let flow: ReturnType<typeof makeFlow>;
  afterEach(() => flow?.close());

  it("writes simplejwt's claims in simplejwt's order, the pair sharing iat", () => {
    flow = makeFlow();
    const { refresh, access } = flow.issuer.issuePair(flow.issuer.userClaims(7, { role: 'admin' }));
    const iat = flow.issuer.now();
    expect(Object.keys(refresh.claims)).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'role']);
    expect(Object.keys(access.claims)).toEqual(['token_type', 'exp', 'iat', 'jti', 'user_id', 'role']);
    expect(refresh.claims).toMatchObject({ token_type: 'refresh', iat, exp: iat + 86_400, user_id: '7' });
    expect(access.claims).toMatchObject({ token_type: 'access', iat, exp: iat + 300, user_id: '7' });
    expect(access.claims.jti).not.toBe(refresh.claims.jti);
    expect(access.claims.jti).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses a custom claim that would overwrite a reserved one', () => {
    flow = makeFlow();
    expect(() => flow.issuer.userClaims(1, { exp: 1 })).toThrow('"customClaims" may not set the reserved claim "exp"');
    expect(() => flow.issuer.userClaims(1, { token_type: 'refresh' })).toThrow(TypeError);
  });

  it('rotates to a new jti and iat with the same claims, and can rebuild that successor exactly', () => {
    flow = makeFlow();
    const { refresh } = flow.issuer.issuePair(flow.issuer.userClaims(1, { role: 'x' }));
    flow.clock.advance(60);
    const next = flow.issuer.rotate(refresh.claims, 600);
    expect(next.claims).toMatchObject({ token_type: 'refresh', iat: refresh.claims.iat! + 60, exp: refresh.claims.iat! + 660, role: 'x' });
    expect(next.claims.jti).not.toBe(refresh.claims.jti);
    flow.clock.advance(5);
    const again = flow.issuer.rotate(refresh.claims, 600, { jti: next.claims.jti!, issuedAt: next.claims.iat! });
    expect(again.token).toBe(next.token);
  });

  it("caps a sliding token's exp at its refresh_exp and keeps its identity when it slides", () => {
    flow = makeFlow();
    const sliding = flow.issuer.issueSliding(flow.issuer.userClaims(1, undefined), { sliding: 300, slidingRefresh: 400 });
    const iat = flow.issuer.now();
    expect(Object.keys(sliding.claims)).toEqual(['token_type', 'exp', 'iat', 'jti', 'refresh_exp', 'user_id']);
    expect(sliding.claims).toMatchObject({ exp: iat + 300, refresh_exp: iat + 400 });
    flow.clock.advance(200);
    const slid = flow.issuer.slide(sliding.claims, 300);
    expect(slid.claims).toMatchObject({ jti: sliding.claims.jti, iat: iat + 200, exp: iat + 400, refresh_exp: iat + 400 });
  });

  it('derives an access token from a refresh token, carrying its other claims', () => {
    flow = makeFlow();
    const { refresh } = flow.issuer.issuePair(flow.issuer.userClaims(1, { role: 'x' }));
    const access = flow.issuer.accessFrom(refresh.claims, 60);
    expect(access.claims).toMatchObject({ token_type: 'access', exp: flow.issuer.now() + 60, user_id: '1', role: 'x' });
  });
});
