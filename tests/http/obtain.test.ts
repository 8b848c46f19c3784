import request from 'supertest';
import { makeApp } from '../helpers/app';
import { decodePart } from '../helpers/jwt';

const NO_ACCOUNT = { detail: 'No active account found with the given credentials', code: 'no_active_account' };

describe('POST /api/token/ (obtain pair)', () => {
  const { app } = makeApp();

  it('answers {"refresh", "access"} in that order, as JSON, not cacheable', async () => {
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(res.body)).toEqual(['refresh', 'access']);
    expect(decodePart(res.body.access, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
  });

  it.each([
    ['form', (r: request.Test) => r.type('form').send('username=vitor&password=123')],
    ['multipart', (r: request.Test) => r.field('username', 'vitor').field('password', '123')],
    ['JSON with a charset', (r: request.Test) => r.set('Content-Type', 'application/json; charset=utf-8').send('{"username":"vitor","password":"123"}')],
  ])('accepts a %s body', async (_kind, send) => {
    const res = await send(request(app).post('/api/token/'));
    expect(res.status).toBe(200);
    expect(typeof res.body.access).toBe('string');
  });

  it('ignores unknown extra fields and any Authorization header', async () => {
    const res = await request(app)
      .post('/api/token/')
      .set('Authorization', 'Bearer garbage')
      .send({ username: 'vitor', password: '123', remember: true });
    expect(res.status).toBe(200);
  });

  it('answers the same 401 body for a wrong password, an unknown user and an inactive user', async () => {
    for (const body of [
      { username: 'vitor', password: 'nope' },
      { username: 'nobody', password: '123' },
      { username: 'sleeper', password: '123' },
    ]) {
      const res = await request(app).post('/api/token/').send(body);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(NO_ACCOUNT);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    }
  });

  it('reports every field error in declaration order', async () => {
    const res = await request(app).post('/api/token/').send({});
    expect(res.status).toBe(400);
    expect(res.text).toBe('{"username":["This field is required."],"password":["This field is required."]}');
  });

  it.each([
    [{ username: '', password: '123' }, { username: ['This field may not be blank.'] }],
    [{ username: '   ', password: '123' }, { username: ['This field may not be blank.'] }],
    [{ username: null, password: '123' }, { username: ['This field may not be null.'] }],
    [{ username: { $ne: 'x' }, password: '123' }, { username: ['Not a valid string.'] }],
    [{ username: ['vitor'], password: '123' }, { username: ['Not a valid string.'] }],
    [{ username: true, password: '123' }, { username: ['Not a valid string.'] }],
    [{ username: 'vitor' }, { password: ['This field is required.'] }],
    [{ username: 'a\u0000b', password: '123' }, { username: ['Null characters are not allowed.'] }],
  ])('field errors: %j', async (body, expected) => {
    const res = await request(app).post('/api/token/').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual(expected);
  });

  it('coerces a number to a string, as DRF does', async () => {
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: 123 });
    expect(res.status).toBe(200);
  });

  it('answers 400 "JSON parse error - ..." for malformed JSON', async () => {
    const res = await request(app).post('/api/token/').set('Content-Type', 'application/json').send('{"username": ');
    expect(res.status).toBe(400);
    expect(Object.keys(res.body)).toEqual(['detail']);
    expect(res.body.detail).toMatch(/^JSON parse error - /);
  });

  it.each([
    ['[]', 'list'],
    ['"vitor"', 'str'],
    ['42', 'int'],
    ['4.5', 'float'],
    ['true', 'bool'],
  ])('answers non_field_errors for the JSON value %s', async (text, typeName) => {
    const res = await request(app).post('/api/token/').set('Content-Type', 'application/json').send(text);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ non_field_errors: [`Invalid data. Expected a dictionary, but got ${typeName}.`] });
  });

  it('answers 415 for another content type, naming it as received', async () => {
    const res = await request(app).post('/api/token/').set('Content-Type', 'text/plain').send('{"username":"vitor","password":"123"}');
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ detail: 'Unsupported media type "text/plain" in request.' });
  });

  it('answers 415 for a body without a content type', async () => {
    const res = await request(app).post('/api/token/').set('Content-Length', '5').send(Buffer.from('hello'));
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ detail: 'Unsupported media type "" in request.' });
  });

  it('answers 415 for a compressed body instead of inflating it', async () => {
    const res = await request(app)
      .post('/api/token/')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .send(Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ detail: 'Unsupported content encoding "gzip" in request.' });
  });

  it('answers 413 for a body over the limit', async () => {
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: 'x'.repeat(20_000) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ detail: 'Request body is larger than 16384 bytes.', code: 'payload_too_large' });
  });

  it.each(['GET', 'PUT', 'PATCH', 'DELETE'])('answers 405 to %s with Allow', async (method) => {
    const res = await request(app)[method.toLowerCase() as 'get']('/api/token/');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST, OPTIONS');
    expect(res.body).toEqual({ detail: `Method "${method}" not allowed.` });
  });

  it('answers OPTIONS with 200 and Allow', async () => {
    const res = await request(app).options('/api/token/refresh/');
    expect(res.status).toBe(200);
    expect(res.headers.allow).toBe('POST, OPTIONS');
  });

  it('works without the trailing slash and leaves unknown paths to the host (404)', async () => {
    expect((await request(app).post('/api/token').send({ username: 'vitor', password: '123' })).status).toBe(200);
    expect((await request(app).post('/api/token/nope/').send({})).status).toBe(404);
  });
});

describe.each([5, 4] as const)('a host that already mounted express.json() (Express %i)', (major) => {
  const { app } = makeApp({}, { major, hostJson: true });

  it('logs in with a JSON body the host parsed', async () => {
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(200);
  });

  it('still parses a form body itself', async () => {
    const res = await request(app).post('/api/token/').type('form').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(200);
  });

  it('still refuses text/plain', async () => {
    const res = await request(app).post('/api/token/').set('Content-Type', 'text/plain').send('username=vitor');
    expect(res.status).toBe(415);
  });
});
