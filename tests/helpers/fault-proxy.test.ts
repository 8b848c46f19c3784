/**
 * The fault proxy against a real redis-server: each fault does what its doc comment says, seen by ioredis and
 * by raw sockets, and `heal()` brings the link back without restarting anything.
 */
import { createConnection } from 'node:net';
import Redis from 'ioredis';
import { startRedisServer, type RedisServer } from '../stores/redis-server';
import { startFaultProxy, type FaultProxy } from './fault-proxy';

let redis: RedisServer;
let direct: Redis;
const opened: { proxy?: FaultProxy; clients: Redis[] } = { clients: [] };

beforeAll(async () => {
  redis = await startRedisServer();
  direct = new Redis({ host: redis.host, port: redis.port });
}, 130_000);

afterEach(async () => {
  for (const client of opened.clients.splice(0)) client.disconnect();
  await opened.proxy?.close();
  opened.proxy = undefined;
});

afterAll(async () => {
  direct.disconnect();
  await redis.stop();
});

async function proxy(protocol?: 'redis' | 'chunks'): Promise<FaultProxy> {
  opened.proxy = await startFaultProxy({ port: redis.port, ...(protocol ? { protocol } : {}) });
  return opened.proxy;
}

/** A client that fails fast: no offline queue, no retry of a command whose connection broke. */
async function client(p: FaultProxy, extra: Record<string, unknown> = {}): Promise<Redis> {
  const c = new Redis({ host: p.host, port: p.port, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50, disconnectTimeout: 100, ...extra });
  c.on('error', () => undefined);
  opened.clients.push(c);
  await new Promise((resolve) => c.once('ready', resolve));
  return c;
}

/** Settles within `ms`, or says it is still pending. */
function within<T>(promise: Promise<T>, ms: number): Promise<{ value?: T; error?: unknown; pending?: true }> {
  return Promise.race([
    promise.then((value) => ({ value }), (error: unknown) => ({ error })),
    new Promise<{ pending: true }>((resolve) => setTimeout(() => resolve({ pending: true }), ms)),
  ]);
}

/** What a raw socket experiences on connecting: data, a reset/close, or nothing within 300 ms. */
function rawConnect(port: number, send = 'PING\r\n'): Promise<'answered' | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (what: 'answered' | 'closed' | 'silent') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done('silent'), 300);
    socket.on('connect', () => socket.write(send));
    socket.on('data', () => done('answered'));
    socket.on('error', () => done('closed'));
    socket.on('close', () => done('closed'));
  });
}

function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

describe('fault proxy (real redis-server)', () => {
  it('is transparent until told otherwise, and counts commands', async () => {
    const p = await proxy();
    const c = await client(p);
    const before = p.requests;
    await c.set('fp:a', 'x');
    expect(await c.get('fp:a')).toBe('x');
    const results = await c.pipeline().incr('fp:n').incr('fp:n').exec();
    expect(results).toEqual([[null, 1], [null, 2]]);
    expect(p.requests - before).toBe(4);
    expect(await rawConnect(p.port)).toBe('answered');
    expect(p.connections).toBeGreaterThanOrEqual(1);
  });

  it('refuse(): new connections are reset, open ones keep working; heal() accepts again', async () => {
    const p = await proxy();
    const c = await client(p);
    p.refuse();
    expect(await rawConnect(p.port)).toBe('closed');
    expect(await c.ping()).toBe('PONG');
    p.heal();
    expect(await rawConnect(p.port)).toBe('answered');
  });

  it('stall(): nothing is answered, nothing is lost; heal() delivers the pending reply', async () => {
    const p = await proxy();
    const c = await client(p);
    p.stall();
    const pending = c.incr('fp:stalled');
    expect(await within(pending, 300)).toEqual({ pending: true });
    expect(await rawConnect(p.port)).toBe('silent');
    // The command has not even reached the server.
    expect(await direct.get('fp:stalled')).toBeNull();
    p.heal();
    expect(await pending).toBe(1);
    expect(await rawConnect(p.port)).toBe('answered');
  });

  it('cut(): every open connection breaks; the client reconnects through the healed proxy', async () => {
    const p = await proxy();
    const c = await client(p);
    const closed = new Promise((resolve) => c.once('close', resolve));
    p.cut();
    await closed;
    expect(p.connections).toBe(0);
    await waitFor(() => c.status === 'ready');
    expect(await c.ping()).toBe('PONG');
  });

  it('down(): a stopped server as clients see it, until heal()', async () => {
    const p = await proxy();
    const c = await client(p);
    p.down();
    await waitFor(() => c.status !== 'ready');
    await expect(c.ping()).rejects.toThrow();
    expect(await rawConnect(p.port)).toBe('closed');
    p.heal();
    await waitFor(() => c.status === 'ready');
    expect(await c.ping()).toBe('PONG');
  });

  it('dropReplyOf(1): the command runs on the server, its caller never gets the reply and the link breaks', async () => {
    const p = await proxy();
    const c = await client(p);
    const dropped = p.dropReplyOf(1);
    await expect(c.incr('fp:lost')).rejects.toThrow();
    expect(await dropped).toBe('INCR');
    expect(await direct.get('fp:lost')).toBe('1');
    // Only that one reply: the next command goes through on a new connection.
    await waitFor(() => c.status === 'ready');
    expect(await c.incr('fp:lost')).toBe(2);
  });

  it('dropReplyOf(n) counts pipelined commands one each: earlier replies arrive, the n-th and later do not', async () => {
    const p = await proxy();
    const c = await client(p);
    const dropped = p.dropReplyOf(2);
    const results = await c.pipeline().incr('fp:p1').incr('fp:p2').incr('fp:p3').exec();
    expect(results![0]).toEqual([null, 1]);
    expect(results![1]![0]).toBeInstanceOf(Error);
    expect(results![2]![0]).toBeInstanceOf(Error);
    expect(await dropped).toBe('INCR');
    // All three ran: the fault is on the way back.
    expect(await direct.mget('fp:p1', 'fp:p2', 'fp:p3')).toEqual(['1', '1', '1']);
  });

  it('dropReplyOf(n, { then: "stall" }): the caller waits forever on an open, silent connection', async () => {
    const p = await proxy();
    const c = await client(p);
    const dropped = p.dropReplyOf(1, { then: 'stall' });
    const pending = c.incr('fp:silent');
    expect(await dropped).toBe('INCR');
    expect(await within(pending, 300)).toEqual({ pending: true });
    expect(await direct.get('fp:silent')).toBe('1');
    expect(c.status).toBe('ready');
    p.cut();
    await expect(pending).rejects.toThrow();
  });

  it('heal() cancels a pending drop (resolved with undefined)', async () => {
    const p = await proxy();
    const c = await client(p);
    const dropped = p.dropReplyOf(5);
    p.heal();
    expect(await dropped).toBeUndefined();
    for (let i = 0; i < 6; i++) expect(await c.ping()).toBe('PONG');
  });

  it("'chunks' protocol: one client write is one request", async () => {
    const p = await proxy('chunks');
    const c = await client(p);
    const dropped = p.dropReplyOf(1);
    await expect(c.set('fp:chunk', 'v')).rejects.toThrow();
    expect(await dropped).toBe('chunk');
    expect(await direct.get('fp:chunk')).toBe('v');
  });

  it('close() ends every connection, stops listening and is idempotent', async () => {
    const p = await proxy();
    await client(p);
    await p.close();
    await p.close();
    expect(p.connections).toBe(0);
    expect(await rawConnect(p.port)).toBe('closed');
  });
});
