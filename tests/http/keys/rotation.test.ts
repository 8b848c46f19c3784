import { MemoryStore } from '../../../lib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fs from 'node:fs';
import request from 'supertest';
import { simpleJwt, type KeySetEntry } from '../../../lib';
import { makeApp, type TestApp } from '../../helpers/app';
import { decodePart, forge } from '../../helpers/jwt';
import { keyPairFor, listen, SECRETS } from '../../helpers/keys';

const invalid = { detail: 'Token is invalid', code: 'token_not_valid' };
const now = Math.floor(Date.now() / 1000);
const payload = `{"token_type":"access","exp":${now + 300},"iat":${now},"jti":"0123456789abcdef0123456789abcdef","user_id":"1"}`;

function header(kid: unknown): string {
  return kid === undefined ? '{"alg":"HS256","typ":"JWT"}' : `{"alg":"HS256","typ":"JWT","kid":${JSON.stringify(kid)}}`;
}

async function login(app: TestApp['app']) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}

describe('kid selects the key, from the configured set only', () => {
  const { app } = makeApp({
    keys: [
      { kid: 'k1', secret: SECRETS.a, signing: true },
      { kid: 'k2', secret: SECRETS.b },
    ],
  });
  const verify = (token: string) => request(app).post('/api/token/verify/').send({ token });

  it("writes the signing key's kid in the header, after alg and typ", async () => {
    const { access, refresh } = await login(app);
    expect(Buffer.from(access.split('.')[0]!, 'base64url').toString()).toBe('{"alg":"HS256","typ":"JWT","kid":"k1"}');
    expect(decodePart(refresh, 0)).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'k1' });
  });

  it('verifies with the key the kid names, a verify-only key included', async () => {
    expect((await verify(forge(header('k1'), payload, SECRETS.a))).status).toBe(200);
    expect((await verify(forge(header('k2'), payload, SECRETS.b))).status).toBe(200);
  });

  it('refuses a token whose kid names another key than the one that signed it', async () => {
    expect((await verify(forge(header('k2'), payload, SECRETS.a))).body).toEqual(invalid);
    expect((await verify(forge(header('k1'), payload, SECRETS.b))).body).toEqual(invalid);
  });

  it('refuses an unknown kid', async () => {
    expect((await verify(forge(header('k3'), payload, SECRETS.a))).body).toEqual(invalid);
    expect((await verify(forge(header('K1'), payload, SECRETS.a))).body).toEqual(invalid);
  });

  it.each([1, 0, true, false, null, {}, ['k1'], { toString: 'k1' }, 1.5] as unknown[])('refuses a non-string kid %j', async (kid) => {
    expect((await verify(forge(header(kid), payload, SECRETS.a))).body).toEqual(invalid);
  });

  it('refuses path-traversal and other hostile kids, and reads no file for them', async () => {
    const readFile = jest.spyOn(fs, 'readFileSync');
    const open = jest.spyOn(fs, 'openSync');
    try {
      for (const kid of [
        '../../../../../../etc/passwd',
        '/dev/zero',
        '..\\..\\windows\\win.ini',
        'file:///etc/passwd',
        'http://127.0.0.1:1/key',
        '__proto__',
        'constructor',
        'toString',
        'k1\u0000',
        'k1 ',
        "' OR 1=1 --",
        'k'.repeat(10_000),
      ]) {
        expect((await verify(forge(header(kid), payload, SECRETS.a))).body).toEqual(invalid);
      }
      expect(readFile).not.toHaveBeenCalled();
      expect(open).not.toHaveBeenCalled();
    } finally {
      readFile.mockRestore();
      open.mockRestore();
    }
  });

  it('checks a token without kid against the signing key only', async () => {
    expect((await verify(forge(header(undefined), payload, SECRETS.a))).status).toBe(200);
    expect((await verify(forge(header(undefined), payload, SECRETS.b))).body).toEqual(invalid);
  });

  it('in a verify-only set, refuses a token without kid', async () => {
    const { app: verifier } = makeApp({ keys: [{ kid: 'k1', secret: SECRETS.a }] });
    expect((await request(verifier).post('/api/token/verify/').send({ token: forge(header('k1'), payload, SECRETS.a) })).status).toBe(200);
    expect((await request(verifier).post('/api/token/verify/').send({ token: forge(header(undefined), payload, SECRETS.a) })).body).toEqual(invalid);
  });
});

describe('key set configuration', () => {
  const base = { findUserById: () => null, warnings: false as const };
  const ec = keyPairFor('ES256');

  it.each([
    [[], /"keys" must be a non-empty array/],
    [[{ secret: SECRETS.a }], /"keys\[0\].kid" must be a non-empty string/],
    [[{ kid: '', secret: SECRETS.a }], /"keys\[0\].kid" must be a non-empty string/],
    [[{ kid: 'a\nb', secret: SECRETS.a }], /printable/],
    [[{ kid: 'k1', secret: SECRETS.a }, { kid: 'k1', secret: SECRETS.b }], /"keys\[1\].kid" repeats the kid "k1"/],
    [[{ kid: 'k1', secret: SECRETS.a, signing: true }, { kid: 'k2', secret: SECRETS.b, signing: true }], /Exactly one key signs, but "keys\[0\]" and "keys\[1\]" both say signing: true/],
    [[{ kid: 'k1', algorithm: 'ES256', verifyingKey: ec.publicKey, signing: true }], /"keys\[0\]" has signing: true but no "signingKey"/],
    [[{ kid: 'k1', secret: SECRETS.a, signingKey: ec.privateKey }], /"keys\[0\]" is HS256, which takes "secret"/],
    [[{ kid: 'k1', algorithm: 'ES256', secret: SECRETS.a }], /"keys\[0\].secret" is for HS256\/384\/512/],
    [[{ kid: 'k1', secret: 'changeme'.repeat(8) }], /"keys\[0\].secret" is made of well-known weak words/],
    [[{ kid: 'k1', secret: SECRETS.a, sign: true }], /Unknown field "keys\[0\].sign"/],
    [[{ kid: 'k1', algorithm: 'EdDSA', secret: SECRETS.a }], /EdDSA is not supported/],
  ])('refuses %j', (keys, message) => {
    expect(() => simpleJwt({ ...base, keys: keys as KeySetEntry[] })).toThrow(message);
  });

  it('refuses "keys" together with "secret" or "signingKey", and "jwksUri" with local keys', () => {
    expect(() => simpleJwt({ ...base, secret: SECRETS.a, keys: [{ kid: 'k1', secret: SECRETS.b, signing: true }] })).toThrow(
      /"keys" holds every key; move "secret" into an entry of "keys"/,
    );
    expect(() => simpleJwt({ ...base, jwksUri: 'https://auth.example.com/jwks.json', algorithm: 'RS256', secret: SECRETS.a })).toThrow(
      /"jwksUri" trusts a remote key set and only verifies; leave out "secret"/,
    );
  });

  it('warns once when no key of a set that could sign says signing: true', () => {
    const lines: string[] = [];
    simpleJwt({ findUserById: () => null, logger: { warn: (m) => lines.push(m), error: () => {} }, loginThrottle: '5/m', keys: [{ kid: 'k1', secret: SECRETS.a }] });
    expect(lines.join('\n')).toMatch(/NO_SIGNING_KEY: no key in "keys" says signing: true/);
  });
});

/** The rotation phases: sign with k1; add k2 verify-only; promote k2; retire k1. */
function phases(k1: KeySetEntry, k2: KeySetEntry): Record<1 | 2 | 3 | 4, KeySetEntry[]> {
  return {
    1: [{ ...k1, signing: true }],
    2: [{ ...k1, signing: true }, k2],
    3: [k1, { ...k2, signing: true }],
    4: [{ ...k2, signing: true }],
  };
}

const hmacKeys = phases({ kid: 'hs-1', secret: SECRETS.a }, { kid: 'hs-2', secret: SECRETS.b });
const asymmetricKeys = phases(
  { kid: 'rsa-2026-01', algorithm: 'RS256', signingKey: keyPairFor('RS256').privateKey },
  { kid: 'ec-2026-02', algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey },
);

describe.each([
  ['HMAC secrets', hmacKeys],
  ['RS256 to ES256 key pairs', asymmetricKeys],
])('rotation with overlap (%s)', (_name, config) => {
  // The fleet shares one token store, as every multi-server deployment does.
  const store = new MemoryStore({ purgeIntervalSeconds: 0 });
  const instance = (phase: 1 | 2 | 3 | 4) => makeApp({ keys: config[phase], rotateRefreshTokens: true, store }).app;

  /**
   * One round of traffic over a fleet: every session calls /hello/ and refreshes on every instance, and a new
   * login happens on every instance. Returns the failed requests.
   */
  async function traffic(fleet: TestApp['app'][], sessions: { access: string; refresh: string }[]): Promise<string[]> {
    const failures: string[] = [];
    for (const app of fleet) sessions.push(await login(app));
    for (const session of [...sessions]) {
      let current = session; // each refresh rotates: the client goes on with the newest pair
      for (const [i, app] of fleet.entries()) {
        const hello = await request(app).get('/hello/').set('Authorization', `Bearer ${current.access}`);
        if (hello.status !== 200) failures.push(`/hello/ on instance ${i}: ${hello.status} ${JSON.stringify(hello.body)}`);
        const refreshed = await request(app).post('/api/token/refresh/').send({ refresh: current.refresh });
        if (refreshed.status !== 200) failures.push(`refresh on instance ${i}: ${refreshed.status} ${JSON.stringify(refreshed.body)}`);
        else current = refreshed.body;
      }
      sessions[sessions.indexOf(session)] = current;
    }
    return failures;
  }

  it('keeps every token valid through a rolling deploy of each step: zero failed requests', async () => {
    const sessions: { access: string; refresh: string }[] = [];
    const failures: string[] = [];
    // Two instances, deployed one at a time: 1,1 → 2,1 → 2,2 → 3,2 → 3,3.
    for (const step of [[1, 1], [2, 1], [2, 2], [3, 2], [3, 3]] as const) {
      failures.push(...(await traffic(step.map(instance), sessions)).map((f) => `step ${step}: ${f}`));
      sessions.splice(0, sessions.length - 6); // keep the newest sessions, as clients would
    }
    expect(failures).toEqual([]);
  });

  it('promotes k2: new tokens carry its kid while k1 tokens stay valid until k1 is retired', async () => {
    const [k1, k2] = [config[2][0]!.kid, config[2][1]!.kid];
    const old = await login(instance(1));
    expect(decodePart(old.access, 0).kid).toBe(k1);
    const promoted = instance(3);
    const fresh = await login(promoted);
    expect(decodePart(fresh.access, 0).kid).toBe(k2);
    expect((await request(promoted).get('/hello/').set('Authorization', `Bearer ${old.access}`)).status).toBe(200);
    expect((await request(promoted).post('/api/token/refresh/').send({ refresh: old.refresh })).status).toBe(200);
  });

  it('retiring k1 kills its tokens at once, access and refresh alike', async () => {
    const old = await login(instance(2));
    const retired = instance(4);
    const hello = await request(retired).get('/hello/').set('Authorization', `Bearer ${old.access}`);
    expect(hello.status).toBe(401);
    expect(hello.body.messages[0].message).toBe('Token is invalid');
    expect((await request(retired).post('/api/token/refresh/').send({ refresh: old.refresh })).body).toEqual(invalid);
    const fresh = await login(instance(3));
    expect((await request(retired).get('/hello/').set('Authorization', `Bearer ${fresh.access}`)).status).toBe(200);
  });

  it('skipping the verify-only step fails requests: why the overlap exists', async () => {
    const failures = await traffic([instance(3), instance(1)], []);
    expect(failures.length).toBeGreaterThan(0);
  });

  it('replacing every key (retiring all of them) invalidates every token', async () => {
    const old = await login(instance(1));
    const replaced = makeApp({ keys: [{ kid: 'k-new', secret: 'completely-new-secret-4f8a1c9e7b3d5f2a-6e0c8b4a2d9f7e1c-Lm', signing: true }] }).app;
    expect((await request(replaced).post('/api/token/verify/').send({ token: old.access })).body).toEqual(invalid);
    expect((await request(replaced).post('/api/token/verify/').send({ token: old.refresh })).body).toEqual(invalid);
  });
});

describe('rotation seen through the JWKS', () => {
  it('publishes both public keys during the overlap and only the new one after retirement', () => {
    const kids = (phase: 1 | 2 | 3 | 4) => makeApp({ keys: asymmetricKeys[phase] }).auth.jwks().keys.map((k) => k.kid);
    expect(kids(1)).toEqual(['rsa-2026-01']);
    expect(kids(2)).toEqual(['rsa-2026-01', 'ec-2026-02']);
    expect(kids(3)).toEqual(['rsa-2026-01', 'ec-2026-02']);
    expect(kids(4)).toEqual(['ec-2026-02']);
  });

  it('a remote verifier picks up the promoted key by itself (an unknown kid triggers one refetch)', async () => {
    let current = makeApp({ keys: asymmetricKeys[2] });
    let fetches = 0;
    const issuer = await listen((req: IncomingMessage, res: ServerResponse) => {
      if (req.url !== '/.well-known/jwks.json') return current.app(req, res);
      fetches++;
      current.auth.jwksHandler(req as never, res as never);
    });
    try {
      const verifier = makeApp({ jwksUri: { uri: `${issuer.base}/.well-known/jwks.json`, algorithms: ['RS256', 'ES256'] } }).app;
      const before = await login(current.app);
      expect((await request(verifier).get('/hello/').set('Authorization', `Bearer ${before.access}`)).status).toBe(200);
      current = makeApp({ keys: asymmetricKeys[3] });
      const after = await login(current.app);
      expect((await request(verifier).get('/hello/').set('Authorization', `Bearer ${after.access}`)).status).toBe(200);
      expect((await request(verifier).get('/hello/').set('Authorization', `Bearer ${before.access}`)).status).toBe(200);
      expect(fetches).toBe(2);
    } finally {
      await issuer.close();
    }
  });
});
