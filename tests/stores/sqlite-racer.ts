/**
 * One racer of the multi-process rotate() test: opens the SQLite file given as argv[2], says "ready", waits for
 * "go" on stdin, then rotates the session token argv[3] five times with fresh successors and prints the statuses.
 */
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../lib/stores/sqlite';
import type { TokenRecord } from '../../lib/stores/types';
import { rotation, T0 } from '../../lib/testing/conformance';

const [file, recordJson] = process.argv.slice(2);
if (!file || !recordJson) throw new TypeError('usage: sqlite-racer <file> <record json>');
const store = new SqliteStore(file, { purgeIntervalSeconds: 0, busyTimeoutMs: 10_000 });
const record = JSON.parse(recordJson) as TokenRecord;

const lines = createInterface({ input: process.stdin });
lines.once('line', () => {
  void (async () => {
    const statuses: string[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await store.rotate(rotation(record, T0 + 5, { reuseDetection: false }))).status);
    process.stdout.write(`${JSON.stringify(statuses)}\n`);
    lines.close();
    await store.close();
  })();
});
process.stdout.write('ready\n');
