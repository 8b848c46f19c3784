/**
 * Forged, tampered and malformed tokens against the demo app over HTTP: every one must be refused by
 * `authenticate()` (GET /hello/) and by the token endpoints. Each test names its source.
 *
 * References: RFC 7515 (JWS), RFC 7516 (JWE), RFC 7519 (JWT), RFC 8725 (JWT BCP), OWASP JSON Web Token cheat sheet,
 * OWASP ASVS 5.0 V9 (self-contained tokens), jwt_tool's attack modules (-X a/n/k/i/s, -I, -T), PortSwigger's JWT
 * labs, and jsonwebtoken's CVEs (CVE-2015-9235, CVE-2016-10555, CVE-2022-23539/23540/23541).
 */
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import fs from 'node:fs';
import { createHmac, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import request from 'supertest';
import { decodePart, b64url, forge } from '../helpers/jwt';
import { countingServer, keyPairFor, pem, signRaw } from '../helpers/keys';
import { manualClock, SECRET } from '../helpers/app';
import {
  claims,
  demo,
  hello,
  HS256,
  INVALID,
  itLeaksNothing,
  login,
  post,
  recorder,
  signed,
  sqliteDemo,
  tokenFailure,
} from './harness';

const rec = recorder();
const clock = manualClock();
const now = Math.floor(clock.now() / 1000);
const hs = demo(rec, { clock: clock.now });
const { app } = hs;

/** The token is refused by authenticate() and by /verify/ with `message` (and by /refresh/ when it says refresh). */
async function expectRefused(token: string, message = 'Token is invalid', target = app): Promise<void> {
  const viaHeader = await hello(target, rec, token);
  expect(viaHeader.status).toBe(401);
  expect(viaHeader.body).toEqual(tokenFailure(message));
  expect(viaHeader.headers['www-authenticate']).toBe('Bearer realm="api"');
  const verified = await post(target, rec, 'verify', token);
  expect(verified.status).toBe(401);
  expect(verified.body).toEqual({ detail: message, code: 'token_not_valid' });
}

/** Header and payload text as base64url, with the given signature part. */
function compact(header: string, payload: string, signature: string): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

const accessPayload = JSON.stringify(claims(now));
const refreshPayload = JSON.stringify(claims(now, {}, 'refresh'));

describe('the control', () => {
  it('a token forged with the real secret passes (so every refusal below is the attack, not the harness)', async () => {
    expect((await hello(app, rec, signed(accessPayload))).status).toBe(200);
    expect((await post(app, rec, 'refresh', signed(refreshPayload))).status).toBe(200);
  });
});

describe('alg "none" (CVE-2015-9235; RFC 8725 §2.1, §3.1; RFC 7518 §3.6; ASVS 5.0 9.1.2; jwt_tool -X a; PortSwigger "flawed signature verification" lab)', () => {
  const genuineSignature = signed(accessPayload).split('.')[2]!;
  const spellings = ['none', 'None', 'NONE', 'nOnE', 'none ', ' none', 'none\u0000'];
  const shapes: [string, (header: string, payload: string) => string][] = [
    ['an empty signature (h.p.)', (h, p) => compact(h, p, '')],
    ['no signature part (h.p)', (h, p) => `${b64url(h)}.${b64url(p)}`],
    ['the genuine signature kept', (h, p) => compact(h, p, genuineSignature)],
    ['a junk signature', (h, p) => compact(h, p, 'c2lnbmF0dXJl')],
  ];
  const rows = spellings.flatMap((alg) => shapes.map(([shape, make]) => [JSON.stringify(alg), shape, make] as const));

  it.each(rows)('alg %s with %s is refused, as access and as refresh token', async (alg, _shape, make) => {
    const header = `{"alg":${alg},"typ":"JWT"}`;
    await expectRefused(make(header, accessPayload));
    const refresh = await post(app, rec, 'refresh', make(header, refreshPayload));
    expect(refresh.status).toBe(401);
    expect(refresh.body).toEqual(INVALID);
  });

  it.each([
    ['no alg at all', '{"typ":"JWT"}'],
    ['alg null', '{"alg":null,"typ":"JWT"}'],
    ['alg ""', '{"alg":"","typ":"JWT"}'],
    ['alg as an array', '{"alg":["HS256"],"typ":"JWT"}'],
    ['alg as an object', '{"alg":{"HS256":true},"typ":"JWT"}'],
    ['alg "hs256" (wrong case)', '{"alg":"hs256","typ":"JWT"}'],
    ['alg "HS256 " (trailing space)', '{"alg":"HS256 ","typ":"JWT"}'],
  ])('%s is refused even when HMAC-signed with the real secret', async (_what, header) => {
    await expectRefused(signed(accessPayload, header));
  });
});

describe('signatures (RFC 7515 §5.2; ASVS 5.0 9.1.1; jwt_tool -X n "null signature"; PortSwigger "unverified signature" lab)', () => {
  const genuine = signed(accessPayload);
  const [h, p, s] = genuine.split('.') as [string, string, string];

  it.each([
    ['an empty signature', `${h}.${p}.`],
    ['a stripped signature (two parts)', `${h}.${p}`],
    ['an extra signature part', `${h}.${p}.${s}.${s}`],
    ['a trailing dot', `${h}.${p}.${s}.`],
    ['one extra character', `${h}.${p}.${s}A`],
    ['one character short', `${h}.${p}.${s.slice(0, -1)}`],
    ['base64 padding', `${h}.${p}.${s}=`],
    ['standard base64 (+ and /)', `${h}.${p}.${Buffer.from(s, 'base64url').toString('base64').replace(/=+$/, '')}`],
    ['zeros', `${h}.${p}.${'A'.repeat(s.length)}`],
    ["another token's signature", `${h}.${p}.${signed(JSON.stringify(claims(now, { user_id: '2' }))).split('.')[2]}`],
    ['the signature doubled', `${h}.${p}.${s}${s}`],
  ])('refuses %s', async (_what, token) => {
    await expectRefused(token);
  });

  it.each([
    ['RS256', 'RS256' as const],
    ['ES256', 'ES256' as const],
  ])('refuses a %s signature re-encoded with other trailing bits (the same bytes: jwa decodes leniently)', async (_name, alg) => {
    const keyed = demo(rec, { clock: clock.now, algorithm: alg, signingKey: keyPairFor(alg).privateKey });
    const genuineToken = (await login(keyed.app)).access;
    const signature = genuineToken.split('.')[2]!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    const reencoded = `${genuineToken.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(reencoded.split('.')[2]!, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
    await expectRefused(reencoded, undefined, keyed.app);
    expect((await hello(keyed.app, rec, genuineToken)).status).toBe(200);
  });

  it('refuses an all-zero ES256 signature ("psychic signatures", CVE-2022-21449; RFC 8725 §3.4)', async () => {
    const es = demo(rec, { clock: clock.now, algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey });
    await expectRefused(compact('{"alg":"ES256","typ":"JWT"}', accessPayload, 'A'.repeat(86)), undefined, es.app);
    await expectRefused(compact('{"alg":"ES256","typ":"JWT"}', accessPayload, ''), undefined, es.app);
  });
});

describe('tampered payloads (RFC 8725 §3.3; ASVS 5.0 9.1.1; jwt_tool -T; PortSwigger "JWT authentication bypass via unverified signature")', () => {
  let genuine = '';
  beforeAll(async () => {
    genuine = (await login(app)).access;
  });
  function tamper(change: (payload: Record<string, unknown>) => void): string {
    const [h, p, s] = genuine.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    change(payload);
    return `${h}.${b64url(JSON.stringify(payload))}.${s}`;
  }

  it.each([
    ['user_id changed to another user', (c: Record<string, unknown>) => void (c.user_id = '2')],
    ['exp pushed a year ahead', (c: Record<string, unknown>) => void (c.exp = (c.exp as number) + 365 * 86_400)],
    ['token_type changed to refresh', (c: Record<string, unknown>) => void (c.token_type = 'refresh')],
    ['an is_staff claim added', (c: Record<string, unknown>) => void (c.is_staff = true)],
    ['the same claims re-serialised with spaces', () => undefined],
  ])('refuses the genuine signature over %s', async (_what, change) => {
    const token = _what.includes('spaces')
      ? `${genuine.split('.')[0]}.${b64url(JSON.stringify(decodePart(genuine, 1), null, 1))}.${genuine.split('.')[2]}`
      : tamper(change);
    await expectRefused(token);
  });

  it('the genuine token still works after all of that (no state was poisoned)', async () => {
    const res = await hello(app, rec, genuine);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: 'Hello, World!' });
  });
});

describe('other HMAC algorithms with the same secret (RFC 8725 §3.1; ASVS 5.0 9.1.2; jwt_tool alg switching)', () => {
  it.each(['HS384', 'HS512'])('refuses %s signed with the HS256 secret', async (alg) => {
    await expectRefused(forge(`{"alg":"${alg}","typ":"JWT"}`, accessPayload, SECRET, `sha${alg.slice(2)}`));
  });

  it('refuses HS256 in the header over an HS512 MAC (and the reverse)', async () => {
    const hs512 = forge('{"alg":"HS512","typ":"JWT"}', accessPayload, SECRET, 'sha512').split('.')[2]!;
    await expectRefused(compact(HS256, accessPayload, hs512));
  });
});

describe('empty, NUL and weak keys (CVE-2022-23540; RFC 8725 §2.2, §3.5; jwt_tool -C dictionary; PortSwigger "weak signing key" lab)', () => {
  it.each([
    ['an empty key', ''],
    ['one NUL byte', '\u0000'],
    ['32 NUL bytes', Buffer.alloc(32)],
    ['64 NUL bytes', Buffer.alloc(64)],
    ['"secret"', 'secret'],
    ['"your-256-bit-secret" (jwt.io)', 'your-256-bit-secret'],
    ['the secret with its last byte dropped', SECRET.slice(0, -1)],
  ])('refuses a token HMAC-signed with %s', async (_what, key) => {
    await expectRefused(forge(HS256, accessPayload, key));
  });

  it.each([
    ['NUL bytes', '\u0000'.repeat(64)],
    ['a well-known word', 'secret'.repeat(8)],
    ['a JWK pasted as the secret', JSON.stringify({ kty: 'oct', k: b64url('x'.repeat(64)) })],
  ])('the demo refuses to start with %s', (_what, secret) => {
    expect(() => demo(rec, { secret })).toThrow(TypeError);
  });

  it('an empty secret is never an empty key: refused at start-up under NODE_ENV=production (else a random key, warned)', () => {
    const saved = { NODE_ENV: process.env.NODE_ENV, JWT_SECRET: process.env.JWT_SECRET, JWT_SECRET_FILE: process.env.JWT_SECRET_FILE };
    delete process.env.JWT_SECRET;
    delete process.env.JWT_SECRET_FILE;
    process.env.NODE_ENV = 'production';
    try {
      expect(() => demo(rec, { secret: '' })).toThrow(/NODE_ENV is "production"/);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe('algorithm confusion on an RS256 demo (CVE-2016-10555, CVE-2022-23541; RFC 8725 §2.1, §3.1; jwt_tool -X k; PortSwigger "algorithm confusion" labs)', () => {
  const { privateKey, publicKey } = keyPairFor('RS256');
  const rs = demo(rec, { clock: clock.now, algorithm: 'RS256', signingKey: privateKey });
  const rsaPayload = accessPayload;

  it('a genuine RS256 token passes (the control)', async () => {
    expect((await hello(rs.app, rec, signRaw('RS256', '{"alg":"RS256","typ":"JWT"}', rsaPayload, privateKey))).status).toBe(200);
  });

  it.each([
    ['the public key PEM', () => pem(publicKey)],
    ['the PKCS#1 PEM', () => publicKey.export({ type: 'pkcs1', format: 'pem' }) as string],
    ['the DER bytes', () => publicKey.export({ type: 'spki', format: 'der' })],
  ])('refuses HS256 signed with %s as the HMAC secret', async (_what, key) => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      await expectRefused(forge(`{"alg":"${alg}","typ":"JWT"}`, rsaPayload, key(), `sha${alg.slice(2)}`), undefined, rs.app);
    }
  });

  it("refuses HS256 signed with the key read from the demo's own /.well-known/jwks.json (PortSwigger \"no exposed key\" variant)", async () => {
    const jwks = (await request(rs.app).get('/.well-known/jwks.json')).body as { keys: JsonWebKey[] };
    expect(jwks.keys).toHaveLength(1);
    expect(Object.keys(jwks.keys[0]!)).not.toEqual(expect.arrayContaining(['d']));
    const served = createPublicKey({ key: jwks.keys[0]!, format: 'jwk' });
    for (const key of [pem(served), JSON.stringify(jwks.keys[0]), JSON.stringify(jwks)]) {
      await expectRefused(forge(HS256, rsaPayload, key), undefined, rs.app);
    }
  });

  it('refuses an RS256 token re-signed as PS256 or RS384 with the same key', async () => {
    await expectRefused(signRaw('PS256', '{"alg":"PS256","typ":"JWT"}', rsaPayload, privateKey), undefined, rs.app);
    await expectRefused(signRaw('RS384', '{"alg":"RS384","typ":"JWT"}', rsaPayload, privateKey), undefined, rs.app);
  });
});

describe('keys named by the token (RFC 7515 §4.1.2–4.1.6; RFC 8725 §3.10; ASVS 5.0 9.1.3; jwt_tool -X i / -X s; PortSwigger "jwk header injection" and "jku header injection" labs)', () => {
  const ours = keyPairFor('RS256');
  const rs = demo(rec, { clock: clock.now, algorithm: 'RS256', signingKey: ours.privateKey });
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerJwk = JSON.stringify(attacker.publicKey.export({ format: 'jwk' }));
  const attackerSecret = 'attacker-chosen-hmac-key-0123456789abcdef';
  let spy: Awaited<ReturnType<typeof countingServer>>;
  const outbound: string[] = [];
  const spies: jest.SpyInstance[] = [];

  beforeAll(async () => {
    spy = await countingServer();
    const port = new URL(spy.url).port;
    const note = (what: string) => (...args: unknown[]) => {
      const target = args[0];
      const text = typeof target === 'string' || target instanceof URL ? String(target) : JSON.stringify(target ?? {});
      if (text.includes(port) || text.includes('attacker.example')) outbound.push(`${what} ${text}`);
    };
    for (const [module, name] of [[http, 'request'], [http, 'get'], [https, 'request'], [https, 'get']] as const) {
      const original = (module as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
      spies.push(jest.spyOn(module as never, name as never).mockImplementation(((...args: unknown[]) => {
        note(`${name}`)(...args);
        return original.apply(module, args);
      }) as never));
    }
    const lookup = dns.lookup;
    spies.push(jest.spyOn(dns, 'lookup').mockImplementation(((host: string, ...rest: unknown[]) => {
      if (host.includes('attacker.example')) outbound.push(`dns ${host}`);
      return (lookup as (...a: unknown[]) => unknown)(host, ...rest);
    }) as never));
  });
  afterAll(async () => {
    for (const s of spies) s.mockRestore();
    await spy.close();
  });

  const headers = () => [
    ['an embedded jwk (the attacker RSA key)', `{"alg":"RS256","typ":"JWT","jwk":${attackerJwk}}`],
    ['jku pointing at an attacker server', `{"alg":"RS256","typ":"JWT","jku":"${spy.url}/jwks.json"}`],
    ['jku on an attacker host name', '{"alg":"RS256","typ":"JWT","jku":"https://attacker.example/jwks.json"}'],
    ['x5u pointing at an attacker server', `{"alg":"RS256","typ":"JWT","x5u":"${spy.url}/cert.pem"}`],
    ['x5c with a made-up chain', '{"alg":"RS256","typ":"JWT","x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}'],
    ['kid as a URL', `{"alg":"RS256","typ":"JWT","kid":"${spy.url}/key"}`],
    ['everything at once', `{"alg":"RS256","typ":"JWT","kid":"x","jwk":${attackerJwk},"jku":"${spy.url}/a","x5u":"${spy.url}/b"}`],
  ];

  it('refuses tokens signed with the attacker key whatever the header points to', async () => {
    for (const [, header] of headers()) {
      await expectRefused(signRaw('RS256', header!, accessPayload, attacker.privateKey), undefined, rs.app);
    }
  });

  it('refuses an HS256 token carrying its own symmetric jwk (kty "oct") signed with it', async () => {
    const jwk = JSON.stringify({ kty: 'oct', k: b64url(attackerSecret) });
    await expectRefused(forge(`{"alg":"HS256","typ":"JWT","jwk":${jwk}}`, accessPayload, attackerSecret), undefined, rs.app);
    await expectRefused(forge(`{"alg":"HS256","typ":"JWT","jwk":${jwk}}`, accessPayload, attackerSecret));
  });

  it('made no outbound request and no DNS look-up for any of them (a recording server and intercepted http/https/dns)', async () => {
    // A genuine token carrying the same headers is accepted: they neither help nor hurt, and are never followed.
    const good = signRaw('RS256', `{"alg":"RS256","typ":"JWT","jku":"${spy.url}/jwks.json","x5u":"https://attacker.example/x"}`, accessPayload, ours.privateKey);
    expect((await hello(rs.app, rec, good)).status).toBe(200);
    expect(spy.count()).toBe(0);
    expect(outbound).toEqual([]);
  });
});

describe('kid (RFC 7515 §4.1.4; RFC 8725 §3.10; jwt_tool -I -hc kid; PortSwigger "kid header path traversal" lab)', () => {
  const set = demo(rec, { clock: clock.now, keys: [{ kid: 'k1', secret: SECRET, signing: true }] });
  const withKid = (kid: unknown, key: string | Buffer = SECRET) => forge(`{"alg":"HS256","typ":"JWT","kid":${JSON.stringify(kid)}}`, accessPayload, key);

  it('a token naming k1 and signed with its secret passes (the control)', async () => {
    expect((await hello(set.app, rec, withKid('k1'))).status).toBe(200);
  });

  it.each([
    ['path traversal to /dev/null, signed with an empty key', '../../../../../../../dev/null', ''],
    ['path traversal to /dev/null, signed with a NUL byte (the lab)', '../../../../../../../dev/null', Buffer.from([0])],
    ['an absolute path', '/etc/passwd', ''],
    ['SQL injection returning a known key', "x' UNION SELECT 'AA' -- ", 'AA'],
    ['command injection', 'k1|curl attacker.example', ''],
    ['shell substitution', '$(touch /tmp/pwned)', ''],
    ['a NUL after the real kid', 'k1\u0000', ''],
    ['the kid in another case', 'K1', ''],
    ['prototype names', '__proto__', ''],
    ['constructor', 'constructor', ''],
    ['a 5000-character kid', 'k'.repeat(5000), ''],
  ])('refuses %s', async (_what, kid, key) => {
    const fileReads = jest.spyOn(fs, 'readFileSync');
    const opens = jest.spyOn(fs, 'openSync');
    try {
      await expectRefused(withKid(kid, key), undefined, set.app);
      const touched = [...fileReads.mock.calls, ...opens.mock.calls].map((call) => String(call[0]));
      expect(touched.filter((path) => /dev\/null|passwd|pwned/.test(path))).toEqual([]);
    } finally {
      fileReads.mockRestore();
      opens.mockRestore();
    }
  });

  it.each([1, 0, true, null, ['k1'], { $ne: null }, { toString: 'k1' }] as unknown[])('refuses the non-string kid %j, even over the right secret', async (kid) => {
    await expectRefused(withKid(kid), undefined, set.app);
  });

  it('the single-key demo ignores kid: a traversal kid does not choose the key', async () => {
    await expectRefused(withKid('../../../../../../../dev/null', Buffer.from([0])));
  });
});

describe('crit (RFC 7515 §4.1.11; RFC 7797 §6 unencoded payloads)', () => {
  it.each([
    ['an unknown critical extension', '{"alg":"HS256","typ":"JWT","crit":["http://example.com/x"],"http://example.com/x":true}'],
    ['a registered name listed as critical', '{"alg":"HS256","typ":"JWT","crit":["exp"]}'],
    ['b64:false (RFC 7797) listed as critical', '{"alg":"HS256","typ":"JWT","crit":["b64"],"b64":false}'],
    ['an empty crit list', '{"alg":"HS256","typ":"JWT","crit":[]}'],
    ['crit as a string', '{"alg":"HS256","typ":"JWT","crit":"exp"}'],
    ['crit with a number', '{"alg":"HS256","typ":"JWT","crit":[1]}'],
  ])('refuses %s, even HMAC-signed with the real secret', async (_what, header) => {
    await expectRefused(signed(accessPayload, header));
  });

  it('refuses an RFC 7797 unencoded-payload token signed over the raw payload', async () => {
    const header = '{"alg":"HS256","crit":["b64"],"b64":false}';
    const mac = createHmac('sha256', SECRET).update(`${b64url(header)}.${accessPayload}`).digest('base64url');
    await expectRefused(`${b64url(header)}.${b64url(accessPayload)}.${mac}`);
  });
});

describe('JWE and JSON serialisations (RFC 7516 §7.1, §9 distinguishing JWS from JWE; RFC 7515 §7.2; RFC 8725 §3.12)', () => {
  const [h, p, s] = signed(accessPayload).split('.') as [string, string, string];

  it.each([
    ['a compact JWE (5 parts, RSA-OAEP)', `${b64url('{"alg":"RSA-OAEP","enc":"A256GCM"}')}.${'A'.repeat(342)}.${'B'.repeat(16)}.${p}.${'C'.repeat(22)}`],
    ['a compact JWE with alg dir', `${b64url('{"alg":"dir","enc":"A128CBC-HS256"}')}..${'B'.repeat(22)}.${p}.${'C'.repeat(22)}`],
    ['a 5-part token built from a genuine JWS', `${h}.${p}.${s}.${p}.${s}`],
    ['the flattened JSON serialisation', JSON.stringify({ protected: h, payload: p, signature: s })],
    ['the general JSON serialisation', JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] })],
    ['the JSON serialisation, base64url-encoded', b64url(JSON.stringify({ protected: h, payload: p, signature: s }))],
  ])('refuses %s', async (_what, token) => {
    const verified = await post(app, rec, 'verify', token);
    expect(verified.status).toBe(401);
    expect(verified.body).toEqual(INVALID);
    const viaHeader = await hello(app, rec, token);
    expect(viaHeader.status).toBe(401);
    expect(viaHeader.body).toEqual(tokenFailure('Token is invalid'));
  });

  it('refuses a JSON serialisation sent as an object in the body: 400 "Not a valid string."', async () => {
    const res = await request(app).post('/api/token/verify/').send({ token: { protected: h, payload: p, signature: s } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ token: ['Not a valid string.'] });
  });
});

describe('exp and leeway edges (RFC 7519 §4.1.4; ASVS 5.0 9.2.1; WIRE.md: exp <= now - leeway is expired)', () => {
  const lenient = demo(rec, { clock: clock.now, leeway: 30 });
  const at = (exp: number) => signed(JSON.stringify(claims(now, { exp, iat: now - 60 })));

  it.each([
    ['exp equal to now', now, 'Token is expired', app],
    ['exp one second ago', now - 1, 'Token is expired', app],
    ['exp 0', 0, 'Token is expired', app],
    ['exp -1', -1, 'Token is expired', app],
    ['exp now - leeway, with a 30 s leeway', now - 30, 'Token is expired', lenient.app],
  ])('refuses %s', async (_what, exp, message, target) => {
    await expectRefused(at(exp), message, target);
  });

  it.each([
    ['exp one second ahead', now + 1, app],
    ['exp 29 s ago, within a 30 s leeway', now - 29, lenient.app],
  ])('accepts %s', async (_what, exp, target) => {
    expect((await hello(target, rec, at(exp))).status).toBe(200);
  });

  it('a sub-second clock does not stretch the last second: exp = now is expired at now + 0.999 s', async () => {
    const edge = manualClock(clock.now() + 999);
    const edgy = demo(rec, { clock: edge.now });
    await expectRefused(at(now), 'Token is expired', edgy.app);
  });
});

describe('missing and non-numeric exp (RFC 7519 §2 NumericDate, §4.1.4; RFC 8725 §3.10; jsonwebtoken accepts a token without exp)', () => {
  it('refuses a token without exp: "Token has no \'exp\' claim"', async () => {
    const { exp: _exp, ...rest } = claims(now);
    await expectRefused(signed(rest), "Token has no 'exp' claim");
  });

  it.each([
    ['a numeric string', `"${now + 300}"`],
    ['a date string', '"2099-01-01T00:00:00Z"'],
    ['null', 'null'],
    ['true', 'true'],
    ['an array', `[${now + 300}]`],
    ['an object', `{"$gt":${now}}`],
    ['a fraction', `${now + 300}.5`],
    ['1e400 (Infinity when parsed)', '1e400'],
    ['2^53 + 1 (loses precision)', '9007199254740993'],
    ['exponent notation of a huge year', '1e17'],
  ])('refuses exp as %s', async (_what, exp) => {
    const payload = accessPayload.replace(/"exp":\d+/, `"exp":${exp}`);
    expect(payload).toContain(`"exp":${exp}`);
    await expectRefused(signed(payload));
  });
});

describe('future nbf and iat (RFC 7519 §4.1.5, §4.1.6; ASVS 5.0 9.2.1; jsonwebtoken accepts a future iat)', () => {
  const lenient = demo(rec, { clock: clock.now, leeway: 30 });

  it.each([
    ['nbf one second ahead', { nbf: now + 1 }, app],
    ['iat one second ahead', { iat: now + 1 }, app],
    ['iat a year ahead', { iat: now + 365 * 86_400 }, app],
    ['nbf 31 s ahead with a 30 s leeway', { nbf: now + 31 }, lenient.app],
    ['iat 31 s ahead with a 30 s leeway', { iat: now + 31 }, lenient.app],
    ['nbf as a string', { nbf: String(now) }, app],
    ['iat as a string', { iat: String(now) }, app],
    ['iat as an array', { iat: [now] }, app],
  ])('refuses %s', async (_what, overrides, target) => {
    await expectRefused(signed(claims(now, overrides)), undefined, target);
  });

  it.each([
    ['nbf equal to now', { nbf: now }, app],
    ['iat equal to now', { iat: now }, app],
    ['iat 30 s ahead within a 30 s leeway', { iat: now + 30 }, lenient.app],
  ])('accepts %s', async (_what, overrides, target) => {
    expect((await hello(target, rec, signed(claims(now, overrides)))).status).toBe(200);
  });
});

describe('aud and iss (RFC 7519 §4.1.1, §4.1.3; RFC 8725 §2.8 cross-JWT confusion, §3.8, §3.9; ASVS 5.0 9.2.3)', () => {
  const scoped = demo(rec, { clock: clock.now, audience: 'demo-api', issuer: 'https://auth.demo.test' });
  const base = { aud: 'demo-api', iss: 'https://auth.demo.test' };

  it('a token for demo-api from our issuer passes, aud as a string or an array holding ours (the control)', async () => {
    expect((await hello(scoped.app, rec, signed(claims(now, base)))).status).toBe(200);
    expect((await hello(scoped.app, rec, signed(claims(now, { ...base, aud: ['other-api', 'demo-api'] })))).status).toBe(200);
  });

  it.each([
    ['a wrong aud', { aud: 'other-api' }],
    ['no aud', { aud: undefined }],
    ['an empty aud array', { aud: [] }],
    ['an aud array without ours', { aud: ['other-api'] }],
    ['an aud array holding a number', { aud: [1, 'demo-api'] }],
    ['aud as an object', { aud: { 0: 'demo-api' } }],
    ['aud in another case', { aud: 'DEMO-API' }],
    ['aud with a trailing space', { aud: 'demo-api ' }],
    ['a wrong iss', { iss: 'https://evil.example' }],
    ['no iss', { iss: undefined }],
    ['iss with a trailing slash', { iss: 'https://auth.demo.test/' }],
    ['iss as an array', { iss: ['https://auth.demo.test'] }],
  ])('refuses %s', async (_what, overrides) => {
    await expectRefused(signed(claims(now, { ...base, ...overrides })), undefined, scoped.app);
  });

  it('a service without an audience refuses a token that names one (RFC 7519 §4.1.3)', async () => {
    await expectRefused(signed(claims(now, { aud: 'demo-api' })));
  });
});

describe('token-type confusion (RFC 8725 §2.7 substitution, §3.11, §3.12; ASVS 5.0 9.2.2; OWASP JWT cheat sheet)', () => {
  let pair = { access: '', refresh: '' };
  beforeAll(async () => {
    pair = await login(app);
  });

  it('refuses a refresh token as an access token: "Token has wrong type"', async () => {
    const res = await hello(app, rec, pair.refresh);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(tokenFailure('Token has wrong type'));
  });

  it.each(['refresh', 'blacklist'] as const)('refuses an access token at /%s/: "Token has wrong type"', async (path) => {
    const res = await post(app, rec, path, pair.access);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
  });

  it.each([
    ['a sliding token', 'sliding'],
    ['token_type "Access"', 'Access'],
    ['token_type "access " (trailing space)', 'access '],
    ['token_type ["access"]', ['access']],
    ['token_type {"0":"access"}', { 0: 'access' }],
  ])('refuses %s at /hello/ and /refresh/', async (_what, type) => {
    const token = signed(claims(now, { token_type: type }));
    const res = await hello(app, rec, token);
    expect(res.body).toEqual(tokenFailure('Token has wrong type'));
    expect((await post(app, rec, 'refresh', token)).body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
  });

  it('refuses a token without token_type: "Token has no type"', async () => {
    const res = await hello(app, rec, signed(claims(now, { token_type: undefined })));
    expect(res.body).toEqual(tokenFailure('Token has no type'));
  });
});

describe('non-object and non-JSON payloads (RFC 7519 §7.2 step 10; jsonwebtoken accepts string and array payloads, and throws a SyntaxError on non-JSON)', () => {
  it.each([
    ['a JSON string', '"hello"'],
    ['the claims as a JSON string (double-encoded: jsonwebtoken parses it twice)', JSON.stringify(accessPayload)],
    ['an array', `[${accessPayload}]`],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
    ['not JSON', 'not json'],
    ['truncated JSON', accessPayload.slice(0, -1)],
    ['JSON after a byte-order mark', `\uFEFF${accessPayload}`],
  ])('refuses %s, HMAC-signed with the real secret', async (_what, payload) => {
    await expectRefused(signed(payload));
  });

  it('refuses a payload of invalid UTF-8 bytes, HMAC-signed with the real secret (RFC 7519 §7.2 step 10; RFC 8725 §3.7)', async () => {
    const input = `${b64url(HS256)}.${Buffer.concat([Buffer.from(accessPayload.slice(0, -2)), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]).toString('base64url')}`;
    await expectRefused(`${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`);
  });

  it('refuses a header of invalid UTF-8 bytes, HMAC-signed with the real secret', async () => {
    const header = Buffer.concat([Buffer.from('{"alg":"HS256","typ":"JWT","kid":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const input = `${header.toString('base64url')}.${b64url(accessPayload)}`;
    await expectRefused(`${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`);
  });

  it.each([['"typ":"JWT"', HS256], ['no typ', '{"alg":"HS256"}']])('refuses a non-JSON payload with %s in the header (jws parses only typ JWT)', async (_what, header) => {
    await expectRefused(signed('{not json', header));
  });
});

describe('duplicate JSON members (RFC 8259 §4; RFC 7519 §4, RFC 7515 §5.2: reject, or take the lexically last; policy: the last, as PyJWT)', () => {
  it('refuses a duplicated alg that ends in "none", unsigned', async () => {
    await expectRefused(compact('{"alg":"HS256","alg":"none","typ":"JWT"}', accessPayload, ''));
  });

  it('refuses a duplicated user_id forged without the key', async () => {
    const genuine = signed(accessPayload);
    const [h, , s] = genuine.split('.');
    const duplicated = accessPayload.replace('"user_id":"1"', '"user_id":"1","user_id":"2"');
    await expectRefused(`${h}.${b64url(duplicated)}.${s}`);
  });

  it('reads a signed token with duplicates the same way everywhere: the last member wins, for type and user alike', async () => {
    const payload = accessPayload.replace('"token_type":"access"', '"token_type":"refresh","token_type":"access"').replace('"user_id":"1"', '"user_id":"2","user_id":"1"');
    const token = signed(payload);
    expect((await hello(app, rec, token)).status).toBe(200);
    expect((await post(app, rec, 'refresh', token)).body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
    const header = signed(accessPayload, '{"alg":"none","alg":"HS256","typ":"JWT"}');
    expect((await hello(app, rec, header)).status).toBe(200);
  });
});

describe('hostile user_id values, validly signed (OWASP JWT cheat sheet; CWE-20; ASVS 5.0 9.1.1 "accept the contents only after")', () => {
  const sqlite = sqliteDemo(rec, { clock: clock.now });

  it.each([
    ['an object', { $ne: null }],
    ['an operator object matching any id', { $gt: 0 }],
    ['an array', ['1']],
    ['an array of numbers', [1]],
    ['0', 0],
    ['""', ''],
    ['2^53 + 1', 2 ** 53 + 1],
    ['"2^53 + 1" as a string', '9007199254740993'],
    ['-1', -1],
    ['1.5', 1.5],
    ['true', true],
    ['"1 "', '1 '],
    ['" 1"', ' 1'],
    ['"1.0"', '1.0'],
    ['"1e0"', '1e0'],
    ['"0x1"', '0x1'],
    ['SQL', "1' OR '1'='1"],
    ['"__proto__"', '__proto__'],
    ['"constructor"', 'constructor'],
    ['300 characters', '1'.repeat(300)],
    ['"01" (SQLite would compare it equal to the integer 1)', '01'],
    ['"+1"', '+1'],
  ])('answers user_not_found for %s, from the in-memory and the SQLite user table', async (_what, userId) => {
    const token = signed(claims(now, { user_id: userId }));
    for (const target of [app, sqlite.app]) {
      const res = await hello(target, rec, token);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' });
    }
  });

  it('answers "no recognizable user identification" for a null user_id', async () => {
    const res = await hello(app, rec, signed(claims(now, { user_id: null })));
    expect(res.body).toEqual({ detail: 'Token contained no recognizable user identification', code: 'token_not_valid' });
  });

  it('answers user_inactive for the inactive user and lets user 1 in (the controls)', async () => {
    expect((await hello(sqlite.app, rec, signed(claims(now, { user_id: '2' })))).body).toEqual({ detail: 'User is inactive', code: 'user_inactive' });
    expect((await hello(sqlite.app, rec, signed(claims(now)))).status).toBe(200);
    expect((await hello(sqlite.app, rec, signed(claims(now, { user_id: 1 })))).status).toBe(200);
  });
});

describe('hostile jti values, validly signed (RFC 7519 §4.1.7; WIRE.md "Token has no id")', () => {
  const stored = sqliteDemo(rec, { clock: clock.now, rotateRefreshTokens: true, revokeAccessTokens: true });

  it.each([
    ['a number', 123],
    ['an object', { $ne: null }],
    ['an array', ['x']],
    ['true', true],
    ['null', null],
    ['""', ''],
  ])('answers "Token has no id" for jti %s at every endpoint: no store error (503), no revocation check skipped', async (_what, jti) => {
    const noId = { detail: 'Token has no id', code: 'token_not_valid' };
    for (const path of ['refresh', 'blacklist'] as const) {
      const res = await post(stored.app, rec, path, signed(claims(now, { jti }, 'refresh')));
      expect(res.status).toBe(401);
      expect(res.body).toEqual(noId);
    }
    expect((await post(stored.app, rec, 'verify', signed(claims(now, { jti })))).body).toEqual(noId);
    expect((await hello(stored.app, rec, signed(claims(now, { jti })))).body).toEqual(tokenFailure('Token has no id'));
  });
});

describe('malformed base64url and token shapes (RFC 7515 §2, §5.2, §7.1; RFC 4648 §5; jwt_tool fuzzing)', () => {
  const [h, p, s] = signed(accessPayload).split('.') as [string, string, string];

  it.each([
    ['the empty string', ''],
    ['a single dot', '.'],
    ['two dots', '..'],
    ['an empty header', `.${p}.${s}`],
    ['an empty payload', `${h}..${s}`],
    ['one part', h],
    ['four parts', `${h}.${p}.${s}.${s}`],
    ['padding in the header', `${h}=.${p}.${s}`],
    ['standard base64 in the payload', `${h}.${p.replace(/-/g, '+').replace(/_/g, '/')}x+/.${s}`],
    ['a space inside', `${h}.${p.slice(0, 5)} ${p.slice(5)}.${s}`],
    ['percent-encoding', `${h}.${p}%2E.${s}`],
    ['non-ASCII letters', `${h}.${p}é.${s}`],
    ['a header that is not JSON', `${b64url('{alg:HS256}')}.${p}.${s}`],
    ['a header that is a JSON array', `${b64url('["HS256"]')}.${p}.${s}`],
    ['a header that is a JSON string', `${b64url('"HS256"')}.${p}.${s}`],
    ['a header that is null', `${b64url('null')}.${p}.${s}`],
    ['a header of invalid UTF-8', `${Buffer.from([0xc3, 0x28]).toString('base64url')}.${p}.${s}`],
    ['a header with a BOM', `${b64url(`\uFEFF${HS256}`)}.${p}.${s}`],
    ['a 9000-character token', `${h}.${'A'.repeat(9000)}.${s}`],
  ])('refuses %s as invalid, never a 500', async (_what, token) => {
    const verified = await post(app, rec, 'verify', token);
    if (token === '') {
      expect(verified.status).toBe(400);
      expect(verified.body).toEqual({ token: ['This field may not be blank.'] });
    } else {
      expect(verified.status).toBe(401);
      expect(verified.body).toEqual(INVALID);
    }
    const viaHeader = await request(app).get('/hello/').set('Authorization', `Bearer ${token}`);
    expect(viaHeader.status).toBe(401);
  });
});

describe('prototype pollution through claims (OWASP Prototype Pollution Prevention cheat sheet; CWE-1321)', () => {
  const polluting = accessPayload.replace('{', '{"__proto__":{"is_staff":true,"user_id":"2","polluted":1},"constructor":{"prototype":{"polluted":1}},');

  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).is_staff).toBeUndefined();
  });

  it('a validly signed token with __proto__ and constructor claims pollutes nothing and stays user 1', async () => {
    const res = await hello(app, rec, signed(polluting));
    expect(res.status).toBe(200);
  });

  it('a __proto__ claim cannot supply a missing user_id', async () => {
    const token = signed(polluting.replace(',"user_id":"1"', ''));
    expect((await hello(app, rec, token)).body).toEqual({ detail: 'Token contained no recognizable user identification', code: 'token_not_valid' });
  });

  it('refreshing such a token copies neither __proto__ into the new token nor pollutes anything', async () => {
    const rotating = demo(rec, { clock: clock.now, rotateRefreshTokens: true });
    const token = signed(polluting.replace('"token_type":"access"', '"token_type":"refresh"'));
    const res = await post(rotating.app, rec, 'refresh', token);
    expect(res.status).toBe(200);
    const minted = Buffer.from((res.body.access as string).split('.')[1]!, 'base64url').toString();
    expect(minted).not.toContain('__proto__');
    expect(decodePart(res.body.access, 1).user_id).toBe('1');
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
    'a claim named %s (an Object.prototype member) survives a refresh: 200, not jsonwebtoken\'s "validator.isValid is not a function" 500',
    async (name) => {
      const token = signed(claims(now, { [name]: 1 }, 'refresh'));
      const res = await post(app, rec, 'refresh', token);
      expect(res.status).toBe(200);
      expect(decodePart(res.body.access, 1)[name]).toBe(1);
    },
  );

  it('a __proto__ member in the header changes nothing', async () => {
    const res = await hello(app, rec, signed(accessPayload, '{"alg":"HS256","typ":"JWT","__proto__":{"alg":"none","kid":"x"}}'));
    expect(res.status).toBe(200);
  });
});

itLeaksNothing(rec);
