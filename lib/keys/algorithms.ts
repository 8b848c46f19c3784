import type { KeyObject } from 'node:crypto';
import type { Algorithm, AsymmetricAlgorithm, HmacAlgorithm } from '../config/options';

/** What the kit knows about each algorithm: its family, hash size, and for ES* the curve (OpenSSL and JWK names). */
interface AlgorithmInfo {
  family: 'HS' | 'RS' | 'PS' | 'ES';
  bits: 256 | 384 | 512;
  curve?: { openssl: string; jwk: string };
}

export const ALGORITHMS: Readonly<Record<Algorithm, AlgorithmInfo>> = {
  HS256: { family: 'HS', bits: 256 },
  HS384: { family: 'HS', bits: 384 },
  HS512: { family: 'HS', bits: 512 },
  RS256: { family: 'RS', bits: 256 },
  RS384: { family: 'RS', bits: 384 },
  RS512: { family: 'RS', bits: 512 },
  PS256: { family: 'PS', bits: 256 },
  PS384: { family: 'PS', bits: 384 },
  PS512: { family: 'PS', bits: 512 },
  ES256: { family: 'ES', bits: 256, curve: { openssl: 'prime256v1', jwk: 'P-256' } },
  ES384: { family: 'ES', bits: 384, curve: { openssl: 'secp384r1', jwk: 'P-384' } },
  ES512: { family: 'ES', bits: 512, curve: { openssl: 'secp521r1', jwk: 'P-521' } },
};

/** The algorithms, in the order error messages list them. */
export const ALGORITHM_NAMES = Object.keys(ALGORITHMS) as Algorithm[];

/** Minimum HMAC secret length in bytes: the size of the hash (RFC 7518 §3.2). */
export const MIN_SECRET_BYTES: Readonly<Record<HmacAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** Smallest RSA modulus accepted, in bits (RFC 7518 §3.3 and §3.5). */
export const MIN_RSA_BITS = 2048;

/** Why EdDSA is refused, said once for every place that refuses it. */
export const EDDSA_UNSUPPORTED =
  'EdDSA is not supported: jsonwebtoken, which signs tokens for this kit, does not implement it, and the ' +
  'maintained library that does (jose 6) is ESM-only and asynchronous; use ES256 for small keys and signatures';

/** `true` for the HMAC algorithms. */
export function isHmac(algorithm: Algorithm): algorithm is HmacAlgorithm {
  return ALGORITHMS[algorithm].family === 'HS';
}

/** `true` when `value` names an algorithm of the kit (`'none'`, `'EdDSA'`, lower case: `false`). */
export function isAlgorithm(value: unknown): value is Algorithm {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ALGORITHMS, value);
}

/** Checks an algorithm option, with a message for `none`, EdDSA and near misses. */
export function checkAlgorithm(value: unknown, name: string): Algorithm {
  if (isAlgorithm(value)) return value;
  if (value === 'EdDSA' || value === 'Ed25519' || value === 'Ed448') throw new TypeError(`"${name}": ${EDDSA_UNSUPPORTED}`);
  throw new TypeError(
    `"${name}" must be one of ${ALGORITHM_NAMES.join(', ')} (got ${JSON.stringify(value)}); "none" is never accepted`,
  );
}

/** The key's kind in words, for error messages: `'an RSA private key'`, `'an HMAC secret'`. */
export function describeKey(key: KeyObject): string {
  if (key.type === 'secret') return 'an HMAC secret';
  const kind = key.asymmetricKeyType ?? 'unknown';
  const label = kind === 'rsa' ? 'RSA' : kind === 'ec' ? 'EC' : kind === 'rsa-pss' ? 'RSA-PSS' : kind;
  return `${/^(RSA|[AEIOUaeiou])/.test(label) ? 'an' : 'a'} ${label} ${key.type} key`;
}

/** Which keys suit the algorithm, said the short way. */
function wanted(algorithm: Algorithm): string {
  const { family, curve } = ALGORITHMS[algorithm];
  if (family === 'HS') return 'an HMAC secret';
  if (family === 'ES') return `an EC key on curve ${curve!.jwk}`;
  return `an RSA key of at least ${MIN_RSA_BITS} bits`;
}

/**
 * Checks that a key can serve the algorithm, so that no token can ever be checked with the wrong kind of key:
 * HMAC takes only a secret; RS/PS an RSA key of 2048 bits or more; ES a key on the algorithm's own curve. `use`
 * says which half is expected (`'sign'`: a private key; `'verify'`: a public key). Throws a TypeError naming the
 * option and saying what was expected.
 */
export function checkKeyForAlgorithm(key: KeyObject, algorithm: Algorithm, name: string, use: 'sign' | 'verify'): void {
  const { family, curve } = ALGORITHMS[algorithm];
  const got = describeKey(key);
  if (family === 'HS') {
    if (key.type !== 'secret') {
      throw new TypeError(
        `"${name}" is ${got}, but ${algorithm} is HMAC and takes a shared secret; a public or private key is never ` +
          `used as an HMAC secret. For public-key signing set "algorithm" to RS256, PS256 or ES256.`,
      );
    }
    return;
  }
  if (key.type === 'secret') {
    throw new TypeError(
      `"${name}" is an HMAC secret, but ${algorithm} needs ${wanted(algorithm)}; an HMAC secret never stands in for a ` +
        `${use === 'sign' ? 'private' : 'public'} key. For a shared secret set "algorithm" to HS256 and use "secret".`,
    );
  }
  const kind = key.asymmetricKeyType;
  if (kind === 'ed25519' || kind === 'ed448') throw new TypeError(`"${name}" is ${got}: ${EDDSA_UNSUPPORTED}`);
  const expectedType = use === 'sign' ? 'private' : 'public';
  if (key.type !== expectedType) {
    throw new TypeError(
      use === 'sign'
        ? `"${name}" is ${got}, but signing needs the private key`
        : `"${name}" is ${got}; give the public key only (crypto.createPublicKey(privateKey)), private keys stay with the signer`,
    );
  }
  if (family === 'RS' || family === 'PS') {
    if (kind !== 'rsa') {
      throw new TypeError(
        `"${name}" is ${got}, but ${algorithm} needs ${wanted(algorithm)}` +
          (kind === 'rsa-pss' ? ' (a plain RSA key: RFC 7518 uses ordinary RSA keys for PS256/384/512)' : ''),
      );
    }
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) {
      throw new TypeError(`"${name}" is a ${bits}-bit RSA key; ${algorithm} needs at least ${MIN_RSA_BITS} bits (RFC 7518 §3.3)`);
    }
    return;
  }
  if (kind !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== curve!.openssl) {
    const onCurve = kind === 'ec' ? ` on curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}` : '';
    throw new TypeError(`"${name}" is ${got}${onCurve}, but ${algorithm} needs ${wanted(algorithm)} (${curve!.openssl})`);
  }
}

/** Length in base64url characters (unpadded) of the signatures a key makes with an algorithm. */
export function signatureLength(key: KeyObject, algorithm: Algorithm): number {
  const { family, bits } = ALGORITHMS[algorithm];
  let bytes: number;
  if (family === 'HS') bytes = bits / 8;
  else if (family === 'ES') bytes = 2 * Math.ceil((bits === 512 ? 521 : bits) / 8);
  else bytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  return Math.ceil((bytes * 4) / 3);
}

/** Narrows to the public-key algorithms. */
export function isAsymmetric(algorithm: Algorithm): algorithm is AsymmetricAlgorithm {
  return !isHmac(algorithm);
}
