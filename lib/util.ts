/** A promise from any library (a thenable), not only the native one. */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** One line naming what failed, without a stack trace, secret or token. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return `non-Error value thrown (${typeof err})`;
}

/** Whether `err` is Node's "Cannot find module '<name>'" for `name` itself (not for something it requires). */
function isMissing(err: unknown, name: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return code === 'MODULE_NOT_FOUND' && String(message).startsWith(`Cannot find module '${name}'`);
}

/**
 * Loads an optional peer dependency when a feature first needs it, so the kit starts without it. When it is not
 * installed, throws one error naming the feature and the install command.
 *
 * @example
 * const { JwksClient } = requireOptional<typeof import('jwks-rsa')>('jwks-rsa', '"jwksUri"');
 * // Error: "jwksUri" needs the optional package jwks-rsa, which is not installed: npm install jwks-rsa
 */
export function requireOptional<T>(name: string, feature: string): T {
  try {
    return require(name) as T;
  } catch (err) {
    if (!isMissing(err, name)) throw err;
    throw new Error(`${feature} needs the optional package ${name}, which is not installed: npm install ${name}`, { cause: err });
  }
}
