/**
 * Whether the request carried the header `name` (lower case) on more than one field line. Node keeps only the
 * first `Authorization` line (and joins repeated custom headers with commas), so `req.headers` cannot tell; a
 * proxy in front may have read the last one. RFC 9110 §5.3: such a header must not be repeated.
 */
export function isRepeatedHeader(rawHeaders: readonly string[] | undefined, name: string): boolean {
  if (rawHeaders === undefined) return false;
  let seen = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const field = rawHeaders[i]!;
    if (field.length === name.length && field.toLowerCase() === name) {
      if (seen) return true;
      seen = true;
    }
  }
  return false;
}
