/**
 * The results of `pnpm bench soak`: tables on stdout and the soak section of
 * `docs/BENCHMARKS.md` (the other sections are kept, see writeDocsSection).
 */
import type { Attempts } from './end-to-end';
import type { MachineFacts } from './machine';
import { writeDocsSection } from './harness';
import type { ServiceName } from './services';
import { nothingLost, type Outcome } from './soak-outcome';
import { fmt } from './stats';

export interface SoakReport {
  date: string;
  command: string;
  revision: string;
  /** The Dockerfile's ENV settings the services ran with, as `NAME=value` words. */
  imageEnv: string;
  /** How docker-compose.yml starts each service (its Node options). */
  nodeOptions: string;
  machine: MachineFacts;
  servers: { postgres: string; redis: string; pgSettings: string };
  params: {
    mails: number;
    bigEvery: number;
    bigBytes: number;
    /** `preload`: all mail in the mailbox before the services start; `stream`: appended while they run. */
    delivery: 'preload' | 'stream';
    /** Deliveries per second (stream); 0: as fast as one IMAP connection appends. */
    rate: number;
    seed: number;
    workerConcurrency: number;
    batchSize: number;
    maxMessageBytes: number;
    attachmentMaxBytes: number;
    logLevel: string;
  };
  corpus: { replies: number; totalBytes: number; bigMails: number; bigMailBytes: number; spoolSeconds: number };
  run: {
    /** Services started until every row is final and posts + comments match the published rows. */
    seconds: number;
    /** The preload, or the streamed delivery (from the services' start). */
    deliverSeconds: number;
    allStoredSeconds: number;
    /** After `seconds`, until the poller had flagged every finished message in IMAP. */
    marksSeconds: number;
    /** Most messages appended but not yet stored by the poller, and stored but not yet final. */
    maxMailboxBacklog: number;
    maxQueueBacklog: number;
  };
  rss: {
    peak: Record<ServiceName, number>;
    peakAt: Record<ServiceName, number>;
    hwm: Record<ServiceName, number>;
    startup: Record<ServiceName, number>;
    end: Record<ServiceName, number>;
    /** RSS when 25/50/75/100 % of the rows were final: a leak shows as steady growth. */
    milestones: { pct: number; t: number; rss: Record<ServiceName, number> }[];
    samples: number;
  };
  cpuSeconds: Record<ServiceName, number>;
  shutdown: Record<ServiceName, string>;
  outcome: Outcome;
  attempts: Attempts;
}

/**
 * Targets from the issue: poller and worker RSS under 300 MB, nothing lost. Judged in MiB (as
 * /proc and top count); a peak between 300,000,000 bytes and 300 MiB is flagged as marginal.
 */
export const TARGET_RSS_BYTES = 300 * 1024 * 1024;
const DECIMAL_RSS_BYTES = 300_000_000;

export function soakFigures(r: SoakReport) {
  const peak = (n: ServiceName) => Math.max(r.rss.peak[n], r.rss.hwm[n]);
  return {
    rate: r.params.mails / r.run.seconds,
    passPoller: peak('poller') < TARGET_RSS_BYTES,
    passWorker: peak('worker') < TARGET_RSS_BYTES,
    passLost: nothingLost(r.outcome),
  };
}

const mib = (b: number) => `${fmt(b / 1024 ** 2, 0)} MiB`;
const mibMb = (b: number) => `${mib(b)} (${fmt(b / 1e6, 0)} MB)`;
const s = (v: number, d = 1) => `${fmt(v, d)} s`;
const pass = (ok: boolean) => (ok ? 'met' : '**missed**');
const list = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${fmt(v)}`).join(', ') || 'none';

export function soakTables(r: SoakReport): string {
  const f = soakFigures(r);
  const o = r.outcome;
  const n = r.params.mails;
  const rssRow = (name: ServiceName, ok: boolean) => {
    const marginal = ok && Math.max(r.rss.peak[name], r.rss.hwm[name]) >= DECIMAL_RSS_BYTES ? ', but not under 300,000,000 bytes' : '';
    return `| ${name} | **${mibMb(r.rss.peak[name])}** at ${s(r.rss.peakAt[name], 0)} | ${mibMb(r.rss.hwm[name])} | ${mib(r.rss.startup[name])} | ${r.rss.milestones.map((m) => mib(m.rss[name])).join(' / ')} | ${mib(r.rss.end[name])} | ${fmt(r.cpuSeconds[name], 0)} s | < 300 MiB: ${pass(ok)}${marginal} |`;
  };
  return `| Result | Value | Target |
| --- | --- | --- |
| **End to end** (services started → all ${fmt(n)} rows final) | **${fmt(f.rate, 1)} mails/s**; ${s(r.run.seconds)} | |
| ${r.params.delivery === 'preload' ? 'preload before the services started' : 'delivery while the services ran'} (IMAP APPEND, one connection${r.params.rate ? `, paced at ${r.params.rate}/s` : ''}) | ${s(r.run.deliverSeconds)} (${fmt(n / r.run.deliverSeconds, 0)} mails/s) | |
| all rows stored by the poller | at ${s(r.run.allStoredSeconds)}; largest backlog in the mailbox (not stored yet) ${fmt(r.run.maxMailboxBacklog)}, in Postgres/queue (stored, not final) ${fmt(r.run.maxQueueBacklog)} | |
| every message flagged \`$BlendDone\` in IMAP | ${s(r.run.marksSeconds)} after the end | |
| **Nothing lost** | ${fmt(o.rows)} rows for ${fmt(o.expected)} messages (${fmt(o.distinctIds)} distinct Message-IDs); missing ${fmt(o.missing)}, with more than one row ${fmt(o.multiRow)}, still \`received\` ${fmt(o.stillReceived)}; ${fmt(o.published)} published rows = ${fmt(o.posts)} posts + ${fmt(o.comments)} comments for ${fmt(o.publishedIds)} distinct Message-IDs; ${fmt(o.orphanItems)} posts/comments of no row | ${pass(f.passLost)} |
| final states of the ${fmt(n)} | ${list(o.states)} | |
| the ${fmt(o.big.count)} mails with a ${fmt(r.params.bigBytes)}-byte attachment | ${list(o.big.states)}; attachments stored ${fmt(o.big.stored)} (${mib(o.big.storedBytes)} of blobs), omitted ${list(o.big.omitted)} | |
| other mail in the bridge mailbox | ${list(o.other)} | |
| mail Blend wrote meanwhile (to the people's mailbox) | ${list(o.outbound)} | |
| ingest job attempts | ${fmt(r.attempts.retried)} of ${fmt(r.attempts.jobs)} jobs still in Redis retried, ${fmt(r.attempts.failedAttempts)} failed attempts, at most ${r.attempts.maxAttempts} for one job; ${fmt(r.attempts.alreadyFinished)} found their row finished already, ${fmt(r.attempts.handedBack)} rows handed back by their batch | |
| services stopped with SIGTERM after the run | poller: ${r.shutdown.poller}; worker: ${r.shutdown.worker} | |

| Service (own Node process) | Peak RSS, sampled every 500 ms | VmHWM at the end | After start-up | At 25 / 50 / 75 / 100 % final | At the end | CPU | Target |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rssRow('poller', f.passPoller)}
${rssRow('worker', f.passWorker)}
`;
}

export function soakMarkdown(r: SoakReport): string {
  const m = r.machine;
  const p = r.params;
  const c = r.corpus;
  return `## Soak and memory: latest run

- **Date:** ${r.date}
- **Command:** \`${r.command}\`
- **Blend revision:** ${r.revision}
- **Machine:** ${m.cpuModel}, ${m.cores} cores, ${fmt(m.ramGiB, 1)} GiB RAM; ${m.os} (Linux ${m.kernel}); Node ${m.node}
- **Servers (all on this machine, loopback):** ${r.servers.postgres} (${r.servers.pgSettings}); Redis ${r.servers.redis}; Dovecot ${m.dovecot}; Postfix ${m.postfix}
- **Parameters:** ${fmt(p.mails)} mails, every ${fmt(p.bigEvery)}th with a ${fmt(p.bigBytes)}-byte attachment, seed ${p.seed}; \`WORKER_CONCURRENCY=${p.workerConcurrency}\`, \`BLEND_IMAP_BATCH_SIZE=${p.batchSize}\`, \`BLEND_MAX_MESSAGE_BYTES=${p.maxMessageBytes}\`, \`BLEND_ATTACHMENT_MAX_BYTES=${p.attachmentMaxBytes}\`, \`LOG_LEVEL=${p.logLevel}\`, \`BLEND_SENDER_AUTH=none\`; rate limits off; poller and worker each in its own process as docker-compose.yml runs them (${r.nodeOptions}, built by \`pnpm build\`, with the Dockerfile's ENV: ${r.imageEnv})
- **Corpus:** the ingest benchmark's generator: ${fmt(c.replies)} replies and ${fmt(p.mails - c.replies)} new threads, ${fmt(c.totalBytes / 1024 ** 2, 0)} MiB in all, of which ${fmt(c.bigMails)} large mails of ${fmt(c.bigMailBytes / Math.max(1, c.bigMails) / 1024 ** 2, 1)} MiB each; written to a spool file in ${fmt(c.spoolSeconds, 0)} s before the run (not measured)

${soakTables(r)}
## How to run the soak

\`\`\`sh
flock /tmp/blend-bench.lock pnpm bench soak                         # 50,000 mails, about 35 minutes
BENCH_SOAK_MAILS=2000 flock /tmp/blend-bench.lock pnpm bench soak   # a quick check, 2 minutes
\`\`\`

\`pnpm bench\` without a name does not run the soak: it takes longer than the other benchmarks together.
It sends its mail through the same Postfix and Dovecot as the tests: run beside the test suite, its
mirror mail (about 60,000 mails) held the tests' mail up for 30 s and more, and two tests timed out.

Settings (environment), defaults in brackets:

- \`BENCH_SOAK_MAILS\` (50000), \`BENCH_SOAK_BIG_EVERY\` (1000; 0: none), \`BENCH_SOAK_BIG_BYTES\` (10000000)
- \`BENCH_SOAK_DELIVERY\` (preload): \`stream\` appends the mail while the services run (see below)
- \`BENCH_SOAK_RATE\` (0): with \`stream\`, deliveries per second; 0 appends as fast as one IMAP connection can
- \`BENCH_SOAK_NODE_OPTIONS\` (none): \`NODE_OPTIONS\` for the two services only, e.g. \`--max-old-space-size=192\`
- \`BENCH_SOAK_RSS_FILE\` (none): a file to write the RSS samples to (seconds, poller and worker MiB, rows final by then), one line each
- \`BENCH_SEED\` (2025), \`BENCH_TIMEOUT_S\` (3600), \`BENCH_LOG_LEVEL\` (warn): the services' log level
- Blend's own \`WORKER_CONCURRENCY\`, \`BLEND_IMAP_BATCH_SIZE\`, \`BLEND_ATTACHMENT_MAX_BYTES\`, \`BLEND_MAX_MESSAGE_BYTES\` are passed to the services
- \`BENCH_STRICT=1\` fails the command when a target is missed; \`BENCH_DOCS=0\` leaves this file alone

## What the soak measures

1. Like the ingest benchmark, the run gets its own database, mail domain and queue prefix
   (\`startStack\`), 50 opted-in people and the ingest corpus (threads and replies, 5–50 KiB).
   Every ${fmt(p.bigEvery)}th message gets a ${fmt(p.bigBytes)}-byte PDF (random, so each is a new blob)
   as a second part of a new multipart/mixed, about ${fmt((p.bigBytes * 1.37) / 1024 ** 2, 1)} MiB on the wire.
   That is below \`BLEND_ATTACHMENT_MAX_BYTES\` (10 MiB), so Blend stores the files, and below
   \`BLEND_MAX_MESSAGE_BYTES\` (25 MiB), so the poller fetches the messages.
2. The messages are APPENDed in order (replies after their parents) on one IMAP connection that
   has the mailbox selected. By default all of them before the services start, so the poller
   starts on a backlog of the whole run; with \`BENCH_SOAK_DELIVERY=stream\` while they run.
3. The benchmark runs \`pnpm build\` and starts the poller and the worker as two processes the way
   the Docker image runs them: \`node dist/poller.mjs\` and \`node dist/worker.mjs\`, with the
   Dockerfile's \`ENV\` settings (glibc malloc tuning) and the environment of \`serviceEnv\` from
   \`test/support/stack.ts\` (health ports 0). The clock starts when they are launched and stops
   when every message's row is final and the posts and comments match the published rows.
4. Every 500 ms the benchmark reads \`VmRSS\` of the two Node processes from \`/proc\`; \`VmHWM\`
   at the end is the kernel's own peak, which also covers spikes between samples and the first
   seconds before sampling starts. Sampling goes on until the poller has flagged every message
   \`$BlendDone\`. The target is judged on the higher of the two.
5. The checks join Blend's rows to the Message-IDs delivered: each must have exactly one inbound
   row, none may still be \`received\`, and every published row exactly one post or comment.

## How to read the soak

- Where the worker's memory goes: a Node process with the worker's modules loaded holds about
  150 MiB before any mail (about 185 MiB when run through \`tsx\`, which is why production runs
  the compiled \`dist/\`); MJML, needed only to compile the mail templates at start-up, is loaded
  in a worker thread that exits afterwards. Converting one mail takes several times its size while
  it is parsed (about 90 MiB for a 13 MiB message), so \`BLEND_INGEST_MEMORY_BYTES\` (16 MiB)
  bounds the raw mail converted at once: large messages are converted one at a time while small
  ones go on at \`WORKER_CONCURRENCY\`.
- A leak shows as RSS rising from one quarter to the next rather than levelling off.
- V8 grows its heap lazily on a machine with plenty of RAM, so part of the RSS is garbage not yet
  collected. \`BENCH_SOAK_NODE_OPTIONS=--max-old-space-size=192\` tells that part from memory in
  use: on 2026-11-26 (2,000 mails, 2 large) it lowered the worker's VmHWM from 432 to 356 MiB at
  about the same rate (43 against 47 mails/s), and its level between the quarters from 250–390 to
  225–300 MiB. The peak stays above 300 MiB, so a heap limit alone does not meet the target.
- The people's addresses are at a second local mail domain with a catch-all mailbox, so the
  mail Blend sends them (mirrors of new comments, thread notices to people in Cc) is delivered
  there, as in production, and counts in the worker's load (the ingest benchmark sends it to an
  SMTP sink instead); the bridge mailbox holds only the benchmark's messages.
- Why preload by default: Blend flags every finished message and never moves or expunges it, so
  the bridge mailbox only grows. Streaming 50,000 messages into the local Dovecot (maildir) while
  the poller flagged them (and Blend's mail to the people was delivered alongside), the APPEND rate
  fell from ~110–125/s in the first 30 s to ~17/s by 14,000 messages, in two attempts (2-core
  machine, 2026-11-26); the run would have taken well over an hour, with the IMAP server rather
  than Blend setting the pace. Alone, the same APPENDs slowed from ~330/s to ~120/s by 15,000
  messages on a connection without the mailbox selected, and held ~300–400/s with it selected
  (hence the SELECT). On maildir every flag change renames a file in the folder the appending
  session has to re-read, so a mail server delivering into a large bridge mailbox that Blend keeps
  flagging may slow the same way; archiving or expunging finished mail would bound it.
`;
}

export async function writeSoakDocs(file: string, r: SoakReport): Promise<void> {
  await writeDocsSection(file, 'soak', soakMarkdown(r));
}
