/**
 * The adversarial suite's harness: the demo app (`createDemoApp` from demo-app/app.ts, as `npm start` builds it),
 * wrapped so that every response it writes is recorded, with every line the kit logs (and anything printed on the
 * console), so that each test file can end by proving that nothing leaked: no stack trace, secret, password or
 * presented token in any response or log line.
 */
import { format } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Express } from 'express';
import request from 'supertest';
import { createDemoApp, type UserLookup } from '../../demo-app/app';
import { SqliteUsers } from '../../demo-app/db';
import { UserTable, type DemoUser } from '../../demo-app/users';
import { hashPassword, SqliteStore, type Options, type SimpleJwt } from '../../lib';
import { SECRET } from '../helpers/app';
import { b64url, forge } from '../helpers/jwt';

export { SECRET };
export const HS256 = '{"alg":"HS256","typ":"JWT"}';
export const INVALID = { detail: 'Token is invalid', code: 'token_not_valid' };
export const NO_ACCOUNT = { detail: 'No active account found with the given credentials', code: 'no_active_account' };
export const NOT_PROVIDED = { detail: 'Authentication credentials were not provided.' };
export const BAD_HEADER = { detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' };

/** The body `authenticate()` answers when the access token fails with `message`. */
export function tokenFailure(message: string) {
  return {
    detail: 'Given token not valid for any token type',
    code: 'token_not_valid',
    messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
  };
}

/** One response the demo wrote. */
export interface Exchange {
  method: string;
  url: string;
  status: number;
  headers: string;
  body: string;
}

/** Everything one test file saw, and what must never show up in it. */
export interface Recorder {
  exchanges: Exchange[];
  /** Lines from the kit's logger and from the console. */
  log: string[];
  /** Strings that must never appear (secrets, passwords, key material, tokens a client presented). */
  forbidden: Set<string>;
  /** Adds strings that must never appear in a response or log line. */
  protect(...values: string[]): void;
  /** The logger handed to the kit. */
  logger: { warn(message: string): void; error(message: string): void };
}

/** A demo app under test: the recorded listener for supertest, and the parts behind it. */
export interface Demo {
  /** The recorded request listener; pass it to supertest: `request(demo.app)`. */
  app: RequestListener;
  /** The Express app `createDemoApp()` returned (settings such as `trust proxy` go here). */
  express: Express;
  auth: SimpleJwt;
  users: UserLookup;
}

/**
 * Starts recording for one test file: console output is captured (and silenced) for the file's duration.
 * End the file with `itLeaksNothing(recorder)`.
 */
export function recorder(): Recorder {
  const rec: Recorder = {
    exchanges: [],
    log: [],
    forbidden: new Set([SECRET, b64url(SECRET), Buffer.from(SECRET).toString('base64'), Buffer.from(SECRET).toString('hex')]),
    protect(...values) {
      for (const value of values) if (value.length >= 6) rec.forbidden.add(value);
    },
    logger: {
      warn: (message) => void rec.log.push(`warn ${message}`),
      error: (message) => void rec.log.push(`error ${message}`),
    },
  };
  const spies: jest.SpyInstance[] = [];
  beforeAll(() => {
    for (const method of ['log', 'info', 'warn', 'error'] as const) {
      spies.push(jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void rec.log.push(`console.${method} ${format(...args)}`)));
    }
  });
  afterAll(() => {
    for (const spy of spies) spy.mockRestore();
  });
  return rec;
}

/** Wraps a request listener so that every response it writes (status, headers, body) is recorded. */
export function recorded(listener: RequestListener, rec: Recorder): RequestListener {
  return function recordingListener(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? '';
    const url = req.url ?? '';
    const chunks: Buffer[] = [];
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string' || chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk as string));
    };
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      keep(chunk);
      return write(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      keep(chunk);
      const headers = Object.entries(res.getHeaders())
        .map(([name, value]) => `${name}: ${String(value)}`)
        .join('\n');
      rec.exchanges.push({ method, url, status: res.statusCode, headers, body: Buffer.concat(chunks).toString('utf8') });
      return end(chunk, ...rest);
    }) as ServerResponse['end'];
    listener(req, res);
  };
}

/**
 * The demo app as `npm start` builds it (`createDemoApp`), signing with the test secret, logging into the
 * recorder, on the tutorial's users (or the given ones). Options override the demo's.
 */
export function demo(rec: Recorder, options: Partial<Options<DemoUser>> = {}, users: UserLookup = new UserTable()): Demo {
  const ownKeys = ['secret', 'signingKey', 'verifyingKey', 'keys', 'jwksUri'].some((name) => name in options);
  const { app, auth } = createDemoApp(users, { ...(ownKeys ? {} : { secret: SECRET }), logger: rec.logger, ...options });
  return { app: recorded(app as unknown as RequestListener, rec), express: app, auth, users };
}

/**
 * The demo as `npm start` runs it: users and tokens in one SQLite file (a temporary one unless `path` is given),
 * `SqliteUsers` from demo-app/db.ts and the kit's `SqliteStore` on the same database.
 */
export function sqliteDemo(rec: Recorder, options: Partial<Options<DemoUser>> = {}, path = join(scratchDir(), 'demo.sqlite3')): Demo & { users: SqliteUsers; path: string } {
  const users = new SqliteUsers(path);
  const started = demo(rec, { store: new SqliteStore(users.db), ...options }, users);
  return { ...started, users, path };
}

/** A user of cost-4 bcrypt with a distinctive password, recorded as something that must never leak. */
export async function userWithPassword(rec: Recorder, id: number, username: string, password: string, isActive = true): Promise<DemoUser> {
  rec.protect(password);
  return { id, username, password: await hashPassword(password, 4), isActive };
}

/**
 * Sends raw bytes over one TCP connection and resolves with everything the server answered before closing it:
 * for what supertest cannot send (two headers of one name, a 100 KB header, Content-Length with Transfer-Encoding).
 */
export function rawHttp(base: string, text: string | Buffer): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    // Requests say `Connection: close`; the server closes the connection after its answer.
    const socket = connect(Number(port), hostname, () => socket.write(text));
    socket.setTimeout(5000, () => socket.destroy());
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)));
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0), text: answer });
    });
  });
}

/** A fresh temporary directory (SQLite files). */
export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'sjwt-security-'));
}

/** Logs in over HTTP and returns the pair (throws on anything but 200). */
export async function login(app: RequestListener, username = 'vitor', password = '123'): Promise<{ access: string; refresh: string }> {
  const res = await request(app).post('/api/token/').send({ username, password });
  if (res.status !== 200) throw new Error(`login of ${username} answered ${res.status} ${res.text}`);
  return res.body as { access: string; refresh: string };
}

/** GET /hello/ with `Authorization: Bearer <token>`; the token is recorded as presented. */
export function hello(app: RequestListener, rec: Recorder, token: string): request.Test {
  rec.protect(token);
  return request(app).get('/hello/').set('Authorization', `Bearer ${token}`);
}

/** POST a token to one of the token endpoints (`verify` sends `token`, the others `refresh`); recorded as presented. */
export function post(app: RequestListener, rec: Recorder, path: 'verify' | 'refresh' | 'blacklist', token: string): request.Test {
  rec.protect(token);
  return request(app).post(`/api/token/${path}/`).send(path === 'verify' ? { token } : { refresh: token });
}

/** The claims of an access token of user 1, as the kit would mint them, `at` seconds, with overrides after. */
export function claims(now: number, overrides: Record<string, unknown> = {}, type = 'access'): Record<string, unknown> {
  return { token_type: type, exp: now + 300, iat: now, jti: '0123456789abcdef0123456789abcdef', user_id: '1', ...overrides };
}

/** A token HMAC-signed with the test secret over exactly the given header and payload text. */
export function signed(payload: Record<string, unknown> | string, header = HS256): string {
  return forge(header, typeof payload === 'string' ? payload : JSON.stringify(payload), SECRET);
}

const MINTING = new Set(['/api/token/', '/api/token', '/api/token/refresh/', '/api/token/refresh', '/api/token/sliding/', '/api/token/sliding/refresh/']);
/** A compact JWS anywhere in a text (`{"` always encodes to `eyJ`). */
const TOKEN_SHAPE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
/** A stack frame, or a source path with a line number. */
const STACK = /\n\s*at |\bat (?:async )?[\w$.<>[\]]+ \(|[\w/\\.-]+\.(?:ts|js|mjs|cjs):\d+|node_modules/;

/** Every leak in what the recorder saw, described; empty when there is none. */
export function leaks(rec: Recorder): string[] {
  const found: string[] = [];
  const check = (where: string, text: string, tokensAllowed: boolean) => {
    if (STACK.test(text)) found.push(`${where}: a stack trace or source path: ${JSON.stringify(text.slice(0, 300))}`);
    if (!tokensAllowed && TOKEN_SHAPE.test(text)) found.push(`${where}: a token: ${JSON.stringify(text.slice(0, 300))}`);
    for (const secret of rec.forbidden) {
      if (text.includes(secret)) found.push(`${where}: a forbidden string (${secret.slice(0, 12)}...): ${JSON.stringify(text.slice(0, 300))}`);
    }
  };
  for (const x of rec.exchanges) {
    const path = x.url.split('?')[0]!;
    // Only a successful login or refresh answers tokens: the ones it just minted, never one a client presented.
    const mints = x.method === 'POST' && x.status === 200 && MINTING.has(path);
    const where = `${x.method} ${x.url.slice(0, 80)} -> ${x.status}`;
    // In cookie mode the minted tokens ride in Set-Cookie instead of (or besides) the body.
    const headers = mints ? x.headers.replace(/^set-cookie: .*$/m, (line) => line.replace(/=eyJ[A-Za-z0-9_.-]*/g, '=')) : x.headers;
    check(where, `${headers}\n${mints ? '' : x.body}`, false);
    if (mints) check(where, x.body.replace(/"(access|refresh|token)":"[^"]*"/g, ''), false);
  }
  for (const line of rec.log) check('log', line, false);
  return found;
}

/** The file's last test: nothing it did leaked anything. */
export function itLeaksNothing(rec: Recorder): void {
  it('leaks nothing: no stack trace, secret, password or presented token in any response or log line of this file (OWASP Logging and Error Handling cheat sheets; ASVS V16)', () => {
    expect(rec.exchanges.length).toBeGreaterThan(0);
    expect(leaks(rec)).toEqual([]);
  });
}
