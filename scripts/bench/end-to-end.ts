/**
 * (c) of `pnpm bench`: Blend's worker and poller services ingesting a preloaded mailbox
 * into posts and comments, timed from service start until every row is final and the
 * posts + comments count matches the published rows. The stage breakdown comes from the
 * rows' own timestamps (received_at: stored by the poller; processed_at: finished by the
 * worker), so Blend needs no instrumentation.
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '@blend/config';
import { waitFor } from '../../test/support/database';
import type { BenchMessage } from './corpus';
import { percentile } from './stats';

export interface EndToEndResult {
  seconds: number;
  /** Seconds after service start at which 50, 90 and 99 % of the rows were final. */
  finalAt: Record<number, number>;
  /** Service start until the first row is stored. */
  startupSeconds: number;
  /** Service start until the last row is stored (the poller's share). */
  allStoredSeconds: number;
  /** Final states (with reasons) of the preloaded rows. */
  states: Record<string, number>;
  /** Rows that arrived during the run besides the preloaded ones, by state. */
  extra: Record<string, number>;
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
  /** Connections opened to this database (each commits a transaction of its own as it starts). */
  sessions: number;
  /** Autovacuum and autoanalyze runs on this database's tables (each commits transactions too). */
  autovacuums: number;
}

interface Sample {
  t: number;
  stored: number;
  final: number;
}

const firstTime = (samples: Sample[], ok: (s: Sample) => boolean): number => samples.find(ok)?.t ?? Number.NaN;

/**
 * Run `start` (start Blend's worker and poller services) and wait until all rows are final.
 * The preloaded messages are UIDs 1..N of a fresh mailbox; mail that arrives later (Blend's
 * own notices bounced back by the local MTA, see `extra`) is not waited for.
 * @param corpus the preloaded messages (sources not needed), for the threading check
 */
export async function runEndToEnd(
  pool: pg.Pool,
  start: () => Promise<void>,
  corpus: BenchMessage[],
  timeoutMs: number,
): Promise<EndToEndResult> {
  const n = corpus.length;
  const samples: Sample[] = [];
  const started = performance.now();
  // Sample from before the services start: startPollerService() only returns after the
  // poller's first sync has stored the whole backlog.
  const sampling = waitFor(
    async () => {
      const { rows } = await pool.query<{ total: number; pending: number; published: number; items: number }>(
        `select count(*) filter (where uid <= $1)::int as total,
                count(*) filter (where uid <= $1 and state = 'received')::int as pending,
                count(*) filter (where state in ('posted', 'commented'))::int as published,
                (select count(*) from posts)::int + (select count(*) from comments)::int as items
           from inbound_messages`,
        [n],
      );
      const r = rows[0]!;
      samples.push({ t: (performance.now() - started) / 1000, stored: r.total, final: r.total - r.pending });
      return r.total >= n && r.pending === 0 && r.items === r.published;
    },
    `${n} inbound rows final`,
    timeoutMs,
    100,
  );
  // Keep a failed start from leaving the sampler's rejection unhandled.
  sampling.catch(() => undefined);
  await start();
  await sampling;
  const seconds = (performance.now() - started) / 1000;
  const timing = await rowTiming(pool, n);
  return {
    seconds,
    startupSeconds: firstTime(samples, (x) => x.stored > 0),
    allStoredSeconds: firstTime(samples, (x) => x.stored >= n),
    finalAt: Object.fromEntries([50, 90, 99].map((p) => [p, firstTime(samples, (x) => x.final >= (n * p) / 100)])),
    ...(await outcome(pool, n)),
    waitP50: timing.waitP50,
    waitP95: timing.waitP95,
    workerRate: timing.workerRate,
    pollerRate: timing.pollerRate,
    threading: await threading(pool, corpus),
  };
}

async function outcome(pool: pg.Pool, n: number) {
  const byState = async (where: string) => {
    const { rows } = await pool.query<{ state: string; reason: string | null; n: number }>(
      `select state, reason, count(*)::int as n from inbound_messages where ${where} group by state, reason order by n desc`,
      [n],
    );
    return Object.fromEntries(rows.map((r) => [r.reason ? `${r.state} (${r.reason})` : r.state, r.n]));
  };
  const counts = await pool.query<{ posts: number; comments: number }>(
    'select (select count(*) from posts)::int as posts, (select count(*) from comments)::int as comments',
  );
  return { states: await byState('uid <= $1'), extra: await byState('uid > $1'), ...counts.rows[0]! };
}

async function rowTiming(pool: pg.Pool, n: number) {
  const { rows } = await pool.query<{ stored: number; processed: number; wait: number }>(
    `select extract(epoch from received_at)::float8 as stored, extract(epoch from processed_at)::float8 as processed,
            extract(epoch from processed_at - received_at)::float8 as wait
       from inbound_messages where processed_at is not null and uid <= $1`,
    [n],
  );
  const waits = rows.map((r) => r.wait);
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
async function threading(pool: pg.Pool, corpus: BenchMessage[]): Promise<Threading> {
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

/**
 * Cumulative Postgres counters: this database's commits, rollbacks, sessions and autovacuum
 * runs (of the database `pool` is connected to, which should be it), and the cluster's WAL
 * bytes and WAL syncs (cluster-wide: other databases on the server count too). Backends
 * publish their statistics up to a second late, so take the "after" reading a while after
 * the work.
 */
export async function pgCounters(pool: pg.Pool, config: Config): Promise<PgDelta> {
  const db = new URL(config.DATABASE_URL).pathname.slice(1);
  const { rows } = await pool.query<{ commits: string; rollbacks: string; wal: string; syncs: string; sessions: string; autovacuums: string }>(
    `select d.xact_commit as commits, d.xact_rollback as rollbacks,
            pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text as wal, w.wal_sync as syncs, d.sessions,
            (select coalesce(sum(autovacuum_count + autoanalyze_count), 0) from pg_stat_all_tables) as autovacuums
       from pg_stat_database d, pg_stat_wal w where d.datname = $1`,
    [db],
  );
  const r = rows[0]!;
  return {
    commits: Number(r.commits), rollbacks: Number(r.rollbacks), walBytes: Number(r.wal), walSyncs: Number(r.syncs),
    sessions: Number(r.sessions), autovacuums: Number(r.autovacuums),
  };
}

export function pgDelta(before: PgDelta, after: PgDelta): PgDelta {
  return {
    commits: after.commits - before.commits,
    rollbacks: after.rollbacks - before.rollbacks,
    walBytes: after.walBytes - before.walBytes,
    walSyncs: after.walSyncs - before.walSyncs,
    sessions: after.sessions - before.sessions,
    autovacuums: after.autovacuums - before.autovacuums,
  };
}

/**
 * Wait until the poller has flagged every finished message in IMAP, so the latency probes
 * start with the services idle. @returns the seconds it took, NaN when it never happened.
 */
export async function waitForImapMarks(pool: pg.Pool, timeoutMs = 120_000): Promise<number> {
  const started = performance.now();
  const done = await waitFor(
    async () => {
      const { rows } = await pool.query<{ n: number }>(
        `select count(*)::int as n from inbound_messages where imap_marked_at is null and state not in ('received', 'failed')`,
      );
      return rows[0]!.n === 0;
    },
    'every finished message flagged in IMAP',
    timeoutMs,
    200,
  ).catch((err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}; measuring the latency anyway\n`);
    return false;
  });
  return done ? (performance.now() - started) / 1000 : Number.NaN;
}

export interface Attempts {
  jobs: number;
  /** Jobs that needed more than one attempt. */
  retried: number;
  /** Failed attempts in all (each one waits for BullMQ's exponential backoff from 1 s). */
  failedAttempts: number;
  maxAttempts: number;
  /**
   * Jobs of one row that found it finished already (`skipped`, `already_final`): each spent a
   * counted start and a read for nothing, e.g. a second job for a row whose batch ingested it.
   */
  alreadyFinished: number;
  /** Rows that batch jobs handed back to jobs of their own (a reply whose parent was not committed yet, a mail that failed in the batch). */
  handedBack: number;
}

/**
 * Attempts per ingest job that ended (completed or failed), on the live and the backlog ingest
 * queues: the job ids come from BullMQ's `completed` and `failed` sets (completed jobs are
 * kept, see INGEST_JOB_OPTIONS.removeOnComplete), `atm` (attempts made) from each job's hash,
 * whatever the jobs carry (one row or several), and what each job returned (`returnvalue`).
 */
export async function ingestAttempts(redis: Redis, prefix: string, queues: readonly string[] = ['ingest', 'ingest-backlog']): Promise<Attempts> {
  const keys: string[] = [];
  for (const q of queues) {
    for (const set of ['completed', 'failed']) {
      for (const id of await redis.zrange(`${prefix}:${q}:${set}`, 0, -1)) keys.push(`${prefix}:${q}:${id}`);
    }
  }
  const pipeline = redis.pipeline();
  for (const k of keys) pipeline.hmget(k, 'atm', 'returnvalue');
  const results = (await pipeline.exec()) ?? [];
  const fields = results.map(([, v]) => (v ?? [null, null]) as [string | null, string | null]);
  const attempts = fields.map(([atm]) => Number(atm ?? 0));
  const returned = fields.map(([, value]) => jobResult(value));
  return {
    jobs: keys.length,
    retried: attempts.filter((a) => a > 1).length,
    failedAttempts: attempts.reduce((sum, a) => sum + Math.max(0, a - 1), 0),
    maxAttempts: Math.max(0, ...attempts),
    alreadyFinished: returned.filter((r) => r.state === 'skipped' && r.reason === 'already_final').length,
    handedBack: returned.reduce((sum, r) => sum + (typeof r.alone === 'number' ? r.alone : 0), 0),
  };
}

/** What an ingest job returned: a row's outcome (`state`, `reason`) or a batch's counts (`ingested`, `alone`); {} for none. */
function jobResult(value: string | null): { state?: unknown; reason?: unknown; alone?: unknown } {
  try {
    const r: unknown = JSON.parse(value ?? 'null');
    return r && typeof r === 'object' ? r : {};
  } catch {
    return {};
  }
}
