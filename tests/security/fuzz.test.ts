/**
 * Property-based fuzzing (fast-check) of the three parsers an attacker reaches first: the Authorization header
 * parser, the token decoder (through POST /api/token/verify/, /refresh/ and authenticate()), and the login body
 * reader and validator (arbitrary JSON values, form strings, and bytes under every content type). Against the demo
 * app over HTTP, on the SQLite store, so that store errors would show too.
 *
 * Any input gets a documented answer, never a 500 or 503, and nothing is thrown past the middleware (an error
 * handler after the demo records anything that reaches Express). The documented answers:
 *
 * | endpoint | status | body |
 * | --- | --- | --- |
 * | POST /api/token/ | 200 | `{refresh, access}` (only for real credentials) |
 * | | 400 | field errors `{username|password: [one of FIELD_MESSAGES]}`, `{detail: "JSON parse error - ..."}`, `{detail: "Multipart form parse error - ..."}`, `{non_field_errors: ["Invalid data. Expected a dictionary, but got <type>."]}` |
 * | | 401 | `no_active_account` |
 * | | 413, 415, 429 | `payload_too_large`, `Unsupported media type/content encoding "..." in request.`, `throttled` |
 * | POST /api/token/verify/, /refresh/ | 200 | `{}` / `{access[, refresh]}` |
 * | | 400 | field errors on `token` / `refresh`, parse errors as above |
 * | | 401 | `{detail: <a WIRE.md token message>, code: "token_not_valid"}`, or `no_active_account` for the token (refresh) |
 * | GET /hello/ | 200 | `{message}` |
 * | | 401 | `not provided`, `bad_authorization_header`, `token_not_valid` (with `messages`, or no user id), `user_not_found`, `user_inactive` |
 */
import type { RequestListener } from 'node:http';
import { createHmac } from 'node:crypto';
import express from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { UserTable } from '../../demo-app/users';
import { parseAuthorizationHeader, TOKEN_MESSAGES } from '../../lib';
import { listen } from '../helpers/keys';
import { b64url } from '../helpers/jwt';
import { BAD_HEADER, NO_ACCOUNT, NOT_PROVIDED, recorded, recorder, SECRET, sqliteDemo, itLeaksNothing, userWithPassword } from './harness';

const rec = recorder();
const RUNS = { numRuns: 300 };
// Each HTTP property makes a few hundred requests: seconds on an idle machine, more on a busy CI runner.
jest.setTimeout(90_000);
const PASSWORD = 'Fuzz-Target-Password-5e2c';
const FIELD_MESSAGES = new Set([
  'This field is required.',
  'This field may not be blank.',
  'This field may not be null.',
  'Not a valid string.',
  'Null characters are not allowed.',
]);
const TOKEN_DETAILS = new Set<string>(Object.values(TOKEN_MESSAGES));

/** Whether a 400 body is one of the documented shapes, for the given fields. */
function isBadRequest(body: Record<string, unknown>, fields: string[]): boolean {
  const keys = Object.keys(body);
  if (keys.length === 1 && typeof body.detail === 'string') return /^(JSON|Multipart form) parse error - /.test(body.detail);
  if (keys.length === 1 && Array.isArray(body.non_field_errors)) return /^Invalid data\. Expected a dictionary, but got \w+\.$/.test(String(body.non_field_errors[0]));
  return keys.length > 0 && keys.every((k) => fields.includes(k) && Array.isArray(body[k]) && (body[k] as unknown[]).length === 1 && FIELD_MESSAGES.has(String((body[k] as unknown[])[0])));
}

/** Asserts that a token endpoint's or the login's answer is documented. */
function expectDocumented(path: 'login' | 'verify' | 'refresh' | 'hello', res: request.Response): void {
  const body = res.body as Record<string, unknown>;
  const ok = (() => {
    switch (res.status) {
      case 200:
        if (path === 'login') return typeof body.access === 'string' && typeof body.refresh === 'string';
        if (path === 'verify') return res.text === '{}';
        if (path === 'refresh') return typeof body.access === 'string';
        return body.message === 'Hello, World!';
      case 400:
        return path !== 'hello' && isBadRequest(body, path === 'login' ? ['username', 'password'] : path === 'verify' ? ['token'] : ['refresh']);
      case 401:
        if (path === 'login') return JSON.stringify(body) === JSON.stringify(NO_ACCOUNT);
        if (path === 'hello') {
          const messages = body.messages as { message: string }[] | undefined;
          return (
            JSON.stringify(body) === JSON.stringify(NOT_PROVIDED) ||
            JSON.stringify(body) === JSON.stringify(BAD_HEADER) ||
            (body.detail === 'Given token not valid for any token type' && messages?.length === 1 && TOKEN_DETAILS.has(messages[0]!.message)) ||
            body.detail === 'Token contained no recognizable user identification' ||
            body.code === 'user_not_found' ||
            body.code === 'user_inactive'
          );
        }
        return (body.code === 'token_not_valid' && TOKEN_DETAILS.has(String(body.detail))) || (path === 'refresh' && body.code === 'no_active_account');
      case 413:
        return body.code === 'payload_too_large';
      case 415:
        return /^Unsupported (media type|content encoding) ".*" in request\.$/s.test(String(body.detail));
      case 429:
        return path === 'login' && body.code === 'throttled';
      default:
        return false;
    }
  })();
  if (!ok) throw new Error(`undocumented answer from ${path}: ${res.status} ${res.text.slice(0, 300)}`);
}

describe('parseAuthorizationHeader (unit)', () => {
  const schemes = new Set(['bearer', 'jwt']);
  const piece = fc.oneof(
    fc.constantFrom('Bearer', 'bearer', 'BEARER', 'JWT', 'Token', 'Basic', ' ', '  ', '\t', '\n', '\v', '\f', '\r', '\u00a0', ',', '='),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
  const header = fc.oneof(
    fc.array(piece, { maxLength: 8 }).map((parts) => parts.join('')),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );

  it('never throws, and a token it returns is one non-empty whitespace-free part after an accepted scheme', () => {
    fc.assert(
      fc.property(fc.oneof(header, fc.constant(undefined), fc.array(header, { maxLength: 3 })), (value) => {
        const result = parseAuthorizationHeader(value, schemes);
        expect(['none', 'bad', 'token']).toContain(result.kind);
        if (result.kind === 'token') {
          expect(typeof value).toBe('string');
          expect(result.token.length).toBeGreaterThan(0);
          expect(result.token).not.toMatch(/[\t\n\v\f\r ]/);
          const parts = (value as string).split(/[\t\n\v\f\r ]+/).filter(Boolean);
          expect(parts).toHaveLength(2);
          expect(schemes.has(parts[0]!.toLowerCase())).toBe(true);
          expect(parts[1]).toBe(result.token);
        }
        if (Array.isArray(value)) expect(result.kind).toBe('bad');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('over HTTP, against the demo on SQLite', () => {
  const escaped: unknown[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  let server: Awaited<ReturnType<typeof listen>>;
  let base = '';
  let access = '';
  let refresh = '';

  beforeAll(async () => {
    // Users with cost-4 hashes (and a cost-4 dummy hash) so that thousands of failed logins stay fast.
    const users = new UserTable([await userWithPassword(rec, 1, 'fuzz', PASSWORD), await userWithPassword(rec, 2, 'idle', PASSWORD, false)]);
    const demo = sqliteDemo(rec, {
      rotateRefreshTokens: true,
      revokeAccessTokens: true,
      bcryptRounds: 4,
      findUserByUsername: (name) => users.findByUsername(name),
      findUserById: (id) => users.findById(id),
    });
    const host = express();
    host.use(demo.express);
    host.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      escaped.push(err);
      res.status(599).end();
    });
    server = await listen(recorded(host as unknown as RequestListener, rec));
    base = server.base;
    process.on('unhandledRejection', onUnhandled);
    const pair = (await request(base).post('/api/token/').send({ username: 'fuzz', password: PASSWORD })).body as { access: string; refresh: string };
    ({ access, refresh } = pair);
    rec.protect(access, refresh);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server.close();
  });
  afterEach(() => {
    expect(escaped).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  /** Header-field-safe text: what an HTTP client can put in a header (no CR, LF or NUL). */
  const fieldText = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength: 300 });
  const b64 = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), maxLength: 120 });
  const now = () => Math.floor(Date.now() / 1000);
  const hostile = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('__proto__', 'constructor', '', '0', '1', 'refresh', 'access', 'sliding'));
  /** Mostly the valid value, sometimes a hostile one: tokens one or two mutations away from good ones reach deepest. */
  const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: hostile });
  /** Mostly absent, sometimes a hostile value. */
  const rarely = fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostile });
  const hex32 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 });
  const header = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        alg: fc.oneof({ weight: 6, arbitrary: fc.constant('HS256') }, { weight: 1, arbitrary: fc.constantFrom('HS384', 'HS512', 'none', 'None', 'RS256', 'ES256', 'PS256') }, { weight: 1, arbitrary: hostile }),
        typ: mostly(fc.constant('JWT')),
        kid: rarely,
        crit: rarely,
        jku: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('http://127.0.0.1:1/jwks.json', 'https://attacker.example/') }),
        b64: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.boolean() }),
      }),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  );
  const claimsRecord = fc.record({
    token_type: mostly(fc.constantFrom('access', 'refresh')),
    exp: mostly(fc.integer({ min: -5, max: 600 }).map((d) => now() + d)),
    iat: mostly(fc.integer({ min: -600, max: 5 }).map((d) => now() + d)),
    nbf: rarely,
    jti: mostly(hex32),
    user_id: mostly(fc.constantFrom('1', '2', '3', 1, 2)),
    aud: rarely,
    iss: rarely,
    constructor: rarely,
    toString: rarely,
  });
  /** Claims as JSON text, sometimes with a `__proto__` member (which an object literal could not carry). */
  const claimsJson = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(claimsRecord, rarely).map(([claims, proto]) => {
        const text = JSON.stringify(claims);
        if (proto === undefined) return text;
        return `{"__proto__":${JSON.stringify(proto) ?? 'null'}${text === '{}' ? '' : ','}${text.slice(1)}`;
      }),
    },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null') },
  );
  /** A token: arbitrary header and claims, signed with the real secret, or with something else, or not at all. */
  const tokenArb = fc.tuple(header, claimsJson, fc.constantFrom('real', 'real', 'real', 'real', 'real', 'real', 'other', 'none', 'random'), b64).map(([h, c, how, junk]) => {
    const input = `${b64url(JSON.stringify(h) ?? 'null')}.${b64url(c)}`;
    if (how === 'none') return `${input}.`;
    if (how === 'random') return `${input}.${junk}`;
    return `${input}.${createHmac('sha256', how === 'real' ? SECRET : 'other-secret').update(input).digest('base64url')}`;
  });
  const anyToken = fc.oneof(
    { weight: 6, arbitrary: tokenArb },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
    { weight: 1, arbitrary: b64.map((s) => `${s}.${s}.${s}`) },
  );

  it('Authorization: arbitrary header values get a documented 200 or 401 from authenticate()', async () => {
    const value = fc.oneof(
      fieldText,
      fc.tuple(fc.constantFrom('Bearer', 'bearer', 'JWT', 'Basic', ''), fc.constantFrom(' ', '  ', '\t'), fc.oneof(fieldText, tokenArb, fc.constant(access))).map((p) => p.join('')),
    );
    await fc.assert(
      fc.asyncProperty(value, async (header) => {
        const res = await request(base).get('/hello/').set('Authorization', header);
        expectDocumented('hello', res);
      }),
      RUNS,
    );
  });

  it('the token decoder: arbitrary tokens at /verify/, /refresh/ and authenticate() get documented answers', async () => {
    await fc.assert(
      fc.asyncProperty(anyToken, async (token) => {
        expectDocumented('verify', await request(base).post('/api/token/verify/').send({ token }));
        expectDocumented('refresh', await request(base).post('/api/token/refresh/').send({ refresh: token }));
        if (/^[\t\x20-\x7e\x80-\xff]*$/.test(token)) expectDocumented('hello', await request(base).get('/hello/').set('Authorization', `Bearer ${token}`));
      }),
      { numRuns: 500 },
    );
  });

  it('the token fields themselves: arbitrary JSON values as "token" and "refresh"', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }), async (value) => {
        expectDocumented('verify', await request(base).post('/api/token/verify/').send({ token: value }));
        expectDocumented('refresh', await request(base).post('/api/token/refresh/').send({ refresh: value }));
      }),
      RUNS,
    );
  });

  it('the login validator: arbitrary JSON values, and objects with arbitrary username and password values', async () => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ username: hostile, password: hostile }, { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom('username', 'password', '__proto__', 'constructor', 'toString'), hostile),
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const res = await request(base).post('/api/token/').set('Content-Type', 'application/json').send(JSON.stringify(value));
        expectDocumented('login', res);
        expect(res.status).not.toBe(200);
      }),
      RUNS,
    );
  });

  it('the login validator: arbitrary form strings', async () => {
    const form = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.tuple(fc.constantFrom('username', 'password', 'username[$ne]', '__proto__[password]', 'password[]', ''), fc.string({ unit: 'binary', maxLength: 30 })), { maxLength: 6 }).map(
        (pairs) => pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'),
      ),
    );
    await fc.assert(
      fc.asyncProperty(form, async (text) => {
        const res = await request(base).post('/api/token/').set('Content-Type', 'application/x-www-form-urlencoded').send(text);
        expectDocumented('login', res);
        expect(res.status).not.toBe(200);
      }),
      RUNS,
    );
  });

  it('the body reader: arbitrary bytes under every content type (and none)', async () => {
    const types = [
      'application/json',
      'application/json; charset=utf-16',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'multipart/form-data',
      'multipart/form-data; boundary=',
      'text/plain',
      undefined,
    ];
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.string({ unit: 'binary', maxLength: 500 }).map((s) => new Uint8Array(Buffer.from(`--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\n${s}\r\n--xyz--\r\n`))),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...types), bytes, async (type, data) => {
        let req = request(base).post('/api/token/');
        if (type !== undefined) req = req.set('Content-Type', type);
        const res = await req.send(Buffer.from(data));
        expectDocumented('login', res);
        expect(res.status).not.toBe(200);
      }),
      RUNS,
    );
  });
});

itLeaksNothing(rec);
