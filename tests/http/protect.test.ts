/**
 * `auth.protect(handler)`: authentication and the handler in one, `req.user` typed as the host's user type.
 * The type checks here are the test as much as the requests: `npm run typecheck` compiles this file strictly.
 */
import request from 'supertest';
import type { ErrorRequestHandler } from 'express';
import { AuthError } from '../../lib';
import type { DemoUser } from '../../demo-app/users';
import { makeApp } from '../helpers/app';

describe.each([5, 4] as const)('auth.protect() on Express %i', (major) => {
  function setup() {
    const made = makeApp({}, { major });
    const seen: unknown[] = [];
    made.app.get(
      '/me/',
      made.auth.protect((req, res) => {
        const user: DemoUser = req.user; // typed, present: no `!`, no global declaration
        res.json({ username: user.username, jti: req.auth.jti });
      }),
    );
    made.app.get(
      '/fails/',
      made.auth.protect(async () => {
        throw new Error('handler failed');
      }),
    );
    const handler: ErrorRequestHandler = (err, _req, res, _next) => {
      seen.push(err);
      res.status(418).json({ message: (err as Error).message });
    };
    made.app.use(handler);
    return { ...made, seen };
  }

  it('runs the handler with the user for a valid token', async () => {
    const { app } = setup();
    const login = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    const res = await request(app).get('/me/').set('Authorization', `Bearer ${login.body.access}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ username: 'vitor', jti: expect.any(String) });
  });

  it('answers 401 as authenticate() does and never runs the handler without a token', async () => {
    const { app, seen } = setup();
    const res = await request(app).get('/me/');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Authentication credentials were not provided.' });
    expect(seen).toEqual([]);
  });

  it("passes a rejected promise of the handler to next(), on Express 4 too", async () => {
    const { app, seen } = setup();
    const login = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    const res = await request(app).get('/fails/').set('Authorization', `Bearer ${login.body.access}`);
    expect(res.status).toBe(418);
    expect(res.body).toEqual({ message: 'handler failed' });
    expect(seen).toHaveLength(1);
  });

  it("hands the 401 to the host's handler with errors: 'next'", async () => {
    const made = makeApp({ errors: 'next' }, { major });
    const seen: unknown[] = [];
    made.app.get('/me/', made.auth.protect((req, res) => res.json(req.user)));
    made.app.use(((err, _req, res, _next) => {
      seen.push(err);
      res.status(401).end();
    }) as ErrorRequestHandler);
    expect((await request(made.app).get('/me/')).status).toBe(401);
    expect(seen[0]).toBeInstanceOf(AuthError);
    expect(seen[0]).toMatchObject({ code: 'not_authenticated' });
  });
});
