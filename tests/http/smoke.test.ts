import request from 'supertest';
import { makeApp } from '../helpers/app';

describe.each([5, 4] as const)('the tutorial session on Express %i', (major) => {
  it('obtains a pair, reaches /hello/ and refreshes', async () => {
    const { app } = makeApp({}, { major });
    const login = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    expect(login.status).toBe(200);
    expect(Object.keys(login.body)).toEqual(['refresh', 'access']);
    const hello = await request(app).get('/hello/').set('Authorization', `Bearer ${login.body.access}`);
    expect(hello.status).toBe(200);
    expect(hello.body).toEqual({ message: 'Hello, World!' });
    const refreshed = await request(app).post('/api/token/refresh/').type('form').send({ refresh: login.body.refresh });
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body)).toEqual(['access']);
  });
});
