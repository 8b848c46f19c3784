/** `auth.events`: structured events for every session event, and the Prometheus exporter fed by them. */
import request from 'supertest';
import type { Express } from 'express';
import { MemoryStore, prometheusMetrics, type KitEventMap, type SessionStart } from '../../lib';
import { createDemoApp } from '../../demo-app/app';
import { UserTable } from '../../demo-app/users';
import { makeApp, SECRET } from '../helpers/app';

type Seen = { [K in keyof KitEventMap]?: KitEventMap[K][] };

function record(auth: ReturnType<typeof makeApp>['auth']): Seen {
  const seen: Seen = {};
  const names: (keyof KitEventMap)[] = ['login', 'loginFailed', 'refresh', 'tokenReuse', 'logout', 'sessionsEnded', 'authenticationFailed', 'storeError', 'storeOperation'];
  for (const name of names) auth.events.on(name, (event) => ((seen[name] ??= []) as unknown[]).push(event));
  return seen;
}

async function login(app: Express, password = '123') {
  return request(app).post('/api/token/').send({ username: 'vitor', password });
}

describe('auth.events', () => {
  it('reports logins, refreshes, retries, reuse, logout and sessions ended, with ids and never a token', async () => {
    const { app, auth } = makeApp({ rotateRefreshTokens: true, reuseInterval: 30 });
    const seen = record(auth);
    expect((await login(app, 'wrong')).status).toBe(401);
    const pair = (await login(app)).body;
    const rotated = (await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh })).body;
    await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh }); // a retry
    await request(app).post('/api/token/blacklist/').send({ refresh: rotated.refresh });
    const second = (await login(app)).body;
    await request(app).delete('/api/token/sessions/').set('Authorization', `Bearer ${second.access}`);
    await request(app).get('/hello/');

    expect(seen.loginFailed).toEqual([{ username: 'vitor', reason: 'wrong_password', ip: expect.any(String) }]);
    expect(seen.login).toEqual([
      { userId: '1', sessionId: expect.stringMatching(/^[0-9a-f]{32}$/), ip: expect.any(String) },
      { userId: '1', sessionId: expect.any(String), ip: expect.any(String) },
    ]);
    const sessionId = seen.login![0]!.sessionId;
    expect(seen.refresh).toEqual([
      { userId: '1', sessionId, kind: 'rotated' },
      { userId: '1', sessionId, kind: 'retry' },
    ]);
    expect(seen.logout).toEqual([{ userId: '1', jti: expect.any(String) }]);
    expect(seen.sessionsEnded).toEqual([{ userId: '1', sessionId: null }]);
    expect(seen.authenticationFailed).toEqual([{ code: 'not_authenticated', status: 401 }]);
    expect(seen.storeOperation!.map((e) => e.operation)).toEqual(
      expect.arrayContaining(['startSession', 'rotate', 'revokeToken', 'revokeUser', 'isRevoked']),
    );
    expect(seen.storeOperation!.every((e) => e.ok && e.durationMs >= 0)).toBe(true);
    expect(JSON.stringify(seen)).not.toContain(pair.refresh.split('.')[2]);
  });

  it('reports reuse, and store errors as such', async () => {
    class Down extends MemoryStore {
      down = false;
      override startSession(start: SessionStart) {
        if (this.down) throw new Error('connection refused');
        return super.startSession(start);
      }
    }
    const store = new Down({ purgeIntervalSeconds: 0 });
    const { app, auth } = makeApp({ rotateRefreshTokens: true, store });
    const seen = record(auth);
    const pair = (await login(app)).body;
    await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh });
    await request(app).post('/api/token/refresh/').send({ refresh: pair.refresh });
    expect(seen.tokenReuse).toEqual([expect.objectContaining({ userId: '1', familyId: seen.login![0]!.sessionId })]);
    store.down = true;
    expect((await login(app)).status).toBe(503);
    expect(seen.storeError).toEqual([{ operation: 'startSession', message: 'Error: connection refused' }]);
  });

  it('keeps answering when a listener throws, and logs it', async () => {
    const { app, auth, log } = makeApp();
    auth.events.on('login', () => {
      throw new Error('listener bug');
    });
    expect((await login(app)).status).toBe(200);
    expect(log.join('\n')).toContain('a listener of "login" threw: listener bug');
  });
});

describe('prometheusMetrics()', () => {
  it('counts the events in a prom-client registry, served in the text format', async () => {
    const { app, auth } = makeApp();
    const metrics = prometheusMetrics(auth);
    app.get('/metrics', metrics.handler);
    await login(app);
    await login(app, 'wrong');
    await request(app).get('/hello/');
    const res = await request(app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toContain('sjwt_logins_total{result="ok"} 1');
    expect(res.text).toContain('sjwt_logins_total{result="wrong_password"} 1');
    expect(res.text).toContain('sjwt_authentication_failures_total{code="not_authenticated"} 1');
    expect(res.text).toMatch(/sjwt_store_operation_duration_seconds_count\{operation="startSession"\} 1/);
    metrics.stop();
  });

  it('is served by the demo with JWT_METRICS', async () => {
    const { app } = createDemoApp(new UserTable(), { secret: SECRET, warnings: false, loginThrottle: false, bcryptRounds: 4 }, { metrics: true });
    await request(app).post('/api/token/').send({ username: 'vitor', password: '123' });
    const res = await request(app).get('/metrics');
    expect(res.text).toContain('sjwt_logins_total{result="ok"} 1');
  });
});
