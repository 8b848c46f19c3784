// The demo's browser page: log in, who am I, my sessions, log out this device or everywhere, all through the
// kit's endpoints. In cookie mode (JWT_COOKIES=access or true) the tokens live in HttpOnly cookies the script
// never sees; every state-changing request echoes the readable CSRF cookie in the X-CSRFToken header, and is
// sent as JSON to this same origin. Tokens that come in the body (JWT_COOKIES=true puts the access token
// there) are kept in memory only.
/* global document, fetch, FormData */
'use strict';

const TOKEN_API = '/api/token';
const CSRF_COOKIE = '__Host-csrftoken'; // the kit's default csrfCookieName
const CSRF_HEADER = 'X-CSRFToken'; // the kit's default csrfHeaderName

const memory = { access: undefined, refresh: undefined };
const $ = (id) => document.getElementById(id);

function cookie(name) {
  for (const pair of document.cookie.split('; ')) {
    const eq = pair.indexOf('=');
    if (pair.slice(0, eq) === name) return pair.slice(eq + 1);
  }
  return undefined;
}

/** One call to the API: JSON in and out, the CSRF header on state changes, the in-memory access token if any. */
async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const csrf = cookie(CSRF_COOKIE);
  if (method !== 'GET' && csrf) headers[CSRF_HEADER] = csrf;
  if (memory.access) headers.Authorization = `Bearer ${memory.access}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  return { status: res.status, data: text ? JSON.parse(text) : undefined };
}

/** A new access token from the refresh cookie (or the in-memory refresh token). */
async function refresh() {
  if (!memory.refresh && !cookie(CSRF_COOKIE)) return false; // no session here: nothing to refresh
  const res = await call('POST', `${TOKEN_API}/refresh/`, memory.refresh ? { refresh: memory.refresh } : {});
  if (res.status !== 200) return false;
  if (res.data.access) memory.access = res.data.access;
  if (res.data.refresh) memory.refresh = res.data.refresh;
  return true;
}

/** An authenticated call; an expired access token is refreshed once. */
async function authed(method, path) {
  let res = await call(method, path);
  if (res.status === 401 && (await refresh())) res = await call(method, path);
  return res;
}

function show(loggedIn, message = '') {
  $('login').hidden = loggedIn;
  $('account').hidden = !loggedIn;
  $('status').textContent = message;
}

function describe(res) {
  return res.data && res.data.detail ? res.data.detail : `HTTP ${res.status}`;
}

function when(iso) {
  return new Date(iso).toLocaleString();
}

async function loadSessions() {
  const res = await authed('GET', `${TOKEN_API}/sessions/`);
  if (res.status !== 200) return show(false, `Sessions: ${describe(res)}`);
  const rows = res.data.map((session) => {
    const row = document.createElement('tr');
    row.dataset.id = session.id;
    for (const text of [session.user_agent || 'unknown device', session.ip || '?', when(session.last_used), when(session.created)]) {
      const cell = document.createElement('td');
      cell.textContent = text; // never innerHTML: the user agent is whatever the client sent
      row.append(cell);
    }
    const end = document.createElement('button');
    end.type = 'button';
    end.textContent = 'End this session';
    end.addEventListener('click', () => endSession(session.id));
    const cell = document.createElement('td');
    cell.append(end);
    row.append(cell);
    return row;
  });
  $('sessions').replaceChildren(...rows);
}

async function showAccount() {
  const me = await authed('GET', '/api/me/');
  if (me.status !== 200) return show(false);
  $('whoami').textContent = me.data.username;
  $('user-id').textContent = String(me.data.id);
  show(true);
  await loadSessions();
}

async function login(event) {
  event.preventDefault();
  const form = new FormData($('login'));
  const res = await call('POST', `${TOKEN_API}/`, { username: form.get('username'), password: form.get('password') });
  if (res.status !== 200) return show(false, `Login failed: ${describe(res)}`);
  memory.access = res.data.access;
  memory.refresh = res.data.refresh;
  $('login').reset();
  await showAccount();
}

async function endSession(id) {
  const res = await authed('DELETE', `${TOKEN_API}/sessions/${id}/`);
  if (res.status !== 204) return show(true, `End session: ${describe(res)}`);
  await showAccount();
}

function forget(message) {
  memory.access = undefined;
  memory.refresh = undefined;
  $('sessions').replaceChildren();
  show(false, message);
}

async function logout() {
  // The refresh token comes from its cookie (or memory); the kit revokes its session and clears the cookies.
  const res = await call('POST', `${TOKEN_API}/blacklist/`, memory.refresh ? { refresh: memory.refresh } : {});
  if (res.status !== 200) return show(true, `Logout: ${describe(res)}`);
  forget('Logged out on this device.');
}

async function logoutEverywhere() {
  const res = await authed('DELETE', `${TOKEN_API}/sessions/`);
  if (res.status !== 204) return show(true, `Logout everywhere: ${describe(res)}`);
  forget('Logged out everywhere.');
}

$('login').addEventListener('submit', login);
$('refresh-sessions').addEventListener('click', () => void loadSessions());
$('logout').addEventListener('click', () => void logout());
$('logout-everywhere').addEventListener('click', () => void logoutEverywhere());
void showAccount();
