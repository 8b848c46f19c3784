import request from 'supertest';
import { makeApp } from '../helpers/app';
import { decodePart } from '../helpers/jwt';

async function pairOf(app: Parameters<typeof request>[0]) {
  const res = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
  expect(res.status).toBe(200);
  return res.body as { refresh: string; access: string };
}

describe('refreshByBearer: the refresh token as the Bearer credential (HarperDB refresh_operation_token)', () => {
  const { app } = makeApp({ refreshByBearer: true });

  it('POST /refresh/ with no body field and Authorization: Bearer <refresh> answers {access}', async () => {
    const pair = await pairOf(app);
    const res = await request(app).post('/api/token/refresh/').set('Authorization', `Bearer ${pair.refresh}`);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['access']);
    expect(decodePart(res.body.access, 1)).toMatchObject({ token_type: 'access', user_id: '1' });
  });

  it('the body field wins over the header, and is validated as before', async () => {
    const pair = await pairOf(app);
    const both = await request(app).post('/api/token/refresh/').set('Authorization', 'Bearer garbage').send({ refresh: pair.refresh });
    expect(both.status).toBe(200);
    const blank = await request(app).post('/api/token/refresh/').set('Authorization', `Bearer ${pair.refresh}`).send({ refresh: '' });
    expect(blank.status).toBe(400);
    expect(blank.body).toEqual({ refresh: ['This field may not be blank.'] });
  });

  it('an access token in the header is the wrong type; a bad header is 401; none is the field error', async () => {
    const pair = await pairOf(app);
    const access = await request(app).post('/api/token/refresh/').set('Authorization', `Bearer ${pair.access}`);
    expect(access.status).toBe(401);
    expect(access.body).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
    const bad = await request(app).post('/api/token/refresh/').set('Authorization', 'Bearer');
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' });
    const none = await request(app).post('/api/token/refresh/');
    expect(none.status).toBe(400);
    expect(none.body).toEqual({ refresh: ['This field is required.'] });
    const otherScheme = await request(app).post('/api/token/refresh/').set('Authorization', `Basic ${pair.refresh}`);
    expect(otherScheme.body).toEqual({ refresh: ['This field is required.'] });
  });

  it('a revoked refresh token is refused through the header too', async () => {
    const pair = await pairOf(app);
    await request(app).post('/api/token/blacklist/').send({ refresh: pair.refresh });
    const res = await request(app).post('/api/token/refresh/').set('Authorization', `Bearer ${pair.refresh}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });
  });

  it('uses the configured header name and schemes, and refreshes sliding tokens the same way', async () => {
    const { app: custom } = makeApp({ refreshByBearer: true, slidingTokens: true, authHeaderName: 'X-Access-Token', authHeaderTypes: ['JWT'] });
    const pair = await pairOf(custom);
    const res = await request(custom).post('/api/token/refresh/').set('X-Access-Token', `JWT ${pair.refresh}`);
    expect(res.status).toBe(200);
    const token = (await request(custom).post('/api/token/sliding/').send({ username: 'vitor', password: '123' })).body.token as string;
    const slid = await request(custom).post('/api/token/sliding/refresh/').set('X-Access-Token', `jwt ${token}`);
    expect(slid.status).toBe(200);
    expect(Object.keys(slid.body)).toEqual(['token']);
  });
});

describe('without refreshByBearer the token endpoints ignore Authorization (WIRE.md)', () => {
  it('a refresh token in the header alone is the field error', async () => {
    const { app } = makeApp({ slidingTokens: true });
    const pair = await pairOf(app);
    const res = await request(app).post('/api/token/refresh/').set('Authorization', `Bearer ${pair.refresh}`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ refresh: ['This field is required.'] });
    const sliding = await request(app).post('/api/token/sliding/refresh/').set('Authorization', `Bearer ${pair.refresh}`);
    expect(sliding.body).toEqual({ token: ['This field is required.'] });
    const malformed = await request(app).post('/api/token/refresh/').set('Authorization', 'Bearer a b c').send({ refresh: pair.refresh });
    expect(malformed.status).toBe(200);
  });
});
