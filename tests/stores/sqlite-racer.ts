/**
 * One racer of the multi-process consume() test: opens the SQLite file given as argv[2], says "ready", waits for
 * "go" on stdin, then consumes the jti argv[3] five times with fresh successors and prints the statuses as JSON.
 */
import { createInterface } from 'node:readline';
import { SqliteStore } from '../../lib/stores/sqlite';
import type { TokenRecord } from '../../lib/stores/types';
import { successorOf, T0 } from './conformance';

const [file, jti, recordJson] = process.argv.slice(2);
if (!file || !jti || !recordJson) throw new TypeError('usage: sqlite-racer <file> <jti> <record json>');
const store = new SqliteStore(file, { purgeIntervalSeconds: 0 });
const record = JSON.parse(recordJson) as TokenRecord;

const lines = createInterface({ input: process.stdin });
lines.once('line', () => {
  const statuses: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    const result = store.consume(jti, T0 + 5, successorOf(record, T0 + 5));
    statuses.push(result.status);
  }
  process.stdout.write(`${JSON.stringify(statuses)}\n`);
  lines.close();
  void store.close();
});
process.stdout.write('ready\n');
