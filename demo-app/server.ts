import cluster from 'node:cluster';
import Redis from 'ioredis';
import { MemoryStore, PostgresStore, RedisStore, SqliteStore, type TokenStore } from '../lib';
import { createDemoApp } from './app';
import { parseWebConcurrency, runPrimary } from './cluster';
import { SqliteUsers } from './db';
import { demoDbPath, kitOptionsFromEnv, parseStoreSetting, simplejwtTablesFromEnv } from './settings';

/** How long a shutdown waits for the requests in flight before it cuts them. */
const SHUTDOWN_DEADLINE_MS = 4000;

function main(): void {
  const env = process.env;
  const port = Number(env.PORT ?? 8000);
  const host = env.HOST ?? '127.0.0.1';
  let users: SqliteUsers;
  let store: TokenStore;
  let started;
  let redis: Redis | undefined;
  let kitOptions: ReturnType<typeof kitOptionsFromEnv> = {};
  try {
    const dbPath = demoDbPath(env);
    users = new SqliteUsers(dbPath);
    const setting = parseStoreSetting(env.JWT_STORE, dbPath);
    const simplejwtTables = simplejwtTablesFromEnv(env, setting);
    if (setting.kind === 'memory') store = new MemoryStore();
    // A connection of its own, even to the users' file: the store's (no busy wait inside SQLite, which would block
    // the event loop while another process writes; synchronous=NORMAL under WAL) rather than the users' defaults.
    else if (setting.kind === 'sqlite') store = new SqliteStore(setting.path);
    else if (setting.kind === 'postgres') store = new PostgresStore(setting.url, { simplejwtTables });
    else {
      redis = new Redis(setting.url, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined); // the kit reports store outages itself (503 store_unavailable)
      store = new RedisStore(redis);
    }
    kitOptions = kitOptionsFromEnv(process.argv.slice(2), env);
    // Next to Django, its tokens may predate this store's memory: adopt them (Django's blacklist is shared).
    if (simplejwtTables) kitOptions.adoptUnknownTokens ??= true;
    started = createDemoApp(users, { ...kitOptions, store }, { metrics: env.JWT_METRICS === 'true' });
  } catch (err) {
    console.error(`demo-app: ${(err as Error).message}`);
    process.exit(2);
  }
  const { app, auth } = started;
  const server = app.listen(port, host, () => {
    const address = server.address();
    const base = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
    // Under WEB_CONCURRENCY, the first worker prints the banner; the others, one line each.
    if (cluster.isWorker && cluster.worker!.id !== 1) {
      console.log(`demo-app: worker ${process.pid} on ${base}`);
      return;
    }
    const cookies = kitOptions.cookies;
    const refreshCookie = cookies ? '__Secure-refresh_token' : undefined;
    const extras: string[] = [];
    if (kitOptions.slidingTokens) {
      extras.push(`Sliding tokens (JWT_SLIDING_TOKENS): one token, refreshable after its exp until its refresh_exp:
  http post ${base}/api/token/sliding/ username=vitor password=123
  http ${base}/hello/ "Authorization: Bearer <token>"
  http post ${base}/api/token/sliding/refresh/ token=<token>
  http post ${base}/api/token/blacklist/ refresh=<token>
`);
    }
    if (kitOptions.refreshByBearer) {
      extras.push(`Refresh by Bearer (JWT_REFRESH_BY_BEARER), as HarperDB's refresh_operation_token:
  http post ${base}/api/token/refresh/ "Authorization: Bearer <refresh>"
`);
    }
    if (cookies) {
      extras.push(`Cookies (JWT_COOKIES): login sets ${refreshCookie} (HttpOnly, Secure, Path=/api/token) and __Host-csrftoken;
a cookie-borne refresh or logout must echo the CSRF cookie in X-CSRFToken (HTTPie keeps no Secure cookie over http, so pass them):
  http -v post ${base}/api/token/ username=vitor password=123
  http post ${base}/api/token/refresh/ "Cookie: ${refreshCookie}=<refresh>; __Host-csrftoken=<csrf>" X-CSRFToken:<csrf>
  http post ${base}/api/token/blacklist/ "Cookie: ${refreshCookie}=<refresh>; __Host-csrftoken=<csrf>" X-CSRFToken:<csrf>
`);
    }
    console.log(`express-simplejwt demo on ${base}  (users: vitor / 123 active, sleeper / 123 inactive, admin / admin-demo-password)

HTTPie:
  http post ${base}/api/token/ username=vitor password=123
  http ${base}/hello/ "Authorization: Bearer <access>"
  http post ${base}/api/token/refresh/ refresh=<refresh>
  http post ${base}/api/token/verify/ token=<access>
  http post ${base}/api/token/blacklist/ refresh=<refresh>
  http ${base}/api/token/sessions/ "Authorization: Bearer <access>"

curl:
  curl -X POST ${base}/api/token/ -H 'Content-Type: application/json' -d '{"username": "vitor", "password": "123"}'
  curl ${base}/hello/ -H 'Authorization: Bearer <access>'
  curl -X POST ${base}/api/token/refresh/ -H 'Content-Type: application/json' -d '{"refresh": "<refresh>"}'
  curl -X POST ${base}/api/token/blacklist/ -H 'Content-Type: application/json' -d '{"refresh": "<refresh>"}'

Token lifetimes (log in as admin first):
  http ${base}/api/admin/token-lifetimes/ "Authorization: Bearer <admin access>"
  http put ${base}/api/admin/token-lifetimes/ "Authorization: Bearer <admin access>" access_token_lifetime=10m refresh_token_lifetime=1d${kitOptions.slidingTokens ? ' sliding_token_lifetime=5m sliding_token_refresh_lifetime=1d' : ''}
${extras.length > 0 ? `\n${extras.join('\n')}` : ''}
Public keys (RS/PS/ES): ${base}/.well-known/jwks.json${env.JWT_METRICS === 'true' ? `
Prometheus metrics (JWT_METRICS): ${base}/metrics` : ''}
`);
  });
  server.on('error', (err) => {
    console.error(`demo-app: cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  });
  // Graceful shutdown, as a process manager expects (SIGTERM; Ctrl-C sends SIGINT): stop accepting, let the
  // requests in flight finish, close the kit (limiter timers, password workers, store), then the demo's own
  // connections. Past the deadline, whatever is still running is cut. Further signals change nothing: Ctrl-C under
  // `npm start` delivers SIGINT twice (from the terminal and forwarded by npm).
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`demo-app: ${signal}, finishing the requests in flight (at most ${SHUTDOWN_DEADLINE_MS / 1000} s)`);
    const deadline = setTimeout(() => {
      console.error(`demo-app: requests still running after ${SHUTDOWN_DEADLINE_MS / 1000} s, closing them`);
      server.closeAllConnections();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    // Keep-alive connections that finish their request during the shutdown are closed as soon as they are idle.
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(sweep);
      void auth
        .close()
        .catch((err: unknown) => console.error(`demo-app: closing the kit failed: ${(err as Error).message}`))
        .finally(() => {
          redis?.disconnect();
          users.close();
          clearTimeout(deadline);
          process.exit(0);
        });
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

let workers = 1;
try {
  workers = parseWebConcurrency(process.env.WEB_CONCURRENCY);
} catch (err) {
  console.error(`demo-app: ${(err as Error).message}`);
  process.exit(2);
}
if (workers > 1 && cluster.isPrimary) runPrimary(workers);
else main();
