import request from 'supertest';
import type { Express } from 'express';
import { MemoryStore, simpleJwt, type Options } from '../../lib';
import type { OpenApiDocument, OpenApiOperation, OpenApiResponse } from '../../lib/http/openapi';
import type { DemoUser } from '../../demo-app/users';
import { makeApp, memoryLogger } from '../helpers/app';
import { decodePart } from '../helpers/jwt';
import { keyPairFor } from '../helpers/keys';
import { responseChecker, validateDocument } from '../helpers/openapi';

const BASE = '/api/token';
const checkers = new WeakMap<OpenApiDocument, ReturnType<typeof responseChecker>>();
/** Every status a real answer was checked with, to prove at the end that every documented one was met. */
const met = new Set<string>();

/** Asserts that a real answer is what the document says for that operation and status. */
function expectDocumented(doc: OpenApiDocument, method: string, path: string, res: request.Response): void {
  let checker = checkers.get(doc);
  if (!checker) {
    checker = responseChecker(doc);
    checkers.set(doc, checker);
  }
  expect({ exchange: `${method} ${path} → ${res.status}`, problems: checker.problems(`${BASE}${path}`, method, res) }).toEqual({
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
  override sessions(): never {
    throw new Error('connection refused');
  }
}

function verifyOnlyKit(extra: Partial<Options<DemoUser>>) {
  return simpleJwt<DemoUser>({ findUserById: () => null, logger: memoryLogger(), warnings: false, ...extra });
}

describe('auth.openapi(): the document', () => {
  const configurations: [string, () => ReturnType<typeof simpleJwt>][] = [
    ['the defaults', () => makeApp().auth],
    ['rotation, no throttle, email login, password changes', () => makeApp({ rotateRefreshTokens: true, loginThrottle: false, usernameField: 'email', getCredentialsChangedAt: () => null }).auth],
    ['the refuse session policy', () => makeApp({ maxSessionsPerUser: 3, sessionLimitPolicy: 'refuse' }).auth],
    ['JWT and Bearer schemes', () => makeApp({ authHeaderTypes: ['JWT', 'Bearer'] }).auth],
    ['another header name', () => makeApp({ authHeaderName: 'X-Access-Token' }).auth],
    ['a verify-only public key', () => verifyOnlyKit({ algorithm: 'ES256', verifyingKey: keyPairFor('ES256').publicKey })],
    ['a remote JWKS', () => verifyOnlyKit({ jwksUri: { uri: 'https://auth.example.com/.well-known/jwks.json', algorithms: ['RS256'] } })],
  ];

  it.each(configurations)('with %s is a valid OpenAPI 3.1 document, every schema valid JSON Schema 2020-12 (strict)', async (_name, make) => {
    const auth = make();
    const doc = auth.openapi();
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
    const doc = auth.openapi() as unknown as { paths: Record<string, { post: { responses: Record<string, Partial<OpenApiResponse>> } }> };
    delete doc.paths[`${BASE}/`]!.post.responses['200']!.description;
    expect(validateDocument(doc).valid).toBe(false);
  });

  it('the response check catches a body or a header that differs from the document', () => {
    const checker = responseChecker(makeApp().auth.openapi());
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      ({ status, body, text: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } }) as unknown as request.Response;
    const noStore = { 'cache-control': 'no-store' };
    expect(checker.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c', refresh: 'a.b.c' }, noStore))).toEqual([]);
    expect(checker.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c', refresh: 'a.b.c', extra: 1 }, noStore))).toHaveLength(1);
    expect(checker.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c' }, noStore))).toHaveLength(1);
    expect(checker.problems(`${BASE}/`, 'POST', answer(200, { access: 'a.b.c', refresh: 'a.b.c' }))).toEqual(['missing header Cache-Control']);
    expect(checker.problems(`${BASE}/`, 'POST', answer(401, { detail: 'No active account found with the given credentials' }))).toHaveLength(2);
    expect(checker.problems(`${BASE}/`, 'POST', answer(418, {}))).toEqual([`status 418 is not documented for POST ${BASE}/`]);
  });

  it('describes every route of the router, below basePath', () => {
    const { auth } = makeApp();
    const doc = auth.openapi();
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
    expect(Object.keys(auth.openapi({ basePath: '/auth/jwt/' }).paths)[0]).toBe('/auth/jwt/');
    expect(Object.keys(auth.openapi({ basePath: '' }).paths)).toContain('/refresh/');
    expect(auth.openapi({ title: 'Shop API', version: '2.3.0' }).info).toMatchObject({ title: 'Shop API', version: '2.3.0' });
    expect(doc.info).toMatchObject({ title: 'Token API', version: '1.0.0' });
  });

  it('refuses bad options with a TypeError naming them', () => {
    const { auth } = makeApp();
    expect(() => auth.openapi({ basePath: 'api/token' })).toThrow(/"basePath" must be the path auth.router is mounted at/);
    expect(() => auth.openapi({ basePath: '/api/{x}' })).toThrow(TypeError);
    expect(() => auth.openapi({ title: '' })).toThrow(/"title" must be a non-empty string/);
    expect(() => auth.openapi({ basPath: '/x' } as never)).toThrow(/Unknown openapi\(\) option "basPath"/);
  });

  it('returns a new object each call: changing one never changes the next', () => {
    const { auth } = makeApp();
    const first = auth.openapi();
    first.paths = {};
    first.components.schemas.TokenPair = {};
    const second = auth.openapi();
    expect(Object.keys(second.paths)).toHaveLength(6);
    expect(second.components.schemas.TokenPair).toMatchObject({ required: ['refresh', 'access'] });
  });

  it('names the configured username field in the login body and its field errors', () => {
    const doc = makeApp({ usernameField: 'email' }).auth.openapi();
    expect(doc.components.schemas.TokenObtainPairRequest).toMatchObject({ required: ['email', 'password'], properties: { email: { type: 'string' } } });
    const checker = responseChecker(doc);
    const fieldErrors = { $ref: '#/components/schemas/TokenObtainPairFieldErrors' };
    expect(checker.matches(fieldErrors, { email: ['This field is required.'] })).toBe(true);
    expect(checker.matches(fieldErrors, { username: ['This field is required.'] })).toBe(false);
  });

  it('documents the refresh answer with a refresh token only when rotation is on', () => {
    const plain = responseChecker(makeApp().auth.openapi());
    const rotating = responseChecker(makeApp({ rotateRefreshTokens: true }).auth.openapi());
    const ok = (checker: typeof plain) => (checker.operation(`${BASE}/refresh/`, 'post').responses['200'] as OpenApiResponse).content!['application/json']!.schema;
    const access = 'aaa.bbb.ccc';
    expect(plain.matches(ok(plain), { access })).toBe(true);
    expect(plain.matches(ok(plain), { access, refresh: access })).toBe(false);
    expect(rotating.matches(ok(rotating), { access, refresh: access })).toBe(true);
    expect(rotating.matches(ok(rotating), { access })).toBe(false);
  });

  it('documents 429 only with login throttling, 403 only with the refuse policy, password_changed only with getCredentialsChangedAt', () => {
    const statuses = (doc: OpenApiDocument) => Object.keys(doc.paths[`${BASE}/`]!.post!.responses);
    expect(statuses(makeApp({ loginThrottle: '10/15m' }).auth.openapi())).toContain('429');
    expect(statuses(makeApp({ loginThrottle: false }).auth.openapi())).not.toContain('429');
    expect(statuses(makeApp().auth.openapi())).not.toContain('403');
    expect(statuses(makeApp({ sessionLimitPolicy: 'refuse' }).auth.openapi())).toContain('403');
    expect(makeApp().auth.openapi().components.schemas.PasswordChanged).toBeUndefined();
    expect(makeApp({ getCredentialsChangedAt: () => null }).auth.openapi().components.schemas.PasswordChanged).toBeDefined();
  });

  it('a verify-only kit documents no login and no refresh; a remote JWKS adds 503 keys_unavailable', async () => {
    const local = verifyOnlyKit({ algorithm: 'ES256', verifyingKey: keyPairFor('ES256').publicKey });
    expect(Object.keys(local.openapi().paths)).toEqual([`${BASE}/verify/`, `${BASE}/blacklist/`, `${BASE}/sessions/`, `${BASE}/sessions/{id}/`]);
    expect(local.openapi().info.description).toContain('only verifies');
    expect(local.openapi().components.schemas.KeysUnavailable).toBeUndefined();
    const remote = verifyOnlyKit({ jwksUri: { uri: 'https://auth.example.com/.well-known/jwks.json', algorithms: ['RS256'] } });
    expect(remote.openapi().components.schemas.KeysUnavailable).toMatchObject({ properties: { code: { const: 'keys_unavailable' } } });
    await Promise.all([local.close(), remote.close()]);
  });

  it('bearerAuth uses the first accepted scheme; 401s document WWW-Authenticate with it', () => {
    const doc = makeApp({ authHeaderTypes: ['JWT', 'Bearer'] }).auth.openapi();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'JWT' });
    expect(doc.components.securitySchemes.bearerAuth).not.toHaveProperty('bearerFormat'); // bearer scheme only
    expect(doc.components.headers['WWW-Authenticate']!.schema).toEqual({ type: 'string', const: 'JWT realm="api"' });
    expect(makeApp().auth.openapi().components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'Bearer', bearerFormat: 'JWT' });
    expect(makeApp({ authHeaderName: 'X-Access-Token' }).auth.openapi().components.securitySchemes.bearerAuth).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'x-access-token',
    });
  });

  it('the token endpoints take no credentials; the sessions endpoints need bearerAuth', () => {
    const doc = makeApp().auth.openapi();
    const item = (path: string) => doc.paths[`${BASE}${path}`]!;
    for (const path of ['/', '/refresh/', '/verify/', '/blacklist/']) expect(item(path).post!.security).toEqual([]);
    for (const op of [item('/sessions/').get, item('/sessions/').delete, item('/sessions/{id}/').delete]) expect(op!.security).toEqual([{ bearerAuth: [] }]);
    for (const type of ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      expect(item('/').post!.requestBody!.content[type]!.schema).toEqual({ $ref: '#/components/schemas/TokenObtainPairRequest' });
    }
  });
});

describe.each([5, 4] as const)('real answers match the document (Express %i)', (major) => {
  const { app, auth } = makeApp({ rotateRefreshTokens: true, getCredentialsChangedAt: () => null }, { major });
  const doc = auth.openapi();
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

describe('real answers match the document in other configurations', () => {
  it('429 with Retry-After from the login throttle', async () => {
    const { app, auth } = makeApp({ loginThrottle: '1/15m' });
    const doc = auth.openapi();
    const wrong = () => request(app).post(`${BASE}/`).send({ username: 'vitor', password: 'wrong' });
    expectDocumented(doc, 'POST', '/', await wrong());
    const limited = await wrong();
    expect(limited.status).toBe(429);
    expectDocumented(doc, 'POST', '/', limited);
  });

  it('403 session_limit under the refuse policy', async () => {
    const { app, auth } = makeApp({ maxSessionsPerUser: 1, sessionLimitPolicy: 'refuse' });
    const doc = auth.openapi();
    await login(app);
    const refused = await request(app).post(`${BASE}/`).send({ username: 'vitor', password: '123' });
    expect(refused.status).toBe(403);
    expectDocumented(doc, 'POST', '/', refused);
  });

  it('503 store_unavailable with Retry-After when the store is down', async () => {
    const { app, auth } = makeApp({ store: new DownStore() });
    const res = await request(app).post(`${BASE}/`).send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(503);
    expectDocumented(auth.openapi(), 'POST', '/', res);
  });

  it('500 when a host callback throws', async () => {
    const { app, auth } = makeApp({
      findUserByUsername: () => {
        throw new Error('database down');
      },
    });
    const res = await request(app).post(`${BASE}/`).send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(500);
    expectDocumented(auth.openapi(), 'POST', '/', res);
  });

  it('a refresh without rotation answers only an access token, as documented; with email login the field errors name email', async () => {
    const { app, auth } = makeApp({ usernameField: 'email' });
    const doc = auth.openapi();
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
    for (const options of [{ loginThrottle: '10/15m', sessionLimitPolicy: 'refuse' as const }, {}]) {
      const doc = makeApp(options).auth.openapi();
      for (const item of Object.values(doc.paths)) {
        for (const op of Object.values(item) as OpenApiOperation[]) for (const status of Object.keys(op.responses)) declared.add(status);
      }
    }
    expect([...declared].filter((status) => !met.has(status))).toEqual([]);
  });
});
