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
 * Asked before each statement a pool's client sends: `undefined` to send it now, or a promise
 * to send it once that settles, `false` when the wait ran out (see {@link createDb}'s `gate`).
 */
export type StatementGate = () => Promise<boolean> | undefined;

/** The client class of a pool whose statements wait for `gate` (pg's own otherwise). */
interface GatedClient {
  /** A wait ran out since this client was checked out: it sends without asking until it is checked out again. */
  gateRanOut: boolean;
}

function gatedClientClass(gate: StatementGate): typeof pg.Client {
  const Base = pg.Client as unknown as new (config?: unknown) => { query(...args: unknown[]): unknown };
  class Gated extends Base {
    gateRanOut = false;
    /** The wait of the last statement held back: later ones follow it, so they go in the order sent. */
    private held: Promise<void> | undefined;

    override query(...args: unknown[]): unknown {
      // A query object with its own submit (a cursor, a stream) is sent at once: its caller reads it as it goes.
      const first = args[0] as { submit?: unknown } | null | undefined;
      if (this.gateRanOut || typeof first?.submit === 'function') return super.query(...args);
      const wait = this.held ?? gate();
      if (!wait) return super.query(...args);
      const released: Promise<void> = wait.then(
        (open) => {
          if (open === false) this.gateRanOut = true;
        },
        () => undefined,
      );
      this.held = released;
      const send = () => {
        if (this.held === released) this.held = undefined;
        return super.query(...args);
      };
      const callback = args[args.length - 1];
      if (typeof callback !== 'function') return released.then(send);
      void released.then(() => {
        try {
          send();
        } catch (err) {
          (callback as (err: unknown) => void)(err);
        }
      });
      return undefined;
    }
  }
  return Gated as unknown as typeof pg.Client;
}

/**
 * Open a pool to Postgres. Errors on idle clients (a restarted server) are logged by the
 * caller through `onError` instead of crashing the process; the pool replaces the client.
 *
 * With `gate`, each statement of the pool's clients is sent only when the gate lets it (a
 * worker's work other than live mail gives way to live mail, docs/ARCHITECTURE.md "Processes
 * and the flow"): statements already sent run on, the next ones wait. A client whose wait ran
 * out (the gate's promise gave `false`) sends without waiting until it is released and checked
 * out again: its transaction may hold a lock that what the gate waits for is waiting on.
 */
export function createDb(url: string, opts: { max?: number; onError?: (err: Error) => void; gate?: StatementGate } = {}): DbHandle {
  const pool = new pg.Pool({
    ...(opts.gate ? { Client: gatedClientClass(opts.gate) } : {}),
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
  // Each checkout of a gated client waits again (see `gate`).
  if (opts.gate) pool.on('acquire', (client) => ((client as unknown as GatedClient).gateRanOut = false));
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
