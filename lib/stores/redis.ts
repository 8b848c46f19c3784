import { createHash } from 'node:crypto';
import {
  bySessionAge,
  copyRecord,
  resolveTimerOptions,
  seconds,
  sessionInfo,
  startPurgeTimer,
  successorFamilyError,
  type StoreTimerOptions,
} from './internal';
import type { ConsumeResult, SessionInfo, TokenRecord, TokenStore } from './types';

/**
 * A Redis command and its arguments, e.g. `['HGET', key, field]`.
 *
 * @example
 * const ping: RedisCommand = ['PING'];
 */
export type RedisCommand = [command: string, ...args: string[]];

/**
 * Sends one Redis command and resolves with its reply (rejects with Redis's error).
 *
 * @example
 * const sendCommand: SendCommand = (args) => client.sendCommand(args); // node-redis v4+
 */
export type SendCommand = (args: RedisCommand) => Promise<unknown>;

/**
 * Options of `new RedisStore(...)`.
 *
 * @example
 * new RedisStore({ sendCommand: (args) => client.sendCommand(args), prefix: '{sjwt}:' }); // one slot on a Cluster
 */
export interface RedisStoreOptions extends StoreTimerOptions {
  /**
   * Sends a command through your Redis client; the store never opens connections of its own.
   * ioredis: `(args) => client.call(args[0], ...args.slice(1))`; node-redis v4+: `(args) => client.sendCommand(args)`.
   */
  sendCommand: SendCommand;
  /** Prefix of every key the store writes. Default `'sjwt:'`. Use a hash tag (`'{sjwt}:'`) on Redis Cluster. */
  prefix?: string;
}

/**
 * The part of an ioredis client the store uses, so an ioredis instance can be passed as is.
 *
 * @example
 * import Redis from 'ioredis';
 * const store = new RedisStore(new Redis(process.env.REDIS_URL)); // an ioredis client is IoRedisLike
 */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** How many expired index entries one purge script handles before yielding to other clients. */
const PURGE_BATCH = 1000;

/**
 * Lua shared by every script. ARGV[1] is the key prefix, ARGV[2] the store clock in seconds (only to turn expiry
 * times into relative TTLs, so Redis's own clock never shortens a revocation).
 *
 * Keys: `t:<jti>` record hash (`r` = rotatedAt once consumed) · `b:<jti>` blacklist · `fr:<family>` revoked family
 * · `ur:<user>` user cutoff hash (`b` before, `e` kept until) · `f:<family>` session summary hash · `s:<user>` the
 * user's families by start time · `x` expiry index (`<kind>:<id>` scored by expiry) that `purgeExpired` walks ·
 * `settings` hash.
 */
const PRELUDE = `
local p = ARGV[1]
local clk = tonumber(ARGV[2])
local function n2s(n) return string.format('%d', n) end
local function ttl(exp)
  local t = exp - clk
  if t < 1 then t = 1 end
  return t
end
local function extend(key, exp)
  local t = ttl(exp)
  if redis.call('TTL', key) < t then redis.call('EXPIRE', key, t) end
end
local function opt(v)
  if v == '' then return false end
  return string.sub(v, 2)
end
local function revoked(jti, user, iat, fam)
  if redis.call('EXISTS', p .. 'b:' .. jti) == 1 then return true end
  if fam and redis.call('EXISTS', p .. 'fr:' .. fam) == 1 then return true end
  local cut = redis.call('HGET', p .. 'ur:' .. user, 'b')
  if cut and tonumber(cut) > iat then return true end
  return false
end
local function put(a, i)
  local jti, user, fam, typ = a[i], a[i + 1], a[i + 2], a[i + 3]
  local iat, exp, started = tonumber(a[i + 4]), tonumber(a[i + 5]), tonumber(a[i + 6])
  local ua, ip = opt(a[i + 8]), opt(a[i + 9])
  local tk = p .. 't:' .. jti
  if redis.call('EXISTS', tk) == 1 then return 0 end
  local fields = {'u', user, 'f', fam, 'y', typ, 'i', a[i + 4], 'e', a[i + 5], 'ss', a[i + 6], 'se', a[i + 7]}
  if ua then table.insert(fields, 'ua'); table.insert(fields, ua) end
  if ip then table.insert(fields, 'ip'); table.insert(fields, ip) end
  redis.call('HSET', tk, unpack(fields))
  redis.call('EXPIRE', tk, ttl(exp))
  redis.call('ZADD', p .. 'x', exp, 't:' .. jti)

  local fk = p .. 'f:' .. fam
  local f = redis.call('HMGET', fk, 'u', 'c', 'l', 'si', 'p')
  local owner, created, purge = user, started, exp
  if f[1] then
    owner = f[1]
    created = math.min(tonumber(f[2]), started)
    purge = math.max(tonumber(f[5]), exp)
    redis.call('HSET', fk, 'c', n2s(created), 'l', n2s(math.max(tonumber(f[3]), iat)), 'p', n2s(purge))
  else
    redis.call('HSET', fk, 'u', user, 'c', a[i + 6], 'l', a[i + 4], 'p', a[i + 5])
  end
  if ua then redis.call('HSETNX', fk, 'ua', ua) end
  if ip then redis.call('HSETNX', fk, 'ip', ip) end
  if (typ == 'refresh' or typ == 'sliding') and (not f[4] or iat >= tonumber(f[4])) then
    redis.call('HSET', fk, 'j', jti, 'si', a[i + 4], 'e', a[i + 5])
  end
  extend(fk, purge)
  redis.call('ZADD', p .. 'x', purge, 'f:' .. fam)
  local sk = p .. 's:' .. owner
  redis.call('ZADD', sk, created, fam)
  extend(sk, purge)
  return 1
end
`;

/** ARGV[3..12]: the record. */
const RECORD = `return put(ARGV, 3)`;

/** ARGV[3] jti, ARGV[4] now, ARGV[5..14] the successor. */
const CONSUME = `
local jti, now = ARGV[3], tonumber(ARGV[4])
local tk = p .. 't:' .. jti
local raw = redis.call('HGETALL', tk)
local h = {}
for k = 1, #raw, 2 do h[raw[k]] = raw[k + 1] end
if #raw == 0 or tonumber(h.e) <= now then
  if redis.call('EXISTS', p .. 'b:' .. jti) == 1 then return {'revoked'} end
  return {'unknown'}
end
if h.r then return {'reused', h.r, unpack(raw)} end
if revoked(jti, h.u, tonumber(h.i), h.f) then return {'revoked'} end
if ARGV[7] ~= h.f then return {'mismatch'} end
redis.call('HSET', tk, 'r', ARGV[4])
put(ARGV, 5)
return {'ok', unpack(raw)}
`;

/** ARGV[3] kind (`b` or `fr`), ARGV[4] id, ARGV[5] expiresAt. */
const REVOKE = `
local member = ARGV[3] .. ':' .. ARGV[4]
local k = p .. member
local exp = tonumber(ARGV[5])
local old = redis.call('GET', k)
if old and tonumber(old) >= exp then return 0 end
redis.call('SET', k, ARGV[5], 'EX', ttl(exp))
redis.call('ZADD', p .. 'x', exp, member)
return 1
`;

/** ARGV[3] user, ARGV[4] before, ARGV[5] kept until. */
const REVOKE_USER = `
local k = p .. 'ur:' .. ARGV[3]
local before, keep = tonumber(ARGV[4]), tonumber(ARGV[5])
local cur = redis.call('HMGET', k, 'b', 'e')
if cur[1] then
  before = math.max(before, tonumber(cur[1]))
  keep = math.max(keep, tonumber(cur[2]))
end
redis.call('HSET', k, 'b', n2s(before), 'e', n2s(keep))
extend(k, keep)
redis.call('ZADD', p .. 'x', keep, 'ur:' .. ARGV[3])
return 1
`;

/** ARGV[3] jti, ARGV[4] user, ARGV[5] issuedAt, ARGV[6] `'1'` if ARGV[7] is the family. */
const IS_REVOKED = `
local fam = false
if ARGV[6] == '1' then fam = ARGV[7] else fam = redis.call('HGET', p .. 't:' .. ARGV[3], 'f') end
if revoked(ARGV[3], ARGV[4], tonumber(ARGV[5]), fam) then return 1 end
return 0
`;

/** ARGV[3] user, ARGV[4] now. Six strings per live session; drops families whose summary has expired. */
const SESSIONS = `
local sk = p .. 's:' .. ARGV[3]
local now = tonumber(ARGV[4])
local cut = redis.call('HGET', p .. 'ur:' .. ARGV[3], 'b')
if cut then cut = tonumber(cut) end
local out = {}
for _, fam in ipairs(redis.call('ZRANGE', sk, 0, -1)) do
  local f = redis.call('HMGET', p .. 'f:' .. fam, 'c', 'l', 'e', 'j', 'si', 'ua', 'ip')
  if not f[1] then
    redis.call('ZREM', sk, fam)
  elseif f[4] and tonumber(f[3]) > now and (not cut or tonumber(f[5]) >= cut)
      and redis.call('EXISTS', p .. 'fr:' .. fam) == 0 and redis.call('EXISTS', p .. 'b:' .. f[4]) == 0 then
    table.insert(out, fam)
    table.insert(out, f[1])
    table.insert(out, f[2])
    table.insert(out, f[3])
    table.insert(out, f[6] and ('.' .. f[6]) or '')
    table.insert(out, f[7] and ('.' .. f[7]) or '')
  end
end
return out
`;

/** ARGV[3] jti. */
const FAMILY_OF = `return redis.call('HGET', p .. 't:' .. ARGV[3], 'f')`;

/** ARGV[3] name. */
const GET_SETTING = `return redis.call('HGET', p .. 'settings', ARGV[3])`;

/** ARGV[3] name, ARGV[4] value. */
const SET_SETTING = `return redis.call('HSET', p .. 'settings', ARGV[3], ARGV[4])`;

/** ARGV[3] now, ARGV[4] batch size. Returns {counted removals, index entries seen}. */
const PURGE = `
local xk = p .. 'x'
local members = redis.call('ZRANGEBYSCORE', xk, '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local removed = 0
for _, m in ipairs(members) do
  local colon = string.find(m, ':', 1, true)
  local kind, id = string.sub(m, 1, colon - 1), string.sub(m, colon + 1)
  if kind == 'f' then
    local fk = p .. m
    local owner = redis.call('HGET', fk, 'u')
    if owner then redis.call('ZREM', p .. 's:' .. owner, id) end
    redis.call('DEL', fk)
  else
    redis.call('DEL', p .. m)
    removed = removed + 1
  end
  redis.call('ZREM', xk, m)
end
return {removed, #members}
`;

interface Script {
  source: string;
  sha: string;
}

function script(body: string): Script {
  const source = PRELUDE + body;
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = {
  record: script(RECORD),
  consume: script(CONSUME),
  revoke: script(REVOKE),
  revokeUser: script(REVOKE_USER),
  isRevoked: script(IS_REVOKED),
  sessions: script(SESSIONS),
  purge: script(PURGE),
  familyOf: script(FAMILY_OF),
  getSetting: script(GET_SETTING),
  setSetting: script(SET_SETTING),
} as const;

/** A reply value as text (clients may hand back Buffers or numbers). */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return String(value);
}

function list(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw new TypeError('RedisStore: unexpected reply from Redis; is sendCommand returning raw replies?');
  return reply;
}

/** `''` for absent, `'.' + value` for present, so an empty user agent survives the trip. */
function optional(value: string | undefined): string {
  return value === undefined ? '' : `.${value}`;
}

function fromOptional(value: unknown): string | undefined {
  const s = text(value);
  return s === '' ? undefined : s.slice(1);
}

function recordArgs(record: TokenRecord): string[] {
  return [
    record.jti,
    record.userId,
    record.familyId,
    record.type,
    String(record.issuedAt),
    String(record.expiresAt),
    String(record.sessionStartedAt),
    String(record.sessionExpiresAt),
    optional(record.userAgent ?? undefined),
    optional(record.ip ?? undefined),
  ];
}

/** A record from `HGETALL` pairs. */
function recordFromPairs(pairs: unknown[], jti: string): TokenRecord {
  const h = new Map<string, string>();
  for (let i = 0; i + 1 < pairs.length; i += 2) h.set(text(pairs[i]), text(pairs[i + 1]));
  return copyRecord({
    jti,
    userId: h.get('u') ?? '',
    familyId: h.get('f') ?? '',
    type: h.get('y') ?? '',
    issuedAt: Number(h.get('i')),
    expiresAt: Number(h.get('e')),
    sessionStartedAt: Number(h.get('ss')),
    sessionExpiresAt: Number(h.get('se')),
    userAgent: h.get('ua'),
    ip: h.get('ip'),
  });
}

function isIoRedis(value: unknown): value is IoRedisLike {
  return typeof value === 'object' && value !== null && typeof (value as IoRedisLike).call === 'function';
}

/**
 * A store in Redis, shared by any number of app servers. It takes a `sendCommand` function rather than a
 * driver, so you bring ioredis or node-redis (and keep owning the connection: `close()` never touches it).
 * Every method is one Lua script sent with EVALSHA, falling back to EVAL when Redis answers NOSCRIPT (after a
 * restart or `SCRIPT FLUSH`), so each is one atomic step for every client, and key names are built in one place
 * (a client-side `keyPrefix` never applies; use `prefix`).
 *
 * Every key expires with what it describes. TTLs are computed from the store's `clock` (pass the clock you give
 * `simpleJwt()`), never from Redis's, so clock skew between app and Redis cannot shorten a revocation. An
 * expiry index lets `purgeExpired()` (run by an unref'ed timer every `purgeIntervalSeconds`, default 60) drop
 * entries on the caller's clock as the other stores do. Scripts build key names from the prefix, so on Redis
 * Cluster give a prefix with a hash tag (`'{sjwt}:'`) to keep every key in one slot.
 * The contract's open questions are answered exactly as `MemoryStore` documents.
 *
 * @example
 * import Redis from 'ioredis';
 * const redis = new Redis(process.env.REDIS_URL);
 * const store = new RedisStore({ sendCommand: (args) => redis.call(args[0], ...args.slice(1)) });
 * // or simply: new RedisStore(redis)
 * // node-redis v4+: new RedisStore({ sendCommand: (args) => client.sendCommand(args) })
 */
export class RedisStore implements TokenStore {
  /** The key prefix. */
  readonly prefix: string;
  private readonly send: SendCommand;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: RedisStoreOptions);
  constructor(client: IoRedisLike, options?: Omit<RedisStoreOptions, 'sendCommand'>);
  constructor(clientOrOptions: RedisStoreOptions | IoRedisLike, extra: Omit<RedisStoreOptions, 'sendCommand'> = {}) {
    let options: Omit<RedisStoreOptions, 'sendCommand'>;
    if (isIoRedis(clientOrOptions)) {
      const client = clientOrOptions;
      this.send = ([command, ...args]) => client.call(command, ...args);
      options = extra;
    } else if (typeof clientOrOptions === 'object' && clientOrOptions !== null && typeof clientOrOptions.sendCommand === 'function') {
      const given = clientOrOptions;
      this.send = (args) => given.sendCommand(args); // called as a method, in case it is one
      options = clientOrOptions;
    } else {
      throw new TypeError(
        'RedisStore: pass { sendCommand: (args) => client.call(args[0], ...args.slice(1)) } for ioredis, ' +
          '{ sendCommand: (args) => client.sendCommand(args) } for node-redis, or an ioredis client',
      );
    }
    const { prefix = 'sjwt:' } = options;
    if (typeof prefix !== 'string') throw new TypeError('RedisStore: "prefix" must be a string such as "sjwt:"');
    this.prefix = prefix;
    const { clock, purgeIntervalSeconds } = resolveTimerOptions('RedisStore', options);
    this.clock = clock;
    this.timer = startPurgeTimer(purgeIntervalSeconds, clock, (now) => this.purgeExpired(now));
  }

  /** Sends one raw command through the client; the kit's login limiter shares Redis through it (rate-limit-redis). */
  sendCommand(args: string[]): Promise<unknown> {
    const [command, ...rest] = args;
    if (command === undefined) return Promise.reject(new TypeError('sendCommand() needs a command'));
    return Promise.resolve(this.send([command, ...rest]));
  }

  /** Loads the scripts into Redis, which also checks the connection. Optional: scripts load on first use. */
  async init(): Promise<void> {
    for (const { source } of Object.values(SCRIPTS)) await this.send(['SCRIPT', 'LOAD', source]);
  }

  /** Stops the purge timer. The Redis client is yours and stays open. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async record(record: TokenRecord): Promise<void> {
    await this.eval(SCRIPTS.record, recordArgs(record));
  }

  async consume(jti: string, now: number, successor: TokenRecord): Promise<ConsumeResult> {
    const reply = list(await this.eval(SCRIPTS.consume, [jti, String(now), ...recordArgs(successor)]));
    const status = text(reply[0]);
    switch (status) {
      case 'ok':
        return { status: 'ok', record: recordFromPairs(reply.slice(1), jti) };
      case 'reused':
        return { status: 'reused', record: recordFromPairs(reply.slice(2), jti), rotatedAt: Number(text(reply[1])) };
      case 'revoked':
      case 'unknown':
        return { status };
      case 'mismatch':
        throw successorFamilyError('RedisStore');
      default:
        throw new TypeError('RedisStore: unexpected reply from the consume script');
    }
  }

  async revoke(jti: string, expiresAt: number): Promise<void> {
    await this.eval(SCRIPTS.revoke, ['b', jti, String(expiresAt)]);
  }

  async revokeFamily(familyId: string, expiresAt: number): Promise<void> {
    await this.eval(SCRIPTS.revoke, ['fr', familyId, String(expiresAt)]);
  }

  async revokeUser(userId: string, before: number, retainSeconds: number): Promise<void> {
    await this.eval(SCRIPTS.revokeUser, [userId, String(before), String(before + retainSeconds)]);
  }

  async isRevoked(jti: string, userId: string, issuedAt: number, familyId?: string): Promise<boolean> {
    const args = [jti, userId, String(issuedAt), familyId === undefined ? '0' : '1', familyId ?? ''];
    return Number(await this.eval(SCRIPTS.isRevoked, args)) === 1;
  }

  async familyOf(jti: string): Promise<string | undefined> {
    const reply = await this.eval(SCRIPTS.familyOf, [jti]);
    return reply === null || reply === undefined ? undefined : text(reply);
  }

  async sessions(userId: string, now: number): Promise<SessionInfo[]> {
    const flat = list(await this.eval(SCRIPTS.sessions, [userId, String(now)]));
    const sessions: SessionInfo[] = [];
    for (let i = 0; i + 5 < flat.length; i += 6) {
      sessions.push(
        sessionInfo(
          text(flat[i]),
          Number(text(flat[i + 1])),
          Number(text(flat[i + 2])),
          Number(text(flat[i + 3])),
          fromOptional(flat[i + 4]),
          fromOptional(flat[i + 5]),
        ),
      );
    }
    return sessions.sort(bySessionAge);
  }

  async purgeExpired(now: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const [counted, seen] = list(await this.eval(SCRIPTS.purge, [String(now), String(PURGE_BATCH)])).map((v) =>
        Number(text(v)),
      );
      removed += counted ?? 0;
      if ((seen ?? 0) < PURGE_BATCH) return removed;
    }
  }

  async getSetting(name: string): Promise<string | undefined> {
    const reply = await this.eval(SCRIPTS.getSetting, [name]);
    return reply === null || reply === undefined ? undefined : text(reply);
  }

  async setSetting(name: string, value: string): Promise<void> {
    await this.eval(SCRIPTS.setSetting, [name, value]);
  }

  /** Runs a script by SHA, sending its source once if Redis does not have it cached. */
  private async eval(s: Script, args: string[]): Promise<unknown> {
    const argv = [this.prefix, String(seconds(this.clock)), ...args];
    try {
      return await this.send(['EVALSHA', s.sha, '0', ...argv]);
    } catch (err) {
      if (!String((err as { message?: unknown } | null)?.message).includes('NOSCRIPT')) throw err;
      return this.send(['EVAL', s.source, '0', ...argv]);
    }
  }
}
