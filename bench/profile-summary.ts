/**
 * Where a server's CPU went: the self time of a `node --cpu-prof` profile (as `npm run bench -- --profile`
 * leaves in bench/profiles/) by function and by area (the kit, Express and its helpers, other packages, Node's
 * own code, GC, idle).
 *   npx tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The area a function belongs to, from its script URL. */
function area(url: string, name: string): string {
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') return name;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/lib/')) return 'express-simplejwt';
  if (url === '') return '(native)';
  return 'app';
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (!file) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    const where = area(url, name);
    if (where !== '(idle)') busy += us;
    const key = `${name}  ${url.replace(/^.*\/(node_modules|lib|bench)\//, '$1/')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byArea.set(where, (byArea.get(where) ?? 0) + us);
  }
  const share = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(`${file}: ${(busy / 1000).toFixed(0)} ms busy (idle excluded) of ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms`);
  console.log('\nby area (share of busy time)');
  for (const [name, us] of [...byArea].sort((a, b) => b[1] - a[1])) if (name !== '(idle)') console.log(`${share(us)}  ${name}`);
  console.log(`\ntop ${top} functions by self time`);
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) if (!name.startsWith('(idle)')) console.log(`${share(us)}  ${name}`);
}

main();
