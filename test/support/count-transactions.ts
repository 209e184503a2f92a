import type pg from 'pg';

/** What went to Postgres while it was counted. */
export interface TransactionCount {
  /** Transactions Postgres committed: each `commit`, and each statement sent outside a transaction (autocommit). */
  commits: number;
  /** Statements sent, `begin` and `commit` included. */
  statements: number;
  /** The statements' text in order (or their prepared name), for a test's failure message. */
  log: string[];
}

const textOf = (q: unknown): string => {
  if (typeof q === 'string') return q;
  const o = q as { text?: string; name?: string };
  return o.text ?? o.name ?? String(q);
};

type Query = (this: pg.Client, ...args: unknown[]) => unknown;

/**
 * Count the statements the connections of `pool` send from now on, per connection: a statement
 * outside `begin … commit` is its own committed transaction, as Postgres counts it in
 * pg_stat_database.xact_commit. It wraps `query` of the pool's client class, for the clients of
 * this pool's database only; `stop()` puts it back.
 */
export function countTransactions(pool: pg.Pool): TransactionCount & { stop(): void } {
  const count: TransactionCount = { commits: 0, statements: 0, log: [] };
  const database = (pool.options as { connectionString?: string }).connectionString
    ? new URL((pool.options as { connectionString: string }).connectionString).pathname.slice(1)
    : undefined;
  const inTx = new WeakSet<object>();
  const proto = (pool as unknown as { Client: typeof pg.Client }).Client.prototype as unknown as { query: Query };
  const original = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    if (this.database === database) {
      const text = textOf(args[0]).trim();
      const head = text.slice(0, 12).toLowerCase();
      count.statements++;
      count.log.push(text.replace(/\s+/g, ' ').slice(0, 140));
      if (head.startsWith('begin')) inTx.add(this);
      else if (head.startsWith('commit')) {
        inTx.delete(this);
        count.commits++;
      } else if (head.startsWith('rollback')) inTx.delete(this);
      else if (!inTx.has(this)) count.commits++;
    }
    return original.apply(this, args);
  };
  return Object.assign(count, {
    stop() {
      proto.query = original;
    },
  });
}

/** What `fn` gives, and what its connections of `pool` sent to Postgres meanwhile ({@link countTransactions}). */
export async function whileCounted<T>(pool: pg.Pool, fn: () => Promise<T>): Promise<{ value: T; counted: TransactionCount }> {
  const counted = countTransactions(pool);
  try {
    return { value: await fn(), counted };
  } finally {
    counted.stop();
  }
}
