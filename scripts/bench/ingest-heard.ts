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

export interface HeardLog {
  /** Feed it the poller's output as it comes (lines may be split between chunks). */
  write(text: string): void;
  /** When the poller learned of the mail with this UID (ms since the epoch), if it logged it. */
  heardAt(uid: number): number | undefined;
}

export function heardLog(): HeardLog {
  const heard = new Map<number, number>();
  let partial = '';
  const line = (text: string) => {
    if (!text.includes('"stored batch"')) return;
    try {
      const entry = JSON.parse(text) as { msg?: string; heard?: Record<string, number | null> };
      if (entry.msg !== 'stored batch' || !entry.heard) return;
      for (const [uid, at] of Object.entries(entry.heard)) if (typeof at === 'number') heard.set(Number(uid), at);
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
  };
}
