import type { NextFunction, Request, Response } from 'express';
import { AuthError, internalError } from '../errors';
import type { Logger } from '../config/warnings';
import { describeError } from '../util';

/** DRF answers `application/json` without a charset; so do we. */
const JSON_TYPE = 'application/json';

/** Writes a JSON body without Express's helpers, so the kit behaves the same on Express 4 and 5. */
export function sendJson(res: Response, status: number, body: string, headers?: Readonly<Record<string, string>>): void {
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  if (headers) for (const name of Object.keys(headers)) res.setHeader(name, headers[name]!);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}


/** The request's path for a log line, without the query string: it may carry a password or a token (CWE-598). */
function pathOf(req: Request): string {
  const url = req.originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Renders any error the kit meets: an `AuthError` as its wire body; anything else as a generic 500 and one log
 * line. Every 401 carries `WWW-Authenticate`. With `errors: 'next'`, the response headers are set and the error
 * goes to the host's error handler through `next(err)` instead: an `AuthError` as is, anything a host callback
 * threw unchanged (no log line: the host's handler decides).
 */
export function createErrorRenderer(
  wwwAuthenticate: string,
  logger: Logger,
  custom: ((err: AuthError, req: Request, res: Response) => void) | undefined,
  mode: 'respond' | 'next' = 'respond',
) {
  return function renderError(err: unknown, req: Request, res: Response, extraHeaders?: Record<string, string>, next?: NextFunction): void {
    if (mode === 'next' && next) {
      if (!res.headersSent) {
        if (err instanceof AuthError) {
          if (err.status === 401) res.setHeader('WWW-Authenticate', wwwAuthenticate);
          for (const name of Object.keys(err.headers)) res.setHeader(name, err.headers[name]!);
        }
        if (extraHeaders) for (const name of Object.keys(extraHeaders)) res.setHeader(name, extraHeaders[name]!);
      }
      next(err);
      return;
    }
    let authError: AuthError;
    if (err instanceof AuthError) {
      authError = err;
      if (err.code === 'internal_error') logger.error(`[express-simplejwt] ${req.method} ${pathOf(req)}: ${describeError(err.cause ?? err)}`);
    } else {
      logger.error(`[express-simplejwt] ${req.method} ${pathOf(req)}: ${describeError(err)}`);
      authError = internalError(err);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (authError.status === 401) res.setHeader('WWW-Authenticate', wwwAuthenticate);
    if (extraHeaders) for (const name of Object.keys(extraHeaders)) res.setHeader(name, extraHeaders[name]!);
    if (custom) {
      for (const name of Object.keys(authError.headers)) res.setHeader(name, authError.headers[name]!);
      custom(authError, req, res);
      return;
    }
    sendJson(res, authError.status, JSON.stringify(authError.body), authError.headers);
  };
}

export type ErrorRenderer = ReturnType<typeof createErrorRenderer>;
