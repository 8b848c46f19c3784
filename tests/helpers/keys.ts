import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Express } from 'express';
import type { Algorithm, AsymmetricAlgorithm } from '../../lib';
import { b64url } from './jwt';

export const ROOT = join(__dirname, '..', '..');

/** Strong test secrets, one per HMAC size (never used outside tests). */
export const SECRETS = {
  a: 'keys-test-secret-A-7f3c9e1b5d2a8046-c1e9b7a5f3d2e0c8-9a7b5c3d1e0f2a4b-QxW',
  b: 'keys-test-secret-B-0e2d4c6b8a9f1e3d-5c7b9a0f2e4d6c8b-1a3f5e7d9c0b2a4f-ZpR',
} as const;

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const CURVES = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' } as const;
const pairs = new Map<string, KeyPair>();

/** A key pair for an algorithm (RS and PS share one RSA key per suite), generated once per test file. */
export function keyPairFor(algorithm: AsymmetricAlgorithm, label = 'default'): KeyPair {
  const family = algorithm.slice(0, 2);
  const id = `${family === 'ES' ? algorithm : 'RSA'}:${label}`;
  let pair = pairs.get(id);
  if (!pair) {
    pair =
      family === 'ES'
        ? generateKeyPairSync('ec', { namedCurve: CURVES[algorithm as keyof typeof CURVES] })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    pairs.set(id, pair);
  }
  return pair;
}

/** The PEM text of a key. */
export function pem(key: KeyObject): string {
  return key.export({ type: key.type === 'private' ? 'pkcs8' : 'spki', format: 'pem' }) as string;
}

/**
 * Signs raw header and payload JSON with a private key, byte for byte as given, without the kit or jsonwebtoken:
 * how tests forge asymmetric tokens (RS: PKCS#1 v1.5; PS: PSS with a digest-sized salt; ES: raw r||s).
 */
export function signRaw(algorithm: Algorithm, headerJson: string, payloadJson: string, privateKey: KeyObject): string {
  const input = `${b64url(headerJson)}.${b64url(payloadJson)}`;
  return `${input}.${sign(joseHash(algorithm), Buffer.from(input), joseKey(algorithm, privateKey)).toString('base64url')}`;
}

/** The node:crypto digest of a JOSE algorithm (`RS256` → `sha256`). */
export function joseHash(algorithm: Algorithm): string {
  return `sha${algorithm.slice(2)}`;
}

/** A key with the options node:crypto needs to sign or verify as JOSE does (PS: PSS, digest-sized salt; ES: raw r||s). */
export function joseKey(algorithm: Algorithm, key: KeyObject) {
  const family = algorithm.slice(0, 2);
  if (family === 'PS') return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (family === 'ES') return { key, dsaEncoding: 'ieee-p1363' as const };
  return key;
}

/** Starts an app on 127.0.0.1 on an ephemeral port: real HTTP, as another service would reach it. */
export async function listen(app: Express | RequestListener): Promise<{ base: string; server: Server; close(): Promise<void> }> {
  const server = createServer(app as RequestListener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP server that only counts what reaches it: proof that a header URL was never fetched. */
export async function countingServer(): Promise<{ url: string; count(): number; close(): Promise<void> }> {
  let hits = 0;
  const listening = await listen((_req: unknown, res: ServerResponse) => {
    hits++;
    res.end('{"keys":[]}');
  });
  return { url: listening.base, count: () => hits, close: listening.close };
}

