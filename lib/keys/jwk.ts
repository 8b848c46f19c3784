import { createHash, type KeyObject } from 'node:crypto';
import type { AsymmetricAlgorithm } from '../config/options';

/**
 * A public JSON Web Key as the kit publishes it (RFC 7517): only public members, always `use`, `alg` and `kid`.
 *
 * @example
 * const [jwk] = auth.jwks().keys; // { kty: 'EC', kid: 'k1', use: 'sig', alg: 'ES256', crv: 'P-256', x, y }
 */
export interface PublicJwk {
  kty: 'RSA' | 'EC';
  kid: string;
  use: 'sig';
  alg: AsymmetricAlgorithm;
  /** RSA modulus and exponent. */
  n?: string;
  e?: string;
  /** EC curve and point. */
  crv?: string;
  x?: string;
  y?: string;
}

/**
 * A JWK Set (RFC 7517 §5).
 *
 * @example
 * const set: JwkSet = auth.jwks(); // { keys: [...] }: empty with an HMAC secret
 */
export interface JwkSet {
  keys: PublicJwk[];
}

/** The public members of a key, and nothing else: copied by name, so private members can never slip through. */
function publicMembers(key: KeyObject): Record<string, string> {
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  const names = jwk.kty === 'RSA' ? ['n', 'e'] : jwk.kty === 'EC' ? ['crv', 'x', 'y'] : [];
  if (names.length === 0) throw new TypeError(`cannot publish a ${String(jwk.kty)} key in a JWKS`);
  const out: Record<string, string> = { kty: jwk.kty as string };
  for (const name of names) out[name] = String(jwk[name]);
  return out;
}

/**
 * The RFC 7638 thumbprint of a public key: base64url SHA-256 over its required members in lexicographic order.
 * The kit uses it as the `kid` of a single key pair.
 *
 * @example
 * jwkThumbprint(createPublicKey(pem)) // 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'
 */
export function jwkThumbprint(publicKey: KeyObject): string {
  const members = publicMembers(publicKey);
  const ordered = Object.keys(members).sort();
  const json = `{${ordered.map((name) => `${JSON.stringify(name)}:${JSON.stringify(members[name])}`).join(',')}}`;
  return createHash('sha256').update(json).digest('base64url');
}

/**
 * The public JWK of a public key (a private key's public half is taken first), with `kid`, `use` and `alg`.
 *
 * @example
 * publicJwk(createPublicKey(pem), 'ES256', 'k1') // { kty: 'EC', kid: 'k1', use: 'sig', alg: 'ES256', crv, x, y }
 */
export function publicJwk(publicKey: KeyObject, algorithm: AsymmetricAlgorithm, kid: string): PublicJwk {
  if (publicKey.type !== 'public') throw new TypeError('publicJwk() takes a public key');
  const { kty, ...members } = publicMembers(publicKey);
  return { kty: kty as PublicJwk['kty'], kid, use: 'sig', alg: algorithm, ...members };
}
