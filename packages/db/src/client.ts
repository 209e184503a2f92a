import { sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema';

export type Schema = typeof schema;
export type Database = NodePgDatabase<Schema> & { $client: pg.Pool };
/** A database handle or an open transaction on it. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0] | Database;

export interface DbHandle {
  pool: pg.Pool;
  db: Database;
  close(): Promise<void>;
}

/**
 * Open a pool to Postgres. Errors on idle clients (a restarted server) are logged by the
 * caller through `onError` instead of crashing the process; the pool replaces the client.
 */
export function createDb(url: string, opts: { max?: number; onError?: (err: Error) => void } = {}): DbHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // No statement may hang forever on a connection that silently died (a cut network):
    // it fails and its job is retried, and a shutdown never waits on it.
    query_timeout: 60_000,
    keepAlive: true,
    application_name: 'blend',
  });
  pool.on('error', (err) => opts.onError?.(err));
  // A client that loses its connection while checked out (inside a transaction, between
  // statements) emits 'error' on itself; without a listener that would crash the process
  // when Postgres restarts. The statement in flight fails and is retried by its caller.
  pool.on('connect', (client) => {
    client.on('error', (err) => opts.onError?.(err));
  });
  const db = drizzle(pool, { schema });
  return {
    pool,
    db,
    // pool.end() waits for every checked-out client; one stuck on a dead connection must not
    // hold a shutdown for the full query timeout.
    close: () => Promise.race([pool.end(), new Promise<void>((r) => setTimeout(r, 5_000).unref())]),
  };
}

/** Readiness check: 'ok' when Postgres answers a trivial query (a failure throws its reason). */
export async function postgresReady(pool: pg.Pool): Promise<string> {
  await pool.query('select 1');
  return 'ok';
}

/** The database's clock: expiry and time windows use it, so a skewed worker clock cannot bend them. */
export async function dbNow(db: Tx): Promise<Date> {
  const r = await db.execute<{ now: Date | string }>(sql`select now() as now`);
  const v = r.rows[0]?.now;
  return v instanceof Date ? v : new Date(String(v));
}
