import { formatAfterAction, type AfterAction } from '@blend/config';
import { type Logger, type Metrics } from '@blend/runtime';
import type { Database } from '@blend/db';
import type { ImapTarget } from '@blend/mail';
import type { IngestJob } from '@blend/queue';
import type { Queue } from 'bullmq';
import { MailboxLease, type LeaseBalance } from './lease';
import { MailboxPoller } from './mailbox-poller';

/** One mailbox to watch: where, with which password, and what to do with processed mail. */
export interface WatchSpec {
  target: ImapTarget;
  after: AfterAction;
  /** `env` for BLEND_IMAP_URL, `table` for a row of `watched_mailboxes`. */
  source: 'env' | 'table';
}

/** Settings shared by every mailbox of a poller process. */
export interface WatchDeps {
  db: Database;
  /** Live mail: what IDLE or a small sync finds. */
  ingestQueue: Queue<IngestJob>;
  /** A catch-up's mail (more than one batch waiting). */
  backlogQueue: Queue<IngestJob>;
  log: Logger;
  metrics: Metrics;
  pollIntervalMs: number;
  idleRestartMs: number;
  maxMessageBytes: number;
  doneFlag: string;
  batchSize: number;
  batchBytes?: number;
}

/** Whether two specs would watch the same way (a change of password, token settings or action restarts the watch). */
export function sameSpec(a: WatchSpec, b: WatchSpec): boolean {
  const t = (s: WatchSpec) => [s.target.host, s.target.port, s.target.secure, s.target.user, s.target.pass, s.target.oauth?.fingerprint ?? null, s.target.folder, formatAfterAction(s.after), s.source];
  return JSON.stringify(t(a)) === JSON.stringify(t(b));
}

/**
 * One watched mailbox in this process: its lease, and its poller while the lease is held.
 * Several processes each have a watch per mailbox; the lease lets exactly one of them poll.
 */
export class MailboxWatch {
  readonly lease: MailboxLease;
  private current: MailboxPoller | null = null;

  constructor(
    readonly spec: WatchSpec,
    private readonly deps: WatchDeps,
    /** The poller process this watch runs in: its name and its share of the mailboxes. */
    owner: { holder: string; balance: LeaseBalance },
  ) {
    const key = spec.target.key;
    const log = deps.log.child({ mailbox: key });
    this.lease = new MailboxLease({
      db: deps.db,
      mailbox: key,
      log,
      holder: owner.holder,
      balance: owner.balance,
      status: () => this.current?.status(),
      onAcquired: async () => {
        this.current = new MailboxPoller({
          target: spec.target,
          db: deps.db,
          ingestQueue: deps.ingestQueue,
          backlogQueue: deps.backlogQueue,
          log: deps.log,
          metrics: deps.metrics,
          pollIntervalMs: deps.pollIntervalMs,
          idleRestartMs: deps.idleRestartMs,
          maxMessageBytes: deps.maxMessageBytes,
          doneFlag: deps.doneFlag,
          batchSize: deps.batchSize,
          ...(deps.batchBytes ? { batchBytes: deps.batchBytes } : {}),
          after: spec.after,
          credentialHint: spec.source === 'env' ? (spec.target.oauth ? 'BLEND_IMAP_URL and BLEND_OAUTH_*' : 'BLEND_IMAP_URL') : `blend mailbox set ${key} ${spec.target.oauth ? '--oauth2' : '--password-file FILE'}`,
        });
        deps.metrics.leaseHeld.set({ mailbox: key }, 1);
        await this.current.start();
      },
      onLost: async () => {
        deps.metrics.leaseHeld.set({ mailbox: key }, 0);
        const p = this.current;
        this.current = null;
        await p?.stop();
      },
    });
  }

  get key(): string {
    return this.spec.target.key;
  }

  /** The poller while this process holds the lease, else null. */
  get poller(): MailboxPoller | null {
    return this.current;
  }

  start(): void {
    this.lease.start();
  }

  /**
   * Stop polling and give the lease up. With `forget`, also drop the mailbox's metric
   * series (it is no longer watched at all, rather than restarting with new settings).
   */
  async stop(forget = false): Promise<void> {
    await this.lease.stop();
    if (forget) {
      this.deps.metrics.leaseHeld.remove({ mailbox: this.key });
      this.deps.metrics.imapConnected.remove({ mailbox: this.key });
    }
  }

  /** Readiness: a standby is ready; the holder only with a working IMAP session. */
  readiness(): string {
    const p = this.current;
    if (!this.lease.held || !p) return 'ok';
    if (p.state === 'connected') return 'ok';
    if (p.state === 'throttled') return `IMAP throttled: ${p.lastError ?? ''}`.trim();
    return p.state === 'auth_failed' ? `IMAP login failed: auth_failed: ${p.lastError ?? ''}`.trim() : `IMAP ${p.state}`;
  }
}
