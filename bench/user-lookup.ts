/**
 * The demo's user lookup (demo-app/db.ts: better-sqlite3 statements prepared once), CPU µs per call (the process's
 * user + system time, which other work on a busy machine skews less than wall time), in one process:
 * `findById` (what authenticate() calls on every request) and `findByUsername` (login), over 2,000 users.
 *   node --import tsx bench/user-lookup.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteUsers } from '../demo-app/db';

const USERS = 2_000;
const CALLS = 200_000;

export function userLookupMicros(rounds = 3): { findById: number; findByUsername: number }[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'sjwt-lookup-'));
  const users = new SqliteUsers(path.join(dir, 'users.sqlite3'));
  try {
    const ids: string[] = [];
    for (let i = 0; i < USERS; i++) ids.push(String(users.create(`user${i}`, 'not-a-hash')));
    const time = (fn: (i: number) => unknown) => {
      const started = process.cpuUsage();
      for (let i = 0; i < CALLS; i++) fn(i);
      const { user, system } = process.cpuUsage(started);
      return (user + system) / CALLS;
    };
    const rows = [];
    for (let round = 0; round < rounds; round++) {
      rows.push({
        findById: time((i) => users.findById(ids[i % USERS]!)),
        findByUsername: time((i) => users.findByUsername(`user${i % USERS}`)),
      });
    }
    return rows;
  } finally {
    users.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  for (const row of userLookupMicros()) console.log(`findById ${row.findById.toFixed(2)} µs, findByUsername ${row.findByUsername.toFixed(2)} µs`);
}
