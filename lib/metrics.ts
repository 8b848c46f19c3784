/**
 * The optional Prometheus exporter: counters and a histogram fed by `auth.events`, in a prom-client registry.
 * prom-client is an optional peer dependency, loaded only when this is called.
 */
import type { Request, Response } from 'express';
import type { KitEvents } from './events';

/**
 * Options of `prometheusMetrics()`.
 *
 * @example
 * const metrics = prometheusMetrics(auth, { prefix: 'myapp_auth_' });
 */
export interface PrometheusMetricsOptions {
  /** A prom-client `Registry` to register in (e.g. the default `register`, next to your own metrics). Default: a new one. */
  registry?: unknown;
  /** Prefix of every metric name. Default `'sjwt_'`. */
  prefix?: string;
}

/**
 * What `prometheusMetrics()` returns: the registry and a `/metrics` handler.
 *
 * @example
 * app.get('/metrics', metrics.handler);
 */
export interface PrometheusMetrics {
  /** The prom-client registry holding the kit's metrics. */
  registry: { metrics(): Promise<string>; contentType: string };
  /** Serves the registry in Prometheus's text format. */
  handler: (req: Request, res: Response) => void;
  /** Stops feeding the metrics (removes the event listeners). */
  stop: () => void;
}

interface PromClient {
  Registry: new () => PrometheusMetrics['registry'];
  Counter: new (config: { name: string; help: string; labelNames?: string[]; registers: unknown[] }) => {
    inc(labels?: Record<string, string>, value?: number): void;
  };
  Histogram: new (config: { name: string; help: string; labelNames?: string[]; buckets: number[]; registers: unknown[] }) => {
    observe(labels: Record<string, string>, value: number): void;
  };
}

function loadPromClient(): PromClient {
  try {
    return require('prom-client') as PromClient;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'MODULE_NOT_FOUND') {
      throw new TypeError('prometheusMetrics() needs the prom-client package: npm install prom-client', { cause: err });
    }
    throw err;
  }
}

/**
 * Counts the kit's events in Prometheus metrics, named by convention:
 * `sjwt_logins_total{result}` (`ok` or the failure reason), `sjwt_refreshes_total{kind}`, `sjwt_token_reuse_total`,
 * `sjwt_logouts_total`, `sjwt_sessions_ended_total{scope}` (`one`, `all`), `sjwt_authentication_failures_total{code}`,
 * `sjwt_store_errors_total{operation}` and the histogram `sjwt_store_operation_duration_seconds{operation}`.
 *
 * @example
 * import { prometheusMetrics } from 'express-simplejwt';
 * const metrics = prometheusMetrics(auth);
 * app.get('/metrics', metrics.handler); // keep it off the public internet
 */
export function prometheusMetrics(auth: { events: KitEvents }, options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const client = loadPromClient();
  const prefix = options.prefix ?? 'sjwt_';
  if (typeof prefix !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new TypeError('prometheusMetrics(): "prefix" must be a Prometheus name prefix such as "sjwt_"');
  }
  const registry = (options.registry as PrometheusMetrics['registry'] | undefined) ?? new client.Registry();
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new client.Counter({ name: prefix + name, help, labelNames, registers });
  const logins = counter('logins_total', 'Logins, by result: ok or the reason of the refusal.', ['result']);
  const refreshes = counter('refreshes_total', 'Refreshes, by kind: rotated, retry, access, sliding.', ['kind']);
  const reuse = counter('token_reuse_total', 'Rotated refresh tokens presented again (their sessions were ended).');
  const logouts = counter('logouts_total', 'Logouts (POST /blacklist/).');
  const ended = counter('sessions_ended_total', 'Sessions ended by the user or the host: one, or all of a user.', ['scope']);
  const authFailures = counter('authentication_failures_total', 'Requests authenticate() refused, by error code.', ['code']);
  const storeErrors = counter('store_errors_total', 'Token store calls that failed or timed out, by operation.', ['operation']);
  const storeDuration = new client.Histogram({
    name: `${prefix}store_operation_duration_seconds`,
    help: 'Token store calls, by operation.',
    labelNames: ['operation'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers,
  });

  const listeners = {
    login: () => logins.inc({ result: 'ok' }),
    loginFailed: ({ reason }: { reason: string }) => logins.inc({ result: reason }),
    refresh: ({ kind }: { kind: string }) => refreshes.inc({ kind }),
    tokenReuse: () => reuse.inc(),
    logout: () => logouts.inc(),
    sessionsEnded: ({ sessionId }: { sessionId: string | null }) => ended.inc({ scope: sessionId === null ? 'all' : 'one' }),
    authenticationFailed: ({ code }: { code: string }) => authFailures.inc({ code }),
    storeError: ({ operation }: { operation: string }) => storeErrors.inc({ operation }),
    storeOperation: ({ operation, durationMs }: { operation: string; durationMs: number }) =>
      storeDuration.observe({ operation }, durationMs / 1000),
  };
  for (const [event, listener] of Object.entries(listeners)) auth.events.on(event as never, listener as never);

  return {
    registry,
    handler(_req, res) {
      registry.metrics().then(
        (text) => {
          res.statusCode = 200;
          res.setHeader('Content-Type', registry.contentType);
          res.end(text);
        },
        () => {
          res.statusCode = 500;
          res.end();
        },
      );
    },
    stop() {
      for (const [event, listener] of Object.entries(listeners)) auth.events.off(event as never, listener as never);
    },
  };
}
