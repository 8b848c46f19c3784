/**
 * The one benchmark server. Every row of `bench/run.ts` runs this script in its own process, configured by
 * environment, so that all rows serve the same app shape and differ only in the auth middleware:
 *
 *   BENCH_KIND           bare | ours | stateless | fast-jwt | express-jwt | passport-jwt
 *   BENCH_SECRET         the HS256 secret (every kind; `bare` ignores it)
 *   BENCH_BCRYPT_ROUNDS  bcrypt cost of the bench user's hash and of the kit's dummy hash. Default 10.
 *   BENCH_KIT_OPTIONS    JSON merged into the simpleJwt() options, e.g. {"rotateRefreshTokens":true}
 *   BENCH_STORE          a key of STORES below: the token store plugged into the kit
 *
 * It listens on 127.0.0.1 on a free port, prints `listening <port>`, answers a `cpu` line on stdin with
 * `cpu <microseconds of CPU used so far>`, and exits when stdin closes (so it never outlives the runner) or on
 * SIGTERM/SIGINT (cleanly, so `node --cpu-prof` writes its profile).
 */
import readline from 'node:readline';
import express, { type RequestHandler } from 'express';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hashPassword, MemoryStore, PostgresStore, RedisStore, simpleJwt, SqliteStore, type Options } from '../../lib';
import { BENCH_USER, KINDS, type Kind } from '../shared';

/**
 * Token stores by `BENCH_STORE` name, each returning the simpleJwt() options that plug it in (the revocation
 * and rotation rows of bench/run.ts). `redis` connects to `BENCH_REDIS_URL`, a server the runner starts;
 * `redis-cluster` to `BENCH_REDIS_CLUSTER`, the masters of a 3-master cluster the runner starts; `postgres` to
 * `BENCH_POSTGRES_URL`, a throwaway PostgreSQL the runner starts (tables of its own per server process).
 */
const STORES: Record<string, () => Promise<Partial<Options>>> = {
  memory: async () => ({ store: new MemoryStore() }),
  sqlite: async () => ({ store: new SqliteStore(path.join(mkdtempSync(path.join(os.tmpdir(), 'simplejwt-bench-db-')), 'tokens.sqlite3')) }),
  redis: async () => {
    const url = env('BENCH_REDIS_URL');
    if (!url) throw new Error('BENCH_STORE=redis needs BENCH_REDIS_URL');
    const { default: Redis } = await import('ioredis');
    const client = new Redis(url);
    await new Promise((resolve) => client.once('ready', resolve));
    return { store: new RedisStore(client, { prefix: `bench-${process.pid}:`, warnings: { persistence: false } }) }; // a private Redis, no persistence on purpose
  },
  'redis-cluster': async () => {
    const nodes = env('BENCH_REDIS_CLUSTER');
    if (!nodes) throw new Error('BENCH_STORE=redis-cluster needs BENCH_REDIS_CLUSTER (JSON: [{ host, port }, ...])');
    const { Cluster } = await import('ioredis');
    const client = new Cluster(JSON.parse(nodes) as { host: string; port: number }[]);
    await new Promise((resolve) => client.once('ready', resolve));
    return { store: new RedisStore(client, { prefix: `bench-${process.pid}:`, warnings: { persistence: false } }) }; // a private Redis, no persistence on purpose
  },
  postgres: async () => {
    const url = env('BENCH_POSTGRES_URL');
    if (!url) throw new Error('BENCH_STORE=postgres needs BENCH_POSTGRES_URL');
    // The store opens its own pool (10 connections, the default); fresh tables for each server process.
    const store = new PostgresStore(url, { tablePrefix: `bench_${process.pid}_` });
    await store.init();
    return { store };
  },
};

interface User {
  id: number;
  username: string;
  password: string;
  isActive: boolean;
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

async function kitOptions(): Promise<Partial<Options>> {
  const store = env('BENCH_STORE');
  const extra = JSON.parse(env('BENCH_KIT_OPTIONS') ?? '{}') as Partial<Options>;
  if (store === undefined) return extra;
  const plug = STORES[store];
  if (!plug) throw new Error(`unknown BENCH_STORE "${store}"; known: ${Object.keys(STORES).join(', ') || 'none yet'}`);
  return { ...(await plug()), ...extra };
}

/** The auth middleware for `/hello/`, and the token router when the kind has one. */
async function authFor(kind: Kind, secret: string): Promise<{ guard?: RequestHandler; router?: RequestHandler }> {
  const rounds = Number(env('BENCH_BCRYPT_ROUNDS') ?? 10);
  const users = new Map<string, User>();
  users.set(String(BENCH_USER.id), { ...BENCH_USER, password: await hashPassword(BENCH_USER.password, rounds), isActive: true });
  const findById = (id: string) => users.get(id);

  switch (kind) {
    case 'bare':
      return {};
    case 'ours':
    case 'stateless': {
      const auth = simpleJwt<User>({
        secret,
        bcryptRounds: rounds,
        loginThrottle: false,
        warnings: false,
        findUserById: findById,
        findUserByUsername: (name) => (name === BENCH_USER.username ? findById(String(BENCH_USER.id)) : undefined),
        ...(await kitOptions()),
      });
      return { guard: auth.authenticate(kind === 'stateless' ? { stateless: true } : {}), router: auth.router };
    }
    case 'fast-jwt': {
      // The hand-wired peer: fast-jwt's verifier with its verified-token cache (1000 tokens, keys hashed, as its
      // README's `cache: true`), a Bearer header, and the same in-memory user lookup as `ours`.
      const { createVerifier } = await import('fast-jwt');
      const verify = createVerifier({ key: secret, algorithms: ['HS256'], cache: true });
      const guard: RequestHandler = (req, res, next) => {
        const header = req.headers.authorization;
        if (header === undefined || !header.startsWith('Bearer ')) {
          res.status(401).json({ detail: 'Authentication credentials were not provided.' });
          return;
        }
        let payload: { user_id?: unknown };
        try {
          payload = verify(header.slice(7)) as { user_id?: unknown };
        } catch {
          res.status(401).json({ detail: 'Given token not valid for any token type' });
          return;
        }
        const user = findById(String(payload.user_id));
        if (!user || !user.isActive) {
          res.status(401).json({ detail: 'User not found' });
          return;
        }
        (req as { user?: User }).user = user;
        next();
      };
      return { guard };
    }
    case 'express-jwt': {
      // As express-jwt's README shows. Peers are loaded only by their own server, so no other row pays for them.
      const { expressjwt } = await import('express-jwt');
      return { guard: expressjwt({ secret, algorithms: ['HS256'] }) as RequestHandler };
    }
    case 'passport-jwt': {
      // As passport-jwt's README shows, with the same in-memory user lookup as `ours`.
      const { default: passport } = await import('passport');
      const { ExtractJwt, Strategy: JwtStrategy } = await import('passport-jwt');
      const options = { jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), secretOrKey: secret };
      passport.use(
        new JwtStrategy(options, (payload: { user_id?: string }, done: (err: unknown, user?: unknown) => void) => {
          done(null, findById(String(payload.user_id)) ?? false);
        }),
      );
      return { guard: passport.authenticate('jwt', { session: false }) as RequestHandler };
    }
  }
}

async function main(): Promise<void> {
  const kind = env('BENCH_KIND') as Kind;
  if (!KINDS.includes(kind)) throw new Error(`BENCH_KIND must be one of ${KINDS.join(', ')}; got ${String(kind)}`);
  const { guard, router } = await authFor(kind, env('BENCH_SECRET') ?? '');

  const app = express();
  app.disable('x-powered-by');
  if (router) app.use('/api/token', router);
  const hello: RequestHandler = (_req, res) => {
    res.json({ message: 'Hello, World!' });
  };
  if (guard) app.get('/hello/', guard, hello);
  else app.get('/hello/', hello);

  const server = app.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(`listening ${typeof address === 'object' && address ? address.port : 0}`);
  });
  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  readline
    .createInterface({ input: process.stdin })
    .on('line', (line) => {
      if (line !== 'cpu') return;
      const { user, system } = process.cpuUsage();
      console.log(`cpu ${user + system}`);
    })
    .on('close', stop);
}

main().catch((err: unknown) => {
  console.error(`bench server: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
