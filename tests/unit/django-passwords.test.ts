import { pbkdf2Sync } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { verifyDjangoPassword } from '../../lib';
import { createPasswordChecker } from '../../lib/passwords/bcrypt';
import { parseDjangoHash } from '../../lib/passwords/django';
import { loadDjangoHashes } from '../helpers/django-hashes';

const fixture = loadDjangoHashes();
/** One hash of each algorithm: the fixture test checks them all. */
const onePerAlgorithm = [...new Map(fixture.hashes.map((entry) => [entry.algorithm, entry])).values()];

describe('verifyDjangoPassword() formats', () => {
  it("verifies Django's plain bcrypt form (bcrypt$$2b$...) and refuses passwords bcrypt would truncate", async () => {
    const long = 'y'.repeat(72);
    const encoded = `bcrypt$${await bcrypt.hash(long, 4)}`;
    await expect(verifyDjangoPassword(long, encoded)).resolves.toBe(true);
    await expect(verifyDjangoPassword(`${long}extra`, encoded)).resolves.toBe(false);
    await expect(verifyDjangoPassword('y', encoded)).resolves.toBe(false);
  });

  it('has no 72-byte limit for bcrypt_sha256, PBKDF2 and argon2', async () => {
    const long = fixture.hashes.filter((entry) => Buffer.byteLength(entry.password) > 72);
    expect(new Set(long.map((entry) => entry.algorithm)).size).toBe(4);
    for (const entry of long) await expect(verifyDjangoPassword(entry.password, entry.hash)).resolves.toBe(true);
  });

  it("resolves false for Django's unusable passwords (set_unusable_password)", async () => {
    await expect(verifyDjangoPassword('', '!Yb2QwlgmY3Gu1ZPsiDWdOjnVHQUgUgmYbw9Kf6Pd')).resolves.toBe(false);
  });

  it('throws a TypeError naming an unsupported Django hasher, without quoting the hash', async () => {
    await expect(verifyDjangoPassword('123', 'scrypt$16384$salt$8$1$aGFzaA==')).rejects.toThrow(
      new TypeError(
        'verifyDjangoPassword() reads pbkdf2_sha256, pbkdf2_sha1, bcrypt_sha256, bcrypt and argon2 hashes; ' +
          'Django\'s "scrypt" hasher is not supported',
      ),
    );
    const plain = verifyDjangoPassword('hunter2', 'hunter2');
    await expect(plain).rejects.toThrow(/in no format the kit recognises$/);
    await expect(verifyDjangoPassword('hunter2', 'hunter2$x')).rejects.not.toThrow(/hunter2/);
  });

  it('calls a truncated or altered hash malformed', async () => {
    const pbkdf2 = fixture.hashes.find((entry) => entry.algorithm === 'pbkdf2_sha256')!;
    await expect(verifyDjangoPassword(pbkdf2.password, pbkdf2.hash.slice(0, -8))).rejects.toThrow(/"pbkdf2_sha256" hash is malformed/);
    await expect(verifyDjangoPassword(pbkdf2.password, pbkdf2.hash.replace('260000', '0'))).rejects.toThrow(TypeError);
    const bcryptSha = fixture.hashes.find((entry) => entry.algorithm === 'bcrypt_sha256')!;
    await expect(verifyDjangoPassword('123', bcryptSha.hash.replace('$2b$', '$2x$'))).rejects.toThrow(/"bcrypt_sha256" hash is malformed/);
  });

  it('rejects non-string arguments with a TypeError', async () => {
    await expect(verifyDjangoPassword(undefined as never, 'x')).rejects.toThrow(TypeError);
    await expect(verifyDjangoPassword('x', null as never)).rejects.toThrow(TypeError);
  });

  it('says how to install @node-rs/argon2 when an argon2 hash meets its absence', async () => {
    const argon = fixture.hashes.find((entry) => entry.algorithm === 'argon2')!;
    let verify!: typeof verifyDjangoPassword;
    jest.isolateModules(() => {
      jest.doMock('@node-rs/argon2', () => {
        throw Object.assign(new Error("Cannot find module '@node-rs/argon2'"), { code: 'MODULE_NOT_FOUND' });
      });
      verify = (require('../../lib/passwords/django') as typeof import('../../lib/passwords/django')).verifyDjangoPassword;
    });
    await expect(verify(argon.password, argon.hash)).rejects.toThrow(
      'verifying Django argon2 hashes needs the optional peer dependency "@node-rs/argon2": run `npm install @node-rs/argon2`',
    );
    // Other formats keep working without it.
    const pbkdf2 = fixture.hashes.find((entry) => entry.algorithm === 'pbkdf2_sha256')!;
    await expect(verify(pbkdf2.password, pbkdf2.hash)).resolves.toBe(true);
    jest.dontMock('@node-rs/argon2');
  });

  it('parses the fields Django wrote', () => {
    const argon = fixture.hashes.find((entry) => entry.algorithm === 'argon2')!;
    expect(parseDjangoHash(argon.hash)).toMatchObject({ scheme: 'argon2', variant: 'argon2id', params: 'v=19$m=102400,t=2,p=8', hashLength: 16 });
    const pbkdf2 = fixture.hashes.find((entry) => entry.algorithm === 'pbkdf2_sha1')!;
    expect(parseDjangoHash(pbkdf2.hash)).toMatchObject({ scheme: 'pbkdf2', algorithm: 'pbkdf2_sha1', iterations: 260000 });
  });
});

describe('the login password checker', () => {
  function checker() {
    const logged: string[] = [];
    return { logged, ...createPasswordChecker(4, (message) => void logged.push(message)) };
  }

  it('accepts raw bcrypt and every Django format, with the same answers as verifyDjangoPassword', async () => {
    const { check, logged } = checker();
    for (const entry of onePerAlgorithm) {
      await expect(check(entry.password, entry.hash)).resolves.toBe(true);
      await expect(check(`${entry.password}!`, entry.hash)).resolves.toBe(false);
    }
    const raw = await bcrypt.hash('pw', 4);
    await expect(check('pw', raw)).resolves.toBe(true);
    await expect(check('pW', raw)).resolves.toBe(false);
    expect(logged).toEqual([]);
  });

  it('refuses passwords over 72 bytes for raw and Django bcrypt hashes only', async () => {
    const { check } = checker();
    const long = 'z'.repeat(72);
    const raw = await bcrypt.hash(long, 4);
    await expect(check(long, raw)).resolves.toBe(true);
    await expect(check(`${long}z`, raw)).resolves.toBe(false);
    await expect(check(`${long}z`, `bcrypt$${raw}`)).resolves.toBe(false);
    const sha = fixture.hashes.find((entry) => entry.algorithm === 'bcrypt_sha256' && entry.password.length > 72)!;
    await expect(check(sha.password, sha.hash)).resolves.toBe(true);
  });

  it('refuses unknown formats and logs once per kind, never quoting the hash', async () => {
    const { check, logged } = checker();
    await expect(check('plaintext', 'plaintext')).resolves.toBe(false);
    await expect(check('other', 'other')).resolves.toBe(false);
    await expect(check('123', 'md5$salt$0123456789abcdef0123456789abcdef')).resolves.toBe(false);
    await expect(check('123', 'md5$salt2$0123456789abcdef0123456789abcdef')).resolves.toBe(false);
    expect(logged).toHaveLength(2);
    expect(logged[0]).toContain('not bcrypt');
    expect(logged[0]).toContain('(logged once)');
    expect(logged[1]).toContain('Django\'s "md5" hasher is not supported');
    expect(logged.join('\n')).not.toMatch(/plaintext|other|salt/);
  });

  it("refuses Django's unusable passwords quietly", async () => {
    const { check, logged } = checker();
    await expect(check('', '!Yb2QwlgmY3Gu1ZPsiDWdOjnVHQUgUgmYbw9Kf6Pd')).resolves.toBe(false);
    await expect(check('x', null)).resolves.toBe(false);
    await expect(check('x', undefined)).resolves.toBe(false);
    expect(logged).toEqual([]);
  });
});

describe('hashes of several costs in one table (issue 14, finding 7: enumeration by hash cost)', () => {
  /** A compare that only records the work each bcrypt check costs (2^rounds) and never matches. */
  function counting() {
    const work: number[] = [];
    const compare = (_password: string, hash: string) => {
      work.push(2 ** Number(hash.slice(4, 6)));
      return Promise.resolve(false);
    };
    const checker = createPasswordChecker(10, () => undefined, compare);
    /** The bcrypt work one check costs. */
    async function cost(hash: string | undefined): Promise<number> {
      work.length = 0;
      await expect(checker.check('guess', hash)).resolves.toBe(false);
      return work.reduce((a, b) => a + b, 0);
    }
    return { cost };
  }
  const salt = (rounds: number) => `$2b$${String(rounds).padStart(2, '0')}$${'a'.repeat(53)}`;

  it('an unknown user costs the highest bcrypt cost seen, whichever hash was seen last', async () => {
    const { cost } = counting();
    expect(await cost(undefined)).toBe(2 ** 10); // bcryptRounds until a costlier hash shows up
    expect(await cost(salt(12))).toBe(2 ** 12);
    expect(await cost(salt(10))).toBe(2 ** 12); // 2^10, topped up with 2^10 + 2^11
    expect(await cost(undefined)).toBe(2 ** 12);
    expect(await cost(salt(4))).toBe(2 ** 12);
    expect(await cost('!unusable')).toBe(2 ** 12);
    expect(await cost(`bcrypt_sha256$${salt(11)}`)).toBe(2 ** 12);
  });

  it('bcryptRounds is a floor: hashes cheaper than it are topped up to it from the first login', async () => {
    const { cost } = counting();
    expect(await cost(salt(8))).toBe(2 ** 10);
    expect(await cost(undefined)).toBe(2 ** 10);
  });

  it('a right password is not topped up (Django hardens only failures)', async () => {
    const checker = createPasswordChecker(4, () => undefined);
    const cheap = await bcrypt.hash('pw', 4);
    await checker.check('x', await bcrypt.hash('other', 8)); // the table holds cost 8
    const used = process.cpuUsage();
    await expect(checker.check('pw', cheap)).resolves.toBe(true);
    const right = process.cpuUsage(used);
    const used2 = process.cpuUsage();
    await expect(checker.check('pW', cheap)).resolves.toBe(false);
    const wrong = process.cpuUsage(used2);
    expect(wrong.user + wrong.system).toBeGreaterThan(4 * (right.user + right.system));
  });

  it('PBKDF2: a wrong password against fewer iterations is topped up to the most seen (CPU time within 40%)', async () => {
    const checker = createPasswordChecker(4, () => undefined);
    const make = (iterations: number) => {
      const salt = 'c2FsdHNhbHQ';
      return `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync('pw', salt, iterations, 32, 'sha256').toString('base64')}`;
    };
    const few = make(10_000);
    const many = make(300_000);
    const cpu = async (hash: string | undefined) => {
      const used = process.cpuUsage();
      await expect(checker.check('guess', hash)).resolves.toBe(false);
      const spent = process.cpuUsage(used);
      return spent.user + spent.system;
    };
    await cpu(many);
    const samples = { few: [] as number[], many: [] as number[], unknown: [] as number[] };
    for (let i = 0; i < 5; i++) {
      samples.few.push(await cpu(few));
      samples.many.push(await cpu(many));
      samples.unknown.push(await cpu(undefined));
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[2]!;
    for (const kind of ['few', 'unknown'] as const) {
      const ratio = median(samples[kind]) / median(samples.many);
      expect([kind, ratio > 0.6 && ratio < 1.4]).toEqual([kind, true]);
    }
  });
});
