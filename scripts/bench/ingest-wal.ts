// `pnpm tsx scripts/bench/ingest-wal.ts`: the WAL that storing, ingesting and flagging N corpus
// mails writes, by relation (table, its TOAST, each index), without IMAP, Redis or the poller, as
// scripts/bench/ingest-stage.ts runs the ingest (BENCH_BATCH rows per batch ingest, 50 by
// default). Each phase's LSN range is read back with pg_waldump and only this run's database is
// counted (the server's WAL is shared with whatever else runs on it). A CHECKPOINT before the
// measured mails (BENCH_CHECKPOINT=0 for none) makes the full-page images those of a run that
// starts just after one. Needs pg_waldump (PG_WALDUMP) and read access to the WAL directory
// (PG_WAL_DIR). BENCH_SETUP_SQL runs on the new database first (a what-if). See docs/BENCHMARKS.md "Ingest WAL by relation".
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { markImapDone, storeFetched } from '@blend/db';
import { ADMIN_DATABASE_URL, createTestDatabase } from '../../test/support/database';
import { ingestDeps } from '../../test/support/ingest';
import { intEnv, sayer } from './harness';
import { ingestRows, seedBenchCorpus } from './ingest-rows';
import { cpuSecondsOf, pids } from './machine';

const say = sayer('ingest-wal');
const N = intEnv('BENCH_MESSAGES', 500);
const WARMUP = intEnv('BENCH_WARMUP', 50, 0);
const SEED = intEnv('BENCH_SEED', 2025, 0);
const BATCH = intEnv('BENCH_BATCH', 50);
const STORE_BATCH = 50;
const CHECKPOINT = process.env.BENCH_CHECKPOINT !== '0';
const WALDUMP = process.env.PG_WALDUMP ?? '/usr/lib/postgresql/15/bin/pg_waldump';
const WAL_DIR = process.env.PG_WAL_DIR ?? '/var/lib/postgresql/15/main/pg_wal';
const BLOCK = 8192;

interface RelWal {
  records: number;
  bytes: number;
  fpis: number;
  fpiBytes: number;
}

interface PhaseWal {
  /** WAL of the whole server over the range. */
  serverBytes: number;
  byRel: Map<string, RelWal>;
  /** By resource manager and record kind (`Heap/INSERT`), this database only. */
  byKind: Map<string, RelWal>;
  byRelKind: Map<string, RelWal>;
  commits: number;
}

/**
 * Copies of the WAL segments from `first` on, each taken once the server has moved past it:
 * on a busy server a checkpoint may recycle a segment before the run is over.
 */
function keepSegments(admin: pg.Client, first: string): { dir: string; stop: () => Promise<void> } {
  const dir = mkdtempSync(path.join(tmpdir(), 'blend-wal-'));
  const copied = new Set<string>();
  const copyUpTo = (current: string, inclusive: boolean) => {
    for (const f of readdirSync(WAL_DIR).sort()) {
      if (f.length !== 24 || copied.has(f) || f < first) continue;
      if (f < current || (inclusive && f === current)) {
        copyFileSync(path.join(WAL_DIR, f), path.join(dir, f));
        copied.add(f);
      }
    }
  };
  const current = async () => (await admin.query<{ f: string }>('select pg_walfile_name(pg_current_wal_lsn()) as f')).rows[0]!.f;
  let running = true;
  const loop = (async () => {
    while (running) {
      copyUpTo(await current(), false);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  return {
    dir,
    stop: async () => {
      running = false;
      await loop;
      copyUpTo(await current(), true);
    },
  };
}

async function lsn(c: pg.Client): Promise<string> {
  return (await c.query<{ l: string }>('select pg_current_wal_lsn()::text as l')).rows[0]!.l;
}

/** pg_waldump's records over [from, to), those touching `dbOid` (and their transactions' commits) counted by relation name. */
async function walOf(dir: string, from: string, to: string, dbOid: number, names: Map<number, string>): Promise<PhaseWal> {
  const out: PhaseWal = { serverBytes: 0, byRel: new Map(), byKind: new Map(), byRelKind: new Map(), commits: 0 };
  const child = spawn(WALDUMP, ['-p', dir, '-s', from, '-e', to, '-b'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ours = new Set<string>();
  const commitLen = new Map<string, number>();
  let cur: { len: number; tx: string; kind: string; rel: string | null; fpis: number; fpiBytes: number } | null = null;
  const add = (m: Map<string, RelWal>, k: string, r: RelWal) => {
    const v = m.get(k) ?? { records: 0, bytes: 0, fpis: 0, fpiBytes: 0 };
    v.records += r.records;
    v.bytes += r.bytes;
    v.fpis += r.fpis;
    v.fpiBytes += r.fpiBytes;
    m.set(k, v);
  };
  const flush = () => {
    if (!cur) return;
    out.serverBytes += cur.len;
    if (cur.rel !== null) {
      ours.add(cur.tx);
      const r = { records: 1, bytes: cur.len, fpis: cur.fpis, fpiBytes: cur.fpiBytes };
      add(out.byRel, cur.rel, r);
      add(out.byKind, cur.kind, r);
      add(out.byRelKind, `${cur.rel} ${cur.kind}`, r);
    } else if (cur.kind.startsWith('Transaction/COMMIT')) {
      commitLen.set(cur.tx, cur.len);
    }
    cur = null;
  };
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('rmgr:')) {
      flush();
      const m = /^rmgr: (\S+)\s+len \(rec\/tot\):\s+\d+\/\s*(\d+), tx:\s+(\d+), lsn: \S+, prev \S+, desc: (\S+)/.exec(line);
      if (!m) continue;
      cur = { len: Number(m[2]), tx: m[3]!, kind: `${m[1]}/${m[4]}`, rel: null, fpis: 0, fpiBytes: 0 };
      continue;
    }
    const b = /blkref #(\d+): rel (\d+)\/(\d+)\/(\d+)(?: fork (\w+))? blk \d+(.*)$/.exec(line);
    if (!b || !cur) continue;
    if (Number(b[3]) !== dbOid) continue;
    if (b[1] === '0' || cur.rel === null) {
      const name = names.get(Number(b[4])) ?? `relfilenode ${b[4]}`;
      cur.rel = b[5] && b[5] !== 'main' ? `${name} (${b[5]})` : name;
    }
    if (b[6]!.includes('FPW')) {
      cur.fpis++;
      const hole = /hole: offset: \d+, length: (\d+)/.exec(b[6]!);
      const compressed = /compression saved: (\d+)/.exec(b[6]!);
      cur.fpiBytes += BLOCK - Number(hole?.[1] ?? 0) - Number(compressed?.[1] ?? 0);
    }
  }
  flush();
  const code: number = await new Promise((r) => child.on('close', r));
  if (code !== 0 && !/end of WAL|invalid record length|could not find a valid record/.test(err)) throw new Error(`pg_waldump: ${err}`);
  for (const [tx, len] of commitLen) {
    if (!ours.has(tx)) continue;
    out.commits++;
    add(out.byRel, '(commit records)', { records: 1, bytes: len, fpis: 0, fpiBytes: 0 });
    add(out.byKind, 'Transaction/COMMIT', { records: 1, bytes: len, fpis: 0, fpiBytes: 0 });
  }
  return out;
}

/** relfilenode -> table or index name in the run's database; a TOAST table and its index carry their table's name. */
async function relationNames(c: pg.Client): Promise<Map<number, string>> {
  const r = await c.query<{ f: number; name: string }>(`
    select pg_relation_filenode(c.oid) as f,
           case when c.relkind = 't' then coalesce((select o.relname from pg_class o where o.reltoastrelid = c.oid), c.relname) || ' TOAST'
                when c.relnamespace = 'pg_toast'::regnamespace and c.relkind = 'i' then
                  coalesce((select o.relname from pg_class o join pg_index x on x.indrelid = o.reltoastrelid where x.indexrelid = c.oid), c.relname) || ' TOAST index'
                when c.relnamespace = 'pg_catalog'::regnamespace then 'catalog ' || c.relname
                else c.relname end as name
      from pg_class c where pg_relation_filenode(c.oid) is not null`);
  return new Map(r.rows.map((x) => [Number(x.f), x.name]));
}

/** CPU seconds of the server's own processes (WAL writer, checkpointer, background writer): server-wide. */
function serverAuxCpu(): number {
  let s = 0;
  for (const pid of pids()) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (/^postgres: .*(walwriter|checkpointer|background writer)/.test(cmd)) s += cpuSecondsOf(pid);
  }
  return s;
}


const kib = (b: number) => (b / 1024).toFixed(2);

function table(title: string, w: PhaseWal, n: number, top = 40): void {
  const rows = [...w.byRel].sort((a, b) => b[1].bytes - a[1].bytes);
  const total = rows.reduce((s, [, v]) => s + v.bytes, 0);
  const recs = rows.reduce((s, [, v]) => s + v.records, 0);
  const fpiBytes = rows.reduce((s, [, v]) => s + v.fpiBytes, 0);
  say(`${title}: this database ${kib(total / n)} KiB/mail (${(recs / n).toFixed(1)} records/mail, full-page images ${kib(fpiBytes / n)} KiB/mail, ${(w.commits / n).toFixed(2)} commits/mail); the server ${kib(w.serverBytes / n)} KiB/mail`);
  console.log('| relation | KiB/mail | records/mail | FPIs/mail | FPI KiB/mail |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [k, v] of rows.slice(0, top)) console.log(`| ${k} | ${kib(v.bytes / n)} | ${(v.records / n).toFixed(2)} | ${(v.fpis / n).toFixed(2)} | ${kib(v.fpiBytes / n)} |`);
  console.log('| record kind | KiB/mail | records/mail | FPIs/mail | FPI KiB/mail |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [k, v] of [...w.byKind].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 20))
    console.log(`| ${k} | ${kib(v.bytes / n)} | ${(v.records / n).toFixed(2)} | ${(v.fpis / n).toFixed(2)} | ${kib(v.fpiBytes / n)} |`);
}

async function main(): Promise<void> {
  const t = await createTestDatabase();
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  let segments: { dir: string; stop: () => Promise<void> } | undefined;
  try {
    // A what-if before the run (e.g. a storage parameter), as SQL in BENCH_SETUP_SQL.
    if (process.env.BENCH_SETUP_SQL) await t.pool.query(process.env.BENCH_SETUP_SQL);
    const dbOid = Number((await admin.query<{ oid: string }>('select oid from pg_database where datname = $1', [t.name])).rows[0]!.oid);
    const mails = await seedBenchCorpus(t.db, SEED, WARMUP + N);
    const fetched = mails.map((m, i) => ({ uid: i + 1, size: m.raw.length, raw: m.raw, internalDate: m.date }));
    const sourceBytes = mails.slice(WARMUP).reduce((s, m) => s + m.raw.length, 0);
    const deps = ingestDeps(t.db, { senderAuth: { mode: 'none', orgDomains: ['corp.test'] } });
    const warm = await storeFetched(t.db, 'imap://bench', 1, fetched.slice(0, WARMUP));
    await ingestRows(warm.sort((a, b) => a.uid - b.uid).map((r) => r.id), deps, BATCH, () => undefined);
    await markImapDone(t.db, warm.map((r) => r.id));

    if (CHECKPOINT) await admin.query('checkpoint');
    const l0 = await lsn(admin);
    const kept = keepSegments(admin, (await admin.query<{ f: string }>('select pg_walfile_name($1) as f', [l0])).rows[0]!.f);
    segments = kept;
    const ids: string[] = [];
    for (let i = WARMUP; i < fetched.length; i += STORE_BATCH) {
      const rows = await storeFetched(t.db, 'imap://bench', 1, fetched.slice(i, i + STORE_BATCH));
      ids.push(...rows.sort((a, b) => a.uid - b.uid).map((r) => r.id));
    }
    const l1 = await lsn(admin);

    const backends = async () =>
      (await t.pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [t.name])).rows.map((r) => r.pid);
    const before = new Map((await backends()).map((pid) => [pid, cpuSecondsOf(pid)]));
    const aux0 = serverAuxCpu();
    const states = new Map<string, number>();
    const w0 = performance.now();
    await ingestRows(ids, deps, BATCH, (o) => states.set(o.state, (states.get(o.state) ?? 0) + 1));
    const wallS = (performance.now() - w0) / 1000;
    let pgS = 0;
    for (const pid of new Set([...before.keys(), ...(await backends())])) pgS += cpuSecondsOf(pid) - (before.get(pid) ?? 0);
    const auxS = serverAuxCpu() - aux0;
    const l2 = await lsn(admin);
    for (let i = 0; i < ids.length; i += STORE_BATCH) await markImapDone(t.db, ids.slice(i, i + STORE_BATCH));
    const l3 = await lsn(admin);
    await kept.stop();

    const dbc = new pg.Client({ connectionString: t.url });
    await dbc.connect();
    const names = await relationNames(dbc);
    const hot = await dbc.query<{ relname: string; n_tup_upd: string; n_tup_hot_upd: string }>(
      `select relname, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where n_tup_upd > 0 order by n_tup_upd desc`,
    );
    await dbc.end();

    say(`LSN ranges: store ${l0}-${l1}, ingest ${l1}-${l2}, flag ${l2}-${l3}; database oid ${dbOid}; inbound_messages relfilenode ${[...names].find(([, v]) => v === 'inbound_messages')?.[0]}`);
    say(`${N} mails (${(sourceBytes / 1024 / N).toFixed(1)} KiB of source each) after ${WARMUP} warm-up, ${BATCH === 1 ? 'one per ingest' : `batches of ${BATCH}`}, ${[...states].map(([k, v]) => `${k} ${v}`).join(', ')}, ${(N / wallS).toFixed(0)} mails/s; checkpoint before: ${CHECKPOINT}`);
    say(`ingest CPU per mail: Postgres backends ${((pgS * 1000) / N).toFixed(2)} ms, WAL writer + checkpointer + background writer (server-wide) ${((auxS * 1000) / N).toFixed(2)} ms`);
    say(`updates (whole run, warm-up included): ${hot.rows.map((r) => `${r.relname} ${r.n_tup_upd} (HOT ${r.n_tup_hot_upd})`).join(', ')}`);
    const store = await walOf(kept.dir, l0, l1, dbOid, names);
    const ing = await walOf(kept.dir, l1, l2, dbOid, names);
    const mark = await walOf(kept.dir, l2, l3, dbOid, names);
    const all = [store, ing, mark].reduce((s, w) => s + [...w.byRel.values()].reduce((a, v) => a + v.bytes, 0), 0);
    const allRecs = [store, ing, mark].reduce((s, w) => s + [...w.byRel.values()].reduce((a, v) => a + v.records, 0), 0);
    say(`WAL of this database per mail, store + ingest + flag: ${kib(all / N)} KiB, ${(allRecs / N).toFixed(1)} records (source ${kib(sourceBytes / N)} KiB)`);
    table('store (the poller)', store, N, 15);
    table('ingest (the worker)', ing, N);
    table('flag (the poller)', mark, N, 10);
    console.log('| relation x kind (ingest) | KiB/mail | records/mail |');
    console.log('| --- | ---: | ---: |');
    for (const [k, v] of [...ing.byRelKind].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25)) console.log(`| ${k} | ${kib(v.bytes / N)} | ${(v.records / N).toFixed(2)} |`);
    console.log(`RESULT wal_kib_per_mail=${kib(all / N)} records_per_mail=${(allRecs / N).toFixed(1)} ingest_kib=${kib([...ing.byRel.values()].reduce((a, v) => a + v.bytes, 0) / N)} store_kib=${kib([...store.byRel.values()].reduce((a, v) => a + v.bytes, 0) / N)} mark_kib=${kib([...mark.byRel.values()].reduce((a, v) => a + v.bytes, 0) / N)} pg_ms=${((pgS * 1000) / N).toFixed(2)} aux_ms=${((auxS * 1000) / N).toFixed(2)}`);
  } finally {
    if (segments) {
      await segments.stop().catch(() => undefined);
      if (process.env.BENCH_KEEP_WAL === '1') say(`WAL segments kept in ${segments.dir}`);
      else rmSync(segments.dir, { recursive: true, force: true });
    }
    await admin.end();
    await t.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
