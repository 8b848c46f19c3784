/**
 * Cookie mode under attack: a hostile `Cookie` header (regular-expression denial of service, CWE-1333; OWASP
 * "ReDoS"). Against the demo app over HTTP with the refresh and access tokens in cookies.
 */
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { readCookie } from '../../lib';
import { listen } from '../helpers/keys';
import { demo, itLeaksNothing, login, recorder } from './harness';

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
  const shapes = (fill: string) => [`${REFRESH}=a${fill}b; ${CSRF}=c`, `a${fill}b`, `${fill}x=${fill.slice(0, 10)}y`];
  const headers = shapes(' '.repeat(15_800));

  // The same requests with headers of the same lengths and no run of spaces: the work a linear parser does anyway.
  const controls = shapes('x'.repeat(15_800));

  /** CPU milliseconds this process (client and server) spends on one request with `header`. */
  async function cpuOf(method: 'get' | 'post', path: string, header: string): Promise<number> {
    const used = process.cpuUsage();
    const res = await request(server.base)[method](path).set('Cookie', header).set('X-CSRFToken', 'c');
    const spent = process.cpuUsage(used);
    // No usable cookie: 401 without credentials, or the refresh field error; never a 5xx.
    expect([400, 401, 403]).toContain(res.status);
    return (spent.user + spent.system) / 1000;
  }

  it.each([
    ['GET /hello/ (authenticate() reads the access cookie)', 'get', '/hello/'],
    ['POST /api/token/refresh/', 'post', '/api/token/refresh/'],
    ['POST /api/token/blacklist/', 'post', '/api/token/blacklist/'],
  ] as const)('%s handles it in linear time: median CPU within 4 times that of a header of the same length without spaces', async (_what, method, path) => {
    const hostile: number[] = [];
    const control: number[] = [];
    for (let round = 0; round < 7; round++) {
      for (const [i, header] of headers.entries()) {
        // Alternate which goes first, so a slow moment of the machine falls on both alike.
        if (round % 2) control.push(await cpuOf(method, path, controls[i]!));
        hostile.push(await cpuOf(method, path, header));
        if (!(round % 2)) control.push(await cpuOf(method, path, controls[i]!));
      }
    }
    // Before the fix a hostile request cost 130-210 ms against a few for its control.
    const report = { hostile: median(hostile), control: median(control) };
    expect([report, report.hostile < 4 * report.control]).toEqual([report, true]);
  });

  it('readCookie() itself is linear: 64 KB of spaces cost no more than 4 times 64 KB of letters (2-5 s before the fix)', () => {
    const huge = `a=b${' '.repeat(1 << 16)}c; ${REFRESH}=ok`;
    const letters = `a=b${'x'.repeat(1 << 16)}c; ${REFRESH}=ok`;
    const cpuOfRead = (header: string, rounds: number): number => {
      const used = process.cpuUsage();
      for (let i = 0; i < rounds; i++) {
        expect(readCookie(header, REFRESH)).toBe('ok');
        readCookie(header, 'a');
      }
      const spent = process.cpuUsage(used);
      return (spent.user + spent.system) / 1000;
    };
    expect(readCookie(huge, 'a')).toBeUndefined(); // a space inside a value is malformed
    cpuOfRead(letters, 5); // warm up
    const spaces: number[] = [];
    const control: number[] = [];
    for (let round = 0; round < 5; round++) {
      control.push(cpuOfRead(letters, 20));
      spaces.push(cpuOfRead(huge, 20));
    }
    const report = { spaces: median(spaces), letters: median(control) };
    expect([report, report.spaces < 4 * report.letters]).toEqual([report, true]);
  });
});

/** The headers a browser adds to a form it submits, from a page on `site` (Fetch Metadata, RFC 6454 Origin). */
function fromBrowser(site: 'cross-site' | 'same-site' | 'same-origin', origin = 'https://evil.example'): Record<string, string> {
  return { 'Sec-Fetch-Site': site, 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document', Origin: origin };
}
const CROSS_SITE = { detail: 'CSRF Failed: Cross-site request refused.', code: 'csrf_failed' };
const FORM_FROM_BROWSER = { detail: 'CSRF Failed: Form bodies from a browser must be same-origin; send JSON.', code: 'csrf_failed' };

/** The Set-Cookie lines of a response, or none. */
function setCookieLines(res: request.Response): string[] {
  return (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
}

describe('login CSRF and forced logout in cookie mode (issue 14, finding 3; OWASP CSRF cheat sheet: login CSRF, Fetch Metadata)', () => {
  const { app } = demo(rec, { cookies: true });
  let attacker = { access: '', refresh: '' };
  beforeAll(async () => {
    // The attacker's own pair, from a login outside any browser (tokens in the body too).
    attacker = await login(demo(rec).app);
    rec.protect(attacker.refresh);
  });

  it('a cross-site auto-submitted login form is refused before the body is read: no cookie is set', async () => {
    const res = await request(app).post('/api/token/').set(fromBrowser('cross-site')).type('form').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual(CROSS_SITE);
    expect(setCookieLines(res)).toEqual([]);
  });

  it('so is a multipart one, one from a sibling subdomain (same-site), and one from a browser that sends only Origin', async () => {
    const multipart = await request(app).post('/api/token/').set(fromBrowser('cross-site')).field('username', 'vitor').field('password', '123');
    expect([multipart.status, multipart.body]).toEqual([403, CROSS_SITE]);
    const sibling = await request(app).post('/api/token/').set(fromBrowser('same-site', 'https://user-content.example.com')).type('form').send({ username: 'vitor', password: '123' });
    expect([sibling.status, sibling.body]).toEqual([403, FORM_FROM_BROWSER]);
    const old = await request(app).post('/api/token/').set('Origin', 'https://evil.example').type('form').send({ username: 'vitor', password: '123' });
    expect([old.status, old.body]).toEqual([403, FORM_FROM_BROWSER]);
    const opaque = await request(app).post('/api/token/').set('Origin', 'null').type('form').send({ username: 'vitor', password: '123' });
    expect([opaque.status, opaque.body]).toEqual([403, FORM_FROM_BROWSER]);
    for (const res of [multipart, sibling, old, opaque]) expect(setCookieLines(res)).toEqual([]);
  });

  it("a cross-site refresh carrying the attacker's token in the body cannot plant the attacker's session (form or JSON)", async () => {
    const form = await request(app).post('/api/token/refresh/').set(fromBrowser('cross-site')).type('form').send({ refresh: attacker.refresh });
    expect([form.status, form.body]).toEqual([403, CROSS_SITE]);
    const json = await request(app).post('/api/token/refresh/').set({ ...fromBrowser('cross-site'), 'Sec-Fetch-Mode': 'cors' }).send({ refresh: attacker.refresh });
    expect([json.status, json.body]).toEqual([403, CROSS_SITE]);
    expect(setCookieLines(form)).toEqual([]);
    expect(setCookieLines(json)).toEqual([]);
  });

  it('a cross-site logout form cannot clear the victim\'s cookies, and the token it names stays valid', async () => {
    const res = await request(app).post('/api/token/blacklist/').set(fromBrowser('cross-site')).type('form').send({ refresh: attacker.refresh });
    expect([res.status, res.body]).toEqual([403, CROSS_SITE]);
    expect(setCookieLines(res)).toEqual([]);
    expect((await request(app).post('/api/token/refresh/').send({ refresh: attacker.refresh })).status).toBe(200);
  });

  it('the own front end keeps working: JSON from same-origin or same-site pages, and same-origin forms', async () => {
    const json = await request(app).post('/api/token/').set({ ...fromBrowser('same-site', 'https://app.example'), 'Sec-Fetch-Mode': 'cors' }).send({ username: 'vitor', password: '123' });
    expect(json.status).toBe(200);
    expect(setCookieLines(json).some((line) => line.startsWith('__Secure-refresh_token=ey'))).toBe(true);
    const form = await request(app).post('/api/token/').set(fromBrowser('same-origin', 'https://api.example')).type('form').send({ username: 'vitor', password: '123' });
    expect(form.status).toBe(200);
  });

  it("clients that are no browser keep form bodies (the tutorial's curl -d refresh=...), and /verify/ sets no cookie so is untouched", async () => {
    const curl = await request(app).post('/api/token/refresh/').type('form').send(`refresh=${attacker.refresh}`);
    expect(curl.status).toBe(200);
    const login = await request(app).post('/api/token/').type('form').send({ username: 'vitor', password: '123' });
    expect(login.status).toBe(200);
    const verify = await request(app).post('/api/token/verify/').set(fromBrowser('cross-site')).type('form').send({ token: login.body.access });
    expect([verify.status, verify.body]).toEqual([200, {}]);
  });
});

describe('without cookies nothing changes: a cross-site login answers tokens no other origin can read', () => {
  const { app } = demo(rec);
  it('accepts a cross-site form login as simplejwt does', async () => {
    const res = await request(app).post('/api/token/').set(fromBrowser('cross-site')).type('form').send({ username: 'vitor', password: '123' });
    expect(res.status).toBe(200);
    expect(setCookieLines(res)).toEqual([]);
  });
});

describe('sliding tokens in the access cookie: the sliding endpoints refuse cross-site requests too', () => {
  const { app } = demo(rec, { slidingTokens: true, cookies: { accessCookie: true } });
  it('refuses a cross-site sliding login and sliding refresh', async () => {
    const res = await request(app).post('/api/token/sliding/').set(fromBrowser('cross-site')).type('form').send({ username: 'vitor', password: '123' });
    expect([res.status, res.body]).toEqual([403, CROSS_SITE]);
    const refresh = await request(app).post('/api/token/sliding/refresh/').set(fromBrowser('cross-site')).send({ token: 'x' });
    expect([refresh.status, refresh.body]).toEqual([403, CROSS_SITE]);
  });
});

itLeaksNothing(rec);
