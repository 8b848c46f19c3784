import { createHash } from 'node:crypto';
import { bySessionAge, resolveTimerOptions, seconds, sessionInfo, startPurgeTimer, type StoreTimerOptions } from './internal';
import type {
  NewToken,
  PresentedToken,
  RevocationQuery,
  Rotation,
  RotationResult,
  SessionInfo,
  SessionRef,
  SessionStart,
  SessionStartResult,
  TokenRecord,
  TokenStore,
  UserRevocation,
} from './types';

/**
 * A Redis command and its arguments, e.g. `['HGET', key, field]`.
 *
 * @example
 * const ping: RedisCommand = ['PING'];
 */
export type RedisCommand = [command: string, ...args: string[]];

/**
 * Sends one Redis command and resolves with its reply (rejects with Redis's error). `key` is the key the command
 * touches, given for every command that has one: a Redis Cluster client routes by it (node-redis
 * `cluster.sendCommand(key, false, args)`); a standalone client ignores it. ioredis routes by itself.
 *
 * @example
 * const sendCommand: SendCommand = (args) => client.sendCommand(args);                // node-redis createClient()
 * const onCluster: SendCommand = (args, key) => cluster.sendCommand(key, false, args); // node-redis createCluster()
 */
export type SendCommand = (args: RedisCommand, key?: string) => Promise<unknown>;

/**
 * The start-up and periodic checks of the Redis server's configuration, each a process warning with a stable code:
 * - `eviction` (`SJWT_REDIS_EVICTION`): `maxmemory-policy` is not `noeviction`, so Redis may drop revocations
 *   (every key the store writes carries a TTL, so the `volatile-*` policies evict them too);
 * - `persistence` (`SJWT_REDIS_NO_PERSISTENCE`): neither AOF nor RDB snapshots, so a restart forgets logouts;
 * - `config` (`SJWT_REDIS_CONFIG_UNAVAILABLE`): `CONFIG GET` is not allowed (managed Redis), so neither can be
 *   checked; said once, informational.
 *
 * @example
 * new RedisStore(redis, { warnings: { persistence: false } }); // a cache-only Redis on purpose
 */
export type RedisWarning = 'eviction' | 'persistence' | 'config';

/**
 * Options of `new RedisStore(...)`.
 *
 * @example
 * new RedisStore({ sendCommand: (args) => client.sendCommand(args), prefix: 'myapp:sjwt:' });
 */
export interface RedisStoreOptions extends StoreTimerOptions {
  /**
   * Sends a command through your Redis client; the store never opens connections of its own.
   * ioredis (`Redis` or `Cluster`): pass the client itself; node-redis: `(args) => client.sendCommand(args)`,
   * on a cluster `(args, key) => cluster.sendCommand(key, false, args)`.
   */
  sendCommand: SendCommand;
  /**
   * Prefix of every key the store writes. Default `'sjwt:'`. The store adds a hash tag per user itself (keys
   * `sjwt:{u:<user>}:...`), so the prefix needs none, and one with braces would put every key in one slot.
   */
  prefix?: string;
  /**
   * How often the server's `maxmemory-policy` and persistence settings are checked again, in seconds, after the
   * check at `init()`; `0` checks at `init()` only. Default `300`.
   */
  configCheckIntervalSeconds?: number;
  /** `false` silences every configuration warning; an object silences single checks (`{ persistence: false }`). Default `true`. */
  warnings?: boolean | Partial<Record<RedisWarning, boolean>>;
}

/**
 * The part of an ioredis client the store uses, so an ioredis `Redis` or `Cluster` instance can be passed as is
 * (ioredis routes `EVALSHA` by its first key on a cluster).
 *
 * @example
 * import Redis from 'ioredis';
 * const store = new RedisStore(new Redis(process.env.REDIS_URL)); // an ioredis client is IoRedisLike
 */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** How many expired entries of one user one purge script removes before yielding to other clients. */
const PURGE_BATCH = 1000;
/** How many due users one look at a purge schedule bucket takes. */
const SCHEDULE_BATCH = 100;
/** The purge schedule is spread over this many keys (each its own slot), so no shard takes every update. */
const SCHEDULE_BUCKETS = 16;

/**
 * Lua shared by every per-user script. Every key is a KEYS entry, all in the user's hash tag (one slot):
 *
 *   KEYS[1] `t`  hash jti -> token record (JSON of strings; `r` rotatedAt and `n` rotatedTo once consumed)
 *   KEYS[2] `b`  hash jti -> blacklisted until
 *   KEYS[3] `fr` hash family -> session ended until
 *   KEYS[4] `ur` hash `b` (cutoff: tokens issued before it are revoked), `e` (kept until)
 *   KEYS[5] `f`  hash family -> session summary (JSON: c created, l last used, j/si/e newest refresh token, p purge)
 *   KEYS[6] `x`  zset of the entries above (`t:<jti>`, `b:<jti>`, `fr:<fam>`, `ur`, `f:<fam>`) by expiry
 *   KEYS[7] `since` hash `s` (when the store's memory of this user began), `m` (latest expiry in the slot)
 *
 * ARGV[1] is the store clock in seconds, only to turn expiry times into relative TTLs (Redis's own clock never
 * shortens a revocation). Numbers travel as strings; `inf` is "never" (no TTL).
 */
const PRELUDE = `
local KT, KB, KFR, KUR, KF, KX, KS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local INF = math.huge
local function N(s)
  if s == 'inf' or s == '+inf' then return INF end
  if s == '-inf' then return -INF end
  return tonumber(s)
end
local function S(n)
  if n == INF then return 'inf' end
  if n == -INF then return '-inf' end
  if n == math.floor(n) and math.abs(n) < 1e15 then return string.format('%d', n) end
  return string.format('%.17g', n)
end
local function Z(n)
  if n == INF then return '+inf' end
  return S(n)
end
local clk = N(ARGV[1])
local wrote = nil
local function touch(exp)
  if wrote == nil or exp > wrote then wrote = exp end
end
local function zmin()
  local first = redis.call('ZRANGE', KX, 0, 0, 'WITHSCORES')
  if first[2] then return N(first[2]) end
  return nil
end
-- The user's next expiry before this script's writes (write scripts call begin() first).
local m0 = INF
local function begin() m0 = zmin() or INF end
-- After a write: the memory marker, every key's TTL at least the slot's latest expiry, and the purge schedule.
local function settle(now)
  if wrote == nil then return '' end
  if now then redis.call('HSETNX', KS, 's', S(now)) end
  local m = N(redis.call('HGET', KS, 'm') or '-inf')
  if wrote > m then
    m = wrote
    redis.call('HSET', KS, 'm', S(m))
  end
  for i = 1, 7 do
    local k = KEYS[i]
    if m == INF then
      redis.call('PERSIST', k)
    else
      local t = redis.call('TTL', k)
      if t ~= -2 then
        local want = math.ceil(m - clk)
        if want < 1 then want = 1 end
        if t == -1 or t < want then redis.call('EXPIRE', k, S(want)) end
      end
    end
  end
  local m1 = zmin()
  if m1 and m1 ~= INF and (m1 < m0 or m1 <= clk) then return Z(m1) end
  return ''
end
local function since(now)
  local s = redis.call('HGET', KS, 's')
  if s then return N(s) end
  return now
end
local function getTok(jti)
  local raw = redis.call('HGET', KT, jti)
  if not raw then return nil end
  local t = cjson.decode(raw)
  t.jti = jti
  return t
end
local function opt(v)
  if v == '' then return nil end
  return string.sub(v, 2)
end
-- A record from ARGV[i..i+9]: jti, user, family, type, iat, exp, session start, session end, ua, ip.
local function argRecord(i)
  return {jti = ARGV[i], u = ARGV[i + 1], f = ARGV[i + 2], y = ARGV[i + 3], i = ARGV[i + 4], e = ARGV[i + 5],
    ss = ARGV[i + 6], se = ARGV[i + 7], ua = opt(ARGV[i + 8]), ip = opt(ARGV[i + 9])}
end
-- A new token from ARGV[i..i+3] (jti, type, iat, exp), or nil when ARGV[i] is ''.
local function argToken(i)
  if ARGV[i] == '' then return nil end
  return {jti = ARGV[i], y = ARGV[i + 1], i = ARGV[i + 2], e = ARGV[i + 3]}
end
local function inSession(tok, s, ua, ip)
  return {jti = tok.jti, u = s.u, f = s.f, y = tok.y, i = tok.i, e = tok.e, ss = s.ss, se = s.se, ua = ua, ip = ip}
end
local function put(r)
  if redis.call('HEXISTS', KT, r.jti) == 1 then return end
  redis.call('HSET', KT, r.jti, cjson.encode({u = r.u, f = r.f, y = r.y, i = r.i, e = r.e, ss = r.ss, se = r.se, ua = r.ua, ip = r.ip}))
  local exp = N(r.e)
  redis.call('ZADD', KX, Z(exp), 't:' .. r.jti)
  touch(exp)
  local raw = redis.call('HGET', KF, r.f)
  local fam, purge0
  if raw then
    fam = cjson.decode(raw)
    purge0 = N(fam.p)
    if N(r.ss) < N(fam.c) then fam.c = r.ss end
    if N(r.i) > N(fam.l) then fam.l = r.i end
    if exp > purge0 then fam.p = r.e end
  else
    fam = {c = r.ss, l = r.i, p = r.e}
  end
  if fam.ua == nil then fam.ua = r.ua end
  if fam.ip == nil then fam.ip = r.ip end
  if (r.y == 'refresh' or r.y == 'sliding') and (fam.si == nil or N(r.i) >= N(fam.si)) then
    fam.j = r.jti
    fam.si = r.i
    fam.e = r.e
  end
  redis.call('HSET', KF, r.f, cjson.encode(fam))
  if purge0 == nil or N(fam.p) > purge0 then redis.call('ZADD', KX, Z(N(fam.p)), 'f:' .. r.f) end
end
local function markRotated(jti, at, successor)
  local t = getTok(jti)
  if not t then return end
  t.jti = nil
  t.r = S(at)
  t.n = successor
  redis.call('HSET', KT, jti, cjson.encode(t))
end
local function extendEntry(key, member, id, untilAt)
  local cur = redis.call('HGET', key, id)
  if cur and N(cur) >= untilAt then return end
  redis.call('HSET', key, id, S(untilAt))
  redis.call('ZADD', KX, Z(untilAt), member .. id)
  touch(untilAt)
end
local function blacklist(jti, untilAt) extendEntry(KB, 'b:', jti, untilAt) end
local function revokeFamily(fam, untilAt) extendEntry(KFR, 'fr:', fam, untilAt) end
local function isBlacklisted(jti) return redis.call('HEXISTS', KB, jti) == 1 end
local function familyPurgeAt(fam)
  local raw = redis.call('HGET', KF, fam)
  if raw then return N(cjson.decode(raw).p) end
  return nil
end
local function cutoff()
  local c = redis.call('HGET', KUR, 'b')
  if c then return N(c) end
  return nil
end
local function revoked(jti, iat, fam)
  if isBlacklisted(jti) then return true end
  if fam and redis.call('HEXISTS', KFR, fam) == 1 then return true end
  local c = cutoff()
  return c ~= nil and iat < c
end
local function endFamily(fam, atLeast)
  local p = familyPurgeAt(fam) or atLeast
  if p < atLeast then p = atLeast end
  revokeFamily(fam, p)
end
local function liveSessions(now)
  local all = redis.call('HGETALL', KF)
  local c = cutoff()
  local out = {}
  for k = 1, #all, 2 do
    local id, fam = all[k], cjson.decode(all[k + 1])
    if fam.j and N(fam.e) > now and not (c and N(fam.si) < c)
        and redis.call('HEXISTS', KFR, id) == 0 and not isBlacklisted(fam.j) then
      table.insert(out, {id = id, c = N(fam.c), created = fam.c, l = fam.l, e = fam.e, ua = fam.ua, ip = fam.ip})
    end
  end
  table.sort(out, function(a, b)
    if a.c ~= b.c then return a.c < b.c end
    return a.id < b.id
  end)
  return out
end
local function refOf(t) return {t.f, t.u, t.ss, t.se} end
local function pack(v)
  if v == nil then return '' end
  return '.' .. v
end
`;

/** ARGV[2] now, [3] maxSessions, [4] whenFull, [5..14] the session's record, [15..18] the access token. */
const START_SESSION = `
begin()
local now = N(ARGV[2])
local max = N(ARGV[3])
local session = argRecord(5)
local ended = {}
if max ~= INF then
  local live = liveSessions(now)
  local excess = #live - max + 1
  if excess > 0 then
    if ARGV[4] == 'refuse' then return {'', 'full'} end
    if excess > #live then excess = #live end
    for k = 1, excess do
      endFamily(live[k].id, N(live[k].e))
      table.insert(ended, live[k].id)
    end
  end
end
put(session)
local access = argToken(15)
if access then put(inSession(access, session)) end
return {settle(now), 'ok', ended}
`;

/**
 * ARGV[2] now, [3..7] the presented token (jti, user, type, iat, exp), [8..11] successor, [12] consume,
 * [13..16] access, [17] reuseInterval, [18] reuseDetection, [19] adoptUnknown, [20] ua, [21] ip.
 */
const ROTATE = `
begin()
local now = N(ARGV[2])
local jti, user, typ, iat, exp = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local successor, access = argToken(8), argToken(13)
local reuseInterval = N(ARGV[17])
local function main()
  local stored = getTok(jti)
  if stored == nil or N(stored.e) <= now then
    if isBlacklisted(jti) then return {'revoked'} end
    if stored == nil and ARGV[19] ~= '1' and N(iat) < since(now) then return {'unknown'} end
    if revoked(jti, N(iat), jti) then return {'revoked'} end
    if stored == nil then
      put({jti = jti, u = user, f = jti, y = typ, i = iat, e = exp, ss = iat, se = exp, ua = opt(ARGV[20]), ip = opt(ARGV[21])})
      stored = getTok(jti)
    end
  end
  local ref = refOf(stored)
  if stored.r then
    local rotatedAt = N(stored.r)
    if reuseInterval > 0 and now - rotatedAt <= reuseInterval and stored.n then
      local nx = getTok(stored.n)
      if nx and not nx.r and N(nx.e) > now and not revoked(nx.jti, N(nx.i), nx.f) then
        if access then put(inSession(access, nx)) end
        return {'retry', ref[1], ref[2], ref[3], ref[4], nx.jti, nx.y, nx.i, nx.e}
      end
    end
    if ARGV[18] == '1' then endFamily(stored.f, N(stored.se)) end
    return {'reused', ref[1], ref[2], ref[3], ref[4], stored.r}
  end
  if revoked(jti, N(stored.i), stored.f) then return {'revoked'} end
  if successor then
    if ARGV[12] == '1' then markRotated(jti, now, successor.jti) end
    put(inSession(successor, stored))
  end
  if access then put(inSession(access, stored)) end
  return {'ok', ref[1], ref[2], ref[3], ref[4]}
end
local out = main()
table.insert(out, 1, settle(now))
return out
`;

/** ARGV[2] jti, [3] expiresAt. */
const REVOKE_TOKEN = `
begin()
local jti, exp = ARGV[2], N(ARGV[3])
local stored = getTok(jti)
local fam = jti
if stored then fam = stored.f end
blacklist(jti, exp)
endFamily(fam, exp)
return {settle(clk)}
`;

/** ARGV[2] before, [3] kept until. */
const REVOKE_USER = `
begin()
local before, keep = N(ARGV[2]), N(ARGV[3])
-- The cutoff ends tokens issued before it; ending the sessions live at it covers tokens of that very second.
for _, s in ipairs(liveSessions(before)) do endFamily(s.id, N(s.e)) end
local cur = redis.call('HMGET', KUR, 'b', 'e')
if cur[1] and N(cur[1]) > before then before = N(cur[1]) end
if cur[2] and N(cur[2]) > keep then keep = N(cur[2]) end
redis.call('HSET', KUR, 'b', S(before), 'e', S(keep))
redis.call('ZADD', KX, Z(keep), 'ur')
touch(keep)
return {settle(nil)}
`;

/** ARGV[2] session id, [3] now. */
const END_SESSION = `
begin()
local id, now = ARGV[2], N(ARGV[3])
for _, s in ipairs(liveSessions(now)) do
  if s.id == id then
    endFamily(id, N(s.e))
    return {settle(now), '1'}
  end
end
return {'', '0'}
`;

/**
 * The hot path (every authenticated request with revocable access tokens), so a script of its own, without the
 * prelude: KEYS `t`, `b`, `fr`, `ur`, `since` of the user; ARGV[2] jti, [3] issuedAt, [4] mustBeKnown, [5] now.
 * Revoked when: blacklisted, issued before the user's cutoff, or, known, rotated or its session ended, or,
 * unknown and `mustBeKnown`, issued before the user's memory began.
 */
const IS_REVOKED = `
local jti, iat = ARGV[2], tonumber(ARGV[3])
if redis.call('HEXISTS', KEYS[2], jti) == 1 then return 1 end
local cut = redis.call('HGET', KEYS[4], 'b')
if cut and cut ~= '-inf' and (cut == 'inf' or iat < tonumber(cut)) then return 1 end
local raw = redis.call('HGET', KEYS[1], jti)
if not raw then
  if ARGV[4] ~= '1' then return 0 end
  local since = redis.call('HGET', KEYS[5], 's')
  if since then since = tonumber(since) else since = tonumber(ARGV[5]) end
  if iat < since then return 1 end
  return 0
end
local t = cjson.decode(raw)
if t.r then return 1 end
return redis.call('HEXISTS', KEYS[3], t.f)
`;

/** ARGV[2] now. Six strings per live session, oldest first. */
const SESSIONS = `
local out = {}
for _, s in ipairs(liveSessions(N(ARGV[2]))) do
  table.insert(out, s.id)
  table.insert(out, s.created)
  table.insert(out, s.l)
  table.insert(out, s.e)
  table.insert(out, pack(s.ua))
  table.insert(out, pack(s.ip))
end
return out
`;

/** ARGV[2] now, [3] batch. Returns {counted removals, entries seen, the next expiry or ''}. */
const PURGE_USER = `
local due = redis.call('ZRANGEBYSCORE', KX, '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local removed = 0
for _, m in ipairs(due) do
  local colon = string.find(m, ':', 1, true)
  local kind, id = m, ''
  if colon then kind, id = string.sub(m, 1, colon - 1), string.sub(m, colon + 1) end
  if kind == 't' then removed = removed + redis.call('HDEL', KT, id)
  elseif kind == 'b' then removed = removed + redis.call('HDEL', KB, id)
  elseif kind == 'fr' then removed = removed + redis.call('HDEL', KFR, id)
  elseif kind == 'ur' then removed = removed + redis.call('DEL', KUR)
  elseif kind == 'f' then redis.call('HDEL', KF, id)
  end
  redis.call('ZREM', KX, m)
end
local nextAt = zmin()
return {tostring(removed), tostring(#due), nextAt and Z(nextAt) or ''}
`;

/** KEYS[1] a schedule bucket; ARGV[2] member, [3] the score it was read with. Drops it unless it changed since. */
const UNSCHEDULE = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if score and tonumber(score) == tonumber(ARGV[3]) then return redis.call('ZREM', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS[1] the settings hash; ARGV[2] name. */
const GET_SETTING = `return redis.call('HGET', KEYS[1], ARGV[2])`;

/** KEYS[1] the settings hash; ARGV[2] name, ARGV[3] value. */
const SET_SETTING = `return redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])`;

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = {
  startSession: script(PRELUDE + START_SESSION),
  rotate: script(PRELUDE + ROTATE),
  revokeToken: script(PRELUDE + REVOKE_TOKEN),
  revokeUser: script(PRELUDE + REVOKE_USER),
  endSession: script(PRELUDE + END_SESSION),
  isRevoked: script(IS_REVOKED),
  sessions: script(PRELUDE + SESSIONS),
  purgeUser: script(PRELUDE + PURGE_USER),
  unschedule: script(UNSCHEDULE),
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

/** A time as the scripts take it: `inf` for never. */
function num(value: number): string {
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return String(value);
}

function parseNum(value: unknown): number {
  const s = text(value);
  if (s === 'inf' || s === '+inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
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
    num(record.issuedAt),
    num(record.expiresAt),
    num(record.sessionStartedAt),
    num(record.sessionExpiresAt),
    optional(record.userAgent ?? undefined),
    optional(record.ip ?? undefined),
  ];
}

function tokenArgs(token: NewToken | undefined): string[] {
  return token ? [token.jti, token.type, num(token.issuedAt), num(token.expiresAt)] : ['', '', '', ''];
}

function sessionRef(reply: unknown[], at: number): SessionRef {
  return {
    id: text(reply[at]),
    userId: text(reply[at + 1]),
    startedAt: parseNum(reply[at + 2]),
    expiresAt: parseNum(reply[at + 3]),
  };
}

/**
 * A user id inside a hash tag: `%`, `{`, `}` and `:` escaped, so the tag always ends where it should and two
 * users never share a key name.
 */
function escapeUser(userId: string): string {
  return userId.replace(/[%{}:]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** FNV-1a, to spread users over the purge schedule's buckets. */
function bucketOf(member: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < member.length; i += 1) {
    h ^= member.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SCHEDULE_BUCKETS;
}

/** The key a command touches, for cluster routing: the first of KEYS for scripts, none for server commands. */
function keyOf(args: readonly string[]): string | undefined {
  const command = args[0]?.toUpperCase();
  if (command === 'EVAL' || command === 'EVALSHA' || command === 'EVAL_RO' || command === 'EVALSHA_RO' || command === 'FCALL') {
    return Number(args[2]) > 0 ? args[3] : undefined;
  }
  if (command === 'SCRIPT' || command === 'CONFIG' || command === 'PING' || command === 'INFO' || command === 'CLUSTER') return undefined;
  return args[1];
}

/** A flat list of a reply some clients hand back as pairs (`[[member, score], ...]`, as ioredis does for WITHSCORES). */
function flatten(reply: unknown[]): unknown[] {
  return reply.flatMap((item) => (Array.isArray(item) ? (item as unknown[]) : [item]));
}

/** `[name, value]` pairs (RESP2, flat or nested), an object or a Map (RESP3) as a lookup. */
function configValue(reply: unknown, name: string): string | undefined {
  if (Array.isArray(reply)) {
    const flat = flatten(reply);
    for (let i = 0; i + 1 < flat.length; i += 2) if (text(flat[i]) === name) return text(flat[i + 1]);
    return undefined;
  }
  if (reply instanceof Map) {
    const value: unknown = reply.get(name);
    return value === undefined ? undefined : text(value);
  }
  if (typeof reply === 'object' && reply !== null) {
    const value = (reply as Record<string, unknown>)[name];
    return value === undefined ? undefined : text(value);
  }
  return undefined;
}

/** A Redis error reply (not a connection problem): the command was refused, e.g. CONFIG on managed Redis. */
function isRefusal(err: unknown): boolean {
  const message = String((err as { message?: unknown } | null)?.message ?? '');
  return /^(ERR|NOPERM|NOAUTH|WRONGPASS|DENIED)\b/.test(message) || /unknown command|not allowed|disabled/i.test(message);
}

function isIoRedis(value: unknown): value is IoRedisLike {
  return typeof value === 'object' && value !== null && typeof (value as IoRedisLike).call === 'function';
}

const WARNING_CODES: Record<RedisWarning, string> = {
  eviction: 'SJWT_REDIS_EVICTION',
  persistence: 'SJWT_REDIS_NO_PERSISTENCE',
  config: 'SJWT_REDIS_CONFIG_UNAVAILABLE',
};

/**
 * A store in Redis, standalone, Sentinel or Cluster, shared by any number of app servers. It takes a
 * `sendCommand` function (or an ioredis client) rather than a driver, so you bring ioredis or node-redis and keep
 * owning the connection: `close()` never touches it.
 *
 * Every session event is ONE Lua script (EVALSHA, falling back to EVAL when Redis answers NOSCRIPT after a
 * restart, a failover or `SCRIPT FLUSH`), so it is one atomic step for every client. Each script touches only
 * the keys of one user, all passed in KEYS and sharing the hash tag `{u:<user id>}` (`<prefix>{u:42}:t`,
 * `...:b`, `...:fr`, `...:ur`, `...:f`, `...:x`, `...:since`), so the same code runs on standalone Redis and on
 * Redis Cluster; settings live under `<prefix>{settings}`. See docs/stores.md for the layout.
 *
 * Every key expires with what it describes: TTLs are computed from the store's `clock` (pass the clock you give
 * `simpleJwt()`), never from Redis's, and tokens that never expire keep their user's keys without a TTL. A
 * per-user expiry index, and a purge schedule of the users with something to purge (`<prefix>{sched:<n>}`,
 * updated after the event's script, best effort: the TTLs bound what a missed update keeps), let
 * `purgeExpired()` (run by an unref'ed timer every `purgeIntervalSeconds`, default 60) drop entries on the
 * caller's clock as the other stores do, without SCAN.
 *
 * Each user's memory begins at their first session event (`...:since`, kept as long as anything of theirs). A
 * Redis that forgot (restarted without persistence, flushed, evicting, failed over to an empty replica) has no
 * such marker, so older tokens it does not know are `unknown` to `rotate()` and revoked to `isRevoked()` with
 * `mustBeKnown`: a logged-out token stays refused. At `init()` and every `configCheckIntervalSeconds` the store
 * reads `maxmemory-policy` and the persistence settings and warns (once per condition) when revocations could
 * be lost. Otherwise the contract's open questions are answered exactly as `MemoryStore` documents.
 *
 * @example
 * import Redis, { Cluster } from 'ioredis';
 * const store = new RedisStore(new Redis(process.env.REDIS_URL));
 * // Redis Cluster: new RedisStore(new Cluster([{ host: 'redis-1', port: 6379 }]))
 * // node-redis: new RedisStore({ sendCommand: (args) => client.sendCommand(args) })
 * // node-redis cluster: new RedisStore({ sendCommand: (args, key) => cluster.sendCommand(key, false, args) })
 */
export class RedisStore implements TokenStore {
  /** The key prefix. */
  readonly prefix: string;
  private readonly send: SendCommand;
  private readonly clock: () => number;
  private readonly settingsKey: string;
  private readonly scheduleKeys: string[];
  private readonly configCheckMs: number;
  private readonly silenced: ReadonlySet<RedisWarning>;
  /** The conditions currently warned about, so each is said once until it clears. */
  private readonly warned = new Set<RedisWarning>();
  /** Scripts loaded through `sendCommand()` (the login limiter's), by SHA. */
  private readonly loaded = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private configTimer: NodeJS.Timeout | undefined;

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
      this.send = (args, key) => given.sendCommand(args, key); // called as a method, in case it is one
      options = clientOrOptions;
    } else {
      throw new TypeError(
        'RedisStore: pass an ioredis client (Redis or Cluster), or { sendCommand: (args) => client.sendCommand(args) } ' +
          'for node-redis ({ sendCommand: (args, key) => cluster.sendCommand(key, false, args) } on a cluster)',
      );
    }
    const { prefix = 'sjwt:', configCheckIntervalSeconds = 300, warnings = true } = options;
    if (typeof prefix !== 'string') throw new TypeError('RedisStore: "prefix" must be a string such as "sjwt:"');
    if (typeof configCheckIntervalSeconds !== 'number' || !Number.isFinite(configCheckIntervalSeconds) || configCheckIntervalSeconds < 0) {
      throw new TypeError('RedisStore: "configCheckIntervalSeconds" must be a number of seconds >= 0 (0 checks at init() only)');
    }
    if (typeof warnings !== 'boolean' && (typeof warnings !== 'object' || warnings === null)) {
      throw new TypeError('RedisStore: "warnings" must be true, false or an object such as { persistence: false }');
    }
    this.prefix = prefix;
    this.settingsKey = `${prefix}{settings}`;
    this.scheduleKeys = Array.from({ length: SCHEDULE_BUCKETS }, (_, i) => `${prefix}{sched:${i}}`);
    this.configCheckMs = Math.round(configCheckIntervalSeconds * 1000);
    const silenced = new Set<RedisWarning>();
    for (const check of Object.keys(WARNING_CODES) as RedisWarning[]) {
      if (warnings === false || (typeof warnings === 'object' && warnings[check] === false)) silenced.add(check);
    }
    this.silenced = silenced;
    const { clock, purgeIntervalSeconds } = resolveTimerOptions('RedisStore', options);
    this.clock = clock;
    this.timer = startPurgeTimer(purgeIntervalSeconds, clock, (now) => this.purgeExpired(now));
  }

  /**
   * Sends one raw command through the client, routed by its key on a cluster (`key`, or the command's first
   * key); the kit's login limiter shares Redis through it (rate-limit-redis).
   */
  async sendCommand(args: string[], key?: string): Promise<unknown> {
    const [command, ...rest] = args;
    if (command === undefined) throw new TypeError('sendCommand() needs a command');
    const upper = command.toUpperCase();
    if (upper === 'SCRIPT' && rest[0]?.toUpperCase() === 'LOAD' && rest[1] !== undefined) {
      // Remembered, so an EVALSHA that reaches a node without the script (a Cluster client sends SCRIPT LOAD to
      // any node) runs it with EVAL there instead of failing.
      this.loaded.set(createHash('sha1').update(rest[1]).digest('hex'), rest[1]);
    }
    const routing = key ?? keyOf(args);
    try {
      return await this.send([command, ...rest], routing);
    } catch (err) {
      const source = upper === 'EVALSHA' ? this.loaded.get(String(rest[0]).toLowerCase()) : undefined;
      if (source === undefined || !String((err as { message?: unknown } | null)?.message).includes('NOSCRIPT')) throw err;
      return this.send(['EVAL', source, ...rest.slice(1)], routing);
    }
  }

  /**
   * Checks the connection and the server's configuration (warning about eviction and persistence), loads the
   * scripts, then keeps checking every `configCheckIntervalSeconds` on an unref'ed timer. Rejects when Redis
   * cannot be reached.
   */
  async init(): Promise<void> {
    await this.checkServer(true);
    // Loaded ahead, so a burst at start-up does not miss them all at once (on a cluster this reaches one node; the
    // others get each script on first use through the EVAL fallback).
    for (const { source } of Object.values(SCRIPTS)) {
      await Promise.resolve(this.send(['SCRIPT', 'LOAD', source])).catch((err: unknown) => {
        if (!isRefusal(err)) throw err;
      });
    }
    if (this.configCheckMs > 0 && !this.configTimer && this.silenced.size < Object.keys(WARNING_CODES).length) {
      this.configTimer = setInterval(() => void this.checkServer(false).catch(() => undefined), this.configCheckMs);
      this.configTimer.unref();
    }
  }

  /** Stops the timers. The Redis client is yours and stays open. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.configTimer) clearInterval(this.configTimer);
    this.timer = undefined;
    this.configTimer = undefined;
  }

  async startSession(start: SessionStart): Promise<SessionStartResult> {
    const { session } = start;
    const reply = await this.run(SCRIPTS.startSession, session.userId, [
      num(start.now),
      num(start.maxSessions),
      start.whenFull,
      ...recordArgs(session),
      ...tokenArgs(start.access),
    ]);
    if (text(reply[0]) === 'full') return { status: 'full' };
    return { status: 'ok', ended: list(reply[1] ?? []).map(text) };
  }

  async rotate(rotation: Rotation): Promise<RotationResult> {
    const { token } = rotation;
    const reply = await this.run(SCRIPTS.rotate, token.userId, [
      num(rotation.now),
      token.jti,
      token.userId,
      token.type,
      num(token.issuedAt),
      num(token.expiresAt),
      ...tokenArgs(rotation.successor),
      rotation.consume ? '1' : '0',
      ...tokenArgs(rotation.access),
      num(rotation.reuseInterval),
      rotation.reuseDetection ? '1' : '0',
      rotation.adoptUnknown ? '1' : '0',
      optional(rotation.userAgent),
      optional(rotation.ip),
    ]);
    const status = text(reply[0]);
    switch (status) {
      case 'ok':
        return { status, session: sessionRef(reply, 1) };
      case 'retry':
        return {
          status,
          session: sessionRef(reply, 1),
          successor: { jti: text(reply[5]), type: text(reply[6]), issuedAt: parseNum(reply[7]), expiresAt: parseNum(reply[8]) },
        };
      case 'reused':
        return { status, session: sessionRef(reply, 1), rotatedAt: parseNum(reply[5]) };
      case 'revoked':
      case 'unknown':
        return { status };
      default:
        throw new TypeError('RedisStore: unexpected reply from the rotate script');
    }
  }

  async revokeToken(token: PresentedToken): Promise<void> {
    await this.run(SCRIPTS.revokeToken, token.userId, [token.jti, num(token.expiresAt)]);
  }

  async revokeUser(revocation: UserRevocation): Promise<void> {
    await this.run(SCRIPTS.revokeUser, revocation.userId, [num(revocation.before), num(revocation.retainUntil)]);
  }

  async endSession(userId: string, sessionId: string, now: number): Promise<boolean> {
    const reply = await this.run(SCRIPTS.endSession, userId, [sessionId, num(now)]);
    return text(reply[0]) === '1';
  }

  async isRevoked(query: RevocationQuery): Promise<boolean> {
    const [t, b, fr, ur, , , since] = this.userKeys(query.userId) as [string, string, string, string, string, string, string];
    const keys = [t, b, fr, ur, since];
    const args = [query.jti, num(query.issuedAt), query.mustBeKnown ? '1' : '0', num(query.now)];
    return Number(await this.eval(SCRIPTS.isRevoked, keys, args)) === 1;
  }

  async sessions(userId: string, now: number): Promise<SessionInfo[]> {
    const flat = list(await this.eval(SCRIPTS.sessions, this.userKeys(userId), [num(now)]));
    const sessions: SessionInfo[] = [];
    for (let i = 0; i + 5 < flat.length; i += 6) {
      sessions.push(
        sessionInfo(
          text(flat[i]),
          parseNum(flat[i + 1]),
          parseNum(flat[i + 2]),
          parseNum(flat[i + 3]),
          fromOptional(flat[i + 4]),
          fromOptional(flat[i + 5]),
        ),
      );
    }
    return sessions.sort(bySessionAge);
  }

  /**
   * Visits the users the purge schedule says have entries expiring at or before `now` (no SCAN), removes those
   * entries in batches, and counts token records, blacklisted jtis, ended sessions and user cutoffs.
   */
  async purgeExpired(now: number): Promise<number> {
    let removed = 0;
    for (const bucket of this.scheduleKeys) {
      for (;;) {
        const due = flatten(
          list(await this.send(['ZRANGEBYSCORE', bucket, '-inf', num(now), 'WITHSCORES', 'LIMIT', '0', String(SCHEDULE_BATCH)], bucket)),
        ).map(text);
        const users: [member: string, score: string][] = [];
        for (let i = 0; i + 1 < due.length; i += 2) users.push([due[i]!, due[i + 1]!]);
        const counts = await Promise.all(users.map(([member, score]) => this.purgeUser(bucket, member, score, now)));
        for (const count of counts) removed += count;
        if (users.length < SCHEDULE_BATCH) break;
      }
    }
    return removed;
  }

  async getSetting(name: string): Promise<string | undefined> {
    const reply = await this.eval(SCRIPTS.getSetting, [this.settingsKey], [name]);
    return reply === null || reply === undefined ? undefined : text(reply);
  }

  async setSetting(name: string, value: string): Promise<void> {
    await this.eval(SCRIPTS.setSetting, [this.settingsKey], [name, value]);
  }

  /** The seven keys of one user's slot, in the order the scripts name them. */
  private userKeys(userId: string): string[] {
    return this.memberKeys(escapeUser(userId));
  }

  private memberKeys(member: string): string[] {
    const base = `${this.prefix}{u:${member}}:`;
    return [`${base}t`, `${base}b`, `${base}fr`, `${base}ur`, `${base}f`, `${base}x`, `${base}since`];
  }

  /**
   * Runs a write script on a user's slot; its first reply element says when the user next has something to
   * purge, if the schedule must learn it. The schedule update is best effort: the event has happened, so its
   * failure never fails the call (the keys' TTLs bound what a missed purge keeps).
   */
  private async run(s: Script, userId: string, args: string[]): Promise<unknown[]> {
    const member = escapeUser(userId);
    const reply = list(await this.eval(s, this.memberKeys(member), args));
    const nextPurge = text(reply[0]);
    if (nextPurge !== '') {
      const bucket = this.scheduleKeys[bucketOf(member)]!;
      await Promise.resolve(this.send(['ZADD', bucket, 'LT', nextPurge, member], bucket)).catch(() => undefined);
    }
    return reply.slice(1);
  }

  /** Purges one user's due entries, then moves (or drops) the user's place in the schedule. */
  private async purgeUser(bucket: string, member: string, score: string, now: number): Promise<number> {
    const keys = this.memberKeys(member);
    let removed = 0;
    let nextPurge: string;
    for (;;) {
      const [count, seen, next] = list(await this.eval(SCRIPTS.purgeUser, keys, [num(now), String(PURGE_BATCH)])).map(text);
      removed += Number(count);
      nextPurge = next ?? '';
      if (Number(seen) < PURGE_BATCH) break;
    }
    if (nextPurge === '') await this.eval(SCRIPTS.unschedule, [bucket], [member, score]);
    else await this.send(['ZADD', bucket, nextPurge, member], bucket);
    return removed;
  }

  /** Runs a script by SHA, sending its source once if Redis (or this cluster node) does not have it cached. */
  private async eval(s: Script, keys: string[], args: string[]): Promise<unknown> {
    const argv = [...keys, num(seconds(this.clock)), ...args];
    const key = keys[0];
    // ARGV[1] is always the store clock (the per-user scripts turn expiry times into TTLs with it).
    const count = String(keys.length);
    try {
      return await this.send(['EVALSHA', s.sha, count, ...argv], key);
    } catch (err) {
      if (!String((err as { message?: unknown } | null)?.message).includes('NOSCRIPT')) throw err;
      return this.send(['EVAL', s.source, count, ...argv], key);
    }
  }

  /** Reads the server's eviction policy and persistence settings and warns about what could lose revocations. */
  private async checkServer(atStart: boolean): Promise<void> {
    const wanted = (['eviction', 'persistence'] as const).filter((check) => !this.silenced.has(check));
    if (wanted.length === 0) {
      if (atStart) await this.send(['PING']);
      return;
    }
    let policy: string | undefined;
    let appendonly: string | undefined;
    let save: string | undefined;
    try {
      policy = configValue(await this.send(['CONFIG', 'GET', 'maxmemory-policy']), 'maxmemory-policy');
      appendonly = configValue(await this.send(['CONFIG', 'GET', 'appendonly']), 'appendonly');
      save = configValue(await this.send(['CONFIG', 'GET', 'save']), 'save');
    } catch (err) {
      if (!isRefusal(err)) throw err;
      this.warn(
        'config',
        `RedisStore cannot read the server's configuration (CONFIG GET refused: ${String((err as Error).message)}), so it cannot check ` +
          'that Redis keeps revocations: make sure maxmemory-policy is noeviction and AOF or RDB persistence is on.',
      );
      return;
    }
    this.condition(
      'eviction',
      policy !== undefined && policy !== 'noeviction',
      `Redis maxmemory-policy is ${policy}: under memory pressure Redis may evict revocations (every key RedisStore ` +
        'writes has a TTL, so volatile-* policies evict them too), and an evicted logout is a token that works again. ' +
        'Set maxmemory-policy noeviction.',
    );
    this.condition(
      'persistence',
      appendonly === 'no' && save !== undefined && save.trim() === '',
      'Redis keeps neither an AOF nor RDB snapshots: a restart forgets every logout (RedisStore then refuses the tokens ' +
        'it no longer knows, logging users out). Turn on appendonly yes (or RDB snapshots).',
    );
  }

  private condition(check: RedisWarning, holds: boolean, message: string): void {
    if (holds) this.warn(check, message);
    else this.warned.delete(check);
  }

  private warn(check: RedisWarning, message: string): void {
    if (this.silenced.has(check) || this.warned.has(check)) return;
    this.warned.add(check);
    process.emitWarning(message, { code: WARNING_CODES[check] });
  }
}
