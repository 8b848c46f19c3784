/**
 * A TCP proxy between an app and its server (Redis, PostgreSQL, anything over TCP) that a test drives to inject
 * network faults. Real sockets on both sides: the client library and the server see exactly what a broken link
 * would show them. No mocks: the app connects to `proxy.port` instead of the server's port.
 *
 * Faults (each lasts until `heal()`; `cut()` and a dropped reply are one-off events):
 * - `refuse()`: every NEW connection is closed with a TCP reset as soon as it is accepted (a server that is
 *   down: clients get ECONNRESET / "Connection is closed"). Connections already open keep working; call `cut()`
 *   as well for a full outage (`down()` does both).
 * - `stall()`: a blackhole. New connections are accepted but never reach the server; on every connection nothing
 *   is forwarded in either direction. Bytes are not lost: both sides are paused, so they wait in the kernel's
 *   buffers (as TCP retransmits across a partition) and flow again after `heal()`.
 * - `cut()`: destroys every current connection at once (both sides), as a server restart or a dropped link.
 * - `dropReplyOf(n)`: the n-th request sent from now on (counted over all connections) is forwarded to the
 *   server, which executes it, but its reply is swallowed. Then, by default, that connection is destroyed (the
 *   reply never arrives; `{ then: 'stall' }` keeps the connection open and silent instead). The connection must
 *   end or stall: the client matches replies to requests in order, so forwarding later replies would hand it
 *   the wrong answers. Resolves with the request's name (`'EVALSHA'`, `'Q'`, ...) once the reply was swallowed.
 * - `heal()`: back to a transparent proxy (pending `dropReplyOf` cancelled, stalled connections resumed).
 * - `close()`: stops listening and destroys every connection. Safe to call twice.
 *
 * What counts as a request, per `protocol`:
 * - `'redis'` (default): RESP is parsed both ways. A request is one complete client command: a RESP array
 *   (`*<n>\r\n$<len>\r\n...`) or an inline command line (`PING\r\n`). A reply is one complete top-level RESP2/RESP3
 *   value; RESP3 push frames (`>`) are out-of-band and never count as a reply. Replies are matched to commands in
 *   order, which holds for every command except on a connection in subscribe mode (RESP2 pub/sub) or after
 *   `CLIENT REPLY OFF/SKIP`: do not use `dropReplyOf` on such connections. Pipelined and MULTI/EXEC commands
 *   count one each (`QUEUED` is a reply).
 * - `'postgres'`: frontend/backend messages are framed (type byte + int32 length). A request is a simple
 *   `Query` ('Q') or a `Sync` ('S', which ends an extended-protocol batch such as Parse/Bind/Execute); its reply is
 *   every backend message up to and including the next `ReadyForQuery` ('Z'). The start-up exchange is never
 *   counted. A connection that switches to TLS (`SSLRequest` answered 'S') is no longer parsed: use
 *   `sslmode=disable` behind the proxy.
 * - `'chunks'` (any other protocol): a request is one `data` chunk the client side receives, and its reply is
 *   every chunk the server sends until the client sends its next chunk. A heuristic: good for strict
 *   request/response protocols whose requests fit one write, wrong for pipelined traffic.
 *
 * @example
 * const redis = await startRedisServer();
 * const proxy = await startFaultProxy({ port: redis.port });
 * const client = new Redis({ port: proxy.port, maxRetriesPerRequest: 0 });
 * proxy.stall();            // every Redis call now hangs
 * proxy.heal();             // and answers again
 * void proxy.dropReplyOf(1); // the next command runs, its caller never hears back
 * afterAll(() => proxy.close());
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type FaultProtocol = 'redis' | 'postgres' | 'chunks';

export interface FaultProxyOptions {
  /** The real server's port. */
  port: number;
  /** The real server's host. Default `127.0.0.1`. */
  host?: string;
  /** How requests and replies are framed for `dropReplyOf`. Default `'redis'`. */
  protocol?: FaultProtocol;
  /** Port to listen on (`0`: a free one, the default). The proxy always listens on 127.0.0.1. */
  listenPort?: number;
}

export interface FaultProxy {
  readonly host: string;
  /** Where the app connects instead of the server. */
  readonly port: number;
  /** Connections open right now. */
  readonly connections: number;
  /** Requests seen so far, over all connections (as `dropReplyOf` counts them). */
  readonly requests: number;
  /** New connections are reset at once; open ones keep working. */
  refuse(): void;
  /** A blackhole: nothing is forwarded either way, new connections never reach the server. */
  stall(): void;
  /** Destroys every open connection now. */
  cut(): void;
  /** `refuse()` and `cut()`: the server looks stopped. */
  down(): void;
  /** The n-th request from now (1 = the next) runs on the server but its reply is swallowed; see the module comment. */
  dropReplyOf(n: number, options?: { then?: 'cut' | 'stall' }): Promise<string | undefined>;
  /** Transparent again: stalled connections resume, new ones are accepted, a pending drop is cancelled. */
  heal(): void;
  /** Stops listening and destroys every connection. Idempotent. */
  close(): Promise<void>;
}


/** One whole protocol unit read from a stream. */
interface Unit {
  bytes: Buffer;
  /** Client side: the request's name (`'GET'`, `'Q'`); server side: unused. */
  name: string;
  /** `request` (client, counted), `reply-end` (server, ends the oldest request's reply), `other`. */
  kind: 'request' | 'reply-end' | 'other';
}

/** Splits one direction of a stream into whole units, keeping an incomplete tail for the next chunk. */
type Framer = (chunk: Buffer) => Unit[];

/**
 * Where the RESP value starting at `start` ends, or -1 while it is incomplete. A line that does not start with a
 * RESP type byte is an inline command (client side).
 */
function respEnd(buf: Buffer, start: number, depth = 0): number {
  if (start >= buf.length) return -1;
  if (depth > 64) throw new Error('fault-proxy: RESP nested too deep');
  const lineEnd = buf.indexOf('\r\n', start, 'latin1');
  if (lineEnd === -1) return -1;
  const type = String.fromCharCode(buf[start]!);
  const count = Number(buf.toString('latin1', start + 1, lineEnd));
  const afterLine = lineEnd + 2;
  switch (type) {
    case '$': case '!': case '=': {
      if (count < 0) return afterLine; // $-1: null
      const end = afterLine + count + 2;
      return end <= buf.length ? end : -1;
    }
    case '*': case '~': case '>': case '%': case '|': {
      if (count < 0) return afterLine; // *-1: null
      let at = afterLine;
      for (let i = 0; i < (type === '%' || type === '|' ? count * 2 : count); i++) {
        at = respEnd(buf, at, depth + 1);
        if (at === -1) return -1;
      }
      return at;
    }
    default:
      // + - : _ # , ( and inline commands: one line.
      return afterLine;
  }
}

/** The command name of a whole RESP request (array of bulk strings, or an inline line). */
function respCommandName(unit: Buffer): string {
  const firstLine = unit.indexOf('\r\n', 0, 'latin1');
  if (unit[0] !== 0x2a /* * */) return unit.toString('latin1', 0, firstLine).trim().split(/\s+/)[0]!.toUpperCase();
  const lenEnd = unit.indexOf('\r\n', firstLine + 2, 'latin1');
  const len = Number(unit.toString('latin1', firstLine + 3, lenEnd));
  return unit.toString('latin1', lenEnd + 2, lenEnd + 2 + len).toUpperCase();
}

function respFramer(side: 'client' | 'server'): Framer {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const units: Unit[] = [];
    let at = 0;
    for (;;) {
      // Blank lines between inline commands are ignored by Redis; skip them.
      if (side === 'client' && (pending[at] === 0x0d || pending[at] === 0x0a)) {
        const nl = pending.indexOf(0x0a, at);
        if (nl === -1) break;
        at = nl + 1;
        continue;
      }
      const end = respEnd(pending, at);
      if (end === -1) break;
      const bytes = pending.subarray(at, end);
      if (side === 'client') units.push({ bytes, name: respCommandName(bytes), kind: 'request' });
      // A RESP3 push ('>') is out-of-band: it answers no command.
      else units.push({ bytes, name: '', kind: bytes[0] === 0x3e ? 'other' : 'reply-end' });
      at = end;
    }
    pending = pending.subarray(at);
    return units;
  };
}

/** Both directions of one PostgreSQL connection: they share the start-up state (SSLRequest → one raw byte). */
function pgFramers(): { client: Framer; server: Framer } {
  let clientPending: Buffer = Buffer.alloc(0);
  let serverPending: Buffer = Buffer.alloc(0);
  let startup = true;
  let sslAnswers = 0;
  let tls = false;

  const client: Framer = (chunk) => {
    if (tls) return [];
    clientPending = clientPending.length === 0 ? chunk : Buffer.concat([clientPending, chunk]);
    const units: Unit[] = [];
    let at = 0;
    for (;;) {
      if (startup) {
        // Untyped: int32 length, int32 code. SSLRequest / GSSENCRequest get one raw byte; then the StartupMessage.
        if (clientPending.length - at < 8) break;
        const len = clientPending.readInt32BE(at);
        if (clientPending.length - at < len) break;
        const code = clientPending.readInt32BE(at + 4);
        const bytes = clientPending.subarray(at, at + len);
        at += len;
        if (code === 80877103 || code === 80877104) {
          sslAnswers++;
          units.push({ bytes, name: 'ssl', kind: 'other' });
        } else {
          startup = false;
          // Its answer ends with ReadyForQuery like a request's: the proxy matches it, never counts it.
          units.push({ bytes, name: 'startup', kind: 'other' });
        }
        continue;
      }
      if (clientPending.length - at < 5) break;
      const len = clientPending.readInt32BE(at + 1);
      if (clientPending.length - at < len + 1) break;
      const type = String.fromCharCode(clientPending[at]!);
      units.push({ bytes: clientPending.subarray(at, at + len + 1), name: type, kind: type === 'Q' || type === 'S' || type === 'F' ? 'request' : 'other' });
      at += len + 1;
    }
    clientPending = clientPending.subarray(at);
    return units;
  };

  const server: Framer = (chunk) => {
    if (tls) return [{ bytes: chunk, name: '', kind: 'other' }];
    serverPending = serverPending.length === 0 ? chunk : Buffer.concat([serverPending, chunk]);
    const units: Unit[] = [];
    let at = 0;
    for (;;) {
      if (sslAnswers > 0) {
        if (at >= serverPending.length) break;
        sslAnswers--;
        const answer = serverPending[at];
        units.push({ bytes: serverPending.subarray(at, at + 1), name: '', kind: 'other' });
        at += 1;
        if (answer === 0x53 /* S */ || answer === 0x47 /* G */) {
          // TLS from here on: no more framing, everything passes through.
          tls = true;
          if (at < serverPending.length) units.push({ bytes: serverPending.subarray(at), name: '', kind: 'other' });
          at = serverPending.length;
          break;
        }
        continue;
      }
      if (serverPending.length - at < 5) break;
      const len = serverPending.readInt32BE(at + 1);
      if (serverPending.length - at < len + 1) break;
      const type = String.fromCharCode(serverPending[at]!);
      units.push({ bytes: serverPending.subarray(at, at + len + 1), name: type, kind: type === 'Z' ? 'reply-end' : 'other' });
      at += len + 1;
    }
    serverPending = serverPending.subarray(at);
    return units;
  };

  return { client, server };
}

/** `'chunks'`: each client chunk is a request; each server chunk part of the reply to the latest one. */
function chunkFramers(): { client: Framer; server: Framer } {
  return {
    client: (chunk) => [{ bytes: chunk, name: 'chunk', kind: 'request' }],
    server: (chunk) => [{ bytes: chunk, name: '', kind: 'other' }],
  };
}

interface Drop {
  n: number;
  then: 'cut' | 'stall';
  name: string | undefined;
  resolve: (name: string | undefined) => void;
}

interface Link {
  client: Socket;
  server: Socket | undefined;
  framers: { client: Framer; server: Framer };
  /** One entry per request (and the PostgreSQL start-up) on this link, oldest first: the drop its reply settles. */
  inFlight: (Drop | undefined)[];
  /** Once a reply was swallowed: nothing more is forwarded on this link. */
  dead: boolean;
  /** Client bytes that arrived while the server socket was still connecting. */
  early: Buffer[];
}

/**
 * Starts a fault proxy in front of `host:port`. Resolves once it listens.
 *
 * @example
 * const proxy = await startFaultProxy({ port: redis.port });
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const targetHost = options.host ?? '127.0.0.1';
  const targetPort = options.port;
  const protocol = options.protocol ?? 'redis';
  const links = new Set<Link>();
  let mode: 'open' | 'refuse' | 'stall' = 'open';
  let requests = 0;
  let drop: Drop | undefined;
  let closed = false;

  function framersFor(): { client: Framer; server: Framer } {
    if (protocol === 'redis') return { client: respFramer('client'), server: respFramer('server') };
    if (protocol === 'postgres') return pgFramers();
    return chunkFramers();
  }

  function destroyLink(link: Link): void {
    if (!links.delete(link)) return;
    link.client.destroy();
    link.server?.destroy();
  }

  function connectUpstream(link: Link): void {
    const server = createConnection({ host: targetHost, port: targetPort });
    link.server = server;
    server.setNoDelay(true);
    server.on('error', () => destroyLink(link));
    server.on('close', () => {
      if (!link.dead) destroyLink(link);
    });
    server.on('connect', () => {
      for (const chunk of link.early.splice(0)) server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => onServerData(link, chunk));
  }

  function onClientData(link: Link, chunk: Buffer): void {
    if (link.dead) return;
    for (const unit of link.framers.client(chunk)) {
      if (unit.name === 'startup') link.inFlight.push(undefined);
      if (unit.kind !== 'request') continue;
      requests++;
      let target: Drop | undefined;
      if (drop && --drop.n === 0) {
        target = drop;
        target.name = unit.name;
        drop = undefined;
      }
      // chunks: a new request means the previous reply is over.
      if (protocol === 'chunks') link.inFlight.length = 0;
      link.inFlight.push(target);
    }
    if (link.server && !link.server.connecting) link.server.write(chunk);
    else link.early.push(chunk);
  }

  function onServerData(link: Link, chunk: Buffer): void {
    if (link.dead) return;
    const out: Buffer[] = [];
    let swallowed: Drop | undefined;
    for (const unit of link.framers.server(chunk)) {
      const head = link.inFlight[0];
      if (head) {
        // This unit belongs to the reply to swallow. A reply ends with its last unit (chunks: with the first).
        if (unit.kind === 'reply-end' || protocol === 'chunks') {
          link.inFlight.shift();
          swallowed = head;
          break;
        }
        continue;
      }
      out.push(unit.bytes);
      if (unit.kind === 'reply-end') link.inFlight.shift();
    }
    if (out.length > 0) link.client.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    if (!swallowed) return;
    link.dead = true;
    if (swallowed.then === 'cut') {
      // What came before the swallowed reply reaches the client; then the link breaks.
      link.server?.destroy();
      link.client.end(() => destroyLink(link));
    }
    swallowed.resolve(swallowed.name);
  }

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => undefined);
    if (mode === 'refuse' || closed) {
      client.resetAndDestroy();
      return;
    }
    client.setNoDelay(true);
    const link: Link = { client, server: undefined, framers: framersFor(), inFlight: [], dead: false, early: [] };
    links.add(link);
    client.on('error', () => destroyLink(link));
    client.on('close', () => destroyLink(link));
    client.on('data', (chunk: Buffer) => onClientData(link, chunk));
    if (mode === 'stall') return; // accepted, paused, not connected upstream until heal()
    connectUpstream(link);
    client.resume();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  function cut(): void {
    for (const link of [...links]) destroyLink(link);
  }

  function cancelDrop(): void {
    drop?.resolve(undefined);
    drop = undefined;
  }

  return {
    host: '127.0.0.1',
    port,
    get connections() {
      return links.size;
    },
    get requests() {
      return requests;
    },
    refuse() {
      mode = 'refuse';
    },
    stall() {
      mode = 'stall';
      for (const link of links) {
        link.client.pause();
        link.server?.pause();
      }
    },
    cut,
    down() {
      mode = 'refuse';
      cut();
    },
    dropReplyOf(n, { then = 'cut' } = {}) {
      if (!Number.isInteger(n) || n < 1) throw new TypeError('dropReplyOf(n): n must be a whole number >= 1');
      cancelDrop();
      return new Promise((resolve) => {
        drop = { n, then, name: undefined, resolve };
      });
    },
    heal() {
      mode = 'open';
      cancelDrop();
      for (const link of links) {
        if (link.dead) continue;
        if (!link.server) connectUpstream(link);
        link.client.resume();
        link.server!.resume();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      cancelDrop();
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
