/** What the runner and the server script agree on. */

/** The user every server knows; the runner logs in with these credentials. */
export const BENCH_USER = { id: 1, username: 'bench', password: 'bench-password' } as const;

/** The auth set-ups `bench/servers/hello.ts` can serve `/hello/` with. */
export const KINDS = ['bare', 'ours', 'stateless', 'fast-jwt', 'express-jwt', 'passport-jwt'] as const;
export type Kind = (typeof KINDS)[number];
