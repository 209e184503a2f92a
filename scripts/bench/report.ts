/**
 * The results of one `pnpm bench ingest` run: a table on stdout and the ingest section of
 * `docs/BENCHMARKS.md` (replaced with the latest run, plus how to run and read it; the other
 * benchmarks' sections are kept, see {@link writeDocsSection}).
 */
import { writeDocsSection } from './harness';
import type { Attempts, EndToEndResult, PgDelta } from './end-to-end';
import type { LatencySample } from './latency';
import type { MachineFacts } from './machine';
import type { ProcessCpuUse } from './process-cpu';
import type { TxCounts } from './pg-relay';
import { fmt, percentile } from './stats';

export interface Measured {
  seconds: number;
  runs: number[];
}

export interface BenchReport {
  date: string;
  command: string;
  revision: string;
  machine: MachineFacts;
  servers: { postgres: string; redis: string; pgSettings: string };
  params: {
    messages: number;
    probes: number;
    rounds: number;
    seed: number;
    workerConcurrency: number;
    batchSize: number;
    pollIntervalMs: number;
    logLevel: string;
    rateLimits: string;
  };
  corpus: { replies: number; attachments: number; minBytes: number; medianBytes: number; maxBytes: number; totalBytes: number };
  preloadSeconds: number;
  fetch: Measured & { fetchOnlyRuns: number[] };
  parseBare: Measured;
  parseBlend: Measured;
  e2e: EndToEndResult;
  attempts: Attempts;
  /** Blend's outbox when (c) ended, and the mails the SMTP sink had received by then. */
  outbound?: { byKind: Record<string, number>; byState: Record<string, number>; atSink: number };
  marksSeconds: number;
  /** Postgres during (c) and the IMAP flagging; `commits` are Blend's services', without the benchmark's own. */
  pg: PgDelta;
  /** Commits of the benchmark's own queries (progress sampling, probes) in the same span, left out of `pg`. */
  benchCommits: number;
  /**
   * Transactions by process in the same span: each service's as it counted them in-process (or
   * its relay, with BENCH_PG_RELAY=1), from its start, and the benchmark's own commits; `check`:
   * from (c) until the services exited, the commits counted on all connections against the
   * database's (pg_stat_database), which also counts a transaction per new connection and
   * autovacuum's.
   */
  commitsByProcess?: {
    poller: TxCounts;
    worker: TxCounts;
    benchmark: number;
    check: { counted: number; database: number; sessions: number; autovacuums: number };
  };
  /** How the services ran, e.g. "poller: `node … dist/poller.mjs`, worker: …". */
  processes: string;
  /** How each service ended when the benchmark stopped it. */
  shutdown: Record<string, string>;
  /** CPU seconds by process (see process-cpu.ts); during (c), with the services' start-up apart. */
  cpuIngest: ProcessCpuUse;
  cpuLatency: ProcessCpuUse;
  latency: LatencySample[];
  latencyStoppedBy: string | null;
  /** Probes delivered one a second while (c)'s backlog was being ingested; absent with BENCH_LOAD_PROBES=0. */
  loadLatency?: { samples: LatencySample[]; stoppedBy: string | null };
}

/** Targets from the issue: c/b ≥ 0.5 and p95 ≤ 1 s. */
export const TARGET_CB = 0.5;
export const TARGET_P95_MS = 1000;
/** Blend's own share of the latency under load (docs/BENCHMARKS.md). */
export const TARGET_OWN_MS = 100;

export interface Figures {
  a: number;
  b: number;
  bBlend: number;
  c: number;
  cb: number;
  ca: number;
  cbBlend: number;
  p50: number;
  p95: number;
  max: number;
  passCb: boolean;
  passP95: boolean;
}

export function figures(r: BenchReport): Figures {
  const n = r.params.messages;
  const a = n / r.fetch.seconds;
  const b = n / r.parseBare.seconds;
  const bBlend = n / r.parseBlend.seconds;
  const c = n / r.e2e.seconds;
  const lat = r.latency.map((s) => s.ms);
  const p95 = percentile(lat, 95);
  return {
    a, b, bBlend, c,
    cb: c / b,
    ca: c / a,
    cbBlend: c / bBlend,
    p50: percentile(lat, 50),
    p95,
    max: Math.max(...lat),
    passCb: c / b >= TARGET_CB,
    passP95: p95 <= TARGET_P95_MS && r.latencyStoppedBy === null,
  };
}

const pass = (ok: boolean) => (ok ? 'met' : '**missed**');
const s = (v: number, d = 2) => `${fmt(v, d)} s`;
const ms = (v: number) => `${fmt(v)} ms`;
const runs = (xs: number[]) => xs.map((x) => fmt(x, 2)).join(' / ');

/**
 * Latency under load, with Blend's own share apart from the mail servers': accepted → committed,
 * less accepted → the poller heard of the mail (docs/BENCHMARKS.md, "Blend's share of the latency").
 */
function loadTable(l: { samples: LatencySample[]; stoppedBy: string | null }): string {
  const xs = l.samples;
  const own = xs.filter((x) => Number.isFinite(x.heardMs)).map((x) => x.ms - x.heardMs);
  const row = (what: string, v: number[], target = '') => `| ${what} | ${ms(percentile(v, 50))} | ${ms(percentile(v, 95))}${target} | ${ms(Math.max(...v))} |`;
  const p95 = percentile(xs.map((x) => x.ms), 95);
  const ownP95 = percentile(own, 95);
  return `| Latency under load: ${xs.length} deliveries, one a second, while (c)'s backlog was ingested${l.stoppedBy ? ` (some not visible: ${l.stoppedBy})` : ''} | p50 | p95 | max |
| --- | ---: | ---: | ---: |
${row('**SMTP accepted → post committed**', xs.map((x) => x.ms), ` (target ≤ ${TARGET_P95_MS} ms: ${pass(p95 <= TARGET_P95_MS && !l.stoppedBy)})`)}
${row("… accepted → the poller heard of it (its own EXISTS; Postfix + Dovecot's share)", xs.map((x) => x.heardMs).filter(Number.isFinite))}
${row('… accepted → EXISTS on a separate IDLE connection (for comparison)', xs.map((x) => x.serverMs).filter(Number.isFinite))}
${row("**… Blend's own share** (the total less the poller's hearing)", own, ` (target ≤ ${TARGET_OWN_MS} ms: ${pass(ownP95 <= TARGET_OWN_MS && !l.stoppedBy)})`)}
${row('… accepted → row stored by the poller', xs.map((x) => x.storedMs))}
${row('… stored → row finished by the worker (queue wait behind the backlog, ingest)', xs.map((x) => x.ingestMs))}

`;
}

/** The parts of {@link cpuTable} in order, with what the report calls them; others follow as they are named. */
const CPU_PARTS: [part: string, label: string, blend: boolean][] = [
  ['poller', 'poller (`node dist/poller.mjs`)', true],
  ['Postgres for the poller', "… Postgres backends serving the poller's connections", true],
  ['worker', 'worker (`node dist/worker.mjs`, its parse threads included)', true],
  ['Postgres for the worker', "… Postgres backends serving the worker's connections", true],
  ["Postgres, other work on the run's database", "Postgres, other work on the run's database (autovacuum)", false],
  ['Redis', 'Redis (the queues; shared with anything else on the machine)', false],
  ['Postfix', 'Postfix (SMTP delivery into the mailbox)', false],
  ['Dovecot', 'Dovecot (IMAP)', false],
  ['benchmark', 'the benchmark (progress queries, probes, the SMTP sink; with BENCH_PG_RELAY=1 the Postgres relays; the API of the single probes)', false],
  ['Postgres for the benchmark', "… Postgres backends serving the benchmark's connections", false],
  ['Postgres, the rest of the server', 'Postgres, the rest of the server (WAL writer, checkpointer, other databases)', false],
  ['other (the rest of the machine)', "other processes on the machine (not this run's)", false],
];

/**
 * CPU by process as a table: seconds, milliseconds per mail and share of the total, with
 * Blend's part (its services and the Postgres backends serving them) added up, and the bare
 * parse of (b) per mail for scale. Processes that lived between two readings are missed, so
 * the Postfix and Dovecot figures are a lower bound. With the services' start-up measured
 * (`u.startup`), a column gives each part's CPU until its service was ready and the per-mail
 * figures leave it out: they are what a running service spends on a mail.
 */
export function cpuTable(u: ProcessCpuUse, mails: number, title: string, bareMsPerMail?: number): string {
  const byPart = new Map(u.groups);
  const startOf = new Map(u.startup ?? []);
  const split = startOf.size > 0;
  const known = CPU_PARTS.map(([p]) => p);
  const rows: [label: string, seconds: number, blend: boolean, part: string][] = [
    ...CPU_PARTS.filter(([p]) => byPart.has(p)).map(([p, label, blend]) => [label, byPart.get(p)!, blend, p] as [string, number, boolean, string]),
    ...u.groups.filter(([p]) => !known.includes(p)).map(([p, v]) => [p, v, false, p] as [string, number, boolean, string]),
  ];
  const total = u.groups.reduce((a, [, v]) => a + v, 0);
  const blend = rows.filter((r) => r[2]).reduce((a, r) => a + r[1], 0);
  const startup = [...startOf.values()].reduce((a, v) => a + v, 0);
  const blendStartup = rows.filter((r) => r[2]).reduce((a, r) => a + (startOf.get(r[3]) ?? 0), 0);
  const perMail = (v: number) => `${fmt((v * 1000) / mails, 1)} ms`;
  const share = (v: number) => (total > 0 ? `${fmt((v / total) * 100, 0)} %` : 'n/a');
  const until = (v: number | undefined) => (!split ? '' : v === undefined ? ' |' : ` ${fmt(v, 1)} |`);
  const line = (label: string, v: number, start?: number) => `| ${label} | ${fmt(v, 1)} |${until(start)} ${perMail(v - (start ?? 0))} | ${share(v)} |`;
  const ready = Object.entries(u.readyAt ?? {}).map(([k, t]) => `the ${k} after ${fmt(t, 1)} s`).join(', ');
  return `| ${title} | CPU seconds |${split ? ' … of it until the service was ready |' : ''} per mail${split ? ' (services: after ready)' : ''} | share |
| --- | ---: |${split ? ' ---: |' : ''} ---: | ---: |
${rows.map(([label, v, , part]) => line(label, v, startOf.get(part))).join('\n')}
| **Blend in all** (poller, worker and the Postgres backends serving them) | **${fmt(blend, 1)}** |${until(split ? blendStartup : undefined)} **${perMail(blend - blendStartup)}** | ${share(blend)} |
${line(split ? "all processes (per mail: less the services' start-up)" : 'all processes', total, split ? startup : undefined)}
${bareMsPerMail !== undefined ? `| for scale: (b) bare mailparser on one core, time per mail | |${split ? ' |' : ''} ${fmt(bareMsPerMail, 1)} ms | |\n` : ''}
The machine's cores were ${fmt(u.machineBusyPct, 0)} % busy over these ${fmt(u.wallSeconds, 1)} s.${split ? ` Ready (read from \`/proc\` when first seen ready, checked every 0.2 s): ${ready}; the poller when it holds the mailbox lease (then it logs in to IMAP and syncs), the worker when it listens on the ingest queue. Until then a service loads its program, connects and checks the schema; in a short run that is a large part of its CPU.` : ''}
`;
}

/**
 * Postgres commits per mail during (c) and the IMAP flagging: by process as the services (or
 * the relays) counted them, and how those add up to the database's count; without those
 * counts, the database's count less the benchmark's own.
 */
export function commitsRows(r: Pick<BenchReport, 'commitsByProcess' | 'pg' | 'benchCommits'>, mails: number): string {
  const per = (v: number) => fmt(v / mails, 2);
  const c = r.commitsByProcess;
  if (!c) {
    return `| Postgres commits by Blend's services during (c) and IMAP flagging | **${per(r.pg.commits)} per message** (${fmt(r.pg.commits)}: the run database's ${fmt(r.pg.commits + r.benchCommits)} less the benchmark's own ${fmt(r.benchCommits)}) |\n`;
  }
  const k = c.check;
  return `| Postgres commits by Blend's services during (c) and IMAP flagging, per message | **${per(c.poller.commits + c.worker.commits)}**: poller ${per(c.poller.commits)}, worker ${per(c.worker.commits)} (${fmt(c.poller.commits)} and ${fmt(c.worker.commits)}; rolled back: ${fmt(c.poller.rollbacks)} and ${fmt(c.worker.rollbacks)}); the benchmark's own ${fmt(c.benchmark)} |
| … checked against Postgres (from (c) to the services' exit) | ${fmt(k.counted)} counted on the connections (services and benchmark), ${fmt(k.database)} by the database, which also counts one per new connection (${fmt(k.sessions)}) and the server's background work on it (autovacuum: ${fmt(k.autovacuums)} table runs) |
`;
}

/** The results as Markdown tables (used for both stdout and the docs). */
export function resultTables(r: BenchReport): string {
  const f = figures(r);
  const n = r.params.messages;
  const e = r.e2e;
  const mid = (xs: number[]) => percentile(xs, 50);
  const p95 = (xs: number[]) => percentile(xs, 95);
  const lat = r.latency;
  return `| Stage | Messages/s | Time | Notes |
| --- | ---: | ---: | --- |
| (a) raw imapflow FETCH 1:* (full sources) | **${fmt(f.a)}** | ${s(r.fetch.seconds)} | fresh connection incl. login/select; median of ${r.fetch.runs.length} (${runs(r.fetch.runs)} s); FETCH alone ${runs(r.fetch.fetchOnlyRuns)} s |
| (b) bare mailparser \`simpleParser(source)\`, one core | **${fmt(f.b)}** | ${s(r.parseBare.seconds)} | the baseline; median of ${r.parseBare.runs.length} (${runs(r.parseBare.runs)} s) |
| (b') Blend's \`parseMail\` (its mailparser options) | ${fmt(f.bBlend)} | ${s(r.parseBlend.seconds)} | for comparison; median of ${r.parseBlend.runs.length} (${runs(r.parseBlend.runs)} s) |
| (c) Blend end-to-end, mailbox → posts in Postgres | **${fmt(f.c)}** | ${s(e.seconds)} | worker and poller processes started at t=0 |

| Ratio | Value | Target |
| --- | ---: | --- |
| c/b | **${fmt(f.cb, 3)}** | ≥ ${TARGET_CB}: ${pass(f.passCb)} |
| c/a | **${fmt(f.ca, 4)}** | |
| c/b' (against Blend's own parse options) | ${fmt(f.cbBlend, 3)} | |

| Latency over ${lat.length} single SMTP deliveries${r.latencyStoppedBy ? ` (stopped early: ${r.latencyStoppedBy})` : ''} | p50 | p95 | max |
| --- | ---: | ---: | ---: |
| **SMTP accepted → post visible in the API** | **${ms(f.p50)}** | **${ms(f.p95)}** (target ≤ ${TARGET_P95_MS} ms: ${pass(f.passP95)}) | ${ms(f.max)} |
| … accepted → the poller heard of it (its own EXISTS; Postfix + Dovecot's share) | ${ms(mid(lat.map((x) => x.heardMs)))} | ${ms(p95(lat.map((x) => x.heardMs)))} | |
| … accepted → EXISTS on a separate IDLE connection (for comparison) | ${ms(mid(lat.map((x) => x.serverMs)))} | ${ms(p95(lat.map((x) => x.serverMs)))} | |
| … heard → post visible (Blend's own share) | ${ms(mid(lat.map((x) => x.ms - x.heardMs)))} | ${ms(p95(lat.map((x) => x.ms - x.heardMs)))} | |
| … accepted → row stored by the poller (the above, then Blend's IDLE reaction and FETCH) | ${ms(mid(lat.map((x) => x.storedMs)))} | ${ms(p95(lat.map((x) => x.storedMs)))} | |
| … stored → row finished by the worker (enqueue, queue, ingest) | ${ms(mid(lat.map((x) => x.ingestMs)))} | ${ms(p95(lat.map((x) => x.ingestMs)))} | |
| … finished → seen in the API (commit, its NOTIFY, the feed request) | ${ms(mid(lat.map((x) => x.visibleMs)))} | ${ms(p95(lat.map((x) => x.visibleMs)))} | |

${r.loadLatency ? loadTable(r.loadLatency) : ''}Inside (c):

| | |
| --- | --- |
| service start → first row stored | ${s(e.startupSeconds)} |
| service start → all ${fmt(n)} rows stored (poller) | ${s(e.allStoredSeconds)}; ${fmt(e.pollerRate)} rows/s (a catch-up stores at most 1,000 mails ahead of the worker, so this follows the worker's pace) |
| 50 / 90 / 99 % of rows final | ${s(e.finalAt[50] ?? NaN)} / ${s(e.finalAt[90] ?? NaN)} / ${s(e.finalAt[99] ?? NaN)} |
| worker throughput (first to last \`processed_at\`) | ${fmt(e.workerRate)} rows/s |
| stored → finished per row (queue wait + ingest) | p50 ${s(e.waitP50)}, p95 ${s(e.waitP95)} |
| outcome of the ${fmt(n)} messages | ${Object.entries(e.states).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}; ${fmt(e.posts)} posts + ${fmt(e.comments)} comments |
| other mail that arrived meanwhile | ${Object.entries(e.extra).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'} |
${r.outbound ? `| Blend's own mail written during (c) | ${Object.entries(r.outbound.byKind).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'}; ${Object.entries(r.outbound.byState).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none'}; ${fmt(r.outbound.atSink)} at the SMTP sink |\n` : ''}| ingest job attempts (other mail included) | ${fmt(r.attempts.retried)} of ${fmt(r.attempts.jobs)} jobs retried, ${fmt(r.attempts.failedAttempts)} failed attempts in all, at most ${r.attempts.maxAttempts} attempts for one job; ${fmt(r.attempts.alreadyFinished)} jobs found their row finished already, ${fmt(r.attempts.handedBack)} rows handed back by their batch to a job of their own |
| threading of the ${fmt(e.threading.replies)} replies | ${fmt(e.threading.onRightPost)} commented on their thread's post, ${fmt(e.threading.becamePosts)} became posts of their own |
${commitsRows(r, n)}| Postgres besides | ${fmt(r.pg.rollbacks)} rollbacks, ${fmt(r.pg.walBytes / 1024 ** 2, 1)} MiB WAL, ${fmt(r.pg.walSyncs)} WAL syncs (WAL figures are server-wide) |
| all messages flagged \`$BlendDone\` in IMAP | ${s(r.marksSeconds)} after (c) ended |
| the services' shutdown (SIGTERM) after the probes | ${Object.entries(r.shutdown).map(([k, v]) => `${k}: ${v}`).join('; ')} |

${cpuTable(r.cpuIngest, n, `CPU during (c), by process, for ${fmt(n)} mails`, 1000 / f.b)}
${cpuTable(r.cpuLatency, Math.max(lat.length, 1), `CPU during the ${lat.length} single deliveries, by process`)}`;
}

export function markdown(r: BenchReport): string {
  const m = r.machine;
  const p = r.params;
  const c = r.corpus;
  return `# Benchmarks

## Ingest: latest run

- **Date:** ${r.date}
- **Command:** \`${r.command}\`
- **Blend revision:** ${r.revision}
- **Machine:** ${m.cpuModel}, ${m.cores} cores, ${fmt(m.ramGiB, 1)} GiB RAM; ${m.os} (Linux ${m.kernel}); Node ${m.node}
- **Servers (all on this machine, loopback):** ${r.servers.postgres} (${r.servers.pgSettings}); Redis ${r.servers.redis}; Dovecot ${m.dovecot}; Postfix ${m.postfix}
- **Parameters:** ${fmt(p.messages)} messages, ${p.probes} latency probes, ${p.rounds} rounds of (a) and (b), seed ${p.seed}; \`WORKER_CONCURRENCY=${p.workerConcurrency}\`, \`BLEND_IMAP_BATCH_SIZE=${p.batchSize}\`, \`BLEND_POLL_INTERVAL_MS=${p.pollIntervalMs}\`, \`LOG_LEVEL=${p.logLevel}\`; rate limits ${p.rateLimits}; the services each a process of their own as deployed (${r.processes}, built by \`pnpm build\`), the API of the single-delivery probes in the benchmark's process
- **Corpus:** ${fmt(c.replies)} replies and ${fmt(p.messages - c.replies)} new threads, ${fmt(c.attachments)} with an attachment; ${fmt(c.minBytes / 1024, 1)}–${fmt(c.maxBytes / 1024, 1)} KiB per message (median ${fmt(c.medianBytes / 1024, 1)} KiB), ${fmt(c.totalBytes / 1024 ** 2, 1)} MiB in all; preloaded by IMAP APPEND in ${fmt(r.preloadSeconds, 1)} s (not measured)

${resultTables(r)}
## How to run

\`\`\`sh
scripts/services.sh up          # Postgres, Redis, Dovecot, Postfix on loopback (as for the tests)
pnpm bench ingest                      # 5,000 messages + 50 latency probes; a few minutes
BENCH_MESSAGES=500 pnpm bench ingest   # a quick run
BENCH_MESSAGES=200 BENCH_PROBES=5 BENCH_LOAD_PROBES=5 BENCH_ROUNDS=1 BENCH_DOCS=0 pnpm bench ingest   # a check that it works
\`\`\`

Settings (environment), defaults in brackets:

- \`BENCH_MESSAGES\` (5000), \`BENCH_PROBES\` (50), \`BENCH_LOAD_PROBES\` (20; 0 for none), \`BENCH_SEED\` (2025)
- \`BENCH_ROUNDS\` (3): runs of (a) and (b); the median is reported
- \`BENCH_TIMEOUT_S\` (600, or 0.3 s a message above 2,000): the longest (c) may take before the run
  fails, and the longest a load probe may wait for its post
- \`BENCH_RATE_LIMITS\` (off): \`default\` keeps Blend's anti-abuse rate limits
- \`BENCH_LOG_LEVEL\` (silent): the services' log level; the end of a service's log is shown when
  it exits early
- \`BENCH_CPU_PROFILE=/tmp/prof\` (a folder): the services run with \`--cpu-prof\` and write a V8 CPU
  profile per thread there when they stop (after the latency probes), summarised on stdout (open a
  file in Chrome DevTools or speedscope)
- \`BENCH_NODE_OPTIONS\` (none): more \`NODE_OPTIONS\` for both services and the worker's parse threads,
  e.g. a preload (\`--import=file:///…\`, such as one that records \`v8.GCProfiler\`); Node refuses most V8
  flags there (\`--trace-gc\`, \`--heap-growing-percent\`), and docker-compose.yml's flags (the heap sizes) win
  over the same ones here: to compare those, edit docker-compose.yml in a scratch worktree
- \`BENCH_PG_RELAY\` (off): \`1\` counts each service's Postgres transactions in a relay of its own in
  the benchmark process instead of inside the service; every statement then crosses the benchmark's
  event loop twice (see "What is measured", 8.)
- Blend's own \`WORKER_CONCURRENCY\` (4), \`BLEND_IMAP_BATCH_SIZE\` (50), \`BLEND_POLL_INTERVAL_MS\` (30000)
- \`BENCH_STRICT=1\` fails the command when a target is missed; \`BENCH_DOCS=0\` leaves this file alone

The run creates its own database, mail domain and queue prefix, like an end-to-end test file
(\`startStack\` from \`test/support/stack.ts\`), builds the services as \`pnpm build\` does into a folder
of its own (\`.blend/bench-<queue prefix>/\`, so a build elsewhere in the checkout cannot change them
mid-run), and removes the build, the database, the queue keys and the mailbox's messages at the end.

## What is measured

1. A seeded generator (\`scripts/bench/corpus.ts\`) writes realistic mail: new threads and
   replies (In-Reply-To/References to earlier messages, "Re:" subjects, "On … wrote:" with
   \`>\` quotes, signatures), every one multipart/alternative text+HTML, a quarter with a small
   PDF or PNG attachment, 5–50 KiB each, from 50 opted-in people at \`corp.test\` to
   \`status@<bench domain>\`, with the \`Delivered-To\` and \`Received\` fields an MTA adds. They are
   APPENDed to the domain's INBOX; that preload is not timed. A third of them have a colleague
   in Cc; Blend mails each a notice when the thread becomes a post, and its senders receipts and
   the thread's other mail participants the new comments. That mail goes to a local SMTP sink
   (\`scripts/bench/digest-sink.ts\`, a child process) that accepts and discards it, as a real MTA
   would deliver it; through Postfix it would bounce (\`corp.test\` has no mailboxes here) and
   come back into the bridge mailbox to be ingested a second time. Runs before 2026-12-03 did
   that: their "other mail" row counts those bounces.
2. **(a)** a fresh imapflow connection fetches \`1:*\` with the full source of every message.
3. **(b)** \`simpleParser(source)\` from mailparser with its default options parses those same
   sources one after another in the benchmark process (one core). This is the baseline.
   **(b')** is the same with Blend's \`parseMail\` (mailparser without text-to-HTML and
   linkification, plus the MIME-limit check and header normalisation), for comparison.
4. **(c)** Blend's worker and poller start as deployed, each a Node process of its own running the
   built program with docker-compose.yml's Node options and the Dockerfile's \`ENV\`
   (\`scripts/bench/services.ts\`, as the soak runs them; the configuration above), and ingest the
   mailbox; the clock stops when every preloaded message's row is in a final state and posts +
   comments equal the published rows (read from Postgres every 100 ms, whatever the queues carry).
   Process start-up (schema check, IMAP login) is inside the time.
5. **Latency:** with the services running and idle, one message at a time is sent over SMTP
   to Postfix (\`smtp://127.0.0.1:2525\`); the clock starts when the MTA accepts it and stops when
   \`GET /api/v1/feed\` shows the post (Blend's API built in the benchmark's process on the same
   database and called with \`app.inject\`, every ~10 ms, without HTTP). Probes are spaced by a
   random 0–500 ms. Blend's own share starts when the poller learned of the message: the first
   EXISTS on its own connection before the listing that found it (or that listing's start), which
   the poller logs at debug level with each stored batch. A second IMAP connection IDLEs on the
   same mailbox for comparison.
6. **Latency under load:** during (c), as soon as the poller holds the mailbox and a worker
   listens (the backlog is then still to be stored and ingested), \`BENCH_LOAD_PROBES\` (20) more
   messages are sent over SMTP one a second, each timed on its own from the MTA's 250 until its
   post is committed (one query every 20 ms for the posts of the probes still out; the feed's
   first page would not show them, the backlog's posts being newer). Blend's own share is that
   time less the moment the poller learned of the mail (as in 5.), the rest the mail servers'.
   The probes' rows are not
   among (c)'s messages. With 5,000 messages and 20 probes the probes cover the first ~20 s of
   the backlog; more probes (e.g. \`BENCH_LOAD_PROBES=120\`) cover more of it.
7. **CPU by process:** every process's user + system CPU is read from \`/proc\` once a second
   (\`scripts/bench/process-cpu.ts\`). The poller and worker are their own processes; a Postgres
   backend is counted for the process whose connection it serves (its \`pg_stat_activity.client_port\`
   is one of the process's own sockets, or with \`BENCH_PG_RELAY=1\` one of that service's relay
   connections); the benchmark
   is this process and its children (the SMTP sink); Postfix, Dovecot and Redis by process name.
   A process that starts and ends between two readings (Postfix's per-mail helpers, a short
   autovacuum) is missed, so those figures are a lower bound. During (c) each service's CPU (and
   its Postgres backends') is also read the first time the service is seen ready (checked every
   0.2 s while they start: the poller when it holds the mailbox lease, from which it logs in to
   IMAP and syncs; the worker when it listens on the ingest queue). What it used until then
   (loading its program, connecting, the schema check: about 1 s for the poller and 2 s for the
   worker on 2026-12-06) is its start-up, shown apart; the per-mail figures count what it used
   after that.
8. **Commits:** Postgres counts them per database only, so each service counts its own: it is
   started with \`NODE_OPTIONS=--import=<build>/pg-count.mjs\` (built from
   \`scripts/bench/pg-count-preload.ts\`; the service's code and its connection to Postgres are
   as deployed), which wraps the connection class of the \`pg\` package the service imports from
   node_modules and follows the messages the server sends on each connection: ReadyForQuery's
   transaction status, CommandComplete, ErrorResponse (\`scripts/bench/pg-tx.ts\`). It writes the
   counts (commits, rollbacks, statements completed, connections) to a file of the run's build
   folder every second, at once when the benchmark asks (SIGUSR2, at the end of (c) and the IMAP
   flagging) and when the service exits. The benchmark counts its own queries on its connections
   (\`test/support/count-transactions.ts\`). Together they are checked against
   \`pg_stat_database.xact_commit\` of the run's database from (c) to the services' exit, which also
   counts one transaction per new connection and autovacuum's. \`BENCH_PG_RELAY=1\` counts the same
   way on the wire instead, in a relay per service in the benchmark process
   (\`scripts/bench/pg-relay.ts\`, which passes the bytes through): it does not depend on the \`pg\`
   package's internals, but adds a loopback hop and two passes through the benchmark's event loop
   to every statement (2.2–2.8 ms of the benchmark process's CPU a mail on 2026-12-07).

## How to read it

- Messages/s are for the run's own corpus on this machine only. Compare the **ratios**, which
  are measured in the same run on the same data: the machines are shared and noisy.
- **c/b** is the share of the single-core parsing speed Blend keeps end to end. It can exceed 1
  only with several worker processes or cores; with 2 cores shared with Postgres, Redis and
  Dovecot, 0.5 means Blend's own overhead (IMAP, Postgres, queue) costs no more than the parse.
- **c/a** shows how far below the raw IMAP read Blend runs: fetching is never the limit.
- Blend's own mail is part of (c): each email reply that becomes a comment is mirrored to the
  thread's other email participants, and people in Cc get a notice when a thread becomes a post.
  On this corpus that is about 1.25 outbox rows per message (5,636 mirrors and 621 notices for
  5,000), each written, claimed, sent and recorded by the worker while it ingests: Postgres
  commits per message went from 3.1 (2026-11-25, before mirrors and receipts) to 7.3. With the
  bounces that mail caused going back into the mailbox (before the SMTP sink), c/b was 0.045 on
  2026-12-03; with the sink 0.071, against 0.085 on 2026-11-25 when there was a tenth as much
  outbound mail. The machine's parse baseline differed between those days (b: 853 against 590
  messages/s), which is why only same-run ratios compare.
- The "Inside (c)" table splits the time: the poller's storing rate against the worker's
  finishing rate shows which side is the bottleneck. The CPU tables show where the cores went:
  **Blend in all** per mail (poller, worker and the Postgres backends serving them, after they
  were ready) is what a mail costs a running Blend, against (b)'s bare parse per mail; the CPU
  seconds column keeps the whole of (c), start-up included, and the column beside it the part
  until each service was ready. Start-up is paid once per process start, so charged to the mails
  it overstated a short run's CPU per mail (in a 300-mail run it was about two thirds of the
  poller's CPU and a quarter of the worker's); Postfix, Dovecot and Redis are the mail and
  queue servers; "other processes on the machine" is work that is not this run's (another test
  run), which makes the wall-clock figures noisy but leaves the per-mail CPU comparable. The
  figures are the kernel's per-process accounting; on the shared virtual machine of 2026-12-06
  they added up to up to a tenth more than the cores' busy time, so compare shares and per-mail
  figures within a run rather than against the wall clock.
- Commits by process: the worker's are its ingest transactions, the reads around them and the
  sends of Blend's own mail; the poller's its stores of fetched mail, the \`$BlendDone\` flags and
  its mailbox lease. The check row compares all counted commits with Postgres' own count; in
  five runs on 2026-12-06 the database counted 1–3 % more than the connections plus their
  start-ups. That rest is the server's own work on the database: a fresh, idle database with no
  client gained about 25 commits a minute there (autovacuum visiting it, no table run recorded).
- Latency: Dovecot tells IDLE clients about new mail only after a fixed 500 ms (\`NOTIFY_DELAY_MSECS\`
  in its \`mailbox-watch.c\`), although the message is in the mailbox within ~10 ms of the SMTP
  acceptance. That floor is in every IDLE-driven delivery, and counts as the mail servers' share:
  Blend's own share starts when the poller's own connection heard the EXISTS. The timer runs per
  connection and other changes (the poller flagging messages) may already have started it, so
  the poller may hear early or late against the reference connection; only its own hearing
  divides the two shares.
- The latency breakdown uses the inbound row's \`received_at\` (stored by the poller) and
  \`processed_at\` (finished by the worker); these are wall-clock times from Postgres and Node on
  the same machine.
- Rate limits are off in this benchmark (\`BENCH_RATE_LIMITS=default\` keeps Blend's). Blend counts
  a sender's accepted mail by the time it processed it, so a backlog worked off in seconds
  exceeds the per-sender limits and much of it ends \`held\` (sender_rate).
- Job attempts: a reply whose parent is stored but not converted yet fails its attempt and is
  retried with BullMQ's exponential backoff (1 s, 2 s, 4 s, …), so a backlog with threads ends in
  a tail of waiting: compare the 99 % time with the total. A job that found its row finished
  already was spent for nothing (a second job for a row, e.g. the reconciler's for a row whose
  batch job was live), and a row a batch handed back is ingested again by a job of its own.
- Thread fidelity: a reply that became a post of its own, or a comment on another post, lost its
  thread. The corpus keeps replies after their parents in UID order.
`;
}

export async function writeDocs(file: string, r: BenchReport): Promise<void> {
  await writeDocsSection(file, 'ingest', markdown(r).replace(/^# Benchmarks\n+/, ''));
}
