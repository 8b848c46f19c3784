/**
 * `npm run createuser -- <name>`: adds a user to the demo's database, asking for the password twice without
 * echoing it, like Django's `createsuperuser`.
 */
import { hashPassword, BCRYPT_MAX_BYTES } from '../lib';
import { SqliteUsers } from './db';
import { demoDbPath } from './settings';

function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const input = process.stdin;
    process.stdout.write(prompt);
    let value = '';
    const raw = input.isTTY;
    if (raw) input.setRawMode(true);
    input.resume();
    input.setEncoding('utf8');
    const done = (err?: Error) => {
      input.off('data', onData);
      if (raw) input.setRawMode(false);
      input.pause();
      process.stdout.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\n' || char === '\r' || char === '\u0004') return done();
        if (char === '\u0003') return done(new Error('cancelled'));
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    input.on('data', onData);
    input.on('end', () => done());
  });
}

async function main(): Promise<number> {
  const username = process.argv[2];
  if (!username || username.startsWith('-')) {
    console.error('usage: npm run createuser -- <username>');
    return 2;
  }
  const users = new SqliteUsers(demoDbPath());
  try {
    if (users.findByUsername(username)) {
      console.error(`Error: That username is already taken.`);
      return 1;
    }
    const password = await askHidden('Password: ');
    const again = await askHidden('Password (again): ');
    if (password !== again) {
      console.error("Error: Your passwords didn't match.");
      return 1;
    }
    if (password.length === 0) {
      console.error('Error: Blank passwords aren\'t allowed.');
      return 1;
    }
    if (Buffer.byteLength(password) > BCRYPT_MAX_BYTES) {
      console.error(`Error: passwords longer than ${BCRYPT_MAX_BYTES} bytes are refused.`);
      return 1;
    }
    const id = users.create(username, await hashPassword(password, 10));
    console.log(`User "${username}" created with id ${id}.`);
    return 0;
  } finally {
    users.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`Error: ${err.message}`);
    process.exit(1);
  },
);
