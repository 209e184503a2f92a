import { Column, getTableName, is, Placeholder, SQL, Subquery } from 'drizzle-orm';
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

/** A field of a select as drizzle keeps it: where it goes in the row object, and its column or SQL. */
export interface SelectedField {
  path: string[];
  field: unknown;
}

/** What turns a column's value as the driver gives it into the row's value. */
interface Decoder {
  mapFromDriverValue(value: unknown): unknown;
}

/** The decoder drizzle takes for a field: the column itself, or the SQL's (`mapWith`). */
function decoderOf(field: unknown): Decoder {
  const decoder = (q: SQL) => (q as unknown as { decoder: Decoder }).decoder;
  if (is(field, Column)) return field;
  if (is(field, SQL)) return decoder(field);
  if (is(field, Subquery)) return decoder((field as unknown as { _: { sql: SQL } })._.sql);
  return decoder((field as SQL.Aliased).sql);
}

/**
 * drizzle's mapping of a select's array rows to objects (its `mapResultRow`), worked out once per
 * statement instead of for every field of every row: the same decoder of each column, the same
 * nested objects in the same key order, and a joined table's object null where drizzle makes it
 * null (the object's first column is null, its other columns are of that table, and the join
 * may leave it out: `joinsNotNullableMap` false). For the selects of every ingested mail.
 */
export function rowMapper(fields: readonly SelectedField[], joinsNotNullableMap?: Record<string, boolean>): (row: unknown[]) => Record<string, unknown> {
  const decoders = fields.map((f) => decoderOf(f.field));
  // Each joined object drizzle may make null: the index of its first column, and whether it may.
  const nullable: { key: string; first: number }[] = [];
  if (joinsNotNullableMap) {
    const objects = new Map<string, { first: number; table: string; mixed: boolean }>();
    for (const [i, { path, field }] of fields.entries()) {
      if (!is(field, Column) || path.length !== 2) continue;
      const table = getTableName(field.table);
      const o = objects.get(path[0]!);
      if (!o) objects.set(path[0]!, { first: i, table, mixed: false });
      else if (o.table !== table) o.mixed = true;
    }
    for (const [key, o] of objects) if (!o.mixed && !joinsNotNullableMap[o.table]) nullable.push({ key, first: o.first });
  }
  return (row) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) {
      const path = fields[i]!.path;
      let node = out;
      for (let k = 0; k < path.length - 1; k++) {
        if (!(path[k]! in node)) node[path[k]!] = {};
        node = node[path[k]!] as Record<string, unknown>;
      }
      const raw = row[i];
      node[path[path.length - 1]!] = raw === null ? null : decoders[i]!.mapFromDriverValue(raw);
    }
    for (const n of nullable) {
      if ((out[n.key] as Record<string, unknown>)[fields[n.first]!.path[1]!] === null) out[n.key] = null;
    }
    return out;
  };
}

/** A prepared select's fields and joins, as drizzle's node-postgres driver keeps them. */
interface PreparedSelect {
  fields?: SelectedField[];
  joinsNotNullableMap?: Record<string, boolean>;
  customResultMapper?: (rows: unknown[][]) => unknown;
}

/** Have `prepared`, if it is a select that drizzle maps row by row, map its rows with {@link rowMapper}. */
function mapRowsOnce(prepared: unknown): void {
  const p = prepared as PreparedSelect;
  if (!p.fields || p.customResultMapper) return;
  const map = rowMapper(p.fields, p.joinsNotNullableMap);
  p.customResultMapper = (rows) => rows.map(map);
}

/** The connection a database handle or transaction sends its statements on: the pool, or the transaction's client. */
function clientOf(tx: Tx): unknown {
  return (tx as unknown as { session: { client: unknown } }).session.client;
}

/**
 * A query drizzle builds once per process (with `sql.placeholder` for its values) and runs as
 * the named statement `name` on whichever handle or transaction it is given, so each
 * connection parses and plans it once. The rows come back exactly as drizzle maps them (its own
 * prepared query runs, on the given transaction's client; a select's rows are mapped by
 * {@link rowMapper}). For statements of every ingested mail, whose SQL text drizzle built anew
 * each time (about a sixth of the worker's main thread).
 * A statement whose text depends on its input (a list of values, optional columns) needs a
 * `name` per shape.
 */
export function preparedQuery<P extends DrizzlePrepared>(name: string, build: (tx: Tx) => { prepare(name: string): P }): (tx: Tx, values?: Record<string, unknown>) => ReturnType<P['execute']> {
  let built: P | undefined;
  return (tx, values = {}) => {
    if (!built) {
      built = build(tx).prepare(name);
      mapRowsOnce(built);
    }
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
