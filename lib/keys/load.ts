import { KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyInput } from '../config/options';
import { describeKey } from './algorithms';

const PEM_LABEL = /-----BEGIN ([A-Z0-9 ]+)-----/;

function isKeyObject(value: unknown): value is KeyObject {
  return value instanceof KeyObject;
}

/** Why a value cannot be a key, in words that never repeat the value (it may be secret). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

/**
 * Reads a key given as PEM text, PEM bytes or a file path (read once, now, at start-up). A string without a
 * `-----BEGIN` line is taken as a path. Error messages never include the value.
 */
function readPem(input: string | Buffer, name: string): string {
  if (Buffer.isBuffer(input)) return input.toString('utf8');
  if (PEM_LABEL.test(input)) return input;
  if (input.length === 0 || input.length > 4096 || /[\r\n\0]/.test(input)) {
    throw new TypeError(`"${name}" must be PEM text (with a -----BEGIN line), a PEM file's path, or a KeyObject`);
  }
  try {
    return readFileSync(input, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TypeError(`"${name}" is not PEM text (no -----BEGIN line), so it was read as a file path, which failed (${code})`, {
      cause: err,
    });
  }
}

/** The label of the first PEM block (`PRIVATE KEY`, `PUBLIC KEY`, `CERTIFICATE`, ...). */
function pemLabel(pem: string, name: string): string {
  const label = PEM_LABEL.exec(pem)?.[1];
  if (label === undefined) throw new TypeError(`"${name}" names a file that holds no PEM block (no -----BEGIN line)`);
  return label;
}

/**
 * A private key from PEM text, a PEM file or a KeyObject. Public keys, certificates and secrets are refused.
 *
 * @example
 * loadPrivateKey('/run/secrets/jwt.pem', 'signingKey')
 */
export function loadPrivateKey(input: KeyInput, name: string): KeyObject {
  if (isKeyObject(input)) {
    if (input.type !== 'private') {
      throw new TypeError(
        `"${name}" is ${describeKey(input)}; it must be a private key` +
          (input.type === 'secret' ? ' (an HMAC secret goes in "secret" with an HS algorithm)' : ''),
      );
    }
    return input;
  }
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) {
    throw new TypeError(`"${name}" must be PEM text, a PEM file's path, or a KeyObject; got ${kindOf(input)}`);
  }
  const pem = readPem(input, name);
  const label = pemLabel(pem, name);
  if (!label.includes('PRIVATE KEY')) {
    throw new TypeError(`"${name}" holds a ${label}, but signing needs a private key (-----BEGIN PRIVATE KEY-----)`);
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    const reason = (err as Error).message;
    const hint = /passphrase/i.test(reason)
      ? '; it is encrypted: pass crypto.createPrivateKey({ key, passphrase }) instead'
      : '';
    throw new TypeError(`"${name}" could not be read as a private key (${reason})${hint}`, { cause: err });
  }
}

/**
 * A public key from PEM text (a public key or an X.509 certificate), a PEM file or a KeyObject. Private keys
 * are refused (they stay with the signer), and so are secrets: an HMAC secret never stands in for a public key.
 *
 * @example
 * loadPublicKey(fs.readFileSync('jwt.pub.pem', 'utf8'), 'verifyingKey')
 */
export function loadPublicKey(input: KeyInput, name: string): KeyObject {
  if (isKeyObject(input)) {
    if (input.type !== 'public') {
      throw new TypeError(
        input.type === 'secret'
          ? `"${name}" is an HMAC secret; an HMAC secret never stands in for a public key`
          : `"${name}" is ${describeKey(input)}; give the public key (crypto.createPublicKey(privateKey)), private keys stay with the signer`,
      );
    }
    return input;
  }
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) {
    throw new TypeError(`"${name}" must be PEM text, a PEM file's path, or a KeyObject; got ${kindOf(input)}`);
  }
  const pem = readPem(input, name);
  const label = pemLabel(pem, name);
  if (label.includes('PRIVATE KEY')) {
    throw new TypeError(`"${name}" holds a private key; give its public key (-----BEGIN PUBLIC KEY-----), private keys stay with the signer`);
  }
  try {
    return createPublicKey(pem);
  } catch (err) {
    throw new TypeError(`"${name}" could not be read as a public key (${(err as Error).message})`, { cause: err });
  }
}
