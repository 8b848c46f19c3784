/**
 * The demo's browser page (demo-app/public/) in a real Chromium, against the demo started as `npm start` starts
 * it, in cookie mode (`JWT_COOKIES=access`): log in through the form, see who I am, list my sessions from two
 * browsers, end the other one, log out this device, log out everywhere. Every state-changing request the page
 * sends must carry the CSRF header, equal to the CSRF cookie.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startDemo, type Demo } from '../../helpers/demo';
import { SECRET } from '../../helpers/app';

/** The little of the DOM these checks use (run in the page; the test's tsconfig has no DOM types). */
declare const document: {
  cookie: string;
  querySelectorAll(selector: string): { length: number };
  getElementById(id: string): { textContent: string | null } | null;
};

const CHROMIUM = '/usr/bin/chromium';
const run = existsSync(CHROMIUM) ? describe : describe.skip;

jest.setTimeout(120_000);

function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

run('the demo page in Chromium (cookie mode)', () => {
  let demo: Demo;
  let browser: Browser;
  /** Every non-GET request the pages sent to the API, with its CSRF header and the CSRF cookie at that time. */
  const unsafe: { url: string; header: string | undefined }[] = [];

  beforeAll(async () => {
    [demo, browser] = await Promise.all([
      startDemo([], { JWT_SECRET: SECRET, JWT_COOKIES: 'access', JWT_REVOKE_ACCESS_TOKENS: 'true', JWT_LOGIN_THROTTLE: 'off' }),
      launch(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  async function device(name: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ userAgent: `${name} (page test)` });
    const page = await context.newPage();
    page.on('request', (request) => {
      if (request.method() === 'GET' || !request.url().startsWith(`${demo.base}/api/`)) return;
      unsafe.push({ url: request.url(), header: request.headers()['x-csrftoken'] });
    });
    await page.goto(`${demo.base}/`);
    await page.locator('#login').waitFor({ state: 'visible' });
    return { context, page };
  }

  async function logIn(page: Page, username = 'vitor', password = '123') {
    await page.fill('input[name=username]', username);
    await page.fill('input[name=password]', password);
    await page.click('#login button[type=submit]');
    await page.locator('#account').waitFor({ state: 'visible' });
  }

  const rows = (page: Page) => page.locator('#sessions tr');

  async function sessionCount(page: Page, expected: number) {
    await page.click('#refresh-sessions');
    await page.waitForFunction((n) => document.querySelectorAll('#sessions tr').length === n, expected);
  }

  async function expectLoggedOut(page: Page) {
    await page.reload();
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.locator('#account').isHidden()).toBe(true);
  }

  test('log in, who am I, sessions from two browsers, end one, log out here, log out everywhere', async () => {
    const a = await device('Device A');
    const response = await a.page.request.get(`${demo.base}/`);
    expect(response.headers()['content-security-policy']).toContain("default-src 'self'");

    // A wrong password is refused on the page, with the kit's message.
    await a.page.fill('input[name=username]', 'vitor');
    await a.page.fill('input[name=password]', 'wrong');
    await a.page.click('#login button[type=submit]');
    await a.page.waitForFunction(() => document.getElementById('status')?.textContent?.includes('No active account'));

    await logIn(a.page);
    expect(await a.page.locator('#whoami').textContent()).toBe('vitor');
    expect(await a.page.locator('#user-id').textContent()).toBe('1');
    // The tokens are HttpOnly cookies the page's script cannot read; only the CSRF cookie is readable.
    const visible = await a.page.evaluate(() => document.cookie);
    expect(visible).toMatch(/^__Host-csrftoken=[\w-]+$/);
    const names = (await a.context.cookies()).map((c) => c.name).sort();
    expect(names).toEqual(['__Host-access_token', '__Host-csrftoken', '__Secure-refresh_token']);
    await sessionCount(a.page, 1);

    // A second browser logs in: the first lists both sessions, with device and IP.
    const b = await device('Device B');
    await logIn(b.page);
    await sessionCount(a.page, 2);
    const listed = await rows(a.page).allTextContents();
    expect(listed.some((text) => text.includes('Device A (page test)') && text.includes('127.0.0.1'))).toBe(true);
    expect(listed.some((text) => text.includes('Device B (page test)'))).toBe(true);

    // A ends B's session: B is logged out (its access token too, with JWT_REVOKE_ACCESS_TOKENS).
    await rows(a.page).filter({ hasText: 'Device B' }).locator('button').click();
    await a.page.waitForFunction(() => document.querySelectorAll('#sessions tr').length === 1);
    await expectLoggedOut(b.page);

    // B logs in again, then logs out this device: its cookies are cleared, A is still logged in.
    await logIn(b.page);
    await sessionCount(a.page, 2);
    await b.page.click('#logout');
    await b.page.locator('#login').waitFor({ state: 'visible' });
    expect(await b.page.locator('#status').textContent()).toBe('Logged out on this device.');
    const left = (await b.context.cookies()).map((c) => c.name);
    expect(left).not.toContain('__Secure-refresh_token');
    expect(left).not.toContain('__Host-access_token');
    await expectLoggedOut(b.page);
    await sessionCount(a.page, 1);

    // B logs in once more; A logs out everywhere: both are logged out.
    await logIn(b.page);
    await sessionCount(a.page, 2);
    await a.page.click('#logout-everywhere');
    await a.page.locator('#login').waitFor({ state: 'visible' });
    expect(await a.page.locator('#status').textContent()).toBe('Logged out everywhere.');
    await expectLoggedOut(a.page);
    await expectLoggedOut(b.page);

    // Every state-changing call after a login carried the CSRF header (the kit compared it with the cookie).
    const afterLogin = unsafe.filter((r) => !r.url.endsWith('/api/token/'));
    expect(afterLogin.length).toBeGreaterThanOrEqual(3);
    for (const request of afterLogin) expect(request.header).toMatch(/^[\w-]{20,}$/);
    await Promise.all([a.context.close(), b.context.close()]);
  });
});

run('the demo page in Chromium (JWT_COOKIES=true: the access token in memory, the refresh token in a cookie)', () => {
  let demo: Demo;
  let browser: Browser;

  beforeAll(async () => {
    [demo, browser] = await Promise.all([
      startDemo([], { JWT_SECRET: SECRET, JWT_COOKIES: 'true', JWT_LOGIN_THROTTLE: 'off' }),
      launch(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  test('a reload refreshes through the cookie with the CSRF header; log out this device', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const refreshes: (string | undefined)[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/token/refresh/')) refreshes.push(request.headers()['x-csrftoken']);
    });
    await page.goto(`${demo.base}/`);
    await page.fill('input[name=username]', 'vitor');
    await page.fill('input[name=password]', '123');
    await page.click('#login button[type=submit]');
    await page.locator('#account').waitFor({ state: 'visible' });
    expect((await context.cookies()).map((c) => c.name).sort()).toEqual(['__Host-csrftoken', '__Secure-refresh_token']);

    // The access token was in memory only: after a reload the page gets a new one from the refresh cookie.
    await page.reload();
    await page.locator('#account').waitFor({ state: 'visible' });
    expect(await page.locator('#whoami').textContent()).toBe('vitor');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]).toMatch(/^[\w-]{20,}$/);
    await page.waitForFunction(() => document.querySelectorAll('#sessions tr').length === 1);

    await page.click('#logout');
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await context.cookies()).toEqual([]);
    await page.reload();
    await page.locator('#login').waitFor({ state: 'visible' });
    await context.close();
  });
});
