/**
 * Cookie mode under attack: a hostile `Cookie` header (regular-expression denial of service, CWE-1333; OWASP
 * "ReDoS"). Against the demo app over HTTP with the refresh and access tokens in cookies.
 */
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { readCookie } from '../../lib';
import { listen } from '../helpers/keys';
import { demo, itLeaksNothing, recorder } from './harness';

const rec = recorder();
const REFRESH = '__Secure-refresh_token';
const CSRF = '__Host-csrftoken';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('a Cookie header of 16 KB of spaces (issue 14, finding 1: CWE-1333)', () => {
  const { app } = demo(rec, { cookies: { accessCookie: true } });
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen(app as RequestListener);
  });
  afterAll(async () => {
    await server.close();
  });

  // A pair whose run of spaces does not reach its end: a trailing-whitespace regex retries the run from every
  // space (quadratic; 130-210 ms per request on 16 KB before the fix). Node's header limit is 16 KiB in all.
  const spaces = ' '.repeat(15_800);
  const headers = [`${REFRESH}=a${spaces}b; ${CSRF}=c`, `a${spaces}b`, `${spaces}x=${spaces.slice(0, 10)}y`];

  it.each([
    ['GET /hello/ (authenticate() reads the access cookie)', 'get', '/hello/'],
    ['POST /api/token/refresh/', 'post', '/api/token/refresh/'],
    ['POST /api/token/blacklist/', 'post', '/api/token/blacklist/'],
  ] as const)('%s handles it in linear time: median CPU under 15 ms per request', async (_what, method, path) => {
    const cpu: number[] = [];
    for (let round = 0; round < 7; round++) {
      for (const header of headers) {
        const used = process.cpuUsage();
        const res = await request(server.base)[method](path).set('Cookie', header).set('X-CSRFToken', 'c');
        const spent = process.cpuUsage(used);
        cpu.push((spent.user + spent.system) / 1000);
        // No usable cookie: 401 without credentials, or the refresh field error; never a 5xx.
        expect([400, 401, 403]).toContain(res.status);
      }
    }
    expect(median(cpu)).toBeLessThan(15);
  });

  it('readCookie() itself is linear: 64 KB of spaces in under 50 ms (2-5 s before the fix)', () => {
    const huge = `a=b${' '.repeat(1 << 16)}c; ${REFRESH}=ok`;
    const used = process.cpuUsage();
    expect(readCookie(huge, REFRESH)).toBe('ok');
    expect(readCookie(huge, 'a')).toBeUndefined(); // a space inside a value is malformed
    const spent = process.cpuUsage(used);
    expect((spent.user + spent.system) / 1000).toBeLessThan(50);
  });
});

itLeaksNothing(rec);
