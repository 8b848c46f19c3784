import express from 'express';
import request from 'supertest';
import { parseAuthorizationHeader } from '../../lib';
import { makeApp, manualClock, memoryLogger, SECRET } from '../helpers/app';
import { forge } from '../helpers/jwt';

const NOT_PROVIDED = { detail: 'Authentication credentials were not provided.' };
const BAD_HEADER = { detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' };

function tokenFailure(message: string) {
  return {
    detail: 'Given token not valid for any token type',
    code: 'token_not_valid',
    messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
  };
}

describe('parseAuthorizationHeader', () => {
  const schemes = new Set(['bearer', 'jwt']);
  it.each([
    [undefined, { kind: 'none' }],
    ['', { kind: 'none' }],
    ['   ', { kind: 'none' }],
    ['Token abc', { kind: 'none' }],
    ['Token a b c', { kind: 'none' }],
    ['Bearer', { kind: 'bad' }],
    ['Bearer a b', { kind: 'bad' }],
    ['Bearer abc', { kind: 'token', token: 'abc' }],
    ['Bearer  abc', { kind: 'token', token: 'abc' }],
    [' Bearer abc ', { kind: 'token', token: 'abc' }],
    ['Bearer\tabc', { kind: 'token', token: 'abc' }],
    ['bearer abc', { kind: 'token', token: 'abc' }],
    ['BEARER abc', { kind: 'token', token: 'abc' }],
    ['JWT abc', { kind: 'token', token: 'abc' }],
  ])('%j', (header, expected) => {
    expect(parseAuthorizationHeader(header, schemes)).toEqual(expected);
  });
});

describe('authenticate()', () => {
  const clock = manualClock();
  const { app, users } = makeApp({ clock: clock.now });
  let access = '';

  beforeAll(async () => {
    access = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body.access;
  });

  it('lets a good access token through with req.user and req.auth', async () => {
    const res = await request(app).get('/stateless/').set('Authorization', `Bearer ${access}`);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: '1', pk: '1', isActive: true });
    expect(res.body.auth).toMatchObject({ token_type: 'access', user_id: '1' });
  });

  it('401 without credentials, with WWW-Authenticate', async () => {
    for (const header of [undefined, '', 'Token abc']) {
      const req = request(app).get('/hello/');
      if (header !== undefined) req.set('Authorization', header);
      const res = await req;
      expect(res.status).toBe(401);
      expect(res.body).toEqual(NOT_PROVIDED);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    }
  });

  it('401 bad_authorization_header for "Bearer" alone or three parts', async () => {
    for (const header of ['Bearer', `Bearer ${access} extra`]) {
      const res = await request(app).get('/hello/').set('Authorization', header);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(BAD_HEADER);
    }
  });

  it('lists the token class message when the token fails', async () => {
    const res = await request(app).get('/hello/').set('Authorization', 'Bearer nope');
    expect(res.status).toBe(401);
    expect(res.text).toBe(JSON.stringify(tokenFailure('Token is invalid')));
  });

  it('refuses a refresh token: wrong type', async () => {
    const refresh = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body.refresh;
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${refresh}`);
    expect(res.body).toEqual(tokenFailure('Token has wrong type'));
  });

  it('refuses an expired token', async () => {
    const token = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body.access;
    clock.advance(299);
    expect((await request(app).get('/hello/').set('Authorization', `Bearer ${token}`)).status).toBe(200);
    clock.advance(1);
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${token}`);
    expect(res.body).toEqual(tokenFailure('Token is expired'));
  });

  function accessFor(userId: unknown, extra = ''): string {
    const now = Math.floor(clock.now() / 1000);
    const idPart = userId === undefined ? '' : `,"user_id":${JSON.stringify(userId)}`;
    return forge('{"alg":"HS256","typ":"JWT"}', `{"token_type":"access","exp":${now + 60},"iat":${now},"jti":"abc"${idPart}${extra}}`, SECRET);
  }

  it('401 when the token has no user id claim', async () => {
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${accessFor(undefined)}`);
    expect(res.body).toEqual({ detail: 'Token contained no recognizable user identification', code: 'token_not_valid' });
  });

  it.each([['99'], [99], [''], [{ id: 1 }], [[1]], [2 ** 53 + 1], [true]])('401 user_not_found for user id %j', async (id) => {
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${accessFor(id)}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' });
  });

  it('accepts an integer user id from older tokens', async () => {
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${accessFor(1)}`);
    expect(res.status).toBe(200);
  });

  it('401 user_inactive for an inactive user', async () => {
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${accessFor('2')}`);
    expect(res.body).toEqual({ detail: 'User is inactive', code: 'user_inactive' });
  });

  it('stateless mode does not call the host', async () => {
    const res = await request(app).get('/stateless/').set('Authorization', `Bearer ${accessFor('424242')}`);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe('424242');
    expect(users.findById('424242')).toBeUndefined();
  });

  it('optional credentials: anonymous without a header, still 401 for a bad token', async () => {
    expect((await request(app).get('/maybe/')).body).toEqual({ user: null });
    expect((await request(app).get('/maybe/').set('Authorization', `Bearer ${accessFor('1')}`)).body).toEqual({ user: 1 });
    expect((await request(app).get('/maybe/').set('Authorization', 'Bearer bad')).status).toBe(401);
  });

  it('runs before method handling: a protected POST without credentials is 401', async () => {
    const { app: other, auth } = makeApp();
    other.post('/things/', auth.authenticate(), (_req, res) => void res.json({}));
    expect((await request(other).post('/things/')).status).toBe(401);
  });
});

describe('authenticate() configuration', () => {
  it('reads another header name and schemes (simplejwt AUTH_HEADER_NAME / AUTH_HEADER_TYPES)', async () => {
    const { app } = makeApp({ authHeaderName: 'X-Access-Token', authHeaderTypes: ['JWT', 'Bearer'] });
    const { access } = (await request(app).post('/api/token/').send({ username: 'vitor', password: '123' })).body;
    expect((await request(app).get('/hello/').set('X-Access-Token', `JWT ${access}`)).status).toBe(200);
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${access}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('JWT realm="api"');
  });

  it('explains app.use(auth.authenticate) written without ()', async () => {
    const logger = memoryLogger();
    const { auth } = makeApp({ logger });
    const app = express();
    app.use(auth.authenticate as unknown as express.RequestHandler);
    app.get('/', (_req, res) => void res.json({}));
    const res = await request(app).get('/');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ detail: 'Internal server error.', code: 'internal_error' });
    expect(logger.lines.join('\n')).toContain('auth.authenticate is a factory: write app.use(auth.authenticate())');
  });

  it('refuses unknown authenticate() options', () => {
    const { auth } = makeApp();
    expect(() => auth.authenticate({ optinal: true } as never)).toThrow(/Unknown authenticate\(\) option "optinal"/);
  });

  it('a host lookup that throws is a generic 500 and one log line without a stack', async () => {
    const logger = memoryLogger();
    const { app, auth } = makeApp({
      logger,
      findUserById: () => {
        throw new Error('database is down');
      },
    });
    const now = Math.floor(Date.now() / 1000);
    void auth;
    const token = forge('{"alg":"HS256","typ":"JWT"}', `{"token_type":"access","exp":${now + 60},"iat":${now},"jti":"x","user_id":"1"}`, SECRET);
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(500);
    expect(res.text).toBe('{"detail":"Internal server error.","code":"internal_error"}');
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toContain('Error: database is down');
    expect(logger.lines[0]).not.toMatch(/\n\s+at /);
  });

  it('an async host lookup that rejects is a 500 too', async () => {
    const logger = memoryLogger();
    const { app } = makeApp({ logger, findUserById: async () => Promise.reject(new Error('timeout')) });
    const now = Math.floor(Date.now() / 1000);
    const token = forge('{"alg":"HS256","typ":"JWT"}', `{"token_type":"access","exp":${now + 60},"iat":${now},"jti":"x","user_id":"1"}`, SECRET);
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(500);
  });
});
