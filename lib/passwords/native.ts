import bcryptjs from 'bcryptjs';

/**
 * Which bcrypt the kit runs: `@node-rs/bcrypt` (Rust, native code; an optional peer dependency, about 1.5×
 * faster than bcryptjs at the same cost) when it is installed and loads, else bcryptjs (pure JavaScript, always
 * there). Both write and read the same hashes (`$2a$`, `$2b$`, `$2y$`, costs 4 to 31, the first 72 bytes of the
 * password), so switching either way keeps every stored hash valid.
 */
export type BcryptImplementation = 'native' | 'bcryptjs';

/** One bcrypt implementation, as the kit uses it. */
export interface BcryptBackend {
  implementation: BcryptImplementation;
  /** Resolved module path a worker thread loads (`require`) to compare with `compareSync` (bcryptjs) or `verifySync` (native). */
  modulePath: string;
  /** Asynchronous compare: native code runs in libuv's thread pool; bcryptjs on the main thread, in slices. */
  compare: (password: string, hash: string) => Promise<boolean>;
  /** Asynchronous hash at `rounds`, a `$2b$` hash. */
  hash: (password: string, rounds: number) => Promise<string>;
}

/** The part of `@node-rs/bcrypt` (1.10 and 2.x) the kit calls. */
interface NodeRsBcrypt {
  hash(password: string, options: number | { cost: number }): Promise<string>;
  hashSync(password: string, options: number | { cost: number }): string;
  verify(password: string, hash: string): Promise<boolean>;
  verifySync(password: string, hash: string): boolean;
  /** Only in 2.x, whose `hash()` takes `{ cost }` where 1.x takes the cost itself. */
  parseOptions?: unknown;
}

const BCRYPTJS: BcryptBackend = {
  implementation: 'bcryptjs',
  modulePath: require.resolve('bcryptjs'),
  compare: (password, hash) => bcryptjs.compare(password, hash),
  hash: (password, rounds) => bcryptjs.hash(password, rounds),
};

let native: BcryptBackend | Error | undefined;

/**
 * Loads `@node-rs/bcrypt` once, or returns why it cannot be used: not installed, no prebuilt binary for this
 * platform, or an API this kit does not know. It must also agree with bcryptjs on a hash each of them made,
 * checked once here (two comparisons at cost 4, about 2 ms), so a broken build never decides a login.
 */
function loadNative(): BcryptBackend | Error {
  if (native !== undefined) return native;
  try {
    const modulePath = require.resolve('@node-rs/bcrypt');
    const lib = require(modulePath) as NodeRsBcrypt;
    for (const name of ['hash', 'hashSync', 'verify', 'verifySync'] as const) {
      if (typeof lib[name] !== 'function') throw new Error(`it has no ${name}() function`);
    }
    const cost = (rounds: number) => (typeof lib.parseOptions === 'function' ? { cost: rounds } : rounds);
    const probe = 'probé-ünïcode';
    if (!bcryptjs.compareSync(probe, lib.hashSync(probe, cost(4))) || !lib.verifySync(probe, bcryptjs.hashSync(probe, 4))) {
      throw new Error('its hashes and bcryptjs\'s do not verify each other');
    }
    native = {
      implementation: 'native',
      modulePath,
      compare: (password, hash) => lib.verify(password, hash).catch(() => false),
      hash: (password, rounds) => lib.hash(password, cost(rounds)),
    };
  } catch (cause) {
    native = new Error(`@node-rs/bcrypt cannot be used: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  return native;
}

/**
 * The bcrypt to use: `'auto'` picks `@node-rs/bcrypt` when it loads, else bcryptjs; `'native'` requires it (and
 * throws a `TypeError` saying how to install it); `'bcryptjs'` always picks bcryptjs.
 *
 * @example
 * const { implementation } = bcryptBackend('auto'); // 'native' once `npm install @node-rs/bcrypt` is done
 */
export function bcryptBackend(choice: 'auto' | BcryptImplementation = 'auto'): BcryptBackend {
  if (choice === 'bcryptjs') return BCRYPTJS;
  const loaded = loadNative();
  if (!(loaded instanceof Error)) return loaded;
  if (choice === 'native') {
    throw new TypeError(`"passwordHashing.bcrypt" is 'native' but ${loaded.message}; run \`npm install @node-rs/bcrypt\` or use 'auto'`, { cause: loaded });
  }
  return BCRYPTJS;
}
