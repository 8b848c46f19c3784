/**
 * Login CSRF and forced logout in cookie mode, in a real browser (issue 14, finding 3; OWASP CSRF cheat sheet,
 * "login CSRF"; PortSwigger "CSRF where token validation depends on request method"): headless Chromium (Debian's,
 * driven by playwright-core) visits a page on another site that auto-submits a form to the demo's token endpoints.
 * The demo runs with `cookies: true` at http://127.0.0.1 (a secure context, so `Secure` and `__Host-` cookies
 * work over http); the attacker's page is http://evil.test, resolved to 127.0.0.1 by Chromium itself.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { listen } from '../helpers/keys';
import { demo, itLeaksNothing, login, recorder } from './harness';

const CHROMIUM = '/usr/bin/chromium';
const rec = recorder();
const victimApp = demo(rec, { cookies: true });
const REFRESH = '__Secure-refresh_token';
const CSRF = '__Host-csrftoken';

/** An auto-submitting HTML form, as an attacker's page would hold it. */
function autoSubmit(action: string, fields: Record<string, string>, enctype = 'application/x-www-form-urlencoded'): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('');
  return `<!doctype html><form method="post" enctype="${enctype}" action="${action}">${inputs}</form><script>document.forms[0].submit()</script>`;
}

describe('a cross-site page against cookie mode, in Chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let api: Awaited<ReturnType<typeof listen>>;
  let evil: Awaited<ReturnType<typeof listen>>;
  let evilPage = '';
  let attacker = { access: '', refresh: '' };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`node scripts/provision.mjs\` (Debian package chromium)`);
    // The demo's own front end: one page on the API's origin that logs in with JSON, as fetch and axios do.
    victimApp.express.get('/app/', (_req, res) => {
      res.type('html').send('<!doctype html><title>app</title>');
    });
    victimApp.express.get('/form/', (_req, res) => {
      res.type('html').send(autoSubmit('/api/token/', { username: 'vitor', password: '123' }));
    });
    api = await listen(victimApp.app);
    attacker = await login(demo(rec).app); // the attacker's own session, obtained outside any browser
    rec.protect(attacker.refresh, attacker.access);
    evil = await listen((_req: IncomingMessage, res: ServerResponse) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(evilPage);
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', `--host-resolver-rules=MAP evil.test 127.0.0.1`],
    });
  }, 60_000);
  beforeEach(async () => {
    context = await browser.newContext();
  });
  afterEach(async () => {
    await context.close();
  });
  afterAll(async () => {
    await browser?.close();
    await evil?.close();
    await api?.close();
  });

  const evilUrl = () => `http://evil.test:${new URL(evil.base).port}/`;
  const names = async () => (await context.cookies(`${api.base}/api/token/`)).map((cookie) => cookie.name).sort();

  /** The victim visits the attacker's page; resolves with the answer the form got. */
  async function visit(html: string, endpoint: string): Promise<{ status: number; body: unknown }> {
    evilPage = html;
    const page = await context.newPage();
    const answered = page.waitForResponse(`${api.base}${endpoint}`);
    await page.goto(evilUrl());
    const res = await answered;
    return { status: res.status(), body: await res.json() };
  }

  /** The victim logs in on the app's own page (same origin, JSON). */
  async function victimLogsIn(): Promise<void> {
    const page = await context.newPage();
    await page.goto(`${api.base}/app/`);
    const status = await page.evaluate(async () => {
      const res = await fetch('/api/token/', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'vitor', password: '123' }) });
      return res.status;
    });
    expect(status).toBe(200);
    expect(await names()).toEqual([CSRF, REFRESH]);
    await page.close();
  }

  it('login CSRF: an auto-submitted form with the attacker\'s credentials is refused, and the browser gets no session', async () => {
    const answer = await visit(autoSubmit(`${api.base}/api/token/`, { username: 'vitor', password: '123' }), '/api/token/');
    expect(answer).toEqual({ status: 403, body: { detail: 'CSRF Failed: Cross-site request refused.', code: 'csrf_failed' } });
    expect(await names()).toEqual([]);
  });

  it('the same as multipart, and a refresh form carrying the attacker\'s refresh token', async () => {
    const multipart = await visit(autoSubmit(`${api.base}/api/token/`, { username: 'vitor', password: '123' }, 'multipart/form-data'), '/api/token/');
    expect(multipart.status).toBe(403);
    const refresh = await visit(autoSubmit(`${api.base}/api/token/refresh/`, { refresh: attacker.refresh }), '/api/token/refresh/');
    expect(refresh.status).toBe(403);
    expect(await names()).toEqual([]);
  });

  it('forced logout: a cross-site form to /blacklist/ leaves the victim\'s cookies (and session) alone', async () => {
    await victimLogsIn();
    const answer = await visit(autoSubmit(`${api.base}/api/token/blacklist/`, { refresh: attacker.refresh }), '/api/token/blacklist/');
    expect(answer.status).toBe(403);
    expect(await names()).toEqual([CSRF, REFRESH]);
  });

  it("the app's own pages keep working: a JSON login and a same-origin form login set the cookies", async () => {
    await victimLogsIn();
    await context.clearCookies();
    const page = await context.newPage();
    const answered = page.waitForResponse(`${api.base}/api/token/`);
    await page.goto(`${api.base}/form/`);
    expect((await answered).status()).toBe(200);
    expect(await names()).toEqual([CSRF, REFRESH]);
  });
});

itLeaksNothing(rec);
