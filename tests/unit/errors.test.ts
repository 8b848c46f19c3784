import { AuthError, hashPassword, type ErrorCode } from '../../lib';

describe('bad arguments to the public helpers get a TypeError that says what to pass', () => {
  it('AuthError refuses a code that is not in ERRORS (a typo, an inherited name, an old positional call)', () => {
    for (const code of ['banned', 'toString', 403]) {
      expect(() => new AuthError(code as unknown as ErrorCode)).toThrow(TypeError);
      expect(() => new AuthError(code as unknown as ErrorCode)).toThrow(/unknown code .*use one of ERRORS' codes/);
    }
    expect(new AuthError('permission_denied').status).toBe(403);
  });

  it('hashPassword refuses a cost bcrypt would clamp or reject, whichever bcrypt is installed', async () => {
    for (const rounds of [3, 32, 10.5, Number.NaN]) {
      await expect(hashPassword('correct horse', rounds)).rejects.toThrow('hashPassword() takes rounds from 4 to 31');
    }
    await expect(hashPassword('correct horse', 4)).resolves.toMatch(/^\$2[ab]\$04\$/);
  });
});
