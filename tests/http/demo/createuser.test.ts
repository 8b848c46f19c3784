import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createDemoApp } from '../../../demo-app/app';
import { SqliteUsers } from '../../../demo-app/db';

const ROOT = join(__dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'sjwt-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// `flush-expired` is tested with the other commands in tests/cli/.

describe('npm run createuser -- <name>', () => {
  function createUser(name: string, input: string, db: string): Promise<{ code: number | null; out: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'demo-app/createuser.ts', name], {
      cwd: ROOT,
      env: { ...process.env, DEMO_DB: db },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stdin.end(input);
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
  }

  it('asks the password twice without echoing it, and the user can log in', async () => {
    const db = join(dir, 'users.sqlite3');
    const created = await createUser('alice', 's3cret-pass\ns3cret-pass\n', db);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/Password: \nPassword \(again\): \nUser "alice" created with id \d+\./);
    expect(created.out).not.toContain('s3cret-pass');
    const users = new SqliteUsers(db);
    try {
      const { app, auth } = createDemoApp(users, { secret: 'Tq7hV2mXc9LpR4sW8yZ1nB6dF3gJ0kA5-createuser-test', warnings: false, loginThrottle: false });
      expect((await request(app).post('/api/token/').send({ username: 'alice', password: 's3cret-pass' })).status).toBe(200);
      await auth.close();
    } finally {
      users.close();
    }
  }, 30_000);

  it('refuses mismatched passwords and taken usernames', async () => {
    const db = join(dir, 'users2.sqlite3');
    const mismatch = await createUser('bob', 'one\ntwo\n', db);
    expect(mismatch.code).toBe(1);
    expect(mismatch.out).toContain("Error: Your passwords didn't match.");
    const taken = await createUser('vitor', 'x\nx\n', db);
    expect(taken.code).toBe(1);
    expect(taken.out).toContain('Error: That username is already taken.');
  }, 30_000);
});
