import { isUtf8 } from 'node:buffer';
import { constants, createHmac, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AuthError, tokenError, TOKEN_MESSAGES } from '../errors';
import type { Algorithm } from '../config/options';
import { ALGORITHMS } from '../keys/algorithms';
import { singleKeySet, type KeySet, type VerifyKey } from '../keys/keyset';
import { isThenable } from '../util';

/**
 * A verified token's claims. Names are simplejwt's defaults; the keys are configurable.
 *
 * @example
 * const claims: TokenClaims = await auth.tokens.verify(token, 'access');
 * claims.user_id; // '1'
 */
export interface TokenClaims {
  token_type?: string;
  exp?: number;
  iat?: number;
  jti?: string;
  user_id?: string | number;
  [claim: string]: unknown;
}

/**
 * The header and claims of a token whose signature checked out.
 *
 * @example
 * const decoded: DecodedToken = { header: { alg: 'HS256', typ: 'JWT' }, claims: { token_type: 'access', user_id: '1' } };
 */
export interface DecodedToken {
  header: Record<string, unknown>;
  claims: TokenClaims;
}

/** What the codec needs to know; the factory computes it once. */
export interface CodecOptions {
  /** Shorthand for one key: the algorithm it is pinned to ... */
  algorithm?: Algorithm;
  /** ... and the key: a secret (signs and verifies), a private key (signs; its public half verifies) or a public key (verifies). */
  key?: KeyObject;
  /** The key set from `resolveKeySet()`, in place of `algorithm` + `key`. */
  keys?: KeySet;
  /** Tolerance for `exp`, `nbf` and `iat`, in seconds. */
  leeway: number;
  /** `aud`: written by the token factory, required here (a string, or an array holding one of ours). */
  audience?: string | readonly string[];
  /** `iss`: written by the token factory, required here. */
  issuer?: string;
}

/** Tokens longer than this are refused before any decoding (a JWT of ours is about 250 bytes; RS512 about 600). */
export const MAX_TOKEN_LENGTH = 8192;
/** Header parameters this kit understands; a `crit` naming anything else is refused (RFC 7515 §4.1.11). */
const UNDERSTOOD_CRIT: ReadonlySet<string> = new Set();
const COMPACT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function invalid(cause?: unknown): AuthError {
  return tokenError(TOKEN_MESSAGES.invalid, cause);
}

/** Freezes a value and everything in it, so claims shared through the verified-token cache cannot be changed. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}


/** The hash of each algorithm size, as `node:crypto` names it. */
const HASHES = { 256: 'sha256', 384: 'sha384', 512: 'sha512' } as const;
/** RFC 7518 §3.5: PSS with MGF1 on the same hash and a salt as long as the hash. */
const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } as const;

/**
 * Whether `signature` (raw bytes) signs `input` (the token up to its second dot) under the key, with the key's one
 * algorithm (RFC 7518 §3): an HMAC compared in constant time, RSASSA-PKCS1-v1_5, RSASSA-PSS, or ECDSA with the
 * JOSE form of the signature (r and s as fixed-length big-endian integers). The key and the algorithm come from
 * the key set, which checked at start-up that they fit each other, never from the token.
 */
function signatureMatches(found: VerifyKey, input: string, signature: Buffer): boolean {
  const { family, bits } = ALGORITHMS[found.algorithm];
  const hash = HASHES[bits];
  if (family === 'HS') {
    const mac = createHmac(hash, found.key).update(input).digest();
    return mac.length === signature.length && timingSafeEqual(mac, signature);
  }
  const data = Buffer.from(input, 'latin1');
  if (family === 'RS') return verifySignature(hash, data, found.key, signature);
  if (family === 'PS') return verifySignature(hash, data, { key: found.key, ...PSS }, signature);
  return verifySignature(hash, data, { key: found.key, dsaEncoding: 'ieee-p1363' }, signature);
}

/** One part of a compact token as text: bytes that are not UTF-8 are `Token is invalid` (RFC 7519 §7.2; RFC 8725 §3.7). */
function partText(part: string): string {
  const bytes = Buffer.from(part, 'base64url');
  if (!isUtf8(bytes)) throw invalid();
  return bytes.toString('utf8');
}

/** The protected header, decoded only to read `alg` and `kid`; anything malformed is `Token is invalid`. */
function readHeader(token: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(partText(token.slice(0, token.indexOf('.'))));
  } catch (err) {
    throw invalid(err);
  }
  if (!isPlainObject(header)) throw invalid();
  return header;
}

/**
 * Signs compact JWS tokens with jsonwebtoken and prebuilt KeyObjects (about 50 times faster than a string
 * secret), and verifies them itself, decoding each part once, with `node:crypto` (see `signatureMatches`). Each key
 * is pinned to one algorithm. The verifying key is found by the header's `kid` in the configured key set only
 * (`jku`, `x5u`, `jwk`, `x5c` are never read), and the header's `alg` must be that key's algorithm: `none`, or
 * HS256 signed with a public key as the secret, can never pass. Refused as `Token is invalid`: anything but three
 * base64url parts, tokens over `MAX_TOKEN_LENGTH`, headers and payloads that are not UTF-8 JSON objects (a JSON
 * string holding an object included), unknown `crit` headers, signatures of the wrong length or not in canonical
 * base64url, a wrong signature, non-numeric time claims, `iat`/`nbf` in the future, an `aud` that is not ours
 * (RFC 7519 §4.1.3), an `iss` that is not ours.
 *
 * Synchronous for local keys; `decode` returns a promise only when the key comes from a remote JWKS.
 */
export function createCodec({ algorithm, key, keys, leeway, audience, issuer }: CodecOptions) {
  if (!keys) {
    if (!algorithm || !key) throw new TypeError('createCodec() needs "keys", or "algorithm" and "key"');
    keys = singleKeySet(algorithm, key);
  }
  const keySet = keys;
  const { signer } = keySet;
  // The header jsonwebtoken writes for an object payload, `{"alg","typ":"JWT"}` then `kid`; we hand it JSON text instead.
  const signOptions: jwt.SignOptions | undefined = signer && {
    algorithm: signer.algorithm,
    header: { alg: signer.algorithm, typ: 'JWT' },
    ...(signer.kid === undefined ? {} : { keyid: signer.kid }),
  };
  const audiences = audience === undefined ? undefined : new Set<string>(typeof audience === 'string' ? [audience] : audience);

  /**
   * Signs a payload as is (claim order kept), with the signing key's `kid` in the header when there is one. It goes
   * to jsonwebtoken as JSON text: given an object, jsonwebtoken checks each claim name against a plain object of
   * validators, so a claim named `constructor` or `toString` made it throw.
   */
  function sign(payload: Record<string, unknown>): string {
    if (!signer) throw new AuthError('verify_only');
    return jwt.sign(JSON.stringify(payload), signer.key, signOptions);
  }

  /** RFC 7519 §4.1.3: a token that names audiences must name one of ours; one that names none passes only if we have none. */
  function audienceMatches(aud: unknown): boolean {
    if (aud === undefined) return audiences === undefined;
    if (audiences === undefined) return false;
    if (typeof aud === 'string') return audiences.has(aud);
    return Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string') && aud.some((a) => audiences.has(a));
  }

  /**
   * Tokens whose signature, shape and time-independent claims already checked out, by their exact text: a client
   * sends the same access token on every request for minutes, and this skips decoding it twice and the signature
   * check. Only the time checks run again. Never used for remote JWKS keys, which can change under us. A hit
   * needs the exact string of a token that verified, so it cannot be forged.
   *
   * Bounded in two generations of `VERIFIED_GENERATION` tokens: new tokens go into `recent`; when it is full it
   * becomes `older` and the previous `older` is dropped whole; a hit in `older` moves the token back into `recent`.
   * So a miss costs one `Map.set`, whatever the traffic. (Evicting the oldest entry one by one, through
   * `keys().next()`, made every miss of a full cache walk the holes earlier deletions leave at the front of the
   * Map: about 5 µs per request, the largest cost of a request with a token not seen lately.)
   */
  let recent = new Map<string, DecodedToken>();
  let older = new Map<string, DecodedToken>();
  const VERIFIED_GENERATION = 5_000;

  function remember(token: string, decoded: DecodedToken): void {
    if (recent.size >= VERIFIED_GENERATION) {
      older = recent;
      recent = new Map();
    }
    recent.set(token, decoded);
  }

  function recall(token: string): DecodedToken | undefined {
    const hit = recent.get(token);
    if (hit !== undefined) return hit;
    const old = older.get(token);
    if (old !== undefined) remember(token, old);
    return old;
  }

  /** The claims checks that depend on the clock, in simplejwt's order: future `nbf`/`iat` are invalid, then expiry. */
  function checkTimes(decoded: DecodedToken, now: number, checkExp: boolean): DecodedToken {
    const { exp, nbf, iat } = decoded.claims;
    if (nbf !== undefined && (nbf as number) > now + leeway) throw invalid();
    if (iat !== undefined && iat > now + leeway) throw invalid();
    if (checkExp && typeof exp === 'number' && exp <= now - leeway) throw tokenError(TOKEN_MESSAGES.expired);
    // A copy: the host may add to `req.auth`, and the cached claims must stay as signed.
    return { header: decoded.header, claims: { ...decoded.claims } };
  }

  /** Everything after the key is known: signature, header, claims, then expiry. */
  function check(token: string, header: Record<string, unknown>, found: VerifyKey | undefined, now: number, checkExp: boolean, cache: boolean): DecodedToken {
    if (found === undefined || header.alg !== found.algorithm) throw invalid();
    const lastDot = token.lastIndexOf('.');
    const signature = token.slice(lastDot + 1);
    if (signature.length !== found.signatureLength) throw invalid();
    // base64url leaves unused bits in the last character: only the spelling with them zero is the signature
    // (otherwise one signature would have up to four spellings, so four distinct valid tokens).
    const signatureBytes = Buffer.from(signature, 'base64url');
    if (signatureBytes.toString('base64url') !== signature) throw invalid();
    // RFC 7519 §7.2 step 10: the claims are one JSON object in UTF-8 (not a JSON string holding one, not text with
    // invalid UTF-8 turned into replacement characters).
    const payload = partText(token.slice(token.indexOf('.') + 1, lastDot));
    if (!/^[\t\n\r ]*\{/.test(payload)) throw invalid();
    let valid: boolean;
    try {
      valid = signatureMatches(found, token.slice(0, lastDot), signatureBytes);
    } catch (err) {
      throw invalid(err);
    }
    if (!valid) throw invalid();
    let claims: unknown;
    try {
      claims = JSON.parse(payload);
    } catch (err) {
      throw invalid(err);
    }
    if (!isPlainObject(claims)) throw invalid();
    if (header.crit !== undefined) {
      const crit = header.crit;
      if (!Array.isArray(crit) || crit.length === 0 || crit.some((name) => typeof name !== 'string' || !UNDERSTOOD_CRIT.has(name))) {
        throw invalid();
      }
    }
    if (!audienceMatches(claims.aud)) throw invalid();
    if (issuer !== undefined && claims.iss !== issuer) throw invalid();
    const { exp, nbf, iat } = claims;
    if (exp !== undefined && !Number.isSafeInteger(exp)) throw invalid();
    if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) throw invalid();
    if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) throw invalid();
    const decoded = { header, claims: deepFreeze(claims) as TokenClaims };
    if (cache) remember(token, decoded);
    return checkTimes(decoded, now, checkExp);
  }

  /**
   * Checks shape, key, signature, header and claims, in simplejwt's order: everything that makes a token
   * invalid first, then expiry. `now` is in seconds. Throws (or rejects with) a `token_not_valid` `AuthError`. `checkExp` false
   * leaves an `exp` in the past to the caller (a sliding token is refreshed after its `exp`); a malformed one is
   * still invalid.
   */
  function decode(token: string, now: number, checkExp = true): DecodedToken | Promise<DecodedToken> {
    const hit = recall(token);
    if (hit !== undefined) return checkTimes(hit, now, checkExp);
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_SHAPE.test(token)) throw invalid();
    const header = readHeader(token);
    const found = keySet.find(header.kid, header.alg);
    if (isThenable(found)) return Promise.resolve(found).then((k) => check(token, header, k, now, checkExp, false));
    return check(token, header, found, now, checkExp, true);
  }

  return { sign, decode, canSign: signer !== undefined };
}

export type Codec = ReturnType<typeof createCodec>;
