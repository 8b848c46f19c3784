import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ALGORITHMS, EDDSA_UNSUPPORTED, isAlgorithm, isHmac } from '../../keys/algorithms';
import { jwkThumbprint, publicJwk, type JwkSet } from '../../keys/jwk';
import type { AsymmetricAlgorithm } from '../../config/options';
import { integerOption, UsageError, type Command } from '../registry';

/** A kid that is also a safe file name. */
const KID_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkAlgorithmArg(value: unknown): AsymmetricAlgorithm {
  if (value === undefined) throw new UsageError('--alg is required (RS256, PS256, ES256, ...)');
  if (value === 'EdDSA') throw new UsageError(EDDSA_UNSUPPORTED);
  if (!isAlgorithm(value)) throw new UsageError(`--alg must be one of RS256/384/512, PS256/384/512, ES256/384/512 (got ${JSON.stringify(value)})`);
  if (isHmac(value)) throw new UsageError(`${value} uses a shared secret, not a key pair: run "express-simplejwt generate-secret"`);
  return value;
}

/** Reads the JWKS already in `--out`, so that a rotation adds its new key beside the old ones. */
function readExistingJwks(path: string): JwkSet {
  if (!existsSync(path)) return { keys: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path} exists but is not JSON (${(err as Error).message})`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as JwkSet).keys)) {
    throw new Error(`${path} exists but is not a JWK set ({"keys": [...]})`);
  }
  return parsed as JwkSet;
}

/**
 * Whether git would leave `path` out of a commit: true when it is ignored, or when it is not in a git work tree
 * (or git is not installed); false only when git would offer to commit it.
 */
function isGitIgnored(path: string): boolean {
  const { status } = spawnSync('git', ['check-ignore', '--quiet', '--', basename(path)], { cwd: dirname(path), stdio: 'ignore', timeout: 5000 });
  return status !== 1; // 0 ignored, 1 not ignored, 128 not a work tree; null: no git or it timed out
}

/**
 * `generate-keys --alg ES256 [--kid k1] [--bits 2048] [--out dir]`: a key pair for RS/PS/ES signing. Without
 * `--out` the private key, public key and JWKS are printed; with it they are written as `<kid>.private.pem`
 * (mode 600), `<kid>.public.pem` and `jwks.json` (the new key added to any set already there), never
 * overwriting a file, with a warning when git would commit the private key.
 */
export const generateKeys: Command = {
  name: 'generate-keys',
  summary: 'make a key pair for RS/PS/ES signing: private and public PEM, and a JWKS',
  usage: '--alg ES256 [--kid k1] [--bits 2048] [--out dir]',
  options: {
    alg: { type: 'string', short: 'a', value: '<alg>', description: 'RS256/384/512, PS256/384/512 or ES256/384/512 (required)' },
    kid: { type: 'string', short: 'k', value: '<kid>', description: "the key id (default: the key's RFC 7638 thumbprint)" },
    bits: { type: 'string', value: '<n>', description: 'RSA modulus size, 2048 to 8192 (default 2048; RS/PS only)' },
    out: {
      type: 'string',
      short: 'o',
      value: '<dir>',
      description: 'write <kid>.private.pem, <kid>.public.pem and jwks.json there (default: print them); warns if git would commit them',
    },
  },
  run({ values }, io) {
    const algorithm = checkAlgorithmArg(values.alg);
    const info = ALGORITHMS[algorithm];
    if (values.bits !== undefined && info.family === 'ES') throw new UsageError(`--bits is for RSA; ${algorithm} uses curve ${info.curve!.jwk}`);
    const bits = integerOption(values.bits, 'bits', 2048, 2048, 8192);
    if (values.kid !== undefined && !KID_SHAPE.test(String(values.kid))) {
      throw new UsageError('--kid must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
    }
    const { privateKey, publicKey } =
      info.family === 'ES'
        ? generateKeyPairSync('ec', { namedCurve: info.curve!.openssl })
        : generateKeyPairSync('rsa', { modulusLength: bits });
    const kid = values.kid === undefined ? jwkThumbprint(publicKey) : String(values.kid);
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const jwk = publicJwk(publicKey, algorithm, kid);

    if (values.out === undefined) {
      io.out(privatePem.trimEnd());
      io.out(publicPem.trimEnd());
      io.out(JSON.stringify({ keys: [jwk] }, null, 2));
      return 0;
    }
    const dir = resolve(String(values.out));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const privatePath = join(dir, `${kid}.private.pem`);
    const publicPath = join(dir, `${kid}.public.pem`);
    const jwksPath = join(dir, 'jwks.json');
    const jwks = readExistingJwks(jwksPath);
    if (jwks.keys.some((k) => k.kid === kid)) throw new Error(`${jwksPath} already has a key with kid ${JSON.stringify(kid)}`);
    for (const path of [privatePath, publicPath]) {
      if (existsSync(path)) throw new Error(`${path} exists; not overwriting it (choose another --kid or --out)`);
    }
    writeFileSync(privatePath, privatePem, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicPath, publicPem, { mode: 0o644, flag: 'wx' });
    jwks.keys.push(jwk);
    writeFileSync(jwksPath, `${JSON.stringify(jwks, null, 2)}\n`);
    io.err(`wrote ${privatePath} (private: keep it secret, mode 600)`);
    io.err(`wrote ${publicPath}`);
    io.err(`wrote ${jwksPath} (${jwks.keys.length} key${jwks.keys.length === 1 ? '' : 's'})`);
    if (!isGitIgnored(privatePath)) {
      io.err(`warning: ${privatePath} is in a git work tree and not git-ignored: add ${dir} to .gitignore so the private key is never committed`);
    }
    io.err(`use it: keys: [{ kid: '${kid}', algorithm: '${algorithm}', signingKey: '${privatePath}', signing: true }]`);
    io.out(JSON.stringify(jwks, null, 2));
    return 0;
  },
};
