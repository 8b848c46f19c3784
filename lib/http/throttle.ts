import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { ipKeyGenerator, MemoryStore, type ClientRateLimitInfo, type Options as RateLimitOptions, type Store } from 'express-rate-limit';
import { AuthError, ThrottledError } from '../errors';
import type { Config } from '../config/resolve';
import { describeError } from '../util';
import { RedisStore } from '../stores/redis';
import { PostgresStore } from '../stores/postgres';
import type { RedisStore as RateLimitRedisStore, RedisReply } from 'rate-limit-redis';
import { requireOptional } from '../util';

/**
 * rate-limit-redis's store, loaded when a limiter first needs it: the package is an optional peer that only a kit
 * with a RedisStore token store uses. Without it, building such a kit throws one error saying how to install it.
 */
const RedisRateLimitStore = function RedisRateLimitStore(...args: ConstructorParameters<typeof RateLimitRedisStore>) {
  const { RedisStore: Store } = requireOptional<typeof import('rate-limit-redis')>('rate-limit-redis', 'the login throttle over a RedisStore');
  return new Store(...args);
} as unknown as typeof RateLimitRedisStore;

/**
 * Distinct usernames one client address may fail on per window, each with its own counter. Past it, the
 * address's failures on any other name share one counter (`<address>|*`): one address can never create more
 * than this many limiter keys, however many names it sends (issue: a random-username storm kept 614 B per request).
 */
export const NAMES_PER_ADDRESS = 100;

/** One login attempt that passed the limiter: `failed()` counts a credential failure, `end()` always follows. */
export interface LoginAttempt {
  /** Counts this attempt as a credential failure (401 `no_active_account`); the only outcome that counts. */
  failed(): Promise<void>;
  /** Releases the attempt's in-flight reservation; call it whatever happened (`finally`). */
  end(): void;
}

/**
 * The login limiter. `begin()` runs before the password check and never writes: it refuses with 503
 * `server_busy` when the password pool (or this address's share of it) is full, 429 when the key is limited,
 * 503 `store_unavailable` when the limiter's store fails or does not answer within `storeTimeoutMs`.
 */
export interface LoginLimiter {
  begin(req: Request, res: Response, username: string): Promise<LoginAttempt>;
  /** Stops the timers of a store the kit made (the in-memory one); never touches a store the host passed. */
  close(): Promise<void>;
}

/** The reset time of a counter, or `now + window` when the store gave none. */
function resetOf(info: ClientRateLimitInfo | undefined, windowMs: number): number {
  return info?.resetTime?.getTime() ?? Date.now() + windowMs;
}

/**
 * The login limiter: a fixed-window counter per client address and username (the name folded with NFKC and lower
 * case, hashed to a short key), in any express-rate-limit store; with a Redis token store, in the same Redis
 * (rate-limit-redis), with a PostgresStore in its database (`rateLimitStore()`), so N servers do not allow N times
 * the attempts.
 *
 * Only credential failures count (`failed()` after a 401 `no_active_account`): a success, a 400, a 503
 * `server_busy` or `store_unavailable` never do, so a storm that saturates the password pool cannot lock anyone
 * out. `begin()` only reads the counters (`store.get`), adding this process's attempts still in flight so a burst
 * of parallel guesses cannot overshoot the limit; a name the address never failed on creates no key until it fails.
 * Every store call is bounded by `storeTimeoutMs`; a store that fails or stalls answers 503 `store_unavailable`
 * and the next login tries it again (a store whose `init()` failed is initialised again).
 */
export function createLoginLimiter(config: Config): LoginLimiter | undefined {
  const throttle = config.loginThrottle;
  if (throttle === false) return undefined;
  const { limit } = throttle.rate;
  const windowMs = throttle.rate.windowSeconds * 1000;
  const { storeTimeoutMs, logger, hashingPool } = config;
  const tokenStore = config.store;
  const ownStore = throttle.store === undefined;
  const store: Store =
    throttle.store ??
    (tokenStore instanceof RedisStore
      ? new RedisRateLimitStore({
          // Routed by key, so the limiter's one-key script (and its reload after NOSCRIPT) reaches the right Cluster node.
          sendCommandCluster: ({ key, command }) => tokenStore.sendCommand(command, key) as Promise<RedisReply>,
          prefix: `${tokenStore.prefix}rl:`,
        })
      : tokenStore instanceof PostgresStore
        ? tokenStore.rateLimitStore('login:')
        : new MemoryStore());
  if (typeof store.get !== 'function') {
    throw new TypeError('"loginThrottle.store" must implement get(key) (every express-rate-limit store since v7 does): the limiter reads before it counts');
  }
  const read = store.get.bind(store);
  // One address may hold as many password checks at once as the pool has threads (at least 4, so a client's few
  // parallel attempts still get 401 or 429): someone else's login waits behind few of an attacker's checks.
  // Without worker threads, a quarter of the queue.
  const { threads, maxPending } = hashingPool;
  const perAddress = Math.max(4, threads > 0 ? Math.min(threads, Math.floor(maxPending / 4)) : Math.floor(maxPending / 4));
  const policy = `${limit};w=${throttle.rate.windowSeconds}`;

  /** Attempts in flight in this process, per counter key and per address (entries removed at zero). */
  const inFlight = new Map<string, number>();
  const bump = (key: string, by: number) => {
    const next = (inFlight.get(key) ?? 0) + by;
    if (next <= 0) inFlight.delete(key);
    else inFlight.set(key, next);
  };

  let lastFailureLog = 0;
  function unavailable(err: unknown): AuthError {
    const now = Date.now();
    if (now - lastFailureLog > 10_000) {
      lastFailureLog = now;
      logger.error(`[express-simplejwt] login limiter store unavailable: ${describeError(err)}`);
    }
    return new AuthError('store_unavailable', { cause: err });
  }

  let initialising: Promise<void> | undefined;
  let initFailed = false;
  function init(): Promise<void> | undefined {
    if (typeof store.init !== 'function') return undefined;
    initFailed = false;
    initialising = Promise.resolve()
      .then(() => store.init!({ windowMs, limit } as RateLimitOptions))
      .then(
        () => undefined,
        (err: unknown) => {
          initFailed = true;
          throw err;
        },
      );
    initialising.catch((err: unknown) => unavailable(err));
    return initialising;
  }
  init();

  /** One store call, bounded by `storeTimeoutMs`; failure or silence becomes 503 `store_unavailable`. */
  function bounded<T>(operation: () => Promise<T> | T): Promise<T> {
    const run = async () => {
      if (initFailed) init();
      await initialising;
      return operation();
    };
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A store that stalled during init (a blackholed Redis) is initialised again next time.
        initFailed = true;
        reject(unavailable(new Error(`no answer within ${storeTimeoutMs} ms`)));
      }, storeTimeoutMs);
      timer.unref?.();
      run().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof AuthError && err.code === 'store_unavailable' ? err : unavailable(err));
        },
      );
    });
  }

  let warnedForwarded = false;
  /** The express-rate-limit check we no longer get from its middleware: a proxy header Express ignores. */
  function checkForwarded(req: Request): void {
    if (warnedForwarded || req.headers['x-forwarded-for'] === undefined || req.app?.get?.('trust proxy')) return;
    warnedForwarded = true;
    logger.warn(
      '[express-simplejwt] UNEXPECTED_X_FORWARDED_FOR: a login came with X-Forwarded-For but Express\'s "trust proxy" is off, so every client behind the proxy shares one throttle budget; set app.set(\'trust proxy\', <number of proxies>) (logged once)',
    );
  }

  function setHeaders(res: Response, used: number, reset: number): void {
    if (res.headersSent) return;
    const seconds = Math.max(0, Math.ceil((reset - Date.now()) / 1000));
    res.setHeader('RateLimit-Policy', policy);
    res.setHeader('RateLimit', `limit=${limit}, remaining=${Math.max(0, limit - used)}, reset=${seconds}`);
  }

  function throttled(res: Response, reset: number): ThrottledError {
    setHeaders(res, limit, reset);
    return new ThrottledError((reset - Date.now()) / 1000);
  }

  async function begin(req: Request, res: Response, username: string): Promise<LoginAttempt> {
    checkForwarded(req);
    const address = ipKeyGenerator(req.ip ?? '');
    const addressKey = `${address}|>`;
    // Capacity first: a login refused for load touches no counter and is never counted.
    if (!hashingPool.hasCapacity()) throw new AuthError('server_busy');
    // Hashed, so a key stays short however long the name: 16 KiB usernames would otherwise fill the store.
    const name = createHash('sha256').update(username.normalize('NFKC').toLowerCase()).digest('base64url');
    const userKey = `${address}|${name}`;
    const namesKey = `${address}|#`;
    const overflowKey = `${address}|*`;
    const [user, names, overflow] = await bounded(() => Promise.all([read(userKey), read(namesKey), read(overflowKey)]));
    // From here to the reservation nothing awaits: the decision and the in-flight counts change together.
    let key: string;
    let used: number;
    let reset: number;
    let newName = false;
    const userHits = (user?.totalHits ?? 0) + (inFlight.get(userKey) ?? 0);
    if (userHits > 0) {
      // A name this address already failed on (or is trying right now): its own counter.
      [key, used, reset] = [userKey, userHits, resetOf(user, windowMs)];
    } else if ((names?.totalHits ?? 0) + (inFlight.get(namesKey) ?? 0) >= NAMES_PER_ADDRESS) {
      // The address used up its names: every other name shares one counter.
      [key, used, reset] = [overflowKey, (overflow?.totalHits ?? 0) + (inFlight.get(overflowKey) ?? 0), resetOf(overflow, windowMs)];
    } else {
      [key, used, reset, newName] = [userKey, 0, Date.now() + windowMs, true];
    }
    if (used >= limit) throw throttled(res, reset);
    // Not limited, but this address already holds its share of the password pool.
    if ((inFlight.get(addressKey) ?? 0) >= perAddress) throw new AuthError('server_busy');
    setHeaders(res, used, reset);
    bump(addressKey, 1);
    bump(key, 1);
    if (newName) bump(namesKey, 1);
    let ended = false;
    return {
      async failed() {
        const counted = await bounded(() => store.increment(key));
        // The first failure on a name makes its key: count it against the address's names.
        if (key === userKey && counted.totalHits === 1) await bounded(() => store.increment(namesKey));
        setHeaders(res, counted.totalHits, resetOf(counted, windowMs));
      },
      end() {
        if (ended) return;
        ended = true;
        bump(addressKey, -1);
        bump(key, -1);
        if (newName) bump(namesKey, -1);
      },
    };
  }

  return {
    begin,
    async close() {
      if (ownStore) await store.shutdown?.();
    },
  };
}
