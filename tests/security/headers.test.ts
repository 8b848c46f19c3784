/**
 * Where the token travels: the Authorization header's scheme and shape, duplicated headers, huge headers, tokens
 * in the query string, CORS preflights, methods, request smuggling. Against the demo app over HTTP; each test
 * names its source (RFC 6750, RFC 7235, RFC 9110/9112, OWASP cheat sheets and WSTG, PortSwigger).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express from 'express';
import request from 'supertest';
import { listen } from '../helpers/keys';
import {
  BAD_HEADER,
  demo,
  hello,
  itLeaksNothing,
  login,
  NOT_PROVIDED,
  rawHttp,
  recorded,
  recorder,
  tokenFailure,
} from './harness';

const rec = recorder();
const { app, auth } = demo(rec);
let access = '';
let refresh = '';

beforeAll(async () => {
  ({ access, refresh } = await login(app));
  rec.protect(access, refresh);
});

describe('the Authorization scheme (RFC 7235 §2.1: case-insensitive; RFC 6750 §2.1)', () => {
  it.each(['bearer', 'BEARER', 'BeArEr'])('accepts the scheme spelled %s (WIRE.md: ours; simplejwt is case-sensitive)', async (scheme) => {
    const res = await request(app).get('/hello/').set('Authorization', `${scheme} ${access}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ['"Bearer:" (a colon)', (t: string) => `Bearer:${t}`],
    ['"Bearer=" (an equals sign)', (t: string) => `Bearer=${t}`],
    ['"Bearer," (a comma)', (t: string) => `Bearer,${t}`],
    ['a no-break space (U+00A0) as the separator', (t: string) => `Bearer\u00a0${t}`],
    ['another scheme (Token)', (t: string) => `Token ${t}`],
    ['the JWT scheme, not configured here', (t: string) => `JWT ${t}`],
    ['Basic with the right username and password (OWASP: the API takes tokens, not passwords)', () => `Basic ${Buffer.from('vitor:123').toString('base64')}`],
  ])('treats %s as no credentials: 401 "not provided", never a login', async (_what, value) => {
    const res = await request(app).get('/hello/').set('Authorization', value(access));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(NOT_PROVIDED);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it.each([
    ['two spaces', (t: string) => `Bearer  ${t}`],
    ['a tab', (t: string) => `Bearer\t${t}`],
  ])('accepts %s between scheme and token (WIRE.md: split on runs of whitespace)', async (_what, value) => {
    expect((await request(app).get('/hello/').set('Authorization', value(access))).status).toBe(200);
  });

  it.each([
    ['"Bearer" alone', () => 'Bearer'],
    ['a third part', (t: string) => `Bearer ${t} extra`],
    ['two tokens joined by a comma (RFC 9110 §5.3 list syntax)', (t: string) => `Bearer ${t}, Bearer ${t}`],
  ])('answers 401 bad_authorization_header for %s', async (_what, value) => {
    const res = await request(app).get('/hello/').set('Authorization', value(access));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(BAD_HEADER);
  });
});

describe('raw HTTP: what a client library would not send', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  let reached = 0;
  const logged = () => rec.log.length;

  beforeAll(async () => {
    server = await listen(((req: IncomingMessage, res: ServerResponse) => {
      reached++;
      app(req, res);
    }) as RequestListener);
  });
  afterAll(async () => {
    await server.close();
  });

  const get = (headers: string) => rawHttp(server.base, `GET /hello/ HTTP/1.1\r\nHost: demo\r\n${headers}Connection: close\r\n\r\n`);

  it('a single Authorization header over raw HTTP passes (the control)', async () => {
    expect((await get(`Authorization: Bearer ${access}\r\n`)).status).toBe(200);
  });

  it.each([
    ['the valid token first, garbage second', () => [access, 'garbage']],
    ['garbage first, the valid token second', () => ['garbage', access]],
    ['the same valid token twice', () => [access, access]],
    ['an empty second header', () => [access, '']],
  ])('refuses two Authorization headers (%s): 401 bad_authorization_header (RFC 9110 §5.3; policy: Node keeps only the first, a proxy may read the last)', async (_what, tokens) => {
    const [first, second] = tokens();
    const res = await get(`Authorization: Bearer ${first}\r\nauthorization: Bearer ${second}\r\n`);
    expect(res.status).toBe(401);
    expect(res.text).toContain(JSON.stringify(BAD_HEADER));
  });

  it('a 100 KB Authorization header is answered 431 by Node itself: no token logic runs (RFC 6585 §5; OWASP DoS cheat sheet)', async () => {
    const before = { reached, logged: logged() };
    const res = await get(`Authorization: Bearer ${'A'.repeat(100 * 1024)}\r\n`);
    expect(res.status).toBe(431);
    expect(reached).toBe(before.reached);
    expect(logged()).toBe(before.logged);
  });

  it('a 15 KB token (under the header limit, over the kit\'s 8 KiB token limit) is invalid before any decoding', async () => {
    const [h, p, s] = access.split('.');
    const res = await hello(app, rec, `${h}.${p}${'A'.repeat(15_000)}.${s}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(tokenFailure('Token is invalid'));
  });

  it('Content-Length together with Transfer-Encoding is a 400 from Node, never a login (PortSwigger "HTTP request smuggling", CL.TE; RFC 9112 §6.1)', async () => {
    const body = '{"username":"vitor","password":"123"}';
    const before = reached;
    const res = await rawHttp(
      server.base,
      `POST /api/token/ HTTP/1.1\r\nHost: demo\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('"access"');
    expect(reached).toBe(before);
  });
});

describe('tokens outside the Authorization header are ignored (RFC 6750 §2.2, §2.3, §5.3: never in URLs; OWASP REST Security cheat sheet)', () => {
  it.each(['access_token', 'token', 'jwt', 'Authorization'])('ignores ?%s=<a valid token>: 401 "not provided"', async (name) => {
    const value = name === 'Authorization' ? `Bearer ${access}` : access;
    const res = await request(app).get(`/hello/?${name}=${encodeURIComponent(value)}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(NOT_PROVIDED);
  });

  it('ignores a form-encoded access_token body parameter (RFC 6750 §2.2 is not supported)', async () => {
    const res = await request(app).get('/hello/').type('form').send(`access_token=${access}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(NOT_PROVIDED);
  });

  it('ignores a token in an X-Access-Token header when the demo reads Authorization', async () => {
    const res = await request(app).get('/hello/').set('X-Access-Token', `Bearer ${access}`);
    expect(res.body).toEqual(NOT_PROVIDED);
  });

  it('the token endpoints ignore Authorization: a garbage header does not block a login, a valid one does not replace the body (WIRE.md)', async () => {
    expect((await request(app).post('/api/token/').set('Authorization', 'Bearer garbage').send({ username: 'vitor', password: '123' })).status).toBe(200);
    const verify = await request(app).post('/api/token/verify/').set('Authorization', `Bearer ${access}`).send({ token: 'garbage' });
    expect(verify.status).toBe(401);
    expect(verify.body).toEqual({ detail: 'Token is invalid', code: 'token_not_valid' });
  });
});

describe('CORS preflights and methods (Fetch standard §4.8 CORS-preflight fetch; OWASP WSTG-CONF-06 HTTP methods)', () => {
  /** What `cors()` does, in a few lines: preflights end here with 204; other requests get the allow-origin header. */
  function tinyCors(req: express.Request, res: express.Response, next: express.NextFunction): void {
    const origin = req.headers.origin;
    if (origin === 'https://app.example') {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
      res.statusCode = 204;
      res.end();
      return;
    }
    next();
  }
  const lookups: string[] = [];
  const spied = demo(rec, {
    findUserById: (id) => {
      lookups.push(id);
      return id === '1' ? { id: 1, username: 'vitor', password: '', isActive: true } : undefined;
    },
  });
  const host = express();
  host.use(tinyCors);
  host.use('/api/private', spied.auth.authenticate());
  host.all('/api/private/thing', (req, res) => void res.json({ ran: req.method }));
  host.use(spied.express);
  const withCors = recorded(host as unknown as RequestListener, rec);
  const preflight = (path: string) =>
    request(withCors).options(path).set('Origin', 'https://app.example').set('Access-Control-Request-Method', 'GET').set('Access-Control-Request-Headers', 'authorization');

  it.each(['/hello/', '/api/token/sessions/', '/api/private/thing'])('a preflight to %s is answered by CORS, untouched by authentication', async (path) => {
    const res = await preflight(path);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(res.headers['access-control-allow-headers']).toMatch(/Authorization/);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(lookups).toEqual([]);
  });

  it('the real cross-origin request after the preflight authenticates as usual', async () => {
    const res = await request(withCors).get('/hello/').set('Origin', 'https://app.example').set('Authorization', `Bearer ${access}`);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(lookups).toEqual(['1']);
  });

  it('a fake preflight (OPTIONS with CORS headers) with no CORS middleware in front is still authenticated: 401 (verb tampering)', async () => {
    const bare = express();
    bare.use('/api/private', spied.auth.authenticate());
    bare.all('/api/private/thing', (req, res) => void res.json({ ran: req.method }));
    const res = await request(recorded(bare as unknown as RequestListener, rec))
      .options('/api/private/thing')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'DELETE');
    expect(res.status).toBe(401);
    expect(res.body).toEqual(NOT_PROVIDED);
  });

  it.each([
    ['HEAD /hello/ (Express routes HEAD to GET handlers)', () => request(withCors).head('/hello/')],
    ['X-HTTP-Method-Override: OPTIONS on a GET', () => request(withCors).get('/api/private/thing').set('X-HTTP-Method-Override', 'OPTIONS')],
    ['POST to a protected all-methods route', () => request(withCors).post('/api/private/thing').send({})],
    ['an unusual method (PROPFIND)', () => request(withCors).propfind('/api/private/thing')],
  ])('%s without a token is 401', async (_what, send) => {
    const res = await send();
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });
});

describe('caching (RFC 6749 §5.1; RFC 9111; OWASP REST Security cheat sheet)', () => {
  it('every answer of the token endpoints says Cache-Control: no-store, success or failure', async () => {
    const answers = [
      await request(app).post('/api/token/').send({ username: 'vitor', password: '123' }),
      await request(app).post('/api/token/').send({ username: 'vitor', password: 'nope' }),
      await request(app).post('/api/token/refresh/').send({ refresh }),
      await request(app).post('/api/token/verify/').send({ token: 'x' }),
      await request(app).get('/api/token/'),
    ];
    for (const res of answers) expect(res.headers['cache-control']).toBe('no-store');
  });
});

afterAll(async () => {
  await auth.close();
});

itLeaksNothing(rec);
