import request from 'supertest';
import { ERROR_STATUS, MemoryStore, type Options } from '../../lib';
import type { Config } from '../../lib/config/resolve';
import { KIT_CONFIG, ROUTES, type HttpMethod, type RouteSpec } from '../../lib/http/routes';
import { openApiDocument, type OpenApiDocument, type OpenApiOperation } from '../../lib/openapi';
import type { DemoUser } from '../../demo-app/users';
import { makeApp, type TestApp } from '../helpers/app';
import { keyPairFor } from '../helpers/keys';
import { responseChecker } from '../helpers/openapi';

// The router and the OpenAPI document are both built from the route table: walk the table over HTTP and check
// that every route the router answers is in the document, with the same methods, and nothing else is.

const BASE = '/api/token';
const ADMIN = '/api/admin/token-lifetimes';
const MOUNTS = { token: BASE, admin: ADMIN } as const;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
const SESSION_ID = '0123456789abcdef0123456789abcdef';

interface Setup {
  made: TestApp;
  /** An access token of a user `isAdmin` accepts. */
  access: string;
  verifyOnly: boolean;
  close(): Promise<void>;
}

/** A kit with these options, the lifetimes router mounted, and a logged-in user `isAdmin` accepts. */
async function setup(options: Partial<Options<DemoUser>>): Promise<Setup> {
  const made = makeApp({ isAdmin: () => true, ...options });
  made.app.use(ADMIN, made.auth.adminRouter);
  const res = await request(made.app).post(`${BASE}/`).send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return { made, access: (res.body as { access: string }).access, verifyOnly: false, close: () => made.auth.close() };
}

/** A verify-only kit (a public key only), sharing its store with a signing kit that logs the admin in. */
async function verifyOnlySetup(): Promise<Setup> {
  const { privateKey, publicKey } = keyPairFor('ES256');
  const store = new MemoryStore();
  const signer = await setup({ secret: undefined, algorithm: 'ES256', signingKey: privateKey, store });
  const made = makeApp({ secret: undefined, algorithm: 'ES256', verifyingKey: publicKey, store, isAdmin: () => true });
  made.app.use(ADMIN, made.auth.adminRouter);
  return { made, access: signer.access, verifyOnly: true, close: async () => Promise.all([made.auth.close(), signer.close()]).then(() => undefined) };
}

const CONFIGS: [string, () => Promise<Setup>][] = [
  ['default', () => setup({})],
  ['cookies', () => setup({ cookies: { accessCookie: true, accessInBody: true } })],
  ['sliding tokens, refresh by Bearer', () => setup({ slidingTokens: true, refreshByBearer: true })],
  ['verify-only', verifyOnlySetup],
];

/** The resolved configuration the kit keeps for the generator. */
const configOf = (kit: Setup): Config => (kit.made.auth as unknown as Record<typeof KIT_CONFIG, Config>)[KIT_CONFIG];

/** What a request to an entry's path looks like over HTTP (the session id filled in). */
const urlOf = (route: RouteSpec) => `${MOUNTS[route.mount as 'token' | 'admin']}${route.path.replace('{id}', SESSION_ID)}`;

describe.each(CONFIGS)('the router and the OpenAPI document agree: %s', (_name, make) => {
  let kit: Setup;
  let doc: OpenApiDocument;
  beforeAll(async () => {
    kit = await make();
    doc = openApiDocument(kit.made.auth, { adminPath: ADMIN });
  });
  afterAll(() => kit?.close());

  it('documents exactly the routes of the table this configuration serves, with their methods', () => {
    const served = ROUTES.filter(
      (route) => route.mount !== 'jwks' && (route.when?.(configOf(kit)) ?? true) && !(kit.verifyOnly && route.issues),
    );
    expect(Object.keys(doc.paths)).toEqual(served.map((route) => `${MOUNTS[route.mount as 'token' | 'admin']}${route.path}`));
    for (const route of served) {
      const item = doc.paths[`${MOUNTS[route.mount as 'token' | 'admin']}${route.path}`]!;
      expect(Object.keys(item)).toEqual(route.operations.map((op) => op.method.toLowerCase()));
    }
  });

  it('answers every documented method, 405 with the documented Allow to every other, and 404 where nothing is documented', async () => {
    const checker = responseChecker(doc);
    // DELETE /sessions/ ends the session the token belongs to: last.
    const last = (route: RouteSpec, method: string) => route.key === 'sessions' && method === 'DELETE';
    const exchanges = ROUTES.filter((route) => route.mount !== 'jwks')
      .flatMap((route) => METHODS.map((method) => [route, method] as const))
      .sort(([a, m], [b, n]) => Number(last(a, m)) - Number(last(b, n)));
    for (const [route, method] of exchanges) {
      const url = urlOf(route);
      const test = request(kit.made.app)[method.toLowerCase() as 'get'](url).set('Authorization', `Bearer ${kit.access}`);
      const res = await test;
      const documentedPath = `${MOUNTS[route.mount as 'token' | 'admin']}${route.path}`;
      const item = doc.paths[documentedPath] as Record<string, OpenApiOperation> | undefined;
      const exchange = `${method} ${url} → ${res.status}`;
      if (item === undefined) {
        // Not served (sliding tokens off), or an issuing route of a verify-only kit: 404, and 404 only.
        expect({ exchange, status: res.status }).toEqual({ exchange, status: 404 });
        if (kit.verifyOnly && route.issues && method !== 'HEAD') expect(res.body).toMatchObject({ code: 'verify_only' });
        continue;
      }
      const allow = [...Object.keys(item).map((m) => m.toUpperCase()), 'OPTIONS'].join(', ');
      if (method === 'OPTIONS') {
        expect({ exchange, allow: res.headers.allow }).toEqual({ exchange: `OPTIONS ${url} → 200`, allow });
        continue;
      }
      if (item[method.toLowerCase()] === undefined) {
        expect({ exchange, allow: res.headers.allow }).toEqual({ exchange: `${method} ${url} → 405`, allow });
      } else {
        // Served: neither 405 nor, with the admin's token, 401.
        expect({ exchange, allowed: res.status !== 405 && !(route.authenticated && res.status === 401) }).toEqual({ exchange, allowed: true });
      }
      if (method !== 'HEAD') expect({ exchange, problems: checker.problems(documentedPath, method, res) }).toEqual({ exchange, problems: [] });
    }
  });

  it('documents, for each operation, only statuses of the error codes the table lists for it', () => {
    for (const route of ROUTES) {
      const item = doc.paths[`${MOUNTS[route.mount as 'token' | 'admin']}${route.path}`] as Record<string, OpenApiOperation> | undefined;
      if (item === undefined) continue;
      for (const op of route.operations) {
        const allowed = new Set(['200', '204', ...op.errors.map((code) => String(ERROR_STATUS[code]))]);
        const documented = Object.keys(item[op.method.toLowerCase()]!.responses);
        expect({ operation: op.operationId, extra: documented.filter((status) => !allowed.has(status)) }).toEqual({ operation: op.operationId, extra: [] });
      }
    }
  });
});

describe('the route table', () => {
  it('gives every operation a unique id and every entry a path ending in /', () => {
    const ids = ROUTES.flatMap((route) => route.operations.map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const route of ROUTES) expect(route.path).toMatch(/^\/(?:[a-z{}-]+\/)*$/);
  });

  it('with every feature on, documents a status for every error code an operation lists', async () => {
    const kit = await setup({
      slidingTokens: true,
      refreshByBearer: true,
      cookies: { accessCookie: true, accessInBody: true },
      sessionLimitPolicy: 'refuse',
      loginThrottle: '10/15m',
      getCredentialsChangedAt: () => null,
    });
    const doc = openApiDocument(kit.made.auth, { adminPath: ADMIN });
    for (const route of ROUTES.filter((entry) => entry.mount !== 'jwks')) {
      const item = doc.paths[`${MOUNTS[route.mount as 'token' | 'admin']}${route.path}`] as Record<string, OpenApiOperation>;
      for (const op of route.operations) {
        const documented = Object.keys(item[op.method.toLowerCase()]!.responses);
        const missing = op.errors.filter((code) => !documented.includes(String(ERROR_STATUS[code])));
        expect({ operation: op.operationId, missing }).toEqual({ operation: op.operationId, missing: [] });
      }
    }
    await kit.close();
  });

  it('is what the JWKS handler answers: GET and HEAD, 405 with their Allow otherwise', async () => {
    const { auth } = makeApp({ secret: undefined, algorithm: 'ES256', signingKey: keyPairFor('ES256').privateKey });
    const express = (await import('express')).default;
    const app = express();
    app.all('/jwks.json', auth.jwksHandler);
    const jwks = ROUTES.find((route) => route.key === 'jwks')!;
    for (const method of METHODS) {
      const res = await request(app)[method.toLowerCase() as 'get']('/jwks.json');
      if (jwks.operations.some((op) => op.method === (method as HttpMethod))) expect(res.status).toBe(200);
      else expect({ method, status: res.status, allow: res.headers.allow }).toEqual({ method, status: 405, allow: 'GET, HEAD' });
    }
    await auth.close();
  });
});
