/**
 * `errors: 'next'`: every error reaches the host's Express error handler through next(err), as with express-jwt
 * and passport, with the kit's headers set; authentication failures never run the handler behind them.
 */
import request from 'supertest';
import type { ErrorRequestHandler } from 'express';
import { AuthError } from '../../lib';
import { makeApp } from '../helpers/app';

/** The app under test with a host error handler that records what it got and answers its own JSON. */
function appWithHandler(major: 4 | 5, options = {}) {
  const seen: unknown[] = [];
  const made = makeApp({ errors: 'next', ...options }, { major });
  const handler: ErrorRequestHandler = (err, _req, res, _next) => {
    seen.push(err);
    if (err instanceof AuthError) res.status(err.status).json({ error: err.code, status: err.status });
    else res.status(500).json({ error: 'host', message: (err as Error).message });
  };
  made.app.use(handler);
  return { ...made, seen };
}

describe.each([5, 4] as const)("errors: 'next' on Express %i", (major) => {
  it('passes a missing token to the host handler, with WWW-Authenticate set', async () => {
    const { app, seen } = appWithHandler(major);
    const res = await request(app).get('/hello/');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'not_authenticated', status: 401 });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(seen[0]).toBeInstanceOf(AuthError);
    expect(seen[0]).toMatchObject({ code: 'not_authenticated' });
  });

  it('passes wrong credentials at login as no_active_account', async () => {
    const { app, seen } = appWithHandler(major);
    const res = await request(app).post('/api/token/').send({ username: 'vitor', password: 'wrong' });
    expect(res.status).toBe(401);
    expect(seen[0]).toBeInstanceOf(AuthError);
    expect(seen[0]).toMatchObject({ code: 'no_active_account' });
    expect((seen[0] as AuthError).body).toEqual({ detail: 'No active account found with the given credentials', code: 'no_active_account' });
  });

  it("passes what the host's own callback threw, unchanged", async () => {
    const boom = new Error('users database down');
    const { app, seen } = appWithHandler(major, {
      findUserById: () => {
        throw boom;
      },
    });
    const login = await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    const res = await request(app).get('/hello/').set('Authorization', `Bearer ${login.body.access}`);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'host', message: 'users database down' });
    expect(seen).toContain(boom);
  });

  it('never runs an endpoint behind a failed authentication', async () => {
    const { app, seen } = appWithHandler(major);
    const res = await request(app).delete('/api/token/sessions/');
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(AuthError);
    expect(seen[0]).toMatchObject({ code: 'not_authenticated' });
  });

  it('keeps the default: the kit answers with simplejwt bodies itself', async () => {
    const { app } = makeApp({}, { major });
    const res = await request(app).get('/hello/');
    expect(res.body).toEqual({ detail: 'Authentication credentials were not provided.' });
  });
});

it("refuses an unknown errors mode", () => {
  expect(() => makeApp({ errors: 'throw' as never })).toThrow(`"errors" must be 'respond' or 'next' (got "throw")`);
});
