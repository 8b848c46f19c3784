/**
 * The login storm of the security review (issue 14, finding 4), as a measurement. Run by storm.test.ts, or by
 * hand: `node --expose-gc --import tsx tests/security/storm.ts [requests]`. Prints one JSON line.
 *
 * One attacker address sends logins with random usernames, 32 at a time, against a kit with the default throttle
 * (10/15m) and a small password pool (1 thread, 16 pending) at bcrypt cost 10:
 * - victim: while the storm runs, a user on another address logs in 10 times with the right password; each
 *   status and time is reported (today's bug: the victim's own 503 `server_busy` answers counted as failures
 *   and ended in 429 for ~15 minutes).
 * - heap: after a warm-up of 1,000 storm requests, the server's heap growth over `requests` (default 20,000)
 *   more, divided by `requests`, after a full GC (target: at most 100 bytes; today each request left a ~614 B key).
 */
import { Agent, request, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { makeApp } from '../helpers/app';

const TOTAL = Number(process.argv[2] ?? 20_000);
const ATTACKER = '198.51.100.7';
const VICTIM = '203.0.113.9';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function login(port: number, address: string, username: string, password: string): Promise<{ status: number; ms: number; code?: string }> {
  const body = JSON.stringify({ username, password });
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/api/token/', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': address } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { code?: string }).code;
          } catch {
            code = undefined;
          }
          resolve({ status: res.statusCode ?? 0, ms: Math.round(performance.now() - started), code });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const randomName = () => `storm-${randomBytes(6).toString('hex')}`;

/** `count` storm requests, `concurrency` at a time; the statuses seen. */
async function storm(port: number, count: number, concurrency = 32): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let left = count;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        const { status } = await login(port, ATTACKER, randomName(), 'guess');
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const { app, auth } = makeApp({ loginThrottle: '10/15m', bcryptRounds: 10, passwordHashing: { threads: 1, maxPending: 16 } });
  app.set('trust proxy', 1);
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as { port: number }).port;

  // 1. The victim during a storm from another address.
  let stormRunning = true;
  const background = (async () => {
    const statuses: Record<number, number> = {};
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (stormRunning) {
          const { status } = await login(port, ATTACKER, randomName(), 'guess');
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }),
    );
    return statuses;
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const victim: { status: number; ms: number; code?: string }[] = [];
  for (let i = 0; i < 10; i++) victim.push(await login(port, VICTIM, 'vitor', '123'));
  stormRunning = false;
  const duringStorm = await background;
  const victimAfter = await login(port, VICTIM, 'vitor', '123');

  // 2. Heap per storm request.
  await storm(port, 1000);
  const before = heapAfterGc();
  const statuses = await storm(port, TOTAL);
  const after = heapAfterGc();

  server.close();
  agent.destroy();
  await auth.close();
  process.stdout.write(
    `${JSON.stringify({ victim, victimAfter, duringStorm, requests: TOTAL, statuses, heapBefore: before, heapAfter: after, bytesPerRequest: (after - before) / TOTAL })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
