import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { rateLimit, ipKeyGenerator, type RateLimitRequestHandler } from 'express-rate-limit';
import { ThrottledError } from '../errors';
import type { Config } from '../config/resolve';
import { RedisStore } from '../stores/redis';
import { RedisStore as RedisRateLimitStore, type RedisReply } from 'rate-limit-redis';

/** Where the login handler leaves the username for the limiter's key. */
const kUsername = Symbol('express-simplejwt.username');

/**
 * The login limiter: express-rate-limit keyed by client address and username, counting failed attempts only
 * (a successful login does not count). It runs before bcrypt, so while a key is limited even the right
 * password is refused. Answers DRF's 429 through `ThrottledError`.
 */
export function createLoginThrottle(config: Config): ((req: Request, res: Response, username: string) => Promise<void>) | undefined {
  const throttle = config.loginThrottle;
  if (throttle === false) return undefined;
  const windowMs = throttle.rate.windowSeconds * 1000;
  // With a Redis token store, the limiter counts in the same Redis, so N servers do not allow N times the attempts.
  const tokenStore = config.store;
  const store =
    throttle.store ??
    (tokenStore instanceof RedisStore
      ? new RedisRateLimitStore({
          // Routed by key, so the limiter's one-key script (and its reload after NOSCRIPT) reaches the right Cluster node.
          sendCommandCluster: ({ key, command }) => tokenStore.sendCommand(command, key) as Promise<RedisReply>,
          prefix: `${tokenStore.prefix}rl:`,
        })
      : undefined);
  const limiter: RateLimitRequestHandler = rateLimit({
    windowMs,
    limit: throttle.rate.limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    skipSuccessfulRequests: true,
    ...(store ? { store } : {}),
    keyGenerator(req) {
      const username = (req as unknown as Record<symbol, string>)[kUsername] ?? '';
      // Hashed, so a key stays short however long the name: 16 KiB usernames would otherwise fill the store.
      const name = createHash('sha256').update(username.normalize('NFKC').toLowerCase()).digest('base64url');
      return `${ipKeyGenerator(req.ip ?? '')}|${name}`;
    },
    handler(req, _res, next) {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime?.getTime();
      const seconds = reset === undefined ? throttle.rate.windowSeconds : (reset - Date.now()) / 1000;
      next(new ThrottledError(seconds));
    },
    // The kit's own validations cover what matters here; keep express-rate-limit's start-up checks that do.
    validate: { creationStack: false },
  });

  return function throttleLogin(req: Request, res: Response, username: string): Promise<void> {
    (req as unknown as Record<symbol, string>)[kUsername] = username;
    return new Promise((resolve, reject) => {
      void Promise.resolve(limiter(req, res, (err?: unknown) => (err ? reject(err) : resolve()))).catch(reject);
    });
  };
}
