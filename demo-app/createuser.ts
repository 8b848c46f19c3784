/**
 * `npm run createuser -- <name>`: adds a user to the demo's database, asking for the password twice without
 * echoing it, like Django's `createsuperuser`.
 */
import { hashPassword, BCRYPT_MAX_BYTES } from '../lib';
import { SqliteUsers } from './db';
import { demoDbPath } from './settings';

/**
 * Reads lines from standard input without echo (raw mode on a terminal). Characters typed ahead, or piped in
 * one chunk, are kept for the next question.
 */
function hiddenReader() {
  const input = process.stdin;
  let pending = '';
  let ended = false;
  input.setEncoding('utf8');
  input.on('end', () => {
    ended = true;
  });

  return function ask(prompt: string): Promise<string> {
    process.stdout.write(prompt);
    const raw = input.isTTY === true;
    if (raw) input.setRawMode(true);
    return new Promise((resolve, reject) => {
      const finish = (err: Error | null, value = '') => {
        input.off('data', onData);
        input.off('end', onEnd);
        if (raw) input.setRawMode(false);
        input.pause();
        process.stdout.write('\n');
        if (err) reject(err);
        else resolve(value);
      };
      const scan = (): boolean => {
        let value = '';
        for (let i = 0; i < pending.length; i++) {
          const char = pending[i]!;
          if (char === '\n' || char === '\r' || char === '\u0004') {
            pending = pending.slice(i + (char === '\r' && pending[i + 1] === '\n' ? 2 : 1));
            finish(null, value);
            return true;
          }
          if (char === '\u0003') {
            finish(new Error('cancelled'));
            return true;
          }
          if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
          else value += char;
        }
        return false;
      };
      const onData = (chunk: string) => {
        pending += chunk;
        scan();
      };
      const onEnd = () => finish(null, pending.replace(/[\r\n]+$/, ''));
      if (scan()) return;
      if (ended) return onEnd();
      input.on('data', onData);
      input.on('end', onEnd);
      input.resume();
    });
  };
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
    const ask = hiddenReader();
    const password = await ask('Password: ');
    const again = await ask('Password (again): ');
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
