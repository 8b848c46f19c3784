import { randomBytes } from 'node:crypto';
import { integerOption, type Command } from '../registry';

/** `generate-secret [--bytes 64]`: a random HMAC secret, base64url, on standard output. */
export const generateSecret: Command = {
  name: 'generate-secret',
  summary: 'print a random HMAC secret (base64url) for "secret" / JWT_SECRET',
  usage: '[--bytes 64]',
  options: {
    bytes: { type: 'string', short: 'b', value: '<n>', description: 'how many random bytes, 32 to 1024 (default 64)' },
  },
  run({ values }, io) {
    const bytes = integerOption(values.bytes, 'bytes', 64, 32, 1024);
    io.out(randomBytes(bytes).toString('base64url'));
    return 0;
  },
};
