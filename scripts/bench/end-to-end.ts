/**
 * (c) of `pnpm bench`: Blend's worker and poller services ingesting a preloaded mailbox
 * into posts and comments, timed from service start until every row is final and the
 * posts + comments count matches the published rows. The stage breakdown comes from the
 * rows' own timestamps (received_at: stored by the poller; processed_at: finished by the
 * worker), so Blend needs no instrumentation.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { Config, Logger } from '@blend/config';
import { startPollerService } from '@blend/poller';
import { startWorkerService } from '@blend/worker';
import { waitFor } from '../../test/support/database';
import type { BenchMessage } from './corpus';
import { percentile } from './stats';

type Running = { stop(): Promise<void> };

export interface Services {
  worker: Running | null;
  poller: Running | null;
}

export interface EndToEndResult {
  seconds: number;
  /** Service start until the first row is stored. */
  startupSeconds: number;
  /** Service start until the last row is stored (the poller's share). */
  allStoredSeconds: number;
  states: Record<string, number>;
  posts: number;
  comments: number;
  /** Seconds between storing a row and finishing it (queue wait + ingest), p50/p95. */
  waitP50: number;
  waitP95: number;
  /** Rows finished per second between the first and the last processed_at. */
  workerRate: number;
  /** Rows stored per second between the first and the last received_at. */
  pollerRate: number;
  threading: Threading;
  pgDelta: PgDelta;
}

export interface Threading {
  replies: number;
  /** Replies that became a comment on the post of their thread's first message. */
  onRightPost: number;
  /** Replies that became posts of their own (their thread was not found yet). */
  becamePosts: number;
}

export interface PgDelta {
  commits: number;
  rollbacks: number;
  walBytes: number;
  walSyncs: number;
}

/** Start worker then poller (as test/support/stack.ts does) and wait for all rows to be final. */
export async function runEndToEnd(
  config: Config,
  log: Logger,
  pool: pg.Pool,
  services: Services,
  corpus: BenchMessage[],
): Promise<EndToEndResult> {
  const n = corpus.length;
  const before = await pgCounters(pool, config);
  const wallStart = Date.now();
  const started = performance.now();
  services.worker = await startWorkerService(config, log);
  services.poller = await startPollerService(config, log);
  let firstStored = 0;
  let allStored = 0;
  await waitFor(
    async () => {
      const { rows } = await pool.query<{ total: number; pending: number; published: number; items: number }>(
        `select count(*)::int as total,
                count(*) filter (where state = 'received')::int as pending,
                count(*) filter (where state in ('posted', 'commented'))::int as published,
                (select count(*) from posts)::int + (select count(*) from comments)::int as items
           from inbound_messages`,
      );
      const r = rows[0]!;
      const now = performance.now() - started;
      if (r.total > 0 && !firstStored) firstStored = now;
      if (r.total >= n && !allStored) allStored = now;
      return r.total >= n && r.pending === 0 && r.items === r.published;
    },
    `${n} inbound rows final`,
    Math.max(300_000, n * 100),
    100,
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await pgCounters(pool, config);
  const timing = await rowTiming(pool);
  return {
    seconds,
    startupSeconds: firstStored / 1000,
    allStoredSeconds: allStored / 1000,
    ...(await outcome(pool)),
    waitP50: timing.waitP50,
    waitP95: timing.waitP95,
    workerRate: timing.workerRate,
    pollerRate: timing.pollerRate,
    threading: await threading(pool, corpus, wallStart),
    pgDelta: {
      commits: after.commits - before.commits,
      rollbacks: after.rollbacks - before.rollbacks,
      walBytes: after.walBytes - before.walBytes,
      walSyncs: after.walSyncs - before.walSyncs,
    },
  };
}

async function outcome(pool: pg.Pool): Promise<{ states: Record<string, number>; posts: number; comments: number }> {
  const { rows } = await pool.query<{ state: string; n: number }>('select state, count(*)::int as n from inbound_messages group by state');
  const counts = await pool.query<{ posts: number; comments: number }>(
    'select (select count(*) from posts)::int as posts, (select count(*) from comments)::int as comments',
  );
  return { states: Object.fromEntries(rows.map((r) => [r.state, r.n])), ...counts.rows[0]! };
}

async function rowTiming(pool: pg.Pool) {
  const { rows } = await pool.query<{ stored: number; processed: number; wait: number }>(
    `select extract(epoch from received_at)::float8 as stored, extract(epoch from processed_at)::float8 as processed,
            extract(epoch from processed_at - received_at)::float8 as wait
       from inbound_messages where processed_at is not null`,
  );
  const waits = rows.map((r) => r.wait).sort((a, b) => a - b);
  const span = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
  return {
    waitP50: percentile(waits, 50),
    waitP95: percentile(waits, 95),
    workerRate: rows.length / Math.max(span(rows.map((r) => r.processed)), 1e-3),
    // received_at is the storing transaction's start, so the last batch's duration is missing.
    pollerRate: rows.length / Math.max(span(rows.map((r) => r.stored)), 1e-3),
  };
}

/** How the replies were threaded, against the thread each was generated in. */
async function threading(pool: pg.Pool, corpus: BenchMessage[], _since: number): Promise<Threading> {
  const { rows } = await pool.query<{ message_id: string; state: string; root: string | null }>(
    `select i.message_id, i.state, r.message_id as root
       from inbound_messages i
       left join posts p on p.id = i.post_id
       left join inbound_messages r on r.id = p.inbound_id`,
  );
  const byId = new Map(rows.map((r) => [`<${r.message_id}>`, r]));
  let replies = 0;
  let onRightPost = 0;
  let becamePosts = 0;
  for (const m of corpus) {
    if (m.kind !== 'reply') continue;
    replies++;
    const row = byId.get(m.messageId);
    if (row?.state === 'posted') becamePosts++;
    if (row?.state === 'commented' && row.root !== null && `<${row.root}>` === m.rootId) onRightPost++;
  }
  return { replies, onRightPost, becamePosts };
}

async function pgCounters(pool: pg.Pool, config: Config) {
  const db = new URL(config.DATABASE_URL).pathname.slice(1);
  const { rows } = await pool.query<{ commits: string; rollbacks: string; wal: string; syncs: string }>(
    `select d.xact_commit as commits, d.xact_rollback as rollbacks,
            pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as wal, w.wal_sync as syncs
       from pg_stat_database d, pg_stat_wal w where d.datname = $1`,
    [db],
  );
  const r = rows[0]!;
  return { commits: Number(r.commits), rollbacks: Number(r.rollbacks), walBytes: Number(r.wal), walSyncs: Number(r.syncs) };
}

/** Messages per second of a stage. */
export const rate = (n: number, seconds: number): number => n / Math.max(seconds, 1e-9);

/** Wait until the poller has flagged every finished message in IMAP, so (d) starts idle. */
export async function waitForImapMarks(pool: pg.Pool, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  await waitFor(
    async () => {
      const { rows } = await pool.query<{ n: number }>(
        `select count(*)::int as n from inbound_messages where imap_marked_at is null and state not in ('received', 'failed')`,
      );
      return rows[0]!.n === 0;
    },
    'every finished message flagged in IMAP',
    timeoutMs,
    200,
  );
  return (performance.now() - started) / 1000;
}
