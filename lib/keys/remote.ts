import { createPublicKey, type KeyObject } from 'node:crypto';
import type { SigningKey } from 'jwks-rsa';
import { parseDuration } from '../config/duration';
import type { Algorithm, JwksUriOptions } from '../config/options';
import type { Logger, WarningCode } from '../config/warnings';
import { AuthError } from '../errors';
import { checkAlgorithm, checkKeyForAlgorithm, isAlgorithm, isHmac, signatureLength } from './algorithms';
import type { KeySet, VerifyKey } from './keyset';
import { requireOptional } from '../util';

const URI_OPTION_KEYS: Record<keyof Required<JwksUriOptions>, true> = {
  uri: true,
  algorithms: true,
  cacheMaxAge: true,
  requestsPerMinute: true,
  timeout: true,
  dangerouslyAllowHttp: true,
};

/** Hosts where plain `http:` is acceptable: the traffic never leaves the machine. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** Checks the `jwksUri` option and fills in the defaults. */
function checkUriOptions(value: unknown, algorithm: unknown, warn: (code: WarningCode, message: string) => void) {
  const spec = (typeof value === 'string' ? { uri: value } : value) as JwksUriOptions;
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new TypeError('"jwksUri" must be a URL or { uri, algorithms, cacheMaxAge, requestsPerMinute, timeout }');
  }
  for (const field of Object.keys(spec)) {
    if (!(field in URI_OPTION_KEYS)) throw new TypeError(`Unknown field "jwksUri.${field}"; known: ${Object.keys(URI_OPTION_KEYS).join(', ')}`);
  }
  let url: URL;
  try {
    url = new URL(spec.uri);
  } catch {
    throw new TypeError('"jwksUri" must be an absolute URL such as https://auth.example.com/.well-known/jwks.json');
  }
  if (url.protocol !== 'https:') {
    if (url.protocol !== 'http:') throw new TypeError(`"jwksUri" must be an https: URL (got ${url.protocol})`);
    if (!isLoopback(url.hostname)) {
      if (spec.dangerouslyAllowHttp !== true) {
        throw new TypeError(
          '"jwksUri" must be https: (plain http: is only accepted for localhost): whoever can alter the response can mint ' +
            'tokens this service accepts. Set jwksUri.dangerouslyAllowHttp to accept that risk on a trusted network.',
        );
      }
      warn('JWKS_HTTP', `"jwksUri" fetches keys over plain http from ${url.host}: anyone on that path can inject keys`);
    }
  }
  const listed = spec.algorithms ?? (algorithm === undefined ? undefined : [algorithm]);
  if (!Array.isArray(listed) || listed.length === 0) {
    throw new TypeError('"jwksUri" needs the algorithms it accepts: set "algorithm" (e.g. \'RS256\') or jwksUri.algorithms (e.g. [\'RS256\', \'ES256\'])');
  }
  const algorithms = listed.map((alg, i) => {
    const checked = checkAlgorithm(alg, spec.algorithms ? `jwksUri.algorithms[${i}]` : 'algorithm');
    if (isHmac(checked)) {
      throw new TypeError(`"jwksUri" cannot serve ${checked}: HMAC secrets are never published in a JWKS; use RS/PS/ES algorithms`);
    }
    return checked;
  });
  const requestsPerMinute = spec.requestsPerMinute ?? 10;
  if (!Number.isInteger(requestsPerMinute) || requestsPerMinute < 1 || requestsPerMinute > 600) {
    throw new TypeError(`"jwksUri.requestsPerMinute" must be an integer from 1 to 600 (got ${String(requestsPerMinute)})`);
  }
  return {
    uri: url.href,
    algorithms,
    cacheMaxAge: parseDuration(spec.cacheMaxAge ?? '10m', 'jwksUri.cacheMaxAge'),
    timeout: parseDuration(spec.timeout ?? '5s', 'jwksUri.timeout'),
    requestsPerMinute,
  };
}

/**
 * Trusts a remote JWKS (simplejwt's `JWK_URL`) through jwks-rsa: keys are fetched by `kid`, cached
 * (`cacheMaxAge`), refetched at most `requestsPerMinute` times a minute (a token naming an unknown `kid` causes
 * one), with a timeout. Only the configured algorithms are accepted, and each fetched key must suit the token's
 * algorithm exactly as a local key would. Verification is asynchronous in this mode.
 */
export function createRemoteKeys(
  value: unknown,
  algorithm: unknown,
  logger: Logger,
  warn: (code: WarningCode, message: string) => void,
): KeySet {
  const spec = checkUriOptions(value, algorithm, warn);
  const accepted = new Set<Algorithm>(spec.algorithms);
  // Loaded here, not at the top: only a kit that trusts a remote JWKS pays for jwks-rsa and its dependencies.
  const { JwksClient } = requireOptional<typeof import('jwks-rsa')>('jwks-rsa', '"jwksUri"');
  const client = new JwksClient({
    jwksUri: spec.uri,
    cache: true,
    cacheMaxEntries: 100,
    cacheMaxAge: spec.cacheMaxAge * 1000,
    rateLimit: true,
    jwksRequestsPerMinute: spec.requestsPerMinute,
    timeout: spec.timeout * 1000,
  });
  /** Parsed keys, per jwks-rsa key object (it hands back the same object while its cache holds it). */
  const parsed = new WeakMap<SigningKey, KeyObject | null>();

  function toVerifyKey(found: SigningKey, kid: string | undefined, alg: Algorithm): VerifyKey | undefined {
    // A key that names its algorithm serves that one only; one that does not serves the accepted algorithm its type suits.
    if (found.alg !== undefined && found.alg !== alg) return undefined;
    let key = parsed.get(found);
    if (key === undefined) {
      try {
        key = createPublicKey(found.getPublicKey());
      } catch {
        key = null;
      }
      parsed.set(found, key);
    }
    if (key === null) return undefined;
    try {
      checkKeyForAlgorithm(key, alg, 'jwksUri key', 'verify');
    } catch {
      return undefined;
    }
    return { kid, algorithm: alg, key, signatureLength: signatureLength(key, alg) };
  }

  function find(kid: unknown, alg: unknown): Promise<VerifyKey | undefined> | undefined {
    // Nothing is fetched for a token that could never pass: an algorithm we do not accept, a kid that is no string.
    if (!isAlgorithm(alg) || !accepted.has(alg)) return undefined;
    if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256)) return undefined;
    return client.getSigningKey(kid).then(
      (found) => toVerifyKey(found, kid, alg),
      (err: Error) => {
        // An unknown kid (or no kid and several keys) is an invalid token; anything else means we could not look.
        if (err?.name === 'SigningKeyNotFoundError') return undefined;
        logger.warn(`[express-simplejwt] JWKS_UNAVAILABLE: keys could not be fetched from ${spec.uri}: ${err?.name ?? 'Error'}: ${String(err?.message).slice(0, 200)}`);
        throw new AuthError('keys_unavailable', { cause: err });
      },
    );
  }

  return {
    mode: 'remote',
    signer: undefined,
    algorithm: spec.algorithms[0]!,
    find,
    jwks: { keys: [] },
  };
}
