/**
 * Structured events for operators: `auth.events.on('login', (e) => ...)`. Each event is an object, never a
 * formatted string, and never carries a password or a token (only `jti`s and ids). Emitting costs nothing while
 * nobody listens.
 */
import { EventEmitter } from 'node:events';
import type { LoginFailedEvent, TokenReuseEvent } from './config/options';

/**
 * Every event and what it carries.
 *
 * @example
 * auth.events.on('loginFailed', ({ reason, ip }) => logger.warn({ reason, ip }, 'login failed'));
 * auth.events.on('storeOperation', ({ operation, durationMs }) => histogram.observe({ operation }, durationMs / 1000));
 */
export interface KitEventMap {
  /** A login issued a session (`sessionId` is its refresh or sliding token's `jti`). */
  login: { userId: string; sessionId: string; ip: string | undefined };
  /** A login was refused: the same reasons `onLoginFailed` gets. */
  loginFailed: LoginFailedEvent;
  /** A refresh: `rotated` (new refresh token), `retry` (the successor given again within `reuseInterval`), `access` (no rotation), `sliding`. */
  refresh: { userId: string; sessionId: string; kind: 'rotated' | 'retry' | 'access' | 'sliding' };
  /** A rotated refresh token came back: its session was ended. */
  tokenReuse: TokenReuseEvent;
  /** `POST /blacklist/`: a token and its session were revoked. */
  logout: { userId: string; jti: string };
  /** Sessions ended by the user or the host: one (`sessionId`), or all of them (`null`: "log out everywhere"). */
  sessionsEnded: { userId: string; sessionId: string | null };
  /** `authenticate()` refused a request; `code` is the error's code (`not_authenticated`, `token_not_valid`, ...). */
  authenticationFailed: { code: string; status: number };
  /** A store call failed or timed out (the request answered 503). */
  storeError: { operation: string; message: string };
  /** Every store call, with how long it took. */
  storeOperation: { operation: string; durationMs: number; ok: boolean };
}

/**
 * The name of an event.
 *
 * @example
 * const name: KitEventName = 'loginFailed';
 */
export type KitEventName = keyof KitEventMap;

/**
 * A typed `EventEmitter` for the kit's events. A listener that throws is reported through `logger.error` and
 * never breaks a request.
 *
 * @example
 * auth.events.on('tokenReuse', (event) => alerting.page('refresh token reuse', event));
 */
export class KitEvents extends EventEmitter {
  override on<K extends KitEventName>(event: K, listener: (payload: KitEventMap[K]) => void): this {
    return super.on(event, listener);
  }

  override once<K extends KitEventName>(event: K, listener: (payload: KitEventMap[K]) => void): this {
    return super.once(event, listener);
  }

  override off<K extends KitEventName>(event: K, listener: (payload: KitEventMap[K]) => void): this {
    return super.off(event, listener);
  }

  /** Whether anyone listens, so callers skip building a payload (and timing a call) nobody reads. */
  listening(event: KitEventName): boolean {
    return this.listenerCount(event) > 0;
  }

  /** Delivers an event; a throwing listener is caught and passed to `onListenerError`. */
  send<K extends KitEventName>(event: K, payload: KitEventMap[K]): void {
    if (this.listenerCount(event) === 0) return;
    for (const listener of this.listeners(event) as ((p: KitEventMap[K]) => void)[]) {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    }
  }

  /** Where listener errors go; the kit points it at its logger. */
  onListenerError: (event: KitEventName, err: unknown) => void = () => undefined;
}
