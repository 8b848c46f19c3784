import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Algorithm, KeySetEntry, Options } from '../config/options';
import type { Logger, WarningCode } from '../config/warnings';
import { checkAlgorithm, checkKeyForAlgorithm, isAsymmetric, isHmac, signatureLength } from './algorithms';
import { jwkThumbprint, publicJwk, type JwkSet, type PublicJwk } from './jwk';
import { loadPrivateKey, loadPublicKey } from './load';
import { createRemoteKeys } from './remote';
import { checkSecret, resolveSecret } from './secret';

/** A key that verifies: its `kid` (if any), its one pinned algorithm, the secret or public key. */
export interface VerifyKey {
  kid: string | undefined;
  algorithm: Algorithm;
  key: KeyObject;
  /** Length of its signatures in base64url characters; any other length is refused before any crypto. */
  signatureLength: number;
}

/** The key that signs: its `kid` goes in the header (none for an HMAC secret, as simplejwt; a single key pair's is its RFC 7638 thumbprint). */
export interface SignKey {
  kid: string | undefined;
  algorithm: Algorithm;
  key: KeyObject;
}

/** What a look-up yields: a key, none (`Token is invalid`), or a promise of either (remote JWKS). */
export type KeyLookup = VerifyKey | undefined | Promise<VerifyKey | undefined>;

/**
 * Every key the kit holds, computed once at start-up. Verification finds a key only through `find(kid, alg)`:
 * a look-up in the configured set (or the trusted JWKS), never anything a token's header points to (`jku`,
 * `x5u`, `jwk` and `x5c` are never read).
 */
export interface KeySet {
  /** `single`: one secret (no `kid`) or key pair (its thumbprint as `kid`); `set`: keys by `kid`; `remote`: a trusted JWKS URL. */
  mode: 'single' | 'set' | 'remote';
  /** The signing key, or `undefined` in verify-only mode. */
  signer: SignKey | undefined;
  /** The algorithm tokens are signed with, or the first accepted one. */
  algorithm: Algorithm;
  /** The key for a token whose header says `kid` and `alg`. */
  find(kid: unknown, alg: unknown): KeyLookup;
  /** The public keys, for `/.well-known/jwks.json`: never a secret, never a private member. */
  jwks: JwkSet;
}

/** Longest `kid` accepted, in a set and in tokens. */
export const MAX_KID_LENGTH = 256;

const ENTRY_KEYS: Record<keyof Required<KeySetEntry>, true> = {
  kid: true,
  algorithm: true,
  secret: true,
  signingKey: true,
  verifyingKey: true,
  signing: true,
};

function verifyKey(kid: string | undefined, algorithm: Algorithm, key: KeyObject): VerifyKey {
  return { kid, algorithm, key, signatureLength: signatureLength(key, algorithm) };
}

/** A key pair from `signingKey` and/or `verifyingKey`, checked against the algorithm and against each other. */
function keyPair(
  algorithm: Algorithm,
  signingKey: unknown,
  verifyingKey: unknown,
  prefix: string,
): { privateKey: KeyObject | undefined; publicKey: KeyObject } {
  if (signingKey === undefined && verifyingKey === undefined) {
    throw new TypeError(
      `${algorithm} needs "${prefix}signingKey" (a private key: signs and verifies) or "${prefix}verifyingKey" (a public key: verifies only)`,
    );
  }
  let privateKey: KeyObject | undefined;
  if (signingKey !== undefined) {
    privateKey = loadPrivateKey(signingKey as never, `${prefix}signingKey`);
    checkKeyForAlgorithm(privateKey, algorithm, `${prefix}signingKey`, 'sign');
  }
  let publicKey: KeyObject;
  if (verifyingKey !== undefined) {
    publicKey = loadPublicKey(verifyingKey as never, `${prefix}verifyingKey`);
    checkKeyForAlgorithm(publicKey, algorithm, `${prefix}verifyingKey`, 'verify');
    if (privateKey && !createPublicKey(privateKey).equals(publicKey)) {
      throw new TypeError(`"${prefix}verifyingKey" is not the public half of "${prefix}signingKey"; give the matching pair (or leave "${prefix}verifyingKey" out)`);
    }
  } else {
    publicKey = createPublicKey(privateKey!);
  }
  return { privateKey, publicKey };
}

/**
 * The key set of one configured key (the `createCodec({ algorithm, key })` shorthand): a secret signs and
 * verifies; a private key signs and its public half verifies; a public key only verifies.
 */
export function singleKeySet(algorithm: Algorithm, key: KeyObject): KeySet {
  let signer: SignKey | undefined;
  let verifier: VerifyKey;
  const jwks: JwkSet = { keys: [] };
  if (key.type === 'secret') {
    checkKeyForAlgorithm(key, algorithm, 'key', 'verify');
    signer = { kid: undefined, algorithm, key };
    verifier = verifyKey(undefined, algorithm, key);
  } else {
    const publicKey = key.type === 'private' ? createPublicKey(key) : key;
    checkKeyForAlgorithm(key, algorithm, 'key', key.type === 'private' ? 'sign' : 'verify');
    // The JWKS publishes the key under its RFC 7638 thumbprint, and the tokens name it: JWKS consumers that pick
    // keys by `kid` (PyJWT's PyJWKClient behind simplejwt's JWK_URL, jwks-rsa, gateways) find it.
    let kid: string | undefined;
    if (isAsymmetric(algorithm)) {
      kid = jwkThumbprint(publicKey);
      jwks.keys.push(publicJwk(publicKey, algorithm, kid));
    }
    signer = key.type === 'private' ? { kid, algorithm, key } : undefined;
    verifier = verifyKey(kid, algorithm, publicKey);
  }
  return {
    mode: 'single',
    signer,
    algorithm,
    // One key: the header's `kid` plays no part, as in simplejwt.
    find: () => verifier,
    jwks,
  };
}

/** `true` when the string holds a control character (C0 or DEL). */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function checkKid(kid: unknown, name: string): string {
  if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH || hasControl(kid)) {
    throw new TypeError(`"${name}.kid" must be a non-empty string of at most ${MAX_KID_LENGTH} printable characters`);
  }
  return kid;
}

/** The `keys` option: a key set where each key has a `kid`, one signs and the others only verify. */
function keySetFromEntries(
  entries: unknown,
  defaultAlgorithm: Algorithm | undefined,
  warn: (code: WarningCode, message: string) => void,
): KeySet {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new TypeError('"keys" must be a non-empty array of { kid, algorithm, secret | signingKey | verifyingKey, signing }');
  }
  const byKid = new Map<string, VerifyKey>();
  /** Key pairs by RFC 7638 thumbprint too: the `kid` a single key pair writes, so its tokens outlive a move to a set. */
  const byThumbprint = new Map<string, VerifyKey>();
  const published: PublicJwk[] = [];
  const signers: { name: string; key: SignKey }[] = [];
  let holdsSigningMaterial = false;
  entries.forEach((raw: unknown, index) => {
    const name = `keys[${index}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new TypeError(`"${name}" must be an object such as { kid: 'k1', secret: '...', signing: true }`);
    }
    for (const field of Object.keys(raw)) {
      if (!(field in ENTRY_KEYS)) {
        throw new TypeError(`Unknown field "${name}.${field}"; a key has ${Object.keys(ENTRY_KEYS).map((k) => `"${k}"`).join(', ')}`);
      }
    }
    const entry = raw as KeySetEntry;
    const kid = checkKid(entry.kid, name);
    if (byKid.has(kid)) throw new TypeError(`"${name}.kid" repeats the kid ${JSON.stringify(kid)}; every kid in "keys" must be unique`);
    const algorithm = checkAlgorithm(entry.algorithm ?? defaultAlgorithm ?? 'HS256', `${name}.algorithm`);
    if (entry.signing !== undefined && typeof entry.signing !== 'boolean') {
      throw new TypeError(`"${name}.signing" must be true or false`);
    }
    let signKey: KeyObject | undefined;
    if (isHmac(algorithm)) {
      if (entry.signingKey !== undefined || entry.verifyingKey !== undefined) {
        throw new TypeError(
          `"${name}" is ${algorithm}, which takes "secret"; "signingKey"/"verifyingKey" are for RS/PS/ES (set "${name}.algorithm")`,
        );
      }
      if (entry.secret === undefined) throw new TypeError(`"${name}" is ${algorithm} and needs "secret"`);
      const secret = checkSecret(entry.secret, algorithm, `${name}.secret`);
      signKey = secret;
      byKid.set(kid, verifyKey(kid, algorithm, secret));
    } else {
      if (entry.secret !== undefined) {
        throw new TypeError(`"${name}.secret" is for HS256/384/512; ${algorithm} takes "signingKey" and/or "verifyingKey"`);
      }
      const { privateKey, publicKey } = keyPair(algorithm, entry.signingKey, entry.verifyingKey, `${name}.`);
      signKey = privateKey;
      const verifier = verifyKey(kid, algorithm, publicKey);
      byKid.set(kid, verifier);
      byThumbprint.set(jwkThumbprint(publicKey), verifier);
      published.push(publicJwk(publicKey, algorithm, kid));
    }
    if (signKey) holdsSigningMaterial = true;
    if (entry.signing === true) {
      if (!signKey) throw new TypeError(`"${name}" has signing: true but no "signingKey" to sign with`);
      signers.push({ name, key: { kid, algorithm, key: signKey } });
    }
  });
  if (signers.length > 1) {
    throw new TypeError(
      `Exactly one key signs, but ${signers.map((s) => `"${s.name}"`).join(' and ')} both say signing: true; ` +
        'keep it on the newest key (the others still verify)',
    );
  }
  const signer = signers[0]?.key;
  if (!signer && holdsSigningMaterial) {
    warn(
      'NO_SIGNING_KEY',
      'no key in "keys" says signing: true, so this kit only verifies tokens (login and refresh answer 404 verify_only); ' +
        'mark the key that should sign with signing: true',
    );
  }
  const signerKey = signer ? byKid.get(signer.kid!) : undefined;
  return {
    mode: 'set',
    signer,
    algorithm: signer?.algorithm ?? byKid.values().next().value!.algorithm,
    find(kid) {
      // No kid: the signing key only (tokens from before the key set); a kid that is not a string: none.
      if (kid === undefined) return signerKey;
      if (typeof kid !== 'string') return undefined;
      return byKid.get(kid) ?? byThumbprint.get(kid);
    },
    jwks: { keys: published },
  };
}

/**
 * Resolves the key options (`secret`, `algorithm`, `signingKey`, `verifyingKey`, `keys`, `jwksUri`) into the key
 * set, once, at start-up. Every key is checked against its algorithm here, so that no token can later be
 * checked with the wrong kind of key.
 */
export function resolveKeySet(options: Options, logger: Logger, warn: (code: WarningCode, message: string) => void): KeySet {
  const given = (['secret', 'signingKey', 'verifyingKey', 'keys'] as const).filter((name) => options[name] !== undefined);
  if (options.jwksUri !== undefined) {
    if (given.length > 0) {
      throw new TypeError(`"jwksUri" trusts a remote key set and only verifies; leave out ${given.map((n) => `"${n}"`).join(', ')}`);
    }
    return createRemoteKeys(options.jwksUri, options.algorithm, logger, warn);
  }
  if (options.keys !== undefined) {
    const extra = given.filter((name) => name !== 'keys');
    if (extra.length > 0) {
      throw new TypeError(`"keys" holds every key; move ${extra.map((n) => `"${n}"`).join(', ')} into an entry of "keys"`);
    }
    const fallback = options.algorithm === undefined ? undefined : checkAlgorithm(options.algorithm, 'algorithm');
    return keySetFromEntries(options.keys, fallback, warn);
  }
  const algorithm = checkAlgorithm(options.algorithm ?? 'HS256', 'algorithm');
  if (isHmac(algorithm)) {
    if (options.signingKey !== undefined || options.verifyingKey !== undefined) {
      throw new TypeError(
        `"signingKey" and "verifyingKey" are for RS/PS/ES algorithms, but "algorithm" is ${algorithm}; ` +
          'set "algorithm" to RS256, PS256 or ES256 (or use "secret" for HMAC)',
      );
    }
    return singleKeySet(algorithm, resolveSecret(options.secret, algorithm, warn));
  }
  if (options.secret !== undefined) {
    throw new TypeError(`"secret" is for HS256/384/512; ${algorithm} takes "signingKey" and/or "verifyingKey"`);
  }
  const { privateKey, publicKey } = keyPair(algorithm, options.signingKey, options.verifyingKey, '');
  const set = singleKeySet(algorithm, privateKey ?? publicKey);
  return set;
}
