import { verifyDjangoPassword } from '../../lib';
import { loadDjangoHashes, readFixtures } from '../helpers/django-hashes';

// Hashes Django 3.2's make_password() produced (../shared/fixtures, copied into tests/fixtures). Kept apart from
// django.test.ts so the two files' bcrypt work runs on both of Jest's workers.
const fixture = loadDjangoHashes();
const passwords = [...new Set(fixture.hashes.map((entry) => entry.password))];

describe('the fixture', () => {
  it('was made by Django and covers every algorithm we verify', () => {
    expect(fixture.django_version).toMatch(/^3\.2\./);
    const algorithms = new Set(fixture.hashes.map((entry) => entry.algorithm));
    expect([...algorithms].sort()).toEqual(['argon2', 'bcrypt_sha256', 'pbkdf2_sha1', 'pbkdf2_sha256']);
    expect(passwords.length).toBeGreaterThanOrEqual(4);
  });

  it('is copied into the repository unchanged', () => {
    const { shared, repo } = readFixtures();
    if (shared !== undefined) expect(repo).toEqual(shared);
    expect(repo.hashes.length).toBe(fixture.hashes.length);
  });
});

describe('verifyDjangoPassword() against hashes Django made', () => {
  it.each(fixture.hashes.map((entry) => [entry.algorithm, JSON.stringify(entry.password).slice(0, 24), entry] as const))(
    '%s, password %s: matches its own password and no other',
    async (_algorithm, _label, entry) => {
      // Every other password of the fixture, plus a near miss (one character more: 101 x's must not pass for 100).
      const others = [...passwords.filter((p) => p !== entry.password), `${entry.password}x`];
      const [own, ...rest] = await Promise.all([entry.password, ...others].map((p) => verifyDjangoPassword(p, entry.hash)));
      expect(own).toBe(true);
      expect(rest).toEqual(others.map(() => false));
    },
  );
});

