/**
 * Cookie transport: the refresh token (and optionally the access or sliding token) in `HttpOnly; Secure;
 * SameSite=Strict` cookies, and the double-submit CSRF token that state-changing, cookie-authenticated requests
 * must echo in a header. No cookie-parser: the `Cookie` header is read here, strictly.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { CookieOptions } from '../config/options';
import { csrfError } from '../errors';

/** The validated cookie settings. */
export interface CookieConfig {
  refreshName: string;
  refreshInBody: boolean;
  access: boolean;
  accessName: string;
  accessInBody: boolean;
  csrfName: string;
  csrfHeaderName: string;
  /** Lower-cased, as Node keys headers. */
  csrfHeaderKey: string;
  sameSite: 'Strict' | 'Lax';
  domain: string | undefined;
}

const COOKIE_OPTION_KEYS: ReadonlySet<string> = new Set([
  'refreshCookieName',
  'refreshInBody',
  'accessCookie',
  'accessCookieName',
  'accessInBody',
  'csrfCookieName',
  'csrfHeaderName',
  'sameSite',
  'domain',
]);

/** RFC 6265 cookie-name (an RFC 7230 token); also what a header name must be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 cookie-value octets (no spaces, quotes, commas, semicolons or backslashes). */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const DOMAIN = /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Browsers cap `Max-Age` at 400 days; a cookie for a token that never expires gets that. */
const MAX_COOKIE_AGE = 400 * 86_400;
/** A CSRF token we issue: 32 random bytes, base64url. */
const CSRF_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const FORM_TYPES: ReadonlySet<string> = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);

/** Methods that must not change state, so need no CSRF token (Django's and RFC 9110's safe methods). */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

function checkBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`"cookies.${name}" must be true or false (got ${JSON.stringify(value)})`);
  return value;
}

function checkCookieName(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw new TypeError(`"cookies.${name}" must be a cookie name such as '${fallback}' (letters, digits and !#$%&'*+-.^_\`|~)`);
  }
  return value;
}

/**
 * Validates `cookies` (`true`: every default). Throws a TypeError naming the sub-option and the fix.
 *
 * @example
 * resolveCookieOptions({ accessCookie: true }).accessName // '__Host-access_token'
 */
export function resolveCookieOptions(value: boolean | CookieOptions | undefined): CookieConfig | undefined {
  if (value === undefined || value === false) return undefined;
  const options: CookieOptions = value === true ? {} : value;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError('"cookies" must be true, false or an object such as { accessCookie: true }');
  }
  for (const key of Object.keys(options)) {
    if (!COOKIE_OPTION_KEYS.has(key)) {
      throw new TypeError(`Unknown option "cookies.${key}"; known: ${[...COOKIE_OPTION_KEYS].map((k) => `"${k}"`).join(', ')}`);
    }
  }
  const access = checkBoolean(options.accessCookie, 'accessCookie', false);
  const refreshName = checkCookieName(options.refreshCookieName, 'refreshCookieName', '__Secure-refresh_token');
  const accessName = checkCookieName(options.accessCookieName, 'accessCookieName', '__Host-access_token');
  const csrfName = checkCookieName(options.csrfCookieName, 'csrfCookieName', '__Host-csrftoken');
  if (new Set([refreshName, accessName, csrfName]).size !== 3) {
    throw new TypeError('"cookies": the refresh, access and CSRF cookies need three different names');
  }
  if (refreshName.startsWith('__Host-')) {
    throw new TypeError(
      '"cookies.refreshCookieName" cannot start with __Host-: the refresh cookie is scoped to the token path and __Host- cookies must have Path=/; use __Secure-',
    );
  }
  const csrfHeaderName = options.csrfHeaderName ?? 'X-CSRFToken';
  if (typeof csrfHeaderName !== 'string' || !TOKEN.test(csrfHeaderName)) {
    throw new TypeError(`"cookies.csrfHeaderName" must be an HTTP header name such as 'X-CSRFToken'`);
  }
  const sameSite = options.sameSite ?? 'Strict';
  if (sameSite !== 'Strict' && sameSite !== 'Lax') {
    throw new TypeError(`"cookies.sameSite" must be 'Strict' or 'Lax' (got ${JSON.stringify(sameSite)}); 'None' would send the cookies on cross-site requests`);
  }
  const domain = options.domain;
  if (domain !== undefined) {
    if (typeof domain !== 'string' || !DOMAIN.test(domain)) {
      throw new TypeError(`"cookies.domain" must be a domain name such as 'example.com' (or leave it out for host-only cookies)`);
    }
    for (const [name, cookie, used] of [['accessCookieName', accessName, access], ['csrfCookieName', csrfName, true]] as const) {
      if (used && cookie.startsWith('__Host-')) {
        throw new TypeError(`"cookies.${name}" starts with __Host-, which browsers refuse with a Domain; name it without the prefix to use "cookies.domain"`);
      }
    }
  }
  return {
    refreshName,
    refreshInBody: checkBoolean(options.refreshInBody, 'refreshInBody', false),
    access,
    accessName,
    accessInBody: checkBoolean(options.accessInBody, 'accessInBody', !access),
    csrfName,
    csrfHeaderName,
    csrfHeaderKey: csrfHeaderName.toLowerCase(),
    sameSite,
    domain,
  };
}

/** A space or a tab, the whitespace RFC 6265 allows around a cookie pair. */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * The value of cookie `name` in a `Cookie` header, read strictly (RFC 6265 §4.2.1): pairs split on `;`, names
 * compared exactly, values unquoted but never URL-decoded; a malformed pair is skipped. A name sent more than
 * once is ambiguous (another subdomain may have planted a copy with a longer path) and reads as absent, as
 * does an empty value.
 *
 * @example
 * readCookie('a=1; __Host-csrftoken=xyz', '__Host-csrftoken') // 'xyz'
 */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join('; ') : header;
  let found: string | undefined;
  let seen = false;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf(';', start);
    if (end === -1) end = text.length;
    // Trimmed by scanning from both ends: linear in the pair's length. (A `/^[ \t]+|[ \t]+$/` replace retries
    // the trailing run from every space, quadratic on a long run of spaces that does not end the pair.)
    let from = start;
    let to = end;
    while (from < to && isBlank(text.charCodeAt(from))) from++;
    while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
    const pair = text.slice(from, to);
    start = end + 1;
    const eq = pair.indexOf('=');
    if (eq <= 0 || pair.slice(0, eq) !== name) continue;
    let value = pair.slice(eq + 1);
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!COOKIE_VALUE.test(value)) continue;
    if (seen) return undefined;
    seen = true;
    found = value;
  }
  return found === '' ? undefined : found;
}

/** The token router's mount path (`req.baseUrl`), usable as a cookie `Path`: `/` at the root; odd characters percent-encoded. */
export function cookiePath(req: Request): string {
  const base = req.baseUrl || '/';
  return base.replace(/[^A-Za-z0-9\-._~!$&'()*+,=:@/%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Appends one `Set-Cookie` header, keeping those already set. */
function appendSetCookie(res: Response, cookie: string): void {
  const previous = res.getHeader('Set-Cookie');
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  res.setHeader('Set-Cookie', [...list, cookie]);
}

/** Seconds until `exp` (at least 0); a token without expiry gets the browsers' maximum. */
function maxAge(exp: number | undefined, now: number): number {
  if (exp === undefined || !Number.isFinite(exp)) return MAX_COOKIE_AGE;
  return Math.min(MAX_COOKIE_AGE, Math.max(0, exp - now));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** A token to put in a cookie, with the time it stops being useful (`undefined`: never). */
export interface CookieToken {
  token: string;
  until: number | undefined;
}

/** Reads and writes the kit's cookies for one configuration. */
export function createCookieTransport(config: CookieConfig, now: () => number) {
  const { sameSite, domain } = config;
  const domainAttribute = domain === undefined ? '' : `; Domain=${domain}`;

  function serialize(name: string, value: string, path: string, age: number, httpOnly: boolean): string {
    return `${name}=${value}; Path=${path}${domainAttribute}; Max-Age=${age}${httpOnly ? '; HttpOnly' : ''}; Secure; SameSite=${sameSite}`;
  }

  /**
   * Double-submit check, in Django's order: the CSRF cookie must be present, the header present, and equal
   * (compared in constant time). Throws 403 `csrf_failed`.
   */
  function checkCsrf(req: Request): void {
    const cookie = readCookie(req.headers.cookie, config.csrfName);
    if (cookie === undefined) throw csrfError('CSRF cookie not set.');
    const header = req.headers[config.csrfHeaderKey];
    if (typeof header !== 'string' || header === '') throw csrfError('CSRF token missing.');
    if (!timingSafeEqual(digest(cookie), digest(header))) throw csrfError('CSRF token incorrect.');
  }

  /**
   * Login CSRF and forced logout: an endpoint that sets or clears the session cookies must not act on a request
   * another site made the browser send, or a page elsewhere could log the user in as the attacker (an auto-submitted
   * login form, or a refresh with the attacker's token in the body) or log them out. Refused with 403 `csrf_failed`:
   * - a request the browser marks `Sec-Fetch-Site: cross-site` (every current browser sends Fetch Metadata);
   * - a form or multipart body (what an HTML form on any page sends without a CORS preflight) from a browser,
   *   unless it is marked `same-origin`: a browser is whatever sends `Sec-Fetch-Site` or `Origin`.
   * JSON needs a preflight cross-origin, which the host's CORS decides; clients that are no browser (curl
   * `-d refresh=...`, servers) send neither header and keep form bodies.
   */
  function checkSameSite(req: Request): void {
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site') throw csrfError('Cross-site request refused.');
    const type = req.headers['content-type'];
    if (type === undefined) return;
    const semicolon = type.indexOf(';');
    if (!FORM_TYPES.has((semicolon === -1 ? type : type.slice(0, semicolon)).trim().toLowerCase())) return;
    if (site === 'same-origin' || site === 'none') return;
    if (site === undefined && req.headers.origin === undefined) return;
    throw csrfError('Form bodies from a browser must be same-origin; send JSON.');
  }

  return {
    config,
    checkSameSite,
    /** The refresh token from its cookie, if any. */
    readRefresh: (req: Request): string | undefined => readCookie(req.headers.cookie, config.refreshName),
    /** The access (or sliding) token from its cookie, when access cookies are on. */
    readAccess: (req: Request): string | undefined => (config.access ? readCookie(req.headers.cookie, config.accessName) : undefined),
    checkCsrf,
    /**
     * Sets the cookies of a login or refresh: the refresh token (path-scoped), the access or sliding token when
     * access cookies are on, and the CSRF cookie (the request's own one kept, else a new one), which lives as
     * long as the session (`sessionEnd`).
     */
    setSession(
      req: Request,
      res: Response,
      tokens: { refresh?: CookieToken; access?: CookieToken; sessionEnd: number | undefined; issuedAt?: number },
    ): void {
      // Max-Age counts from when the tokens were issued (their `iat`), so it never depends on a second ticking over.
      const at = tokens.issuedAt ?? now();
      if (tokens.refresh) {
        appendSetCookie(res, serialize(config.refreshName, tokens.refresh.token, cookiePath(req), maxAge(tokens.refresh.until, at), true));
      }
      if (tokens.access && config.access) {
        appendSetCookie(res, serialize(config.accessName, tokens.access.token, '/', maxAge(tokens.access.until, at), true));
      }
      const current = readCookie(req.headers.cookie, config.csrfName);
      const csrf = current !== undefined && CSRF_TOKEN.test(current) ? current : randomBytes(32).toString('base64url');
      appendSetCookie(res, serialize(config.csrfName, csrf, '/', maxAge(tokens.sessionEnd, at), false));
    },
    /** Expires every cookie of the kit (logout). */
    clear(req: Request, res: Response): void {
      appendSetCookie(res, serialize(config.refreshName, '', cookiePath(req), 0, true));
      if (config.access) appendSetCookie(res, serialize(config.accessName, '', '/', 0, true));
      appendSetCookie(res, serialize(config.csrfName, '', '/', 0, false));
    },
  };
}

export type CookieTransport = ReturnType<typeof createCookieTransport>;
