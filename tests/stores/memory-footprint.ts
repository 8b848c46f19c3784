/**
 * Measures what MemoryStore keeps per revoked token:
 *   node --expose-gc --import tsx tests/stores/memory-footprint.ts [count]
 * heapUsed after a full GC, before and after `count` (default 1,000,000) revoke(jti, exp) calls with fresh
 * 32-hex jtis and expiries spread over a day. The jti strings count: the store keeps them.
 */
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../../lib/stores/memory';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const count = Number(process.argv[2] ?? 1_000_000);
const now = Math.floor(Date.now() / 1000);

const store = new MemoryStore({ purgeIntervalSeconds: 0 });
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < count; i += 1) store.revoke(randomBytes(16).toString('hex'), now + 300 + (i % 86_400));
gc();
const after = process.memoryUsage().heapUsed;
const perToken = (after - before) / count;
console.log(`${count} revoked jtis: ${((after - before) / 2 ** 20).toFixed(1)} MiB, ${perToken.toFixed(1)} bytes each`);
const started = process.hrtime.bigint();
const removed = store.purgeExpired(now + 300 + 86_400);
const ms = Number(process.hrtime.bigint() - started) / 1e6;
console.log(`purgeExpired removed ${removed} in ${ms.toFixed(0)} ms`);
void store.close();
