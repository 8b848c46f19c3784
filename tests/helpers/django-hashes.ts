import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One hash Django 3.2's `make_password()` produced, with the password it was made from. */
export interface DjangoHashEntry {
  algorithm: string;
  password: string;
  hash: string;
}

interface Fixture {
  django_version: string;
  hashes: DjangoHashEntry[];
}

const root = join(__dirname, '..', '..');
/** The project's shared fixture, beside the clone (read-only in CI). */
export const SHARED_FIXTURE = join(root, '..', 'shared', 'fixtures', 'django-password-hashes.json');
/** The copy kept in the repository, so the tests do not need anything outside it. */
export const REPO_FIXTURE = join(root, 'tests', 'fixtures', 'django-password-hashes.json');

function read(path: string): Fixture {
  return JSON.parse(readFileSync(path, 'utf8')) as Fixture;
}

/** The shared fixture when it is there, else the repository's copy (the tests check the two agree). */
export function loadDjangoHashes(): Fixture {
  return read(existsSync(SHARED_FIXTURE) ? SHARED_FIXTURE : REPO_FIXTURE);
}

/** The repository's copy, for the check that it has not drifted from the shared one. */
export function readFixtures(): { shared: Fixture | undefined; repo: Fixture } {
  return { shared: existsSync(SHARED_FIXTURE) ? read(SHARED_FIXTURE) : undefined, repo: read(REPO_FIXTURE) };
}
