import request from 'supertest';
import type { Express } from 'express';
import { MemoryStore, simpleJwt, type Options } from '../../lib';
import { openApiDocument, type OpenApiDocument, type OpenApiHeader, type OpenApiOperation, type OpenApiOptions, type OpenApiResponse } from '../../lib/openapi';
import type { DemoUser } from '../../demo-app/users';
import { makeApp, manualClock, memoryLogger, type TestApp } from '../helpers/app';
import { decodePart } from '../helpers/jwt';
import { keyPairFor } from '../helpers/keys';
import { responseChecker, validateDocument } from '../helpers/openapi';

const BASE = '/api/token';
const ADMIN = '/api/admin/token-lifetimes';
const checkers = new WeakMap<OpenApiDocument, ReturnType<typeof responseChecker>>();
/** Every status a real answer was checked with, to prove at the end that every documented one was met. */
const met = new Set<string>();

/** Asserts that a real answer is what the document says for that operation and status. */
function expectDocumented(doc: OpenApiDocument, method: string, path: string, res: request.Response, base = BASE): void {
  let checker = checkers.get(doc);
  if (!checker) {
    checker = responseChecker(doc);
    checkers.set(doc, checker);
  }
  expect({ exchange: `${method} ${path} → ${res.status}`, problems: checker.problems(`${base}${path}`, method, res) }).toEqual({
    exchange: `${method} ${path} → ${res.status}`,
    problems: [],
  });
  met.add(String(res.status));
}

const bearer = (access: string) => ({ Authorization: `Bearer ${access}` });

async function login(app: Express): Promise<{ access: string; refresh: string }> {
  const res = await request(app).post(`${BASE}/`).send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { access: string; refresh: string };
}

/** A token store that is down: every session look-up fails. */
class DownStore extends MemoryStore {
  override startSession(): never {
    throw new Error('connection refused');
  }
}

function verifyOnlyKit(extra: Partial<Options<DemoUser>>) {
  return simpleJwt<DemoUser>({ findUserById: () => null, logger: memoryLogger(), warnings: false, ...extra });
}

/** Every feature of the sessions work at once: sliding tokens, refresh by Bearer, access cookies, loginResponse. */
const EVERYTHING: Partial<Options<DemoUser>> = {
  slidingTokens: true,
  refreshByBearer: true,
  cookies: { accessCookie: true },
  loginResponse: (user) => ({ username: user.username }),
  isAdmin: (user) => user.username === 'admin',
  rotateRefreshTokens: true,
  getCredentialsChangedAt: () => null,
};

/** makeApp plus the lifetimes router where the demo mounts it. */
function adminApp(options: Partial<Options<DemoUser>>): TestApp {
  const made = makeApp({ isAdmin: (user) => user.username === 'admin', ...options });
  made.app.use(ADMIN, made.auth.adminRouter);
  return made;
}

/** A response's cookies by name, as a browser would keep them. */
function cookiesOf(res: request.Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of (res.headers['set-cookie'] as unknown as string[] | undefined) ?? []) {
    const pair = line.slice(0, line.indexOf(';'));
    out[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
  }
  return out;
}

const cookieHeader = (cookies: Record<string, string>) => Object.entries(cookies).map(([name, value]) => `${name}=${value}`).join('; ');

/** The schema documented for an operation's answer with this status. */
function documentedSchema(doc: OpenApiDocument, path: string, method: string, status: string) {
  const checker = responseChecker(doc);
  return checker.resolveResponse(checker.operation(path, method).responses[status]!).content!['application/json']!.schema;
}

describe('openApiDocument(auth): the document', () => {
  const admin: OpenApiOptions = { adminPath: ADMIN };
  // Three cells in every row: with fewer, jest would pass its `done` callback as the options.
  const configurations: [string, () => ReturnType<typeof simpleJwt>, OpenApiOptions | undefined][] = [
    ['the defaults', () => makeApp().auth, undefined],
    ['rotation, no throttle, email login, password changes', () => makeApp({ rotateRefreshTokens: true, loginThrottle: false, usernameField: 'email', getCredentialsChangedAt: () => null }).auth, undefined],
    ['the refuse session policy', () => makeApp({ maxSessionsPerUser: 3, sessionLimitPolicy: 'refuse' }).auth, undefined],
    ['JWT and Bearer schemes', () => makeApp({ authHeaderTypes: ['JWT', 'Bearer'] }).auth, undefined],
    ['another header name', () => makeApp({ authHeaderName: 'X-Access-Token' }).auth, undefined],
    ['a verify-only public key', () => verifyOnlyKit({ algorithm: 'ES256', verifyingKey: keyPairFor('ES256').publicKey }), undefined],
    ['a remote JWKS', () => verifyOnlyKit({ jwksUri: { uri: 'https://auth.example.com/.well-known/jwks.json', algorithms: ['RS256'] } }), undefined],
    ['sliding tokens, refresh by Bearer, access cookies, loginResponse and the admin router', () => makeApp(EVERYTHING).auth, admin],
    [
      'refresh and CSRF cookies only, custom names, a domain, throttling, the refuse policy, non-expiring lifetimes and the admin router',
      () =>
        makeApp({
          cookies: { refreshCookieName: 'rt.v1', csrfCookieName: 'csrf+token', csrfHeaderName: 'X-XSRF-TOKEN', domain: 'example.com', sameSite: 'Lax', refreshInBody: true },
          loginThrottle: '10/15m',
          sessionLimitPolicy: 'refuse',
          dangerouslyAllowNonExpiringTokens: true,
        }).auth,
      admin,
    ],
    ['sliding tokens only, another header name, two token classes', () => makeApp({ slidingTokens: true, authHeaderName: 'X-Access-Token', authTokenClasses: ['sliding', 'access'] }).auth, undefined],
    ['a verify-only kit with sliding tokens, cookies and the admin router', () => verifyOnlyKit({ algorithm: 'ES256', verifyingKey: keyPairFor('ES256').publicKey, slidingTokens: true, cookies: { accessCookie: true } }), admin],
  ];

  it.each(configurations)('with %s is a valid OpenAPI 3.1 document, every schema valid JSON Schema 2020-12 (strict)', async (_name, make, options) => {
    const auth = make();
    const doc = openApiDocument(auth, options);
    expect(doc.openapi).toBe('3.1.0');
    const verdict = validateDocument(doc);
    expect(verdict.errors).toEqual([]);
    expect(verdict).toMatchObject({ valid: true, version: '3.1' });
    expect(responseChecker(doc).compileAll()).toBeGreaterThan(20);
    // JSON round trip: what the demo serves is the same document.
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    await auth.close();
  });

  it('the validator does refuse a broken document (so the check above means something)', () => {
    const { auth } = makeApp();
    const doc = openApiDocument(auth) as unknown as { paths: Record<string, { post: { responses: Record<string, Partial<OpenApiResponse>> } }> };
    delete doc.paths[`${BASE}/`]!.post.responses['200']!.description;
    expect(validateDocument(doc).valid).toBe(false);
  });

  it('the response check catches a body or a header that differs from the document', () => {
    const checker = responseChecker(openApiDocument(makeApp().auth));
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      ({ status, body, text: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }) as unknown as request.Response;
    const noStore = { 'cache-control': 'no-store' };
    expect(checker.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c', refresh: 'a.b.c' }, noStore))).toEqual([]);
    expect(checker.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c', refresh: 'a.b.c', extra: 1 }, noStore))).toHaveLength(1);
    expect(checker.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c' }, noStore))).toHaveLength(1);
    expect(checker.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c', refresh: 'a.b.c' }))).toEqual(['missing header Cache-Control']);
    expect(checker.problems(`${BASE}/`, 'POST', answer(401, { detail: 'No active account found with the given credentials' }))).toHaveLength(2);
    expect(checker.problems(`${BASE}/`, 'POST', answer(418, {}))).toEqual([`status 418 is not documented for POST ${BASE}/`]);
    // A header sent more than once (Set-Cookie) is checked line by line.
    const cookies = responseChecker(openApiDocument(makeApp({ cookies: true }).auth));
    const lines = ['__Secure-refresh_token=a.b.c; Path=/api/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict', '__Host-csrftoken=x; Path=/; Max-Age=86400; Secure; SameSite=Strict'];
    const withCookies = (setCookie: string[]) => ({ ...answer(200, { access: 'a.b.c' }, noStore), headers: { 'content-type': 'application/json', ...noStore, 'set-cookie': setCookie } }) as unknown as request.Response;
    expect(cookies.problems(`${BASE}/`, 'POST', withCookies(lines))).toEqual([]);
    expect(cookies.problems(`${BASE}/`, 'POST', withCookies([...lines, 'other=1; Path=/']))).toHaveLength(1);
    expect(cookies.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c' }, noStore))).toEqual(['missing header Set-Cookie']);
  });

  it('describes every route of the router, below basePath', () => {
    const { auth } = makeApp();
    const doc = openApiDocument(auth);
    expect(Object.keys(doc.paths)).toEqual([`${BASE}/`, `${BASE}/refresh/`, `${BASE}/verify/`, `${BASE}/blacklist/`, `${BASE}/sessions/`, `${BASE}/sessions/{id}/`]);
    const ops = Object.values(doc.paths).flatMap((item) => Object.entries(item).map(([method, op]) => `${method} ${(op as OpenApiOperation).operationId}`));
    expect(ops).toEqual([
      'post tokenObtainPair',
      'post tokenRefresh',
      'post tokenVerify',
      'post tokenBlacklist',
      'get sessionsList',
      'delete sessionsDeleteAll',
      'delete sessionsDelete',
    ]);
    expect(Object.keys(openApiDocument(auth, { basePath: '/auth/jwt/' }).paths)[0]).toBe('/auth/jwt/');
    expect(Object.keys(openApiDocument(auth, { basePath: '' }).paths)).toContain('/refresh/');
    expect(openApiDocument(auth, { title: 'Shop API', version: '2.3.0' }).info).toMatchObject({ title: 'Shop API', version: '2.3.0' });
    expect(doc.info).toMatchObject({ title: 'Token API', version: '1.0.0' });
  });

  it('refuses bad options with a TypeError naming them', () => {
    const { auth } = makeApp();
    expect(() => openApiDocument(auth, { basePath: 'api/token' })).toThrow(/"basePath" must be the path auth.router is mounted at/);
    expect(() => openApiDocument(auth, { basePath: '/api/{x}' })).toThrow(TypeError);
    expect(() => openApiDocument(auth, { title: '' })).toThrow(/"title" must be a non-empty string/);
    expect(() => openApiDocument(auth, { basPath: '/x' } as never)).toThrow(/Unknown openApiDocument\(\) option "basPath"/);
  });

  it('returns a new object each call: changing one never changes the next', () => {
    const { auth } = makeApp();
    const first = openApiDocument(auth);
    first.paths = {};
    first.components.schemas.TokenPair = {};
    const second = openApiDocument(auth);
    expect(Object.keys(second.paths)).toHaveLength(6);
    expect(second.components.schemas.TokenPair).toMatchObject({ required: ['refresh', 'access'] });
  });

  it('names the configured username field in the login body and its field errors', () => {
    const doc = openApiDocument(makeApp({ usernameField: 'email' }).auth);
    expect(doc.components.schemas.TokenObtainPairRequest).toMatchObject({ required: ['email', 'password'], properties: { email: { type: 'string' } } });
    const checker = responseChecker(doc);
    const fieldErrors = { $ref: '#/components/schemas/TokenObtainPairFieldErrors' };
    expect(checker.matches(fieldErrors, { email: ['This field is required.'] })).toBe(true);
    expect(checker.matches(fieldErrors, { username: ['This field is required.'] })).toBe(false);
  });

  it('documents the refresh answer with a refresh token only when rotation is on', () => {
    const plain = responseChecker(openApiDocument(makeApp().auth));
    const rotating = responseChecker(openApiDocument(makeApp({ rotateRefreshTokens: true }).auth));
    const ok = (checker: typeof plain) => (checker.operation(`${BASE}/refresh/`, 'post').responses['200'] as OpenApiResponse).content!['application/json']!.schema;
    const access = 'aaa.bbb.ccc';
    expect(plain.matches(ok(plain), { access })).toBe(true);
    expect(plain.matches(ok(plain), { access, refresh: access })).toBe(false);
    expect(rotating.matches(ok(rotating), { access, refresh: access })).toBe(true);
    expect(rotating.matches(ok(rotating), { access })).toBe(false);
  });

  it('documents 429 only with login throttling, 403 only with the refuse policy, password_changed only with getCredentialsChangedAt', () => {
    const statuses = (doc: OpenApiDocument) => Object.keys(doc.paths[`${BASE}/`]!.post!.responses);
    expect(statuses(openApiDocument(makeApp({ loginThrottle: '10/15m' }).auth))).toContain('429');
    expect(statuses(openApiDocument(makeApp({ loginThrottle: false }).auth))).not.toContain('429');
    expect(statuses(openApiDocument(makeApp().auth))).not.toContain('403');
    expect(statuses(openApiDocument(makeApp({ sessionLimitPolicy: 'refuse' }).auth))).toContain('403');
    expect(openApiDocument(makeApp().auth).components.schemas.PasswordChanged).toBeUndefined();
    expect(openApiDocument(makeApp({ getCredentialsChangedAt: () => null }).auth).components.schemas.PasswordChanged).toBeDefined();
  });

  it('a verify-only kit documents no login and no refresh; a remote JWKS adds 503 keys_unavailable', async () => {
    const local = verifyOnlyKit({ algorithm: 'ES256', verifyingKey: keyPairFor('ES256').publicKey });
    expect(Object.keys(openApiDocument(local).paths)).toEqual([`${BASE}/verify/`, `${BASE}/blacklist/`, `${BASE}/sessions/`, `${BASE}/sessions/{id}/`]);
    expect(openApiDocument(local).info.description).toContain('only verifies');
    expect(openApiDocument(local).components.schemas.KeysUnavailable).toBeUndefined();
    const remote = verifyOnlyKit({ jwksUri: { uri: 'https://auth.example.com/.well-known/jwks.json', algorithms: ['RS256'] } });
    expect(openApiDocument(remote).components.schemas.KeysUnavailable).toMatchObject({ properties: { code: { const: 'keys_unavailable' } } });
    await Promise.all([local.close(), remote.close()]);
  });

  it('bearerAuth uses the first accepted scheme; 401s document WWW-Authenticate with it', () => {
    const doc = openApiDocument(makeApp({ authHeaderTypes: ['JWT', 'Bearer'] }).auth);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'JWT' });
    expect(doc.components.securitySchemes.bearerAuth).not.toHaveProperty('bearerFormat'); // bearer scheme only
    expect(doc.components.headers['WWW-Authenticate']!.schema).toEqual({ type: 'string', const: 'JWT realm="api"' });
    expect(openApiDocument(makeApp().auth).components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'Bearer', bearerFormat: 'JWT' });
    expect(openApiDocument(makeApp({ authHeaderName: 'X-Access-Token' }).auth).components.securitySchemes.bearerAuth).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-access-token',
    });
  });

  it('the token endpoints take no credentials; the sessions endpoints need bearerAuth', () => {
    const doc = openApiDocument(makeApp().auth);
    const item = (path: string) => doc.paths[`${BASE}${path}`]!;
    for (const path of ['/', '/refresh/', '/verify/', '/blacklist/']) expect(item(path).post!.security).toEqual([]);
    for (const op of [item('/sessions/').get, item('/sessions/').delete, item('/sessions/{id}/').delete]) expect(op!.security).toEqual([{ bearerAuth: [] }]);
    for (const type of ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      expect(item('/').post!.requestBody!.content[type]!.schema).toEqual({ $ref: '#/components/schemas/TokenObtainPairRequest' });
    }
  });

  it('documents /sliding/ and /sliding/refresh/ only with slidingTokens, and only on a kit that signs', async () => {
    const paths = (doc: OpenApiDocument) => Object.keys(doc.paths);
    expect(paths(openApiDocument(makeApp().auth))).not.toContain(`${BASE}/sliding/`);
    const doc = openApiDocument(makeApp({ slidingTokens: true }).auth);
    expect(paths(doc)).toEqual([
      `${BASE}/`,
      `${BASE}/refresh/`,
      `${BASE}/verify/`,
      `${BASE}/blacklist/`,
      `${BASE}/sliding/`,
      `${BASE}/sliding/refresh/`,
      `${BASE}/sessions/`,
      `${BASE}/sessions/{id}/`,
    ]);
    expect(doc.paths[`${BASE}/sliding/`]!.post!.operationId).toBe('tokenObtainSliding');
    expect(doc.paths[`${BASE}/sliding/refresh/`]!.post!.operationId).toBe('tokenRefreshSliding');
    const checker = responseChecker(doc);
    const token = 'aaa.bbb.ccc';
    for (const path of ['/sliding/', '/sliding/refresh/']) {
      const ok = documentedSchema(doc, `${BASE}${path}`, 'post', '200');
      expect(checker.matches(ok, { token })).toBe(true);
      expect(checker.matches(ok, { token, access: token })).toBe(false);
    }
    expect(checker.matches({ $ref: '#/components/schemas/TokenRefreshSlidingRequest' }, { token })).toBe(true);
    expect(checker.matches({ $ref: '#/components/schemas/TokenRefreshSlidingRequest' }, {})).toBe(false);
    // refresh_exp failures belong to sliding sessions (their refresh and logout), never to a refresh token's refresh.
    const refreshExpired = { detail: "Token 'refresh_exp' claim has expired", code: 'token_not_valid' };
    expect(checker.matches(documentedSchema(doc, `${BASE}/sliding/refresh/`, 'post', '401'), refreshExpired)).toBe(true);
    expect(checker.matches(documentedSchema(doc, `${BASE}/blacklist/`, 'post', '401'), refreshExpired)).toBe(true);
    expect(checker.matches(documentedSchema(doc, `${BASE}/refresh/`, 'post', '401'), refreshExpired)).toBe(false);
    const verifyOnly = verifyOnlyKit({ algorithm: 'ES256', verifyingKey: keyPairFor('ES256').publicKey, slidingTokens: true });
    expect(paths(openApiDocument(verifyOnly))).not.toContain(`${BASE}/sliding/`);
    await verifyOnly.close();
  });

  it("names every accepted token class in authenticate()'s 401, in order", () => {
    const doc = openApiDocument(makeApp({ slidingTokens: true, authTokenClasses: ['sliding', 'access'] }).auth);
    const checker = responseChecker(doc);
    const entry = (token_class: string, token_type: string) => ({ token_class, token_type, message: 'Token is expired' });
    const body = (messages: unknown[]) => ({ detail: 'Given token not valid for any token type', code: 'token_not_valid', messages });
    const invalid = { $ref: '#/components/schemas/InvalidToken' };
    expect(checker.matches(invalid, body([entry('SlidingToken', 'sliding'), entry('AccessToken', 'access')]))).toBe(true);
    expect(checker.matches(invalid, body([entry('AccessToken', 'access'), entry('SlidingToken', 'sliding')]))).toBe(false);
    expect(checker.matches(invalid, body([entry('SlidingToken', 'sliding')]))).toBe(false);
  });

  it('refresh by Bearer: the refresh field becomes optional, the header is the documented alternative, and 401 adds the malformed header', () => {
    const plain = openApiDocument(makeApp().auth);
    expect(plain.paths[`${BASE}/refresh/`]!.post!.security).toEqual([]);
    expect(plain.components.schemas.TokenRefreshRequest).toMatchObject({ required: ['refresh'] });
    expect(plain.components.securitySchemes.refreshBearerAuth).toBeUndefined();
    const doc = openApiDocument(makeApp({ refreshByBearer: true, slidingTokens: true }).auth);
    for (const [path, request] of [['/refresh/', 'TokenRefreshRequest'], ['/sliding/refresh/', 'TokenRefreshSlidingRequest']] as const) {
      const op = doc.paths[`${BASE}${path}`]!.post!;
      expect(op.security).toEqual([{}, { refreshBearerAuth: [] }]);
      expect(op.requestBody!.required).toBe(false);
      expect(doc.components.schemas[request]).toMatchObject({ required: [] });
      const bad = { detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' };
      expect(responseChecker(doc).matches(documentedSchema(doc, `${BASE}${path}`, 'post', '401'), bad)).toBe(true);
    }
    expect(doc.components.securitySchemes.refreshBearerAuth).toMatchObject({ type: 'http', scheme: 'Bearer', description: expect.stringMatching(/^A refresh token/) });
    // The other token endpoints still take no credentials.
    for (const path of ['/', '/verify/', '/blacklist/', '/sliding/']) expect(doc.paths[`${BASE}${path}`]!.post!.security).toEqual([]);
  });

  it('cookies: Set-Cookie on login, refresh and logout; the refresh field may come from the cookie with the CSRF header; 403 csrf_failed', () => {
    const doc = openApiDocument(makeApp({ cookies: { csrfHeaderName: 'X-XSRF-TOKEN' } }).auth);
    const checker = responseChecker(doc);
    const setCookie = (path: string) => (checker.resolveResponse(checker.operation(`${BASE}${path}`, 'post').responses['200']!).headers!['Set-Cookie'] as OpenApiHeader);
    for (const path of ['/', '/refresh/', '/blacklist/']) expect(setCookie(path)).toMatchObject({ required: true });
    const line = '__Secure-refresh_token=a.b.c; Path=/api/token; Max-Age=86400; HttpOnly; Secure; SameSite=Strict';
    expect(checker.matches(setCookie('/').schema, line)).toBe(true);
    expect(checker.matches(setCookie('/').schema, '__Host-csrftoken=abc; Path=/; Max-Age=86400; Secure; SameSite=Strict')).toBe(true);
    expect(checker.matches(setCookie('/').schema, '__Host-access_token=a.b.c; Path=/; Max-Age=300; HttpOnly; Secure; SameSite=Strict')).toBe(false); // no access cookie
    expect(checker.matches(setCookie('/').schema, line.replace('Strict', 'Lax'))).toBe(false);
    expect(setCookie('/blacklist/').description).toMatch(/^Expires/);
    for (const path of ['/refresh/', '/blacklist/']) {
      const op = checker.operation(`${BASE}${path}`, 'post');
      expect(op.security).toEqual([{}, { refreshCookie: [], csrfToken: [] }]);
      expect(op.requestBody!.required).toBe(false);
      expect(checker.matches(documentedSchema(doc, `${BASE}${path}`, 'post', '403'), { detail: 'CSRF Failed: CSRF token missing.', code: 'csrf_failed' })).toBe(true);
    }
    expect(doc.components.securitySchemes).toMatchObject({
      refreshCookie: { type: 'apiKey', in: 'cookie', name: '__Secure-refresh_token' },
      csrfToken: { type: 'apiKey', in: 'header', name: 'X-XSRF-TOKEN' },
    });
    expect(doc.components.schemas.TokenRefreshRequest).toMatchObject({ required: [], properties: { refresh: { description: expect.stringContaining('`X-XSRF-TOKEN`') } } });
    // The body keeps only the access token (refreshInBody is off by default).
    const token = 'aaa.bbb.ccc';
    expect(checker.matches(documentedSchema(doc, `${BASE}/`, 'post', '200'), { access: token })).toBe(true);
    expect(checker.matches(documentedSchema(doc, `${BASE}/`, 'post', '200'), { access: token, refresh: token })).toBe(false);
    // The sessions endpoints take no cookie without access cookies.
    expect(checker.operation(`${BASE}/sessions/`, 'delete').security).toEqual([{ bearerAuth: [] }]);
    expect(checker.operation(`${BASE}/sessions/`, 'delete').responses['403']).toBeUndefined();
  });

  it('cookies: refreshInBody / accessInBody decide which tokens the documented bodies carry', () => {
    const ok = (options: Partial<Options<DemoUser>>, path: string) => {
      const doc = openApiDocument(makeApp(options).auth);
      return (body: unknown) => responseChecker(doc).matches(documentedSchema(doc, `${BASE}${path}`, 'post', '200'), body);
    };
    const t = 'aaa.bbb.ccc';
    expect(ok({ cookies: { refreshInBody: true } }, '/')({ refresh: t, access: t })).toBe(true);
    expect(ok({ cookies: { accessCookie: true } }, '/')({})).toBe(true);
    expect(ok({ cookies: { accessCookie: true } }, '/')({ access: t })).toBe(false);
    expect(ok({ cookies: { accessCookie: true, accessInBody: true } }, '/')({ access: t })).toBe(true);
    expect(ok({ cookies: true, rotateRefreshTokens: true }, '/refresh/')({ access: t })).toBe(true);
    expect(ok({ cookies: { refreshInBody: true }, rotateRefreshTokens: true }, '/refresh/')({ access: t, refresh: t })).toBe(true);
    expect(ok({ cookies: { accessCookie: true }, slidingTokens: true }, '/sliding/')({})).toBe(true);
    expect(ok({ cookies: { accessCookie: true }, slidingTokens: true }, '/sliding/refresh/')({ token: t })).toBe(false);
    expect(ok({ cookies: true, slidingTokens: true }, '/sliding/')({ token: t })).toBe(true); // no access cookie: the body has it
  });

  it('access cookies: authenticated endpoints accept the cookie, and the state-changing ones need the CSRF header (403 otherwise)', () => {
    const doc = openApiDocument(makeApp({ cookies: { accessCookie: true } }).auth, { adminPath: ADMIN });
    const checker = responseChecker(doc);
    expect(checker.operation(`${BASE}/sessions/`, 'get').security).toEqual([{ bearerAuth: [] }, { accessCookie: [] }]);
    expect(checker.operation(`${BASE}/sessions/`, 'get').responses['403']).toBeUndefined();
    for (const [path, method] of [[`${BASE}/sessions/`, 'delete'], [`${BASE}/sessions/{id}/`, 'delete'], [`${ADMIN}/`, 'put'], [`${ADMIN}/`, 'patch']] as const) {
      expect(checker.operation(path, method).security).toEqual([{ bearerAuth: [] }, { accessCookie: [], csrfToken: [] }]);
      expect(checker.matches(documentedSchema(doc, path, method, '403'), { detail: 'CSRF Failed: CSRF token incorrect.', code: 'csrf_failed' })).toBe(true);
    }
  });

  it('loginResponse: the login answers allow extra fields, but never another token key', () => {
    const t = 'aaa.bbb.ccc';
    const plain = openApiDocument(makeApp().auth);
    expect(responseChecker(plain).matches(documentedSchema(plain, `${BASE}/`, 'post', '200'), { refresh: t, access: t, user: { id: 1 } })).toBe(false);
    const doc = openApiDocument(makeApp({ slidingTokens: true, loginResponse: () => ({ user: { id: 1 } }) }).auth);
    const checker = responseChecker(doc);
    const pair = documentedSchema(doc, `${BASE}/`, 'post', '200');
    expect(checker.matches(pair, { refresh: t, access: t, user: { id: 1 }, roles: ['x'] })).toBe(true);
    expect(checker.matches(pair, { refresh: t, access: t, token: t })).toBe(false);
    expect(checker.matches(pair, { access: t, user: {} })).toBe(false);
    const sliding = documentedSchema(doc, `${BASE}/sliding/`, 'post', '200');
    expect(checker.matches(sliding, { token: t, user: { id: 1 } })).toBe(true);
    expect(checker.matches(sliding, { token: t, access: t })).toBe(false);
    // Refreshes answer no extra fields.
    expect(checker.matches(documentedSchema(doc, `${BASE}/sliding/refresh/`, 'post', '200'), { token: t, user: {} })).toBe(false);
  });

  it('adminPath documents GET / PUT / PATCH of the lifetimes router, with the sliding lifetimes only when sliding tokens are on', () => {
    expect(Object.keys(openApiDocument(makeApp().auth).paths)).not.toContain(`${ADMIN}/`);
    expect(openApiDocument(makeApp().auth).tags.map((tag) => tag.name)).toEqual(['token', 'sessions']);
    const doc = openApiDocument(makeApp().auth, { adminPath: `${ADMIN}/` });
    expect(doc.tags.map((tag) => tag.name)).toEqual(['token', 'sessions', 'admin']);
    const item = doc.paths[`${ADMIN}/`]!;
    expect(Object.keys(item)).toEqual(['get', 'put', 'patch']);
    expect(Object.keys(item.get!.responses)).toEqual(['200', '401', '403', '405', '500', '503']);
    for (const op of [item.put!, item.patch!]) expect(Object.keys(op.responses)).toEqual(['200', '400', '401', '403', '405', '413', '415', '500', '503']);
    for (const op of [item.get!, item.put!, item.patch!]) expect(op).toMatchObject({ tags: ['admin'], security: [{ bearerAuth: [] }] });
    const checker = responseChecker(doc);
    const view = { access_token_lifetime: 300, refresh_token_lifetime: 86_400, text: { access_token_lifetime: '5m', refresh_token_lifetime: '1d' } };
    expect(checker.matches({ $ref: '#/components/schemas/TokenLifetimes' }, view)).toBe(true);
    expect(checker.matches({ $ref: '#/components/schemas/TokenLifetimes' }, { ...view, access_token_lifetime: null })).toBe(false);
    expect(checker.matches({ $ref: '#/components/schemas/TokenLifetimesPut' }, { access_token_lifetime: '10m' })).toBe(false);
    expect(checker.matches({ $ref: '#/components/schemas/TokenLifetimesPatch' }, { access_token_lifetime: '10m' })).toBe(true);
    expect(checker.matches(documentedSchema(doc, `${ADMIN}/`, 'put', '400'), { non_field_errors: ['access_token_lifetime must not be longer than refresh_token_lifetime.'] })).toBe(true);
    expect(checker.matches(documentedSchema(doc, `${ADMIN}/`, 'put', '400'), { access_token_lifetime: ['A valid integer is required.'] })).toBe(true);
    expect(checker.matches(documentedSchema(doc, `${ADMIN}/`, 'put', '400'), { sliding_token_lifetime: ['A valid integer is required.'] })).toBe(false);
    expect(checker.matches(documentedSchema(doc, `${ADMIN}/`, 'get', '403'), { detail: 'You do not have permission to perform this action.', code: 'permission_denied' })).toBe(true);
    expect(item.get!.description).toContain('No `isAdmin` is configured');
    const sliding = openApiDocument(makeApp({ slidingTokens: true, isAdmin: () => true, dangerouslyAllowNonExpiringTokens: true }).auth, { adminPath: ADMIN });
    expect(sliding.components.schemas.TokenLifetimesPut).toMatchObject({
      required: ['access_token_lifetime', 'refresh_token_lifetime', 'sliding_token_lifetime', 'sliding_token_refresh_lifetime'],
    });
    const never = { ...view, access_token_lifetime: null, text: { ...view.text, access_token_lifetime: 'never' } };
    expect(responseChecker(sliding).matches({ $ref: '#/components/schemas/TokenLifetimes' }, never)).toBe(false); // the sliding lifetimes are missing
    expect(
      responseChecker(sliding).matches(
        { $ref: '#/components/schemas/TokenLifetimes' },
        { ...never, sliding_token_lifetime: 300, sliding_token_refresh_lifetime: 86_400, text: { ...never.text, sliding_token_lifetime: '5m', sliding_token_refresh_lifetime: '1d' } },
      ),
    ).toBe(true);
    expect(() => openApiDocument(makeApp().auth, { adminPath: 'admin' })).toThrow(/"adminPath" must be the path auth.adminRouter is mounted at/);
    expect(() => openApiDocument(makeApp().auth, { adminPath: '' })).toThrow(TypeError);
  });
});

describe.each([5, 4] as const)('real answers match the document (Express %i)', (major) => {
  const { app, auth } = makeApp({ rotateRefreshTokens: true, getCredentialsChangedAt: () => null }, { major });
  const doc = openApiDocument(auth);
  afterAll(() => auth.close());

  it('login: 200 for JSON, form and multipart bodies; the JSON request matches its schema', async () => {
    const body = { username: 'vitor', password: '123' };
    expect(responseChecker(doc).matches({ $ref: '#/components/schemas/TokenObtainPairRequest' }, body)).toBe(true);
    expectDocumented(doc, 'POST', '/', await request(app).post(`${BASE}/`).send(body));
    expectDocumented(doc, 'POST', '/', await request(app).post(`${BASE}/`).type('form').send(body));
    expectDocumented(doc, 'POST', '/', await request(app).post(`${BASE}/`).field('username', 'vitor').field('password', '123'));
  });

  it('login: 400 field errors, malformed JSON, a JSON list; 401; 405; 413; 415', async () => {
    const post = () => request(app).post(`${BASE}/`);
    const answers = [
      await post().send({}),
      await post().send({ username: '', password: null }),
      await post().set('Content-Type', 'application/json').send('{"username": '),
      await post().set('Content-Type', 'application/json').send('[1, 2]'),
      await post().send({ username: 'vitor', password: 'wrong' }),
      await request(app).get(`${BASE}/`),
      await post().send({ username: 'x'.repeat(20_000), password: '123' }),
      await post().set('Content-Type', 'text/plain').send('hello'),
    ];
    expect(answers.map((res) => res.status)).toEqual([400, 400, 400, 400, 401, 405, 413, 415]);
    answers.forEach((res, i) => expectDocumented(doc, i === 5 ? 'GET' : 'POST', '/', res));
  });

  it('refresh: 200 with rotation; 401 for garbage, an access token, a used refresh token', async () => {
    const pair = await login(app);
    const ok = await request(app).post(`${BASE}/refresh/`).send({ refresh: pair.refresh });
    expect(Object.keys(ok.body)).toEqual(['access', 'refresh']);
    const answers = [
      ok,
      await request(app).post(`${BASE}/refresh/`).send({ refresh: 'garbage' }),
      await request(app).post(`${BASE}/refresh/`).send({ refresh: pair.access }),
      await request(app).post(`${BASE}/refresh/`).send({ refresh: pair.refresh }),
      await request(app).post(`${BASE}/refresh/`).send({ refresh: 42 }),
    ];
    expect(answers.map((res) => res.status)).toEqual([200, 401, 401, 401, 401]);
    expect(answers[3]!.body.detail).toBe('Token is blacklisted');
    for (const res of answers) expectDocumented(doc, 'POST', '/refresh/', res);
  });

  it('verify and blacklist: 200 {}, then 401 for the blacklisted token; 400 without the field', async () => {
    const pair = await login(app);
    expectDocumented(doc, 'POST', '/verify/', await request(app).post(`${BASE}/verify/`).send({ token: pair.access }));
    expectDocumented(doc, 'POST', '/verify/', await request(app).post(`${BASE}/verify/`).send({ token: 'a.b.c' }));
    expectDocumented(doc, 'POST', '/verify/', await request(app).post(`${BASE}/verify/`).send({}));
    expectDocumented(doc, 'POST', '/blacklist/', await request(app).post(`${BASE}/blacklist/`).send({ refresh: pair.refresh }));
    const again = await request(app).post(`${BASE}/blacklist/`).send({ refresh: pair.refresh });
    expect(again.status).toBe(401);
    expectDocumented(doc, 'POST', '/blacklist/', again);
    expectDocumented(doc, 'POST', '/verify/', await request(app).post(`${BASE}/verify/`).send({ token: pair.refresh }));
  });

  it('sessions: 200 list, 204 deletes, 404 unknown id, 401 for each middleware failure, 405 after authentication', async () => {
    const a = await login(app);
    const b = await login(app);
    const list = await request(app).get(`${BASE}/sessions/`).set(bearer(a.access));
    expect(list.status).toBe(200);
    expect(list.body.length).toBeGreaterThanOrEqual(2);
    expectDocumented(doc, 'GET', '/sessions/', list);
    for (const headers of [{}, { Authorization: 'Bearer' }, bearer('garbage'), bearer(a.refresh)]) {
      const res = await request(app).get(`${BASE}/sessions/`).set(headers);
      expect(res.status).toBe(401);
      expectDocumented(doc, 'GET', '/sessions/', res);
    }
    expectDocumented(doc, 'POST', '/sessions/', await request(app).post(`${BASE}/sessions/`).set(bearer(a.access)).send({}));
    const id = decodePart(b.refresh, 1).jti as string;
    expectDocumented(doc, 'DELETE', '/sessions/{id}/', await request(app).delete(`${BASE}/sessions/${id}/`).set(bearer(a.access)));
    expectDocumented(doc, 'DELETE', '/sessions/{id}/', await request(app).delete(`${BASE}/sessions/${id}/`).set(bearer(a.access)));
    const everywhere = await request(app).delete(`${BASE}/sessions/`).set(bearer(a.access));
    expect(everywhere.status).toBe(204);
    expectDocumented(doc, 'DELETE', '/sessions/', everywhere);
  });
});

describe('real answers match the document: sliding tokens, refresh by Bearer, cookies, loginResponse, the admin router', () => {
  const clock = manualClock();
  const { app, auth } = adminApp({ ...EVERYTHING, cookies: true, clock: clock.now });
  const doc = openApiDocument(auth, { adminPath: ADMIN });
  afterAll(() => auth.close());
  const login = (path: string, username = 'vitor', password = '123') => request(app).post(`${BASE}${path}`).send({ username, password });

  it('sliding: login 200 with the loginResponse fields; refresh 200 by body and by Bearer; 401 once past refresh_exp; 400, 401, 405', async () => {
    const obtained = await login('/sliding/');
    expect(obtained.status).toBe(200);
    expect(obtained.body).toEqual({ token: expect.any(String), username: 'vitor' });
    expect(obtained.headers['set-cookie']).toBeUndefined(); // no access cookies: the sliding token is in the body only
    expectDocumented(doc, 'POST', '/sliding/', obtained);
    expectDocumented(doc, 'POST', '/sliding/', await login('/sliding/', 'vitor', 'wrong'));
    expectDocumented(doc, 'POST', '/sliding/', await request(app).post(`${BASE}/sliding/`).send({}));
    const { token } = obtained.body as { token: string };
    clock.advance(600); // past exp: a sliding token can still be refreshed until refresh_exp
    const slid = await request(app).post(`${BASE}/sliding/refresh/`).send({ token });
    expect(slid.status).toBe(200);
    expect(Object.keys(slid.body)).toEqual(['token']);
    expectDocumented(doc, 'POST', '/sliding/refresh/', slid);
    const byBearer = await request(app).post(`${BASE}/sliding/refresh/`).set(bearer(token));
    expect(byBearer.status).toBe(200);
    expectDocumented(doc, 'POST', '/sliding/refresh/', byBearer);
    expectDocumented(doc, 'POST', '/sliding/refresh/', await request(app).post(`${BASE}/sliding/refresh/`).set('Authorization', 'Bearer'));
    expectDocumented(doc, 'POST', '/sliding/refresh/', await request(app).post(`${BASE}/sliding/refresh/`));
    expectDocumented(doc, 'GET', '/sliding/refresh/', await request(app).get(`${BASE}/sliding/refresh/`));
    clock.advance(86_400);
    const expired = await request(app).post(`${BASE}/sliding/refresh/`).send({ token });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ detail: "Token 'refresh_exp' claim has expired", code: 'token_not_valid' });
    expectDocumented(doc, 'POST', '/sliding/refresh/', expired);
  });

  it('cookies: login and refresh set the cookies; a cookie refresh without the CSRF header is 403 csrf_failed; logout clears them', async () => {
    const obtained = await login('/');
    expect(obtained.status).toBe(200);
    expect(Object.keys(obtained.body)).toEqual(['access', 'username']); // the refresh token is in its cookie only
    expectDocumented(doc, 'POST', '/', obtained);
    const cookies = cookiesOf(obtained);
    expect(Object.keys(cookies)).toEqual(['__Secure-refresh_token', '__Host-csrftoken']);
    const refresh = () => request(app).post(`${BASE}/refresh/`).set('Cookie', cookieHeader(cookies));
    const refused = [await refresh(), await refresh().set('X-CSRFToken', 'not-the-cookie')];
    expect(refused.map((res) => [res.status, res.body.code])).toEqual([
      [403, 'csrf_failed'],
      [403, 'csrf_failed'],
    ]);
    for (const res of refused) expectDocumented(doc, 'POST', '/refresh/', res);
    const refreshed = await refresh().set('X-CSRFToken', cookies['__Host-csrftoken']!);
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body)).toEqual(['access']); // rotated: the new refresh token is in its cookie
    expectDocumented(doc, 'POST', '/refresh/', refreshed);
    const rotated = { ...cookies, ...cookiesOf(refreshed) };
    const logout = () => request(app).post(`${BASE}/blacklist/`).set('Cookie', cookieHeader(rotated));
    const noCsrf = await logout();
    expect(noCsrf.status).toBe(403);
    expectDocumented(doc, 'POST', '/blacklist/', noCsrf);
    const out = await logout().set('X-CSRFToken', rotated['__Host-csrftoken']!);
    expect(out.status).toBe(200);
    expect(cookiesOf(out)).toEqual({ '__Secure-refresh_token': '', '__Host-csrftoken': '' });
    expectDocumented(doc, 'POST', '/blacklist/', out);
  });

  it('refresh by Bearer: 200 with the refresh token in the header; 401 for a malformed header', async () => {
    const obtained = await login('/');
    const access = obtained.body.access as string;
    const ok = await request(app).post(`${BASE}/refresh/`).set(bearer(cookiesOf(obtained)['__Secure-refresh_token']!));
    expect(ok.status).toBe(200);
    expectDocumented(doc, 'POST', '/refresh/', ok);
    const wrongType = await request(app).post(`${BASE}/refresh/`).set(bearer(access));
    expect(wrongType.body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
    expectDocumented(doc, 'POST', '/refresh/', wrongType);
    const bad = await request(app).post(`${BASE}/refresh/`).set('Authorization', 'Bearer a b');
    expect(bad.body.code).toBe('bad_authorization_header');
    expectDocumented(doc, 'POST', '/refresh/', bad);
  });

  it('the admin router: GET and PUT 200 for an admin; 403 for a non-admin; 401 without credentials; 400, 405 and 415', async () => {
    const admin = bearer((await login('/', 'admin', 'admin-demo-password')).body.access as string);
    const user = bearer((await login('/')).body.access as string);
    const lifetimes = { access_token_lifetime: '10m', refresh_token_lifetime: '1d', sliding_token_lifetime: 300, sliding_token_refresh_lifetime: '1d' };
    const shown = await request(app).get(`${ADMIN}/`).set(admin);
    expect(shown.status).toBe(200);
    expectDocumented(doc, 'GET', '/', shown, ADMIN);
    const put = await request(app).put(`${ADMIN}/`).set(admin).send(lifetimes);
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ access_token_lifetime: 600, text: { access_token_lifetime: '10m' } });
    expectDocumented(doc, 'PUT', '/', put, ADMIN);
    const answers: [string, request.Response][] = [
      ['GET', await request(app).get(`${ADMIN}/`).set(user)],
      ['PUT', await request(app).put(`${ADMIN}/`).set(user).send(lifetimes)],
      ['GET', await request(app).get(`${ADMIN}/`)],
      ['PUT', await request(app).put(`${ADMIN}/`).set(admin).send({ access_token_lifetime: 0 })],
      ['PATCH', await request(app).patch(`${ADMIN}/`).set(admin).send({ access_token_lifetime: '2d' })],
      ['PATCH', await request(app).patch(`${ADMIN}/`).set(admin).set('Content-Type', 'application/json').send('[1]')],
      ['DELETE', await request(app).delete(`${ADMIN}/`).set(admin)],
      ['PATCH', await request(app).patch(`${ADMIN}/`).set(admin).set('Content-Type', 'text/plain').send('10m')],
    ];
    expect(answers.map(([, res]) => res.status)).toEqual([403, 403, 401, 400, 400, 400, 405, 415]);
    expect(answers[0]![1].body.code).toBe('permission_denied');
    expect(answers[4]![1].body).toEqual({ non_field_errors: ['access_token_lifetime must not be longer than refresh_token_lifetime.'] });
    for (const [method, res] of answers) expectDocumented(doc, method, '/', res, ADMIN);
  });
});

describe('real answers match the document: access cookies and CSRF on the authenticated endpoints', () => {
  const { app, auth } = adminApp({ slidingTokens: true, cookies: { accessCookie: true } });
  const doc = openApiDocument(auth, { adminPath: ADMIN });
  afterAll(() => auth.close());

  it('a sliding login answers {} and sets the access cookie; the cookie refreshes with the CSRF header, 403 without', async () => {
    const obtained = await request(app).post(`${BASE}/sliding/`).send({ username: 'vitor', password: '123' });
    expect(obtained.status).toBe(200);
    expect(obtained.body).toEqual({});
    expectDocumented(doc, 'POST', '/sliding/', obtained);
    const cookies = cookiesOf(obtained);
    expect(Object.keys(cookies)).toEqual(['__Host-access_token', '__Host-csrftoken']);
    const refresh = () => request(app).post(`${BASE}/sliding/refresh/`).set('Cookie', cookieHeader(cookies));
    const refused = await refresh();
    expect(refused.body).toEqual({ detail: 'CSRF Failed: CSRF token missing.', code: 'csrf_failed' });
    expectDocumented(doc, 'POST', '/sliding/refresh/', refused);
    const slid = await refresh().set('X-CSRFToken', cookies['__Host-csrftoken']!);
    expect(slid.status).toBe(200);
    expectDocumented(doc, 'POST', '/sliding/refresh/', slid);
  });

  it('the sessions and the admin router read the cookie: GET passes without CSRF; DELETE and PUT need it (403)', async () => {
    const vitor = cookiesOf(await request(app).post(`${BASE}/`).send({ username: 'vitor', password: '123' }));
    const admin = cookiesOf(await request(app).post(`${BASE}/`).send({ username: 'admin', password: 'admin-demo-password' }));
    const list = await request(app).get(`${BASE}/sessions/`).set('Cookie', cookieHeader(vitor));
    expect(list.status).toBe(200);
    expectDocumented(doc, 'GET', '/sessions/', list);
    const endAll = await request(app).delete(`${BASE}/sessions/`).set('Cookie', cookieHeader(vitor));
    expect(endAll.status).toBe(403);
    expectDocumented(doc, 'DELETE', '/sessions/', endAll);
    const shown = await request(app).get(`${ADMIN}/`).set('Cookie', cookieHeader(admin));
    expect(shown.status).toBe(200);
    expect(Object.keys(shown.body)).toEqual(['access_token_lifetime', 'refresh_token_lifetime', 'sliding_token_lifetime', 'sliding_token_refresh_lifetime', 'text']);
    expectDocumented(doc, 'GET', '/', shown, ADMIN);
    const put = () => request(app).put(`${ADMIN}/`).set('Cookie', cookieHeader(admin)).send(shown.body);
    const noCsrf = await put();
    expect(noCsrf.body.code).toBe('csrf_failed');
    expectDocumented(doc, 'PUT', '/', noCsrf, ADMIN);
    const ok = await put().set('X-CSRFToken', admin['__Host-csrftoken']!);
    expect(ok.status).toBe(200);
    expectDocumented(doc, 'PUT', '/', ok, ADMIN);
    const forbidden = await request(app).get(`${ADMIN}/`).set('Cookie', cookieHeader(vitor));
    expect(forbidden.body.code).toBe('permission_denied');
    expectDocumented(doc, 'GET', '/', forbidden, ADMIN);
  });
});

describe('real answers match the document in other configurations', () => {
  it('429 with Retry-After from the login throttle', async () => {
    const { app, auth } = makeApp({ loginThrottle: '1/15m' });
    const doc = openApiDocument(auth);
    const wrong = () => request(app).post(`${BASE}/`).send({ username: 'vitor', password: 'wrong' });
    expectDocumented(doc, 'POST', '/', await wrong());
    const limited = await wrong();
    expect(limited.status).toBe(429);
    expectDocumented(doc, 'POST', '/', limited);
  });

  it('403 session_limit under the refuse policy', async () => {
    const { app, auth } = makeApp({ maxSessionsPerUser: 1, sessionLimitPolicy: 'refuse' });
    const doc = openApiDocument(auth);
    await login(app);
    const refused = await request(app).post(`${BASE}/`).send({ username: 'vitor', password: '123' });
    expect(refused.status).toBe(403);
    expectDocumented(doc, 'POST', '/', refused);
  });

  it('503 store_unavailable with Retry-After when the store is down', async () => {
    const { app, auth } = makeApp({ store: new DownStore() });
    const res = await request(app).post(`${BASE}/`).send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(503);
    expectDocumented(openApiDocument(auth), 'POST', '/', res);
  });

  it('500 when a host callback throws', async () => {
    const { app, auth } = makeApp({
      findUserByUsername: () => {
        throw new Error('database down');
      },
    });
    const res = await request(app).post(`${BASE}/`).send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(500);
    expectDocumented(openApiDocument(auth), 'POST', '/', res);
  });

  it('a refresh without rotation answers only an access token, as documented; with email login the field errors name email', async () => {
    const { app, auth } = makeApp({ usernameField: 'email' });
    const doc = openApiDocument(auth);
    const missing = await request(app).post(`${BASE}/`).send({ username: 'vitor' });
    expect(missing.body).toEqual({ email: ['This field is required.'], password: ['This field is required.'] });
    expectDocumented(doc, 'POST', '/', missing);
    const pair = (await request(app).post(`${BASE}/`).send({ email: 'vitor', password: '123' })).body as { refresh: string };
    const res = await request(app).post(`${BASE}/refresh/`).send({ refresh: pair.refresh });
    expect(Object.keys(res.body)).toEqual(['access']);
    expectDocumented(doc, 'POST', '/refresh/', res);
  });

  it('every status the documents declare was met in a real exchange above', () => {
    const declared = new Set<string>();
    const everything = { ...EVERYTHING, loginThrottle: '10/15m', sessionLimitPolicy: 'refuse' as const };
    for (const options of [{ loginThrottle: '10/15m', sessionLimitPolicy: 'refuse' as const }, {}, everything]) {
      const doc = openApiDocument(makeApp(options).auth, { adminPath: ADMIN });
      for (const item of Object.values(doc.paths)) {
        for (const op of Object.values(item) as OpenApiOperation[]) for (const status of Object.keys(op.responses)) declared.add(status);
      }
    }
    expect([...declared].filter((status) => !met.has(status))).toEqual([]);
  });
});
