import { is, Placeholder } from 'drizzle-orm';
import type { Database } from '../client';

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
