import type { ClientRateLimitInfo, Store as RateLimitStore } from 'express-rate-limit';
import { bySessionAge, resolveTimerOptions, sessionInfo, startPurgeTimer, type StoreTimerOptions } from './internal';
import type {
  PresentedToken,
  RevocationQuery,
  Rotation,
  RotationResult,
  SessionInfo,
  SessionStart,
  SessionStartResult,
  TokenStore,
  UserRevocation,
} from './types';

/**
 * Options of `new PostgresStore(poolOrUrl, options)`.
 *
 * @example
 * new PostgresStore(pool, { tablePrefix: 'auth_', timeoutMs: 400 });
 */
export interface PostgresStoreOptions extends StoreTimerOptions {
  /**
   * Prefix of the store's tables and functions (lower-case letters, digits and `_`, at most 30 characters), so
   * the store can share a database with the host's own tables. Default `'sjwt_'`.
   */
  tablePrefix?: string;
  /**
   * Server-side bound of each event, in milliseconds: `statement_timeout` and `lock_timeout` of its transaction.
   * Keep it below the kit's `storeTimeoutMs` (default 1000), so a request the kit gave up on never commits later.
   * Also the connect timeout of a pool the store opens itself. Default `500`.
   */
  timeoutMs?: number;
  /** Most connections of a pool the store opens itself (from a connection string). Default `10`. */
  maxConnections?: number;
  /**
   * Share the blacklist with a Django app on the same database that uses `rest_framework_simplejwt.token_blacklist`:
   * the store also reads and writes `token_blacklist_outstandingtoken` and `token_blacklist_blacklistedtoken`, so
   * a logout, a rotation or an ended session on either side is refused on the other. The Django migrations own
   * those tables (the store never alters them, and refuses to start without them). Default `false`.
   */
  simplejwtTables?: boolean;
}

/** A query result as the store reads it (a `pg` `QueryResult`, or an array of them for several statements). */
interface PgResult {
  rows: Record<string, unknown>[];
}

/**
 * A client checked out of the pool, as the migration uses it (a `pg` `PoolClient`).
 *
 * @example
 * const client: PgPoolClient = await pool.connect();
 * try { await client.query({ text: 'SELECT 1' }); } finally { client.release(); }
 */
export interface PgPoolClient {
  query(config: { text: string; query_timeout?: number }): Promise<unknown>;
  release(err?: Error | boolean): void;
}

/**
 * The part of a `pg` `Pool` the store relies on, spelled out so the package's types do not need `@types/pg`
 * (any `pg` v8 `Pool` fits).
 *
 * @example
 * import { Pool } from 'pg';
 * const pool: PgPool = new Pool({ connectionString: process.env.DATABASE_URL });
 * const store = new PostgresStore(pool); // shares your pool; close() leaves it open
 */
export interface PgPool {
  query(config: { text: string; query_timeout?: number }): Promise<unknown>;
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
}

/** One numbered schema step; applied in order, once, in the migration's transaction. Never edit a shipped step. */
interface Migration {
  version: number;
  name: string;
  /** The step's SQL, with `{p}` for the table prefix. */
  sql: string;
}

/**
 * The schema: the tables `SqliteStore` has, plus one PL/pgSQL function per session event, so every event is ONE
 * round trip and ONE transaction. Each function follows lib/stores/operations.ts step by step; the events of one
 * user are serialised by a transaction-scoped advisory lock on the user id (the events of different users never
 * wait for each other), so of N concurrent rotations of a token exactly one finds it unconsumed.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create token store tables and event functions',
    sql: `
      CREATE TABLE {p}tokens (
        jti text PRIMARY KEY,
        user_id text NOT NULL,
        family_id text NOT NULL,
        type text NOT NULL,
        issued_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        session_started_at bigint NOT NULL,
        session_expires_at bigint NOT NULL,
        user_agent text,
        ip text,
        rotated_at bigint,
        rotated_to text
      );
      CREATE INDEX {p}tokens_expires ON {p}tokens (expires_at);

      CREATE TABLE {p}families (
        family_id text PRIMARY KEY,
        user_id text NOT NULL,
        created_at bigint NOT NULL,
        last_used_at bigint NOT NULL,
        current_jti text,
        current_issued_at bigint,
        expires_at bigint,
        purge_at bigint NOT NULL,
        user_agent text,
        ip text
      );
      CREATE INDEX {p}families_user ON {p}families (user_id, created_at);
      CREATE INDEX {p}families_purge ON {p}families (purge_at);

      CREATE TABLE {p}blacklist (jti text PRIMARY KEY, expires_at bigint NOT NULL);
      CREATE INDEX {p}blacklist_expires ON {p}blacklist (expires_at);

      CREATE TABLE {p}revoked_families (family_id text PRIMARY KEY, expires_at bigint NOT NULL);
      CREATE INDEX {p}revoked_families_expires ON {p}revoked_families (expires_at);

      CREATE TABLE {p}revoked_users (user_id text PRIMARY KEY, cutoff bigint NOT NULL, expires_at bigint NOT NULL);
      CREATE INDEX {p}revoked_users_expires ON {p}revoked_users (expires_at);

      CREATE TABLE {p}settings (name text PRIMARY KEY, value text NOT NULL);

      -- 'remembered_since': when the store's memory began (its first session event).
      CREATE TABLE {p}meta (name text PRIMARY KEY, value bigint NOT NULL);

      -- Serialises the events of one user until the transaction ends.
      CREATE FUNCTION {p}lock_user(_user text) RETURNS void LANGUAGE sql AS $$
        SELECT pg_advisory_xact_lock(hashtextextended('{p}user:' || _user, 0))
      $$;

      CREATE FUNCTION {p}remembered_since(_now bigint) RETURNS bigint LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO {p}meta (name, value) VALUES ('remembered_since', _now) ON CONFLICT (name) DO NOTHING;
        RETURN (SELECT value FROM {p}meta WHERE name = 'remembered_since');
      END $$;

      -- simplejwt tables mode: the GUC sjwt.simplejwt holds '<user table> <its key column>' ('- -': none) for the
      -- transaction, set by the store; empty or absent: the mode is off and Django's tables are never touched.
      CREATE FUNCTION {p}dj_users() RETURNS text LANGUAGE sql STABLE AS $$
        SELECT NULLIF(COALESCE(current_setting('sjwt.simplejwt', true), ''), '')
      $$;

      -- Django's blacklist has the jti.
      CREATE FUNCTION {p}dj_blacklisted(_jti text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
      BEGIN
        IF {p}dj_users() IS NULL THEN RETURN false; END IF;
        RETURN EXISTS (SELECT 1 FROM token_blacklist_blacklistedtoken b
          JOIN token_blacklist_outstandingtoken o ON o.id = b.token_id WHERE o.jti = _jti);
      END $$;

      -- An outstanding token row as Django writes it (the token text is not known here: left empty).
      CREATE FUNCTION {p}dj_outstand(_jti text, _user text, _iat bigint, _exp bigint) RETURNS void
          LANGUAGE plpgsql AS $$
      DECLARE
        _users text := {p}dj_users();
      BEGIN
        IF _users IS NULL THEN RETURN; END IF;
        IF split_part(_users, ' ', 1) = '-' THEN
          INSERT INTO token_blacklist_outstandingtoken (jti, token, created_at, expires_at, user_id)
            VALUES (_jti, '', to_timestamp(_iat), to_timestamp(_exp), NULL) ON CONFLICT (jti) DO NOTHING;
          RETURN;
        END IF;
        EXECUTE format('INSERT INTO token_blacklist_outstandingtoken (jti, token, created_at, expires_at, user_id)
            VALUES ($1, $2, to_timestamp($3), to_timestamp($4), (SELECT u.%2$I FROM %1$s u WHERE u.%2$I::text = $5))
            ON CONFLICT (jti) DO NOTHING', split_part(_users, ' ', 1), split_part(_users, ' ', 2))
          USING _jti, '', _iat, _exp, _user;
      END $$;

      CREATE FUNCTION {p}dj_blacklist(_jti text, _user text, _iat bigint, _exp bigint) RETURNS void
          LANGUAGE plpgsql AS $$
      BEGIN
        IF {p}dj_users() IS NULL THEN RETURN; END IF;
        PERFORM {p}dj_outstand(_jti, _user, _iat, _exp);
        INSERT INTO token_blacklist_blacklistedtoken (token_id, blacklisted_at)
          SELECT o.id, now() FROM token_blacklist_outstandingtoken o WHERE o.jti = _jti
          ON CONFLICT (token_id) DO NOTHING;
      END $$;

      -- Records a token unless its jti exists, and folds it into its family's summary (foldFamily).
      CREATE FUNCTION {p}put(_jti text, _user text, _family text, _type text, _iat bigint, _exp bigint,
          _started bigint, _ends bigint, _ua text, _ip text) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        _session boolean := _type IN ('refresh', 'sliding');
      BEGIN
        INSERT INTO {p}tokens (jti, user_id, family_id, type, issued_at, expires_at, session_started_at,
            session_expires_at, user_agent, ip)
          VALUES (_jti, _user, _family, _type, _iat, _exp, _started, _ends, _ua, _ip)
          ON CONFLICT (jti) DO NOTHING;
        IF NOT FOUND THEN RETURN; END IF;
        IF _session THEN PERFORM {p}dj_outstand(_jti, _user, _iat, _exp); END IF;
        INSERT INTO {p}families AS f (family_id, user_id, created_at, last_used_at, current_jti, current_issued_at,
            expires_at, purge_at, user_agent, ip)
          VALUES (_family, _user, _started, _iat, CASE WHEN _session THEN _jti END,
            CASE WHEN _session THEN _iat END, CASE WHEN _session THEN _exp END, _exp, _ua, _ip)
          ON CONFLICT (family_id) DO UPDATE SET
            created_at = LEAST(f.created_at, EXCLUDED.created_at),
            last_used_at = GREATEST(f.last_used_at, EXCLUDED.last_used_at),
            purge_at = GREATEST(f.purge_at, EXCLUDED.purge_at),
            user_agent = COALESCE(f.user_agent, EXCLUDED.user_agent),
            ip = COALESCE(f.ip, EXCLUDED.ip),
            current_jti = CASE WHEN _session AND (f.current_issued_at IS NULL OR _iat >= f.current_issued_at)
              THEN _jti ELSE f.current_jti END,
            current_issued_at = CASE WHEN _session AND (f.current_issued_at IS NULL OR _iat >= f.current_issued_at)
              THEN _iat ELSE f.current_issued_at END,
            expires_at = CASE WHEN _session AND (f.current_issued_at IS NULL OR _iat >= f.current_issued_at)
              THEN _exp ELSE f.expires_at END;
      END $$;

      -- A token of the session _family (NULL: none known) blacklisted, its session ended, or before the cutoff.
      CREATE FUNCTION {p}revoked(_jti text, _user text, _iat bigint, _family text) RETURNS boolean
          LANGUAGE sql STABLE AS $$
        SELECT EXISTS (SELECT 1 FROM {p}blacklist WHERE jti = _jti)
          OR (_family IS NOT NULL AND EXISTS (SELECT 1 FROM {p}revoked_families WHERE family_id = _family))
          OR EXISTS (SELECT 1 FROM {p}revoked_users WHERE user_id = _user AND cutoff > _iat)
          OR {p}dj_blacklisted(_jti)
      $$;

      -- Ends a session for as long as any token recorded in it could still verify.
      -- (simplejwt tables mode: the session's newest refresh token is blacklisted on the Django side too.)
      CREATE FUNCTION {p}end_family(_family text, _at_least bigint) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        _f record;
      BEGIN
        INSERT INTO {p}revoked_families AS r (family_id, expires_at)
          VALUES (_family, GREATEST(_at_least,
            COALESCE((SELECT purge_at FROM {p}families WHERE family_id = _family), _at_least)))
          ON CONFLICT (family_id) DO UPDATE SET expires_at = GREATEST(r.expires_at, EXCLUDED.expires_at);
        IF {p}dj_users() IS NOT NULL THEN
          SELECT current_jti, user_id, current_issued_at, expires_at INTO _f FROM {p}families WHERE family_id = _family;
          IF FOUND AND _f.current_jti IS NOT NULL THEN
            PERFORM {p}dj_blacklist(_f.current_jti, _f.user_id, _f.current_issued_at, _f.expires_at);
          END IF;
        END IF;
      END $$;

      CREATE FUNCTION {p}live_sessions(_user text, _now bigint)
          RETURNS TABLE (id text, created_at bigint, last_used_at bigint, expires_at bigint, user_agent text, ip text)
          LANGUAGE sql STABLE AS $$
        SELECT f.family_id, f.created_at, f.last_used_at, f.expires_at, f.user_agent, f.ip
        FROM {p}families f
        WHERE f.user_id = _user AND f.current_jti IS NOT NULL AND f.expires_at > _now
          AND NOT EXISTS (SELECT 1 FROM {p}revoked_families r WHERE r.family_id = f.family_id)
          AND NOT EXISTS (SELECT 1 FROM {p}blacklist b WHERE b.jti = f.current_jti)
          AND NOT EXISTS (SELECT 1 FROM {p}revoked_users u WHERE u.user_id = f.user_id
            AND u.cutoff > f.current_issued_at)
        ORDER BY f.created_at, f.family_id COLLATE "C"
      $$;

      CREATE FUNCTION {p}sessions(_j jsonb) RETURNS jsonb LANGUAGE sql STABLE AS $$
        SELECT COALESCE(jsonb_agg(jsonb_build_object('id', s.id, 'createdAt', s.created_at,
            'lastUsedAt', s.last_used_at, 'expiresAt', s.expires_at, 'userAgent', s.user_agent, 'ip', s.ip)), '[]')
        FROM {p}live_sessions(_j->>'userId', (_j->>'now')::bigint) s
      $$;

      CREATE FUNCTION {p}start_session(_j jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
      DECLARE
        _s jsonb := _j->'session';
        _a jsonb := _j->'access';
        _user text := _j->'session'->>'userId';
        _now bigint := (_j->>'now')::bigint;
        _max bigint := (_j->>'maxSessions')::bigint;
        _ended jsonb := '[]';
        _excess bigint;
        _old record;
      BEGIN
        PERFORM {p}lock_user(_user);
        PERFORM {p}remembered_since(_now);
        IF _max IS NOT NULL THEN
          SELECT count(*) - _max + 1 INTO _excess FROM {p}live_sessions(_user, _now);
          IF _excess > 0 THEN
            IF _j->>'whenFull' = 'refuse' THEN RETURN '{"status":"full"}'; END IF;
            FOR _old IN SELECT * FROM {p}live_sessions(_user, _now) LIMIT _excess LOOP
              PERFORM {p}end_family(_old.id, _old.expires_at);
              _ended := _ended || to_jsonb(_old.id);
            END LOOP;
          END IF;
        END IF;
        PERFORM {p}put(_s->>'jti', _user, _s->>'familyId', _s->>'type', (_s->>'issuedAt')::bigint,
          (_s->>'expiresAt')::bigint, (_s->>'sessionStartedAt')::bigint, (_s->>'sessionExpiresAt')::bigint,
          _s->>'userAgent', _s->>'ip');
        IF jsonb_typeof(_a) = 'object' THEN
          PERFORM {p}put(_a->>'jti', _user, _s->>'familyId', _a->>'type', (_a->>'issuedAt')::bigint,
            (_a->>'expiresAt')::bigint, (_s->>'sessionStartedAt')::bigint, (_s->>'sessionExpiresAt')::bigint,
            NULL, NULL);
        END IF;
        RETURN jsonb_build_object('status', 'ok', 'ended', _ended);
      END $$;

      CREATE FUNCTION {p}rotate(_j jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
      DECLARE
        _t jsonb := _j->'token';
        _jti text := _j->'token'->>'jti';
        _user text := _j->'token'->>'userId';
        _iat bigint := (_j->'token'->>'issuedAt')::bigint;
        _now bigint := (_j->>'now')::bigint;
        _interval bigint := (_j->>'reuseInterval')::bigint;
        _succ jsonb := _j->'successor';
        _acc jsonb := _j->'access';
        _s {p}tokens%ROWTYPE;
        _n {p}tokens%ROWTYPE;
        _known boolean;
        _session jsonb;
      BEGIN
        PERFORM {p}lock_user(_user);
        SELECT * INTO _s FROM {p}tokens WHERE jti = _jti;
        _known := FOUND;
        IF NOT _known OR _s.expires_at <= _now THEN
          IF EXISTS (SELECT 1 FROM {p}blacklist WHERE jti = _jti) THEN RETURN '{"status":"revoked"}'; END IF;
          IF NOT _known AND NOT (_j->>'adoptUnknown')::boolean THEN
            IF _iat < {p}remembered_since(_now) THEN RETURN '{"status":"unknown"}'; END IF;
          END IF;
          IF {p}revoked(_jti, _user, _iat, _jti) THEN RETURN '{"status":"revoked"}'; END IF;
          IF NOT _known THEN
            -- Issued by another issuer sharing the keys (a Django app), or adopted on purpose: a session of its own.
            PERFORM {p}put(_jti, _user, _jti, _t->>'type', _iat, (_t->>'expiresAt')::bigint, _iat,
              (_t->>'expiresAt')::bigint, _j->>'userAgent', _j->>'ip');
            SELECT * INTO _s FROM {p}tokens WHERE jti = _jti;
          END IF;
        END IF;
        _session := jsonb_build_object('id', _s.family_id, 'userId', _s.user_id, 'startedAt', _s.session_started_at,
          'expiresAt', _s.session_expires_at);
        IF _s.rotated_at IS NOT NULL THEN
          IF _interval > 0 AND _now - _s.rotated_at <= _interval AND _s.rotated_to IS NOT NULL THEN
            SELECT * INTO _n FROM {p}tokens WHERE jti = _s.rotated_to;
            IF FOUND THEN
              IF _n.rotated_at IS NULL AND _n.expires_at > _now
                  AND NOT {p}revoked(_n.jti, _n.user_id, _n.issued_at, _n.family_id) THEN
                IF jsonb_typeof(_acc) = 'object' THEN
                  PERFORM {p}put(_acc->>'jti', _n.user_id, _n.family_id, _acc->>'type', (_acc->>'issuedAt')::bigint,
                    (_acc->>'expiresAt')::bigint, _n.session_started_at, _n.session_expires_at, NULL, NULL);
                END IF;
                RETURN jsonb_build_object('status', 'retry', 'session', _session, 'successor',
                  jsonb_build_object('jti', _n.jti, 'type', _n.type, 'issuedAt', _n.issued_at, 'expiresAt', _n.expires_at));
              END IF;
            END IF;
          END IF;
          IF (_j->>'reuseDetection')::boolean THEN
            PERFORM {p}end_family(_s.family_id, _s.session_expires_at);
          END IF;
          RETURN jsonb_build_object('status', 'reused', 'session', _session, 'rotatedAt', _s.rotated_at);
        END IF;
        IF {p}revoked(_s.jti, _s.user_id, _s.issued_at, _s.family_id) THEN RETURN '{"status":"revoked"}'; END IF;
        IF jsonb_typeof(_succ) = 'object' THEN
          IF (_j->>'consume')::boolean THEN
            UPDATE {p}tokens SET rotated_at = _now, rotated_to = _succ->>'jti' WHERE jti = _s.jti;
            PERFORM {p}dj_blacklist(_s.jti, _s.user_id, _s.issued_at, _s.expires_at);
          END IF;
          PERFORM {p}put(_succ->>'jti', _s.user_id, _s.family_id, _succ->>'type', (_succ->>'issuedAt')::bigint,
            (_succ->>'expiresAt')::bigint, _s.session_started_at, _s.session_expires_at, NULL, NULL);
        END IF;
        IF jsonb_typeof(_acc) = 'object' THEN
          PERFORM {p}put(_acc->>'jti', _s.user_id, _s.family_id, _acc->>'type', (_acc->>'issuedAt')::bigint,
            (_acc->>'expiresAt')::bigint, _s.session_started_at, _s.session_expires_at, NULL, NULL);
        END IF;
        RETURN jsonb_build_object('status', 'ok', 'session', _session);
      END $$;

      CREATE FUNCTION {p}revoke_token(_t jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
      DECLARE
        _jti text := _t->>'jti';
        _exp bigint := (_t->>'expiresAt')::bigint;
        _family text;
      BEGIN
        PERFORM {p}lock_user(_t->>'userId');
        SELECT family_id INTO _family FROM {p}tokens WHERE jti = _jti;
        INSERT INTO {p}blacklist AS b (jti, expires_at) VALUES (_jti, _exp)
          ON CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(b.expires_at, EXCLUDED.expires_at);
        PERFORM {p}dj_blacklist(_jti, _t->>'userId', (_t->>'issuedAt')::bigint, _exp);
        PERFORM {p}end_family(COALESCE(_family, _jti), _exp);
        RETURN 'null';
      END $$;

      CREATE FUNCTION {p}revoke_user(_j jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
      DECLARE
        _user text := _j->>'userId';
        _before bigint := (_j->>'before')::bigint;
        _old record;
      BEGIN
        PERFORM {p}lock_user(_user);
        -- The cutoff ends tokens issued before _before; ending the live sessions covers tokens of that very second.
        FOR _old IN SELECT * FROM {p}live_sessions(_user, _before) LOOP
          PERFORM {p}end_family(_old.id, _old.expires_at);
        END LOOP;
        INSERT INTO {p}revoked_users AS u (user_id, cutoff, expires_at)
          VALUES (_user, _before, (_j->>'retainUntil')::bigint)
          ON CONFLICT (user_id) DO UPDATE SET cutoff = GREATEST(u.cutoff, EXCLUDED.cutoff),
            expires_at = GREATEST(u.expires_at, EXCLUDED.expires_at);
        RETURN 'null';
      END $$;

      CREATE FUNCTION {p}end_session(_j jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
      DECLARE
        _user text := _j->>'userId';
        _live record;
      BEGIN
        PERFORM {p}lock_user(_user);
        SELECT * INTO _live FROM {p}live_sessions(_user, (_j->>'now')::bigint) s WHERE s.id = _j->>'sessionId';
        IF NOT FOUND THEN RETURN 'false'; END IF;
        PERFORM {p}end_family(_live.id, _live.expires_at);
        RETURN 'true';
      END $$;

      CREATE FUNCTION {p}is_revoked(_j jsonb) RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
      DECLARE
        _jti text := _j->>'jti';
        _user text := _j->>'userId';
        _iat bigint := (_j->>'issuedAt')::bigint;
        _s record;
      BEGIN
        SELECT rotated_at, family_id INTO _s FROM {p}tokens WHERE jti = _jti;
        IF NOT FOUND THEN
          IF (_j->>'mustBeKnown')::boolean AND _iat < COALESCE(
              (SELECT value FROM {p}meta WHERE name = 'remembered_since'), (_j->>'now')::bigint) THEN
            RETURN 'true';
          END IF;
          RETURN to_jsonb({p}revoked(_jti, _user, _iat, NULL));
        END IF;
        IF _s.rotated_at IS NOT NULL THEN RETURN 'true'; END IF;
        RETURN to_jsonb({p}revoked(_jti, _user, _iat, _s.family_id));
      END $$;

      CREATE FUNCTION {p}purge(_now bigint) RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE
        _removed bigint := 0;
        _count bigint;
      BEGIN
        DELETE FROM {p}tokens WHERE expires_at <= _now;
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}blacklist WHERE expires_at <= _now;
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}revoked_families WHERE expires_at <= _now;
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}revoked_users WHERE expires_at <= _now;
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}families WHERE purge_at <= _now;
        RETURN _removed;
      END $$;
    `,
  },
  {
    version: 2,
    name: 'create login limiter counters',
    sql: `
      -- The login limiter's fixed windows (rateLimitStore()): one row per counter, timed by the database's clock,
      -- so every app server counts in the same window.
      CREATE TABLE {p}rate_limits (
        key text PRIMARY KEY,
        hits integer NOT NULL,
        reset_at timestamptz NOT NULL
      );
      CREATE INDEX {p}rate_limits_reset ON {p}rate_limits (reset_at);

      -- The purge of version 1, plus the counters whose window ended.
      CREATE OR REPLACE FUNCTION {p}purge(_now bigint) RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE
        _removed bigint := 0;
        _count bigint;
      BEGIN
        DELETE FROM {p}tokens WHERE expires_at <= _now;
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}blacklist WHERE expires_at <= _now;
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}revoked_families WHERE expires_at <= _now;
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}revoked_users WHERE expires_at <= _now;
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}rate_limits WHERE reset_at <= now();
        GET DIAGNOSTICS _count = ROW_COUNT; _removed := _removed + _count;
        DELETE FROM {p}families WHERE purge_at <= _now;
        RETURN _removed;
      END $$;
    `,
  },
];

/**
 * The newest schema version this code knows.
 *
 * @example
 * (await pool.query('SELECT max(version) AS v FROM sjwt_schema_migrations')).rows[0].v === POSTGRES_SCHEMA_VERSION
 */
export const POSTGRES_SCHEMA_VERSION = MIGRATIONS.length;

const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,29}$/;
/** How long a purge may run: it is never on a request's path. */
const PURGE_TIMEOUT_MS = 60_000;
/** How long start-up waits for the migration lock (another process migrating) and for the migration itself. */
const MIGRATION_TIMEOUT_MS = 60_000;

/** A string as an SQL literal, right whatever `standard_conforming_strings` says. */
function literal(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A value as a jsonb literal; `Infinity` (no cap) becomes null. */
function jsonLiteral(value: unknown): string {
  return `${literal(JSON.stringify(value, (_key, v: unknown) => (v === Infinity ? null : v)))}::jsonb`;
}

/** Loads pg only when a store opens its own pool, so hosts that never use PostgreSQL need not install it. */
function loadDriver(): { Pool: new (config: Record<string, unknown>) => PgPool & { on(event: 'error', fn: () => void): unknown } } {
  try {
    return require('pg') as ReturnType<typeof loadDriver>;
  } catch (err) {
    const missing =
      (err as { code?: unknown }).code === 'MODULE_NOT_FOUND' &&
      String((err as { message?: unknown }).message).startsWith("Cannot find module 'pg'");
    if (missing) throw new TypeError('PostgresStore needs the pg package: npm install pg', { cause: err });
    throw err;
  }
}

function isPool(value: unknown): value is PgPool {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as PgPool).query === 'function' &&
    typeof (value as PgPool).connect === 'function'
  );
}

/**
 * A store in PostgreSQL (`pg` v8, an optional peer dependency: `npm install pg`). Any number of app servers may
 * share the database: every event is one transaction in one round trip (a PL/pgSQL function), the events of one
 * user serialised by an advisory lock, so of concurrent rotations of one token exactly one wins. Each transaction
 * sets `statement_timeout` and `lock_timeout` to `timeoutMs`; a failure (server down, timeout) rejects and the
 * kit answers 503; the next call simply tries again.
 *
 * Pass your `pg` `Pool` (the store never ends it; give it an `'error'` listener, as `pg` asks of every pool) or a
 * connection string (the store opens a pool and `close()` ends it). Tables and functions, prefixed `sjwt_`, are
 * created in the connection's current schema by numbered migrations recorded in `sjwt_schema_migrations`, under
 * an advisory lock so servers starting together migrate once. An unref'ed timer purges expired rows every
 * `purgeIntervalSeconds` (default 60); `close()` stops it.
 *
 * @example
 * const store = new PostgresStore(process.env.DATABASE_URL!); // postgres://user:pass@host:5432/app
 * const auth = simpleJwt({ secret, store, findUserByUsername, findUserById });
 * // or share your pool: new PostgresStore(new Pool({ connectionString }), { tablePrefix: 'auth_' })
 */
export class PostgresStore implements TokenStore {
  private readonly pool: PgPool;
  private readonly ownsPool: boolean;
  private readonly prefix: string;
  /** `SELECT set_config(...)` of the event timeouts (and the simplejwt mode), run first in every event's query. */
  private bounds: string;
  private readonly simplejwtTables: boolean;
  private purgeBounds: string;
  private readonly timeoutMs: number;
  /**
   * The client-side bound of an event, past the server's: a connection that answers nothing (a frozen server, a
   * network that drops packets) is destroyed by `pg` after it, and the next event opens a new one.
   */
  private readonly readTimeoutMs: number;
  private readonly clock: () => number;
  private readonly purgeIntervalSeconds: number;
  private migrated: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * @param poolOrUrl a `pg` `Pool`, or a connection string such as `postgres://user:pass@host:5432/db`.
   */
  constructor(poolOrUrl: string | PgPool, options: PostgresStoreOptions = {}) {
    const { clock, purgeIntervalSeconds } = resolveTimerOptions('PostgresStore', options);
    const { tablePrefix = 'sjwt_', timeoutMs = 500, maxConnections = 10, simplejwtTables = false } = options;
    if (typeof simplejwtTables !== 'boolean') throw new TypeError('PostgresStore: "simplejwtTables" must be true or false');
    this.simplejwtTables = simplejwtTables;
    if (typeof tablePrefix !== 'string' || !PREFIX_PATTERN.test(tablePrefix)) {
      throw new TypeError('PostgresStore: "tablePrefix" must be 1-30 lower-case letters, digits or "_", starting with a letter or "_", such as "sjwt_"');
    }
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw new TypeError('PostgresStore: "timeoutMs" must be a whole number of milliseconds >= 1, below the kit\'s "storeTimeoutMs"');
    }
    if (typeof maxConnections !== 'number' || !Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new TypeError('PostgresStore: "maxConnections" must be a whole number >= 1');
    }
    this.prefix = tablePrefix;
    this.timeoutMs = timeoutMs;
    this.bounds = this.boundsFor(timeoutMs);
    this.purgeBounds = this.boundsFor(PURGE_TIMEOUT_MS);
    this.readTimeoutMs = 2 * timeoutMs;
    this.clock = clock;
    this.purgeIntervalSeconds = purgeIntervalSeconds;
    if (typeof poolOrUrl === 'string') {
      if (!/^postgres(ql)?:\/\//.test(poolOrUrl)) {
        throw new TypeError('PostgresStore: give a connection string such as "postgres://user:pass@host:5432/db" or a pg Pool');
      }
      const { Pool } = loadDriver();
      const pool = new Pool({
        connectionString: poolOrUrl,
        max: maxConnections,
        connectionTimeoutMillis: timeoutMs,
        idleTimeoutMillis: 30_000,
        allowExitOnIdle: true,
        keepAlive: true,
      });
      // Idle connections the server drops (restart, failover) are replaced on next use; nothing to report here.
      pool.on('error', () => undefined);
      this.pool = pool;
      this.ownsPool = true;
    } else if (isPool(poolOrUrl)) {
      this.pool = poolOrUrl;
      this.ownsPool = false;
    } else {
      throw new TypeError('PostgresStore: pass a connection string such as "postgres://user:pass@host:5432/db" or a pg Pool');
    }
  }

  /**
   * Creates or migrates the tables (the kit calls it at start-up; every event also waits for it, and a failed
   * attempt, such as the server being down at start, is retried by the next event). Starts the purge timer.
   */
  init(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('PostgresStore: the store is closed'));
    this.migrated ??= this.migrate().then(
      () => {
        if (!this.closed && this.timer === undefined) {
          this.timer = startPurgeTimer(this.purgeIntervalSeconds, this.clock, (now) => this.purgeExpired(now));
        }
      },
      (err: unknown) => {
        this.migrated = undefined;
        throw err;
      },
    );
    return this.migrated;
  }

  /** Stops the purge timer and ends the pool if the store opened it. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.migrated?.catch(() => undefined);
    if (this.ownsPool) await this.pool.end();
  }

  async startSession(start: SessionStart): Promise<SessionStartResult> {
    return (await this.call('start_session', start)) as SessionStartResult;
  }

  async rotate(rotation: Rotation): Promise<RotationResult> {
    return (await this.call('rotate', rotation)) as RotationResult;
  }

  async revokeToken(token: PresentedToken): Promise<void> {
    await this.call('revoke_token', token);
  }

  async revokeUser(revocation: UserRevocation): Promise<void> {
    await this.call('revoke_user', revocation);
  }

  async endSession(userId: string, sessionId: string, now: number): Promise<boolean> {
    return (await this.call('end_session', { userId, sessionId, now })) === true;
  }

  async isRevoked(query: RevocationQuery): Promise<boolean> {
    return (await this.call('is_revoked', query)) === true;
  }

  async sessions(userId: string, now: number): Promise<SessionInfo[]> {
    const rows = (await this.call('sessions', { userId, now })) as {
      id: string;
      createdAt: number;
      lastUsedAt: number;
      expiresAt: number;
      userAgent: string | null;
      ip: string | null;
    }[];
    return rows.map((r) => sessionInfo(r.id, r.createdAt, r.lastUsedAt, r.expiresAt, r.userAgent, r.ip)).sort(bySessionAge);
  }

  async purgeExpired(now: number): Promise<number> {
    const sql = `SELECT ${this.prefix}purge(${Math.floor(now)}) AS r`;
    return Number(await this.query(sql, this.purgeBounds, 2 * PURGE_TIMEOUT_MS));
  }

  async getSetting(name: string): Promise<string | undefined> {
    const value = await this.query(`SELECT value AS r FROM ${this.prefix}settings WHERE name = ${literal(name)}`);
    return typeof value === 'string' ? value : undefined;
  }

  async setSetting(name: string, value: string): Promise<void> {
    await this.query(`INSERT INTO ${this.prefix}settings (name, value) VALUES (${literal(name)}, ${literal(value)})
      ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`);
  }

  /**
   * An express-rate-limit store counting in this store's database (table `<tablePrefix>rate_limits`, created by
   * the migration), so app servers sharing the database share their counters. The kit's login limiter uses it
   * (keys prefixed `login:`) when the kit's `store` is a PostgresStore and `loginThrottle` names no store. Each
   * call is one statement in one round trip, bounded by `timeoutMs`; windows are timed by the database's clock,
   * and ended windows go with the store's purge. It has no `shutdown()`: it lives as long as this store.
   *
   * @example
   * rateLimit({ windowMs: 60_000, limit: 100, store: postgresStore.rateLimitStore('api:') });
   */
  rateLimitStore(prefix = 'rl:'): RateLimitStore {
    if (typeof prefix !== 'string') throw new TypeError('PostgresStore: the "prefix" of rateLimitStore() must be a string');
    const table = `${this.prefix}rate_limits`;
    let windowMs = 60_000;
    const key = (k: string) => literal(`${prefix}${k}`);
    /** A counter as the table holds it: `{ hits, reset }` (reset in ms since the epoch), or undefined. */
    const info = (value: unknown): ClientRateLimitInfo | undefined => {
      if (typeof value !== 'object' || value === null) return undefined;
      const { hits, reset } = value as { hits: number; reset: number };
      return { totalHits: Number(hits), resetTime: new Date(Number(reset)) };
    };
    const state = "json_build_object('hits', hits, 'reset', (extract(epoch FROM reset_at) * 1000)::bigint) AS r";
    return {
      prefix,
      localKeys: false,
      init: (options) => {
        if (Number.isFinite(options.windowMs) && options.windowMs > 0) windowMs = options.windowMs;
        return this.init();
      },
      get: async (k) => info(await this.query(`SELECT ${state} FROM ${table} WHERE key = ${key(k)} AND reset_at > now()`)),
      increment: async (k) => {
        const counted = info(
          await this.query(`INSERT INTO ${table} AS c (key, hits, reset_at)
            VALUES (${key(k)}, 1, now() + ${Math.ceil(windowMs)} * interval '1 millisecond')
            ON CONFLICT (key) DO UPDATE SET
              hits = CASE WHEN c.reset_at <= now() THEN 1 ELSE c.hits + 1 END,
              reset_at = CASE WHEN c.reset_at <= now() THEN EXCLUDED.reset_at ELSE c.reset_at END
            RETURNING ${state}`),
        );
        if (!counted) throw new Error('PostgresStore: the rate limit counter was not returned');
        return { totalHits: counted.totalHits, resetTime: counted.resetTime };
      },
      decrement: async (k) => {
        await this.query(`UPDATE ${table} SET hits = hits - 1 WHERE key = ${key(k)} AND hits > 0 AND reset_at > now()`);
      },
      resetKey: async (k) => {
        await this.query(`DELETE FROM ${table} WHERE key = ${key(k)}`);
      },
      resetAll: async () => {
        const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        await this.query(`DELETE FROM ${table} WHERE key LIKE ${literal(pattern)}`);
      },
    };
  }

  private boundsFor(ms: number, users?: string): string {
    const mode = users === undefined ? '' : `, set_config('sjwt.simplejwt', ${literal(users)}, true)`;
    return `SELECT set_config('statement_timeout', '${ms}', true), set_config('lock_timeout', '${ms}', true)${mode}`;
  }

  /** One event: its function called in one transaction, in one round trip. */
  private call(fn: string, payload: unknown): Promise<unknown> {
    return this.query(`SELECT ${this.prefix}${fn}(${jsonLiteral(payload)}) AS r`);
  }

  /**
   * Runs `sql` after the timeouts, as one simple-protocol query: PostgreSQL runs its statements as one implicit
   * transaction, and `set_config(..., true)` lasts until its end. Answers column `r` of the last statement's row.
   */
  private async query(sql: string, bounds = this.bounds, readTimeoutMs = this.readTimeoutMs): Promise<unknown> {
    await this.init();
    const results = (await this.pool.query({ text: `${bounds}; ${sql}`, query_timeout: readTimeoutMs })) as PgResult | PgResult[];
    const last = Array.isArray(results) ? results[results.length - 1] : results;
    return last?.rows[0]?.r;
  }

  /**
   * simplejwt tables mode: checks that Django's blacklist tables exist and answers the user table their
   * `user_id` refers to and its key column, as `'<table> <column>'` (`'- -'` without one).
   */
  private async djangoUsers(run: (text: string) => Promise<unknown>): Promise<string> {
    const tables = (await run(`SELECT to_regclass('token_blacklist_outstandingtoken') IS NOT NULL
      AND to_regclass('token_blacklist_blacklistedtoken') IS NOT NULL AS ok`)) as PgResult;
    if (tables.rows[0]?.ok !== true) {
      throw new Error(
        'PostgresStore: "simplejwtTables" needs the tables of rest_framework_simplejwt.token_blacklist ' +
          '(token_blacklist_outstandingtoken, token_blacklist_blacklistedtoken) in this database; ' +
          'run the Django migrations first (python manage.py migrate token_blacklist)',
      );
    }
    const fk = (await run(`SELECT c.confrelid::regclass::text AS tbl, a.attname AS col
      FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = c.confkey[1]
      JOIN pg_attribute k ON k.attrelid = c.conrelid AND k.attnum = c.conkey[1]
      WHERE c.conrelid = 'token_blacklist_outstandingtoken'::regclass AND c.contype = 'f' AND k.attname = 'user_id'`)) as PgResult;
    const row = fk.rows[0] as { tbl: string; col: string } | undefined;
    return row ? `${row.tbl} ${row.col}` : '- -';
  }

  /** Applies the migrations the database lacks, in one transaction under an advisory lock. */
  private async migrate(): Promise<void> {
    const p = this.prefix;
    const client = await this.pool.connect();
    // Bounded on the client too: a server that hangs mid-migration must not leave start-up waiting forever.
    const run = (text: string) => client.query({ text, query_timeout: MIGRATION_TIMEOUT_MS + 5000 });
    let failure: Error | undefined;
    try {
      await run(`BEGIN; ${this.boundsFor(MIGRATION_TIMEOUT_MS)}`);
      await run(`SELECT pg_advisory_xact_lock(hashtextextended(${literal(`${p}migrate`)}, 0))`);
      await run(`CREATE TABLE IF NOT EXISTS ${p}schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = (await run(`SELECT COALESCE(max(version), 0) AS v FROM ${p}schema_migrations`)) as PgResult;
      const current = Number(rows[0]?.v ?? 0);
      if (current > POSTGRES_SCHEMA_VERSION) {
        throw new Error(
          `PostgresStore: the database has token store schema ${current}, newer than this version of express-simplejwt ` +
            `understands (${POSTGRES_SCHEMA_VERSION}); upgrade express-simplejwt`,
        );
      }
      for (const step of MIGRATIONS.slice(current)) {
        await run(step.sql.replace(/\{p\}/g, p));
        await run(`INSERT INTO ${p}schema_migrations (version, name) VALUES (${step.version}, ${literal(step.name)})`);
      }
      await run('COMMIT');
      if (this.simplejwtTables) {
        const users = await this.djangoUsers(run);
        this.bounds = this.boundsFor(this.timeoutMs, users);
        this.purgeBounds = this.boundsFor(PURGE_TIMEOUT_MS, users);
      }
    } catch (err) {
      failure = err as Error;
      await run('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release(failure);
    }
  }
}
