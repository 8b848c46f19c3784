/**
 * A throwaway Redis Cluster for tests: three masters (`redis-server --cluster-enabled yes`, no persistence, each in
 * its own temp dir), joined with `redis-cli --cluster create ... --cluster-replicas 0`. `start` resolves once
 * every node says `cluster_state:ok`; `stop()` ends every node by PID and removes the dirs.
 *
 * Ports come from `SJWT_CLUSTER_PORTS` (`from-to`, default 47000-47999): a node port and its bus port
 * (port + 10000) must both be free, and the bus port must stay below 65536.
 *
 * @example
 * let cluster: RedisCluster;
 * beforeAll(async () => { cluster = await startRedisCluster(); }, 60_000);
 * afterAll(() => cluster.stop());
 * const client = new Cluster(cluster.nodes);
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisCluster {
  /** The masters, as ioredis `new Cluster(nodes)` and node-redis `createCluster({ rootNodes })` take them. */
  readonly nodes: { host: string; port: number }[];
  /** Runs a command on every node (e.g. `['FLUSHALL']`, `['CONFIG', 'SET', ...]`), resolving with the replies. */
  onEveryNode(args: string[]): Promise<string[]>;
  /** Stops every node and removes the dirs. Safe to call twice. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** Three ports whose bus ports are free too, from a random start in the range so parallel suites rarely collide. */
async function pickPorts(count: number): Promise<number[]> {
  const [from, to] = (process.env.SJWT_CLUSTER_PORTS ?? '47000-47999').split('-').map(Number) as [number, number];
  const span = to - from + 1;
  const start = Math.floor(Math.random() * span);
  const ports: number[] = [];
  for (let i = 0; i < span && ports.length < count; i += 1) {
    const port = from + ((start + i) % span);
    if (port + 10000 > 65535) continue;
    if ((await portFree(port)) && (await portFree(port + 10000))) ports.push(port);
  }
  if (ports.length < count) throw new Error(`no ${count} free ports (and bus ports) in ${from}-${to}`);
  return ports;
}

/** One inline command over a raw socket; resolves with the raw reply text. */
function command(port: number, line: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply);
    };
    const timer = setTimeout(done, timeoutMs);
    socket.once('error', done);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      // A simple reply ends at its first CRLF; a bulk reply once its announced length has arrived.
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (bulk ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : reply.includes('\r\n')) done();
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts three masters, joins them, and waits for `cluster_state:ok` on each. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const ports = await pickPorts(3);
  const dir = mkdtempSync(join(tmpdir(), 'sjwt-cluster-'));
  const children: ChildProcess[] = [];
  let stopped = false;

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    await Promise.all(
      children.map(async (child) => {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited(child);
        clearTimeout(timer);
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  }

  try {
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        [
          '--port', String(port),
          '--bind', HOST,
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout', '5000',
          '--save', '',
          '--appendonly', 'no',
          '--dir', dir,
          '--daemonize', 'no',
        ],
        { stdio: 'ignore' },
      );
      children.push(child);
    }
    for (const port of ports) await waitFor(`redis-server on ${port}`, async () => (await command(port, 'PING')).startsWith('+PONG'));
    await new Promise<void>((resolve, reject) => {
      execFile(
        'redis-cli',
        ['--cluster', 'create', ...ports.map((port) => `${HOST}:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`redis-cli --cluster create failed: ${stderr || stdout}`)) : resolve()),
      );
    });
    for (const port of ports) {
      await waitFor(`cluster_state:ok on ${port}`, async () => (await command(port, 'CLUSTER INFO')).includes('cluster_state:ok'));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    nodes: ports.map((port) => ({ host: HOST, port })),
    onEveryNode: (args) => Promise.all(ports.map((port) => command(port, args.join(' ')))),
    stop,
  };
}
