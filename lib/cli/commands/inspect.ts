import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import { checkKeyForAlgorithm, isAlgorithm, isHmac } from '../../keys/algorithms';
import { readSecret, SECRET_OPTIONS, UsageError, type CliIo, type Command } from '../registry';

/** `3h 2m`, `4m 12s`, `0s`: the two largest units. */
export function formatSpan(totalSeconds: number): string {
  let rest = Math.abs(Math.round(totalSeconds));
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size || (unit === 's' && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

function decodeJsonPart(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`not a JWT: its ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a JWT: its ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function time(seconds: unknown, now: number): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined;
  const at = new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
  const delta = seconds - now;
  return `${at} (${delta >= 0 ? `in ${formatSpan(delta)}` : `${formatSpan(delta)} ago`})`;
}

/** The public key in a PEM file (a private key's public half), or the JWKS entry the token's `kid` names. */
function keyFromFile(path: string, kid: unknown): KeyObject {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`--key: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (/-----BEGIN [A-Z0-9 ]+-----/.test(text)) return createPublicKey(text);
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new UsageError(`--key: ${path} is neither a PEM key nor a JWKS (for an HMAC secret use --secret)`);
  }
  const keys = (jwks as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new UsageError(`--key: ${path} is JSON but not a JWK set ({"keys": [...]})`);
  const match = keys.filter((k) => (kid === undefined ? keys.length === 1 : k?.kid === kid));
  if (match.length !== 1) throw new Error(`no key in ${path} has the token's kid ${JSON.stringify(kid ?? null)}`);
  return createPublicKey({ key: match[0], format: 'jwk' });
}

/** The verdict for an HMAC token given a key file: refused before the file is read (algorithm confusion). */
const HMAC_NEEDS_SECRET = (alg: string): string =>
  `INVALID: refused to check ${alg} with this key (the token says ${alg} (HMAC), so it needs the secret: --secret, --secret-file or --secret -)`;

/** The signature verdict, in words, and whether it is good. The secret is never printed. */
function checkSignature(token: string, alg: unknown, secret: string | undefined, key: KeyObject | undefined): [string, boolean] {
  if (!isAlgorithm(alg)) return [`INVALID: alg ${JSON.stringify(alg)} is not one the kit accepts`, false];
  const verifier = secret !== undefined ? createSecretKey(Buffer.from(secret, 'utf8')) : key!;
  const source = secret !== undefined ? '--secret' : '--key';
  try {
    checkKeyForAlgorithm(verifier, alg, source, 'verify');
  } catch (err) {
    if (isHmac(alg)) return [HMAC_NEEDS_SECRET(alg), false];
    return [`INVALID: refused to check ${alg} with this key (${(err as Error).message})`, false];
  }
  try {
    jwt.verify(token, verifier, { algorithms: [alg], ignoreExpiration: true, ignoreNotBefore: true });
    return [`valid (${alg}, checked with ${source})`, true];
  } catch (err) {
    return [`INVALID (${(err as Error).message})`, false];
  }
}

function print(io: CliIo, label: string, value: string | undefined): void {
  if (value !== undefined) io.out(`${`${label}:`.padEnd(11)}${value}`);
}

/**
 * `inspect <token>|- [--secret S|- | --secret-file F | --key file]`: the decoded header and claims, the signature
 * verdict, and the times (`iat`, `nbf`, `exp`) with how long until expiry. Exit 0 when the signature is good or
 * not checked, 1 when it is bad or the token is malformed. The secret is never printed.
 */
export const inspect: Command = {
  name: 'inspect',
  summary: 'decode a token: header, claims, signature verdict, time to expiry',
  usage: '<token>|- [--secret <secret>|- | --secret-file <path> | --key public.pem|jwks.json]',
  options: {
    ...SECRET_OPTIONS,
    key: {
      type: 'string',
      short: 'k',
      value: '<path>',
      description: "check an RS/PS/ES signature with a public (or private) PEM, or a JWKS file (the key the token's kid names)",
    },
  },
  positionals: { min: 1, max: 1, name: '<token>', description: 'the JWT, or "-" to read it from standard input' },
  async run({ values, positionals }, io) {
    if (values.key !== undefined && (values.secret !== undefined || values['secret-file'] !== undefined)) {
      throw new UsageError('give --secret or --key, not both');
    }
    if (positionals[0] === '-' && values.secret === '-') throw new UsageError('standard input can hold the token or the secret, not both');
    const secret = await readSecret(values, io);
    const token = (positionals[0] === '-' ? await io.readStdin() : positionals[0]!).trim();
    const parts = token.split('.');
    if (parts.length !== 3) throw new Error(`not a JWT: it has ${parts.length} part${parts.length === 1 ? '' : 's'}, not 3`);
    const header = decodeJsonPart(parts[0]!, 'header');
    const claims = decodeJsonPart(parts[1]!, 'payload');
    const hmacWithKey = values.key !== undefined && isAlgorithm(header.alg) && isHmac(header.alg);
    const key = values.key === undefined || hmacWithKey ? undefined : keyFromFile(String(values.key), header.kid);
    const now = io.now() / 1000;

    io.out(`header:    ${JSON.stringify(header)}`);
    io.out(`claims:    ${JSON.stringify(claims, null, 2).replace(/\n/g, '\n           ')}`);
    let good = true;
    if (hmacWithKey) {
      good = false;
      print(io, 'signature', HMAC_NEEDS_SECRET(String(header.alg)));
    } else if (secret === undefined && key === undefined) {
      print(io, 'signature', 'not checked (give --secret, --secret-file or --key)');
    } else {
      const [verdict, ok] = checkSignature(token, header.alg, secret, key);
      good = ok;
      print(io, 'signature', verdict);
    }
    print(io, 'issued', time(claims.iat, now));
    print(io, 'not before', time(claims.nbf, now));
    if (typeof claims.exp === 'number' && Number.isFinite(claims.exp)) {
      const left = claims.exp - now;
      print(io, 'expires', `${time(claims.exp, now)}${left <= 0 ? ': EXPIRED' : ''}`);
    } else {
      print(io, 'expires', 'never (no exp claim: the kit refuses such tokens)');
    }
    return good ? 0 : 1;
  },
};
