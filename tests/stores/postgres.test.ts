import { Pool } from 'pg';
import { PostgresStore } from '../../lib/stores';
import { runStoreConformance } from '../../lib/testing/conformance';
import { usePostgres } from '../helpers/postgres';

const pg = usePostgres();
let prefixes = 0;

/** A table prefix no store of this file has used yet: an empty store in the server's database. */
function newPrefix(): string {
  prefixes += 1;
  return `t${prefixes}_`;
}

/** A pool as a host opens it (with the 'error' listener pg asks every pool to have). */
function hostPool(url: string): Pool {
  const pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return pool;
}

runStoreConformance('PostgresStore', { describe, it, beforeEach, afterEach }, async (clock) => {
  const url = pg.server().connectionString;
  const options = { clock, purgeIntervalSeconds: 0, tablePrefix: newPrefix() };
  // The store opens its own pool; two more stores share its tables through pools the host opens and passes in.
  const store = new PostgresStore(url, options);
  const hostPools = [hostPool(url), hostPool(url)];
  const peers = [store, ...hostPools.map((pool) => new PostgresStore(pool, options))];
  await Promise.all(peers.map((peer) => peer.init()));
  return {
    store,
    peers,
    async close() {
      for (const peer of peers) await peer.close();
      for (const pool of hostPools) await pool.end();
    },
  };
});
