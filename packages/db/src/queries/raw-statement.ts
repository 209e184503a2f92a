import { is, Placeholder, type SQL } from 'drizzle-orm';
import type { Database, Tx } from '../client';

/** A query drizzle has built: its SQL text and parameters, placeholders among them. */
interface BuiltQuery {
  toSQL(): { sql: string; params: unknown[] };
}

/** A named statement run by node-postgres itself; see {@link rawStatement}. */
export interface RawStatement<Row> {
  execute(values: Record<string, unknown>): Promise<Row[]>;
}

/**
 * A select built by drizzle once and run as a named statement by node-postgres, which parses
 * the values (timestamps to Date, json to objects, int4 to number, arrays to arrays) and whose
 * array rows are zipped with `fields`, the keys of the select object in their order. For the
 * few statements of every feed request: drizzle's own result mapping (each field of each row
 * through its entity checks and decoders) cost the API process more than Postgres took to
 * answer. Counts must be cast to int (node-postgres leaves bigint as text) and the select must
 * be flat, one key per column.
 */
export function rawStatement<Row>(db: Database, name: string, query: BuiltQuery, fields: (keyof Row & string)[]): RawStatement<Row> {
  const { sql: text, params } = query.toSQL();
  return {
    async execute(values) {
      const args = params.map((p) => (is(p, Placeholder) ? values[p.name] : p));
      const result = await db.$client.query<unknown[]>({ name, text, values: args, rowMode: 'array' });
      return result.rows.map((r) => {
        const row: Record<string, unknown> = {};
        for (let i = 0; i < fields.length; i++) row[fields[i]!] = r[i];
        return row as Row;
      });
    },
  };
}

/** What drizzle's node-postgres driver prepares: the statement with its SQL built, and the client it runs on. */
interface DrizzlePrepared {
  execute(values?: Record<string, unknown>): Promise<unknown>;
}

/** The connection a database handle or transaction sends its statements on: the pool, or the transaction's client. */
function clientOf(tx: Tx): unknown {
  return (tx as unknown as { session: { client: unknown } }).session.client;
}

/**
 * A query drizzle builds once per process (with `sql.placeholder` for its values) and runs as
 * the named statement `name` on whichever handle or transaction it is given, so each
 * connection parses and plans it once. The rows come back exactly as drizzle maps them (its own
 * prepared query runs, on the given transaction's client). For statements of every ingested
 * mail, whose SQL text drizzle built anew each time (about a sixth of the worker's main thread).
 * A statement whose text depends on its input (a list of values, optional columns) needs a
 * `name` per shape.
 */
export function preparedQuery<P extends DrizzlePrepared>(name: string, build: (tx: Tx) => { prepare(name: string): P }): (tx: Tx, values?: Record<string, unknown>) => ReturnType<P['execute']> {
  let built: P | undefined;
  return (tx, values = {}) => {
    built ??= build(tx).prepare(name);
    const bound = Object.create(built, { client: { value: clientOf(tx) } }) as P;
    return bound.execute(values) as ReturnType<P['execute']>;
  };
}

/** {@link preparedQuery} of a statement written as SQL (what `tx.execute(sql…)` runs): the driver's result, rows as `tx.execute` gives them. */
export function preparedSql<Row>(name: string, build: () => SQL): (tx: Tx, values?: Record<string, unknown>) => Promise<{ rows: Row[] }> {
  return preparedQuery(name, (tx) => ({
    prepare: (n) => {
      const t = tx as unknown as { session: { prepareQuery(q: unknown, fields: undefined, name: string, arrayMode: boolean): DrizzlePrepared }; dialect: { sqlToQuery(s: SQL): unknown } };
      return t.session.prepareQuery(t.dialect.sqlToQuery(build()), undefined, n, false) as DrizzlePrepared & { execute(values?: Record<string, unknown>): Promise<{ rows: Row[] }> };
    },
  }));
}
