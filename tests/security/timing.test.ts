/**
 * User enumeration through timing (OWASP Authentication cheat sheet "authentication responses" and "timing
 * attacks"; WSTG-IDNT-04; CWE-208): against the demo app's users, whose bcrypt hashes have cost 10, a failed login
 * costs the same whether the user is unknown, the password wrong, or the user inactive.
 *
 * Robust, not flaky: the three kinds are interleaved (their order rotating each round) and compared by the median
 * of the per-round differences, so a slow moment on a busy machine slows all three alike. A missing bcrypt
 * comparison would be a gap of one whole comparison (tens of milliseconds) in every round, which more rounds do
 * not hide; noise does shrink with more rounds, so a first verdict over 10 ms earns up to three more batches.
 */
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { demo, itLeaksNothing, NO_ACCOUNT, recorder } from './harness';
import { listen } from '../helpers/keys';

const rec = recorder();

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

describe('login timing', () => {
  // The demo's own users (vitor active, sleeper inactive, both bcrypt cost 10); no throttle, so every attempt is checked.
  const { app } = demo(rec, { loginThrottle: false, warnings: { THROTTLE_DISABLED: false } });
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    server = await listen(app as RequestListener);
  });
  afterAll(async () => {
    await server.close();
  });

  const kinds = {
    unknown: (i: number) => ({ username: `nobody-${i}`, password: 'guess' }),
    wrong: () => ({ username: 'vitor', password: 'guess' }),
    inactive: () => ({ username: 'sleeper', password: '123' }),
  };
  type Kind = keyof typeof kinds;
  const order: Kind[] = ['unknown', 'wrong', 'inactive'];

  async function time(kind: Kind, i: number): Promise<number> {
    const start = process.hrtime.bigint();
    const res = await request(server.base).post('/api/token/').send(kinds[kind](i));
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    expect(res.status).toBe(401);
    expect(res.body).toEqual(NO_ACCOUNT);
    return ms;
  }

  it('an unknown user, a wrong password and an inactive user take the same time: median gap under 10 ms (bcrypt cost 10)', async () => {
    for (let i = 0; i < 2; i++) for (const kind of order) await time(kind, i); // warm up
    const samples: Record<Kind, number[]> = { unknown: [], wrong: [], inactive: [] };
    let gaps = { unknownVsWrong: Infinity, inactiveVsWrong: Infinity };
    for (let batch = 0, round = 0; batch < 4; batch++) {
      for (const end = round + 15; round < end; round++) {
        for (let k = 0; k < order.length; k++) {
          const kind = order[(round + k) % order.length]!;
          samples[kind].push(await time(kind, round));
        }
      }
      const diff = (a: Kind, b: Kind) => Math.abs(median(samples[a].map((ms, i) => ms - samples[b][i]!)));
      gaps = { unknownVsWrong: diff('unknown', 'wrong'), inactiveVsWrong: diff('inactive', 'wrong') };
      if (gaps.unknownVsWrong < 10 && gaps.inactiveVsWrong < 10) break;
    }
    // The comparison is real: a failed login costs a cost-10 bcrypt comparison, far more than the gap allowed.
    expect(median(samples.wrong)).toBeGreaterThan(20);
    expect(gaps.unknownVsWrong).toBeLessThan(10);
    expect(gaps.inactiveVsWrong).toBeLessThan(10);
  });
});

itLeaksNothing(rec);
