import type { Request } from 'express';
import type busboy from 'busboy';
import { AuthError, ValidationError, type FieldErrors } from '../errors';

/** A parsed request body: field name to value (strings for forms, any JSON value for JSON). */
export type Body = Record<string, unknown>;

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';
const MULTIPART_TYPE = 'multipart/form-data';

/** DRF `CharField` messages, one per failing field (`{"<field>": ["<message>"]}`). */
export const FIELD_MESSAGES = {
  required: 'This field is required.',
  null: 'This field may not be null.',
  notString: 'Not a valid string.',
  blank: 'This field may not be blank.',
  nullCharacter: 'Null characters are not allowed.',
} as const;

/** Python's name for a JSON value's type, as DRF puts it in "Expected a dictionary, but got list." */
function pythonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return typeof value;
}

function asDictionary(value: unknown): Body {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Body;
  throw new AuthError('parse_error', {
    detail: 'Invalid data.',
    body: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonTypeName(value)}.`] },
  });
}

function mediaTypeOf(req: Request): string | undefined {
  const header = req.headers['content-type'];
  if (header === undefined) return undefined;
  const semicolon = header.indexOf(';');
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Reads the raw body, refusing more than `limit` bytes (by Content-Length up front, else while streaming). */
function readRaw(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new AuthError('payload_too_large', { params: { limit: limit } }));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err: Error | null, body?: Buffer) => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (err) {
        req.resume();
        reject(err);
      } else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish(new AuthError('payload_too_large', { params: { limit: limit } }));
      else chunks.push(chunk);
    };
    const onEnd = () => finish(null, Buffer.concat(chunks, size));
    const onError = (err: Error) => finish(new AuthError('parse_error', { detail: 'Could not read the request body.', cause: err }));
    const onAborted = () => finish(new AuthError('parse_error', { detail: 'The request was aborted.' }));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}

/**
 * The reason `JSON.parse` gave, without the input it quotes: V8 writes `Unexpected token 'p', "password=hu"... is not
 * valid JSON`, echoing up to twenty characters of the body (a password, a token) back to the client. The messages
 * that give a position instead quote nothing and are kept.
 */
function jsonParseReason(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (message.startsWith('Unexpected token')) return `Unexpected token in JSON${/ at position \d+/.exec(message)?.[0] ?? ''}`;
  if (message === '' || message.includes('"')) return 'Invalid JSON';
  return message;
}

function parseForm(raw: Buffer): Body {
  const body: Body = {};
  // Repeated keys: the last value wins, as `QueryDict.__getitem__` does. Keys are literal: `username[$ne]`
  // stays a key of its own and never becomes an object.
  for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) {
    Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return body;
}

function parseMultipart(req: Request, raw: Buffer, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // Loaded on the first multipart body, not at start-up: most hosts only ever see JSON.
      const parse = require('busboy') as typeof busboy;
      parser = parse({ headers: req.headers, limits: { fieldSize: limit, fields: 64, files: 0, parts: 128 } });
    } catch (err) {
      reject(new AuthError('parse_error', { detail: `Multipart form parse error - ${(err as Error).message}`, cause: err }));
      return;
    }
    const body: Body = {};
    parser.on('field', (name, value) => {
      Object.defineProperty(body, name, { value, enumerable: true, writable: true, configurable: true });
    });
    parser.on('file', (_name, stream) => stream.resume());
    parser.on('error', (err: Error) => reject(new AuthError('parse_error', { detail: `Multipart form parse error - ${err.message}`, cause: err })));
    parser.on('close', () => resolve(body));
    parser.end(raw);
  });
}

/**
 * Reads a token endpoint's body: JSON, urlencoded or multipart, at most `limit` bytes. When the host already
 * parsed it (e.g. `express.json()`), its result is used. Answers DRF's errors: 415 for other (or missing) types
 * and for compressed bodies, 413 when too large, 400 for malformed JSON or a JSON value that is not an object.
 */
export async function readBody(req: Request, limit: number): Promise<Body> {
  const mediaType = mediaTypeOf(req);
  const alreadyParsed = (req as { _body?: boolean })._body === true || req.readableEnded;
  if (mediaType === undefined) {
    // DRF: no content type and no body is an empty dictionary (field errors follow); a body with no type is 415.
    if (!hasBody(req) || alreadyParsed) return {};
    throw new AuthError('unsupported_media_type', { params: { type: '', what: 'media type' } });
  }
  if (mediaType !== JSON_TYPE && mediaType !== FORM_TYPE && mediaType !== MULTIPART_TYPE) {
    throw new AuthError('unsupported_media_type', { params: { type: req.headers['content-type']!.trim(), what: 'media type' } });
  }
  if (alreadyParsed) return asDictionary(req.body ?? {});
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new AuthError('unsupported_media_type', { params: { type: encoding, what: 'content encoding' } });
  }
  const raw = await readRaw(req, limit);
  if (mediaType === JSON_TYPE) {
    if (raw.length === 0) return {};
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      // No `cause`: V8's message quotes the body, and a host's renderError or logger may print causes.
      throw new AuthError('parse_error', { detail: `JSON parse error - ${jsonParseReason(err)}` });
    }
    return asDictionary(value);
  }
  if (mediaType === FORM_TYPE) return parseForm(raw);
  return parseMultipart(req, raw, limit);
}

/**
 * Validates string fields the way DRF's `CharField` does (trimmed; numbers coerced; objects, arrays and
 * booleans refused) and reports every failing field, in declaration order.
 */
export function stringFields<const K extends string>(body: Body, names: readonly K[]): Record<K, string> {
  const errors: FieldErrors = {};
  const out = {} as Record<K, string>;
  for (const name of names) {
    const value = Object.prototype.hasOwnProperty.call(body, name) ? body[name] : undefined;
    let message: string | undefined;
    let text = '';
    if (value === undefined) message = FIELD_MESSAGES.required;
    else if (value === null) message = FIELD_MESSAGES.null;
    else if (typeof value === 'string') text = value.trim();
    else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
    else message = FIELD_MESSAGES.notString;
    if (message === undefined && text === '') message = FIELD_MESSAGES.blank;
    if (message === undefined && text.includes('\0')) message = FIELD_MESSAGES.nullCharacter;
    if (message !== undefined) errors[name] = [message];
    else out[name] = text;
  }
  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  return out;
}
