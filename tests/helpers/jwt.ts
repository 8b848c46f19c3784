import { createHmac } from 'node:crypto';

/** base64url of a string or buffer. */
export function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Decodes one part (0 header, 1 payload) of a compact JWT without verifying anything. */
export function decodePart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString('utf8'));
}

/**
 * Signs raw header and payload text with HMAC, byte for byte as given: how tests forge tokens (and how
 * PyJWT/simplejwt would have produced them) without going through the kit or jsonwebtoken.
 */
export function forge(headerJson: string, payloadJson: string, secret: string | Buffer, hash = 'sha256'): string {
  const input = `${b64url(headerJson)}.${b64url(payloadJson)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}
