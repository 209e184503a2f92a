// `pnpm tsx scripts/bench/ingest-stage.ts`: the cost of Blend's ingest stage alone, per mail,
// without IMAP, Redis or the poller: N corpus mails stored as the poller stores them, then
// ingested one after another in this process (parse in this thread), one mail per ingest or, with
// BENCH_BATCH=N, N stored rows per batch ingest (as the poller queues them). Reports Postgres commits
// and statements per mail (counted on the connections, and pg_stat_database of the run's own
// database), this process's CPU per mail, the Postgres backends' CPU per mail, and bare
// mailparser's CPU on the same mails. See docs/BENCHMARKS.md "Ingest stage: commits and CPU per mail".
import pg from 'pg';
import { storeFetched } from '@blend/db';
import { countTransactions } from '../../test/support/count-transactions';
import { ADMIN_DATABASE_URL, createTestDatabase } from '../../test/support/database';
import { ingestDeps } from '../../test/support/ingest';
import { intEnv, sayer } from './harness';
import { ingestRows, seedBenchCorpus } from './ingest-rows';
import { cpuSecondsOf } from './machine';
import { measureParse } from './raw-stages';

const say = sayer('ingest-stage');
const N = intEnv('BENCH_MESSAGES', 500);
const WARMUP = intEnv('BENCH_WARMUP', 50, 0);
const SEED = intEnv('BENCH_SEED', 2025, 0);
const BATCH = intEnv('BENCH_BATCH', 1);

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

async function xactCommits(name: string): Promise<number> {
  const c = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    await c.query('select pg_stat_clear_snapshot()');
    const r = await c.query<{ n: string }>('select xact_commit as n from pg_stat_database where datname = $1', [name]);
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}


async function main(): Promise<void> {
  const t = await createTestDatabase();
  try {
    const mails = await seedBenchCorpus(t.db, SEED, WARMUP + N);
    const rows = await storeFetched(
      t.db,
      'imap://bench',
      1,
      mails.map((m, i) => ({ uid: i + 1, size: m.raw.length, raw: m.raw, internalDate: m.date })),
    );
    const ids = rows.sort((a, b) => a.uid - b.uid).map((r) => r.id);
    const deps = ingestDeps(t.db, { senderAuth: { mode: 'none', orgDomains: ['corp.test'] } });
    await ingestRows(ids.slice(0, WARMUP), deps, BATCH, () => undefined);

    // Bare mailparser on the same mails, this thread, for scale.
    const p0 = process.cpuUsage();
    await measureParse(mails.slice(WARMUP).map((m) => m.raw), 'simpleParser (defaults)');
    const parseMs = cpuMs(process.cpuUsage(p0)) / N;

    const backends = async () =>
      (await t.pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [t.name])).rows.map((r) => r.pid);
    const before = new Map((await backends()).map((pid) => [pid, cpuSecondsOf(pid)]));
    const commitsBefore = await xactCommits(t.name);
    const counted = countTransactions(t.pool);
    const states = new Map<string, number>();
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    await ingestRows(ids.slice(WARMUP), deps, BATCH, (o) => states.set(o.state, (states.get(o.state) ?? 0) + 1));
    const wallS = (performance.now() - w0) / 1000;
    const nodeMs = cpuMs(process.cpuUsage(c0)) / N;
    counted.stop();
    let pgS = 0;
    for (const pid of new Set([...before.keys(), ...(await backends())])) pgS += cpuSecondsOf(pid) - (before.get(pid) ?? 0);
    // Closing the pool makes its backends report their counters before they exit.
    await t.close();
    await new Promise((r) => setTimeout(r, 1_500));
    const commitsAfter = await xactCommits(t.name);

    say(`${N} mails after ${WARMUP} warm-up, ${BATCH === 1 ? 'one per ingest' : `batches of ${BATCH}`}, ${[...states].map(([k, v]) => `${k} ${v}`).join(', ')}, ${(N / wallS).toFixed(0)} mails/s serial`);
    say(`commits per mail: ${(counted.commits / N).toFixed(2)} counted on the connections, ${((commitsAfter - commitsBefore) / N).toFixed(2)} in pg_stat_database (the counters' own reads included)`);
    say(`statements per mail: ${(counted.statements / N).toFixed(1)}`);
    say(`CPU per mail: ingest process ${nodeMs.toFixed(1)} ms (parse in this thread), Postgres backends ${((pgS * 1000) / N).toFixed(1)} ms; bare mailparser ${parseMs.toFixed(1)} ms`);
  } finally {
    await t.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
