import { afterActionProblem, parseAfterAction, type AfterAction } from '@blend/config';
import { type ReadyCheck } from '@blend/runtime';
import { listWatchedMailboxes, pollerGone, pollerHeartbeat, type WatchedMailbox } from '@blend/db';
import { parseImapUrl, sealedLoginTarget } from '@blend/mail';
import { newPollerHolder, type LeaseBalance } from './lease';
import { MailboxWatch, sameSpec, type WatchDeps, type WatchSpec } from './mailbox-watch';

export interface WatchersOptions extends WatchDeps {
  /** BLEND_IMAP_URL: always watched, whatever the table says. */
  primary: WatchSpec;
  /** The action for rows without their own (BLEND_IMAP_AFTER). */
  defaultAfter: AfterAction;
  /** BLEND_SECRET, then BLEND_SECRET_PREVIOUS: the keys mailbox passwords may be sealed with. */
  secrets: readonly (string | undefined)[];
  /** How often `watched_mailboxes` is re-read. */
  refreshMs: number;
}

/** How often a poller process says it is alive (as often as leases are renewed). */
const HEARTBEAT_MS = 1_500;
/** A process not heard from for this long is not counted (as long as a lease lasts). */
const ALIVE_MS = 6_000;
/** A process over its share hands over at most one mailbox this often. */
const YIELD_EVERY_MS = 5_000;

/**
 * Every mailbox of one poller process: BLEND_IMAP_URL plus each enabled row of
 * `watched_mailboxes`, re-read every `refreshMs`, so `blend mailbox add|set|remove` takes
 * effect without a restart. A new row starts a watch, a changed one (password, action) is
 * restarted, a disabled or removed one is stopped and its lease released. While the table
 * cannot be read (Postgres down), the current watches carry on unchanged.
 *
 * The poller processes share the mailboxes out: each says it is alive every few seconds
 * (`poller_processes`), and one holding more than ceil(mailboxes / processes) hands one over
 * every few seconds to a process holding fewer, which alone may take a free mailbox. So a
 * second poller started next to a busy one takes half the mailboxes, and a survivor of a
 * crash takes all of them once the dead process is no longer counted (~6 s).
 */
export class MailboxWatchers {
  private readonly watches = new Map<string, MailboxWatch>();
  /** Enabled rows that cannot be watched (a password that does not decrypt), with why. */
  private broken = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private stopped = false;
  private readonly warned = new Set<string>();
  private readonly primaryWatch: MailboxWatch;
  /** This process's name in the lease tables. */
  readonly holder = newPollerHolder();
  /** Poller processes alive, this one included, as of the last heartbeat. */
  private live = 1;
  private lastYieldAt = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly balance: LeaseBalance = {
    mayAcquire: () => this.heldCount() < this.share(),
    shouldYield: () => {
      if (this.heldCount() <= this.share() || Date.now() - this.lastYieldAt < YIELD_EVERY_MS) return false;
      this.lastYieldAt = Date.now();
      return true;
    },
  };

  constructor(private readonly opts: WatchersOptions) {
    this.primaryWatch = new MailboxWatch(opts.primary, opts, { holder: this.holder, balance: this.balance });
  }

  /** How many mailboxes this process should hold: its even share, rounded up. */
  private share(): number {
    return Math.ceil(this.watches.size / this.live);
  }

  private heldCount(): number {
    let n = 0;
    for (const w of this.watches.values()) if (w.lease.held) n++;
    return n;
  }

  private async heartbeat(): Promise<void> {
    try {
      this.live = await pollerHeartbeat(this.opts.db, this.holder, ALIVE_MS);
    } catch (err) {
      // Keep the last count: the leases themselves notice a database that is gone.
      this.opts.log.warn({ err }, 'could not write the poller heartbeat');
    }
  }

  /** Start the primary mailbox, read the table once, then keep re-reading it. */
  async start(): Promise<void> {
    // Count the pollers already running first, so this one does not grab more than its share.
    await this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    this.watches.set(this.primaryWatch.key, this.primaryWatch);
    this.primaryWatch.start();
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing;
    await Promise.all([...this.watches.values()].map((w) => w.stop()));
    this.watches.clear();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    await pollerGone(this.opts.db, this.holder).catch(() => undefined);
  }

  /** The watch of BLEND_IMAP_URL. */
  get primary(): MailboxWatch {
    return this.primaryWatch;
  }

  /** The watch of one mailbox in this process (holding its lease or standing by). */
  get(key: string): MailboxWatch | undefined {
    return this.watches.get(key);
  }

  keys(): string[] {
    return [...this.watches.keys()];
  }

  /**
   * Readiness checks, one per mailbox: `imap` for BLEND_IMAP_URL (the name a single-mailbox
   * setup's probes and dashboards know), `imap <key>` for the others, so a failure names its mailbox.
   */
  checks(): Record<string, ReadyCheck> {
    const out: Record<string, ReadyCheck> = {};
    for (const w of this.watches.values()) out[w.spec.source === 'env' ? 'imap' : `imap ${w.key}`] = async () => w.readiness();
    for (const [key, why] of this.broken) out[`imap ${key}`] = async () => `not watched: ${why}`;
    return out;
  }

  /** Re-read the table now (or wait for the read in progress). */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    if (this.stopped) return;
    const { log, db, primary } = this.opts;
    let rows: WatchedMailbox[];
    try {
      rows = await listWatchedMailboxes(db);
    } catch (err) {
      log.warn({ err }, 'could not read the watched mailboxes; keeping the current ones');
      return;
    }
    const wanted = new Map<string, WatchSpec>();
    const broken = new Map<string, string>();
    for (const row of rows) {
      if (!row.enabled) continue;
      if (row.key === primary.target.key) {
        this.warnOnce(`primary:${row.key}`, { mailbox: row.key }, 'a watched_mailboxes row repeats BLEND_IMAP_URL; the environment wins');
        continue;
      }
      try {
        wanted.set(row.key, this.specOf(row));
      } catch (err) {
        const why = (err as Error).message;
        broken.set(row.key, why);
        this.warnOnce(`broken:${row.key}:${why}`, { mailbox: row.key }, `cannot watch mailbox: ${why}`);
      }
    }
    this.broken = broken;
    const stale = [...this.watches.values()].filter((w) => w.spec.source === 'table' && !(wanted.has(w.key) && sameSpec(wanted.get(w.key)!, w.spec)));
    await Promise.all(
      stale.map(async (w) => {
        const again = wanted.has(w.key);
        log.info({ mailbox: w.key }, again ? 'mailbox settings changed; restarting its watch' : 'mailbox no longer watched; stopping');
        this.watches.delete(w.key);
        await w.stop(!again);
      }),
    );
    if (this.stopped) return;
    for (const [key, spec] of wanted) {
      if (this.watches.has(key)) continue;
      log.info({ mailbox: key, after: spec.after.kind }, 'watching mailbox');
      this.add(spec);
    }
  }

  private add(spec: WatchSpec): void {
    const w = new MailboxWatch(spec, this.opts, { holder: this.holder, balance: this.balance });
    this.watches.set(w.key, w);
    w.start();
  }

  /** The watch a row asks for. @throws Error saying why the row cannot be watched. */
  private specOf(row: WatchedMailbox): WatchSpec {
    const parsed = parseImapUrl(row.url);
    if (parsed.key !== row.key) throw new Error(`its URL ${row.url} does not match its key`);
    const target = sealedLoginTarget(row, this.opts.secrets);
    const after = row.after ? parseAfterAction(row.after) : this.opts.defaultAfter;
    const problem = afterActionProblem(after, parsed.folder);
    if (problem) throw new Error(problem);
    return { target, after, source: 'table' };
  }

  private warnOnce(id: string, fields: Record<string, unknown>, msg: string): void {
    if (this.warned.has(id)) return;
    this.warned.add(id);
    this.opts.log.warn(fields, msg);
  }
}
