/**
 * When the poller learned of each mail, read from its log: at debug level its "stored batch"
 * line gives each stored UID's moment (`heard`, ms since the epoch), the first EXISTS on its
 * own connection before the listing that found the mail, or that listing's start when none came.
 * Blend's share of a probe's latency is counted from there (docs/BENCHMARKS.md, "Blend's share
 * of the latency").
 */

/** The log level the poller runs at so its "stored batch" lines are written (pino's debug). */
export const HEARD_LOG_LEVEL = 'debug';

/** pino's levels, least verbose last. */
const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** The poller's log level: `level`, or debug when `level` would leave out the "stored batch" lines. */
export function pollerLogLevel(level: string): string {
  const at = LEVELS.indexOf(level);
  return at >= 0 && at <= LEVELS.indexOf(HEARD_LOG_LEVEL) ? level : HEARD_LOG_LEVEL;
}

/** The poller's steps before the store of a UID's batch, ms since the epoch (its "stored batch" line's `steps`). */
export type PollerSteps = Partial<Record<'sync' | 'list' | 'listed' | 'fetch' | 'fetched', number>>;

export interface HeardLog {
  /** Feed it the poller's output as it comes (lines may be split between chunks). */
  write(text: string): void;
  /** When the poller learned of the mail with this UID (ms since the epoch), if it logged it. */
  heardAt(uid: number): number | undefined;
  /** The steps of the sync that stored this UID, if the poller logged them. */
  stepsOf(uid: number): PollerSteps | undefined;
  /** ms of the poller's flagging in IMAP (its "finished in IMAP" lines) within [from, to]. */
  flaggingWithin(from: number, to: number): number;
}

export function heardLog(): HeardLog {
  const heard = new Map<number, number>();
  const steps = new Map<number, PollerSteps>();
  const flagging: { began: number; ended: number }[] = [];
  let partial = '';
  const line = (text: string) => {
    if (!text.includes('"stored batch"') && !text.includes('"finished in IMAP"')) return;
    try {
      const entry = JSON.parse(text) as { msg?: string; heard?: Record<string, number | null>; steps?: PollerSteps; began?: number; ended?: number };
      if (entry.msg === 'finished in IMAP' && entry.began !== undefined && entry.ended !== undefined) flagging.push({ began: entry.began, ended: entry.ended });
      if (entry.msg !== 'stored batch' || !entry.heard) return;
      for (const [uid, at] of Object.entries(entry.heard)) {
        if (typeof at === 'number') heard.set(Number(uid), at);
        if (entry.steps) steps.set(Number(uid), entry.steps);
      }
    } catch {
      // Not a log line of pino's.
    }
  };
  return {
    write(text) {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) line(l);
    },
    heardAt: (uid) => heard.get(uid),
    stepsOf: (uid) => steps.get(uid),
    flaggingWithin: (from, to) => flagging.reduce((ms, f) => ms + Math.max(0, Math.min(to, f.ended) - Math.max(from, f.began)), 0),
  };
}

/**
 * Each load probe's poller part split by its steps, ms: heard → the sync began (waiting for the
 * one under way), → the listing sent (checkpoint read), → listed, → download sent, → downloaded,
 * → the store's transaction began; `flag`: ms of flagging in IMAP between heard and downloaded.
 */
export function formatPollerSteps(samples: { uid?: number; sentMs?: number; heardMs: number; storedMs: number }[], log: HeardLog): string {
  const cols = ['sent', 'heard>sync', '>list', '>listed', '>fetch', '>fetched', '>store', 'flag'];
  const rows: number[][] = [];
  for (const s of samples) {
    if (s.uid === undefined) continue;
    const heard = log.heardAt(s.uid);
    const st = log.stepsOf(s.uid);
    if (heard === undefined || !st) continue;
    const stored = heard - s.heardMs + s.storedMs;
    // A catch-up's sync began before the mail was heard of (it takes the mail ahead): from heard on.
    const at = [heard, Math.max(heard, st.sync ?? heard), st.list, st.listed, st.fetch, st.fetched, stored].map((v) => v ?? Number.NaN);
    rows.push([s.sentMs ?? Number.NaN, ...at.slice(1).map((v, i) => v - at[i]!), log.flaggingWithin(heard, st.fetched ?? stored)]);
  }
  if (rows.length === 0) return 'no poller steps logged';
  return [
    "each live probe's poller steps (ms; flag: flagging in IMAP between heard and downloaded):",
    `      ${cols.join(' ')}`,
    ...rows.map((r, i) => `  ${String(i).padStart(3)} ${r.map((v, j) => (Number.isNaN(v) ? 'n/a' : String(Math.round(v))).padStart(cols[j]!.length)).join(' ')}`),
  ].join('\n');
}
