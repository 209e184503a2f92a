/**
 * Loaded into a Blend service by the ingest benchmark (`NODE_OPTIONS=--import=…/pg-count.mjs`,
 * built from this file by pg-count.ts) when `BENCH_PG_COUNTS` is set: counts the transactions
 * on each of the service's Postgres connections from the messages its `pg` client reads
 * ({@link TxState}), and writes the sums to `$BENCH_PG_COUNTS.<pid>.json` every second when
 * they changed, at once on SIGUSR2 (the benchmark asking), and when the process exits. The
 * service's own code is unchanged and talks to Postgres directly: `pg` is the module it imports
 * from node_modules (a CommonJS module, loaded once per process), whose connection class is
 * wrapped here before the service loads it.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { messageOfPg, TxState, zeroCounts, type PgCounts, type PgMessage } from './pg-tx';

/** What the file holds: the counts, and when they were written (ms since the epoch). */
export type PgCountsFile = PgCounts & { at: number };

interface Connection {
  attachListeners(stream: unknown): unknown;
  on(event: 'message', listener: (m: PgMessage) => void): unknown;
}

const prefix = process.env.BENCH_PG_COUNTS;
// The worker's parse threads load this too (they inherit NODE_OPTIONS) and hold no connections.
if (prefix && isMainThread) {
  const { default: pg } = await import('pg');
  const proto = (pg.Connection as unknown as { prototype: Connection }).prototype;
  const attach = proto.attachListeners;
  // pg calls it once per connection, to read the server's messages (after TLS, when agreed);
  // a listener on `message` makes it emit each one under that name too.
  if (typeof attach !== 'function') throw new Error('pg-count: pg.Connection has no attachListeners (a changed pg?); count with BENCH_PG_RELAY=1');
  const counts = zeroCounts();
  proto.attachListeners = function (this: Connection, stream: unknown) {
    counts.connections++;
    const state = new TxState(counts);
    this.on('message', (m) => state.message(messageOfPg(m)));
    return attach.call(this, stream);
  };
  const file = `${prefix}.${process.pid}.json`;
  let last = '';
  const write = (always: boolean) => {
    const now = JSON.stringify(counts);
    if (!always && now === last) return;
    last = now;
    const body: PgCountsFile = { ...counts, at: Date.now() };
    // Whole or not at all for a reader: written aside, then renamed over.
    writeFileSync(`${file}.tmp`, JSON.stringify(body));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(() => write(false), 1000).unref();
  process.on('SIGUSR2', () => write(true));
  process.on('exit', () => write(true));
}
