import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '@blend/runtime';
import { acquireLease, releaseLease, type Database, type LeaseStatus } from '@blend/db';

export interface LeaseOptions {
  db: Database;
  mailbox: string;
  log: Logger;
  /** How long a lease lasts without renewal. @defaultValue 6000 */
  ttlMs?: number;
  /** How often the holder renews and a standby tries. @defaultValue 1500 */
  renewMs?: number;
  /** The holder's connection state, written with each renewal (undefined before it has one). */
  status?: () => LeaseStatus | undefined;
  /** This poller process's name in the lease table ({@link newPollerHolder}). */
  holder: string;
  /** How the mailboxes are shared out between poller processes (see MailboxWatchers). */
  balance: LeaseBalance;
  onAcquired(): Promise<void>;
  onLost(): Promise<void>;
}

/** Sharing the mailboxes out evenly between the poller processes alive. */
export interface LeaseBalance {
  /** Whether this process may take one more mailbox (it holds fewer than its share). */
  mayAcquire(): boolean;
  /** Whether to hand this mailbox over now (this process holds more than its share). */
  shouldYield(): boolean;
}

/** A poller process's name in the lease tables: host, pid and a random suffix. */
export function newPollerHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * One poller per mailbox across hosts: a lease row in Postgres, renewed every `renewMs`
 * (database clock). A standby takes over within `ttlMs` of the holder dying. The holder
 * fences itself: when it cannot renew for longer than the lease lasts, it stops polling,
 * so two pollers never work one mailbox at once for long (and the unique UID key and
 * Message-ID dedupe cover the overlap).
 */
export class MailboxLease {
  readonly holder: string;
  held = false;
  /** After handing the mailbox over, leave it to the others for a while. */
  private cooldownUntil = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastRenewed = 0;
  private busy = false;
  private readonly ttlMs: number;

  constructor(private readonly opts: LeaseOptions) {
    this.ttlMs = opts.ttlMs ?? 6_000;
    this.holder = opts.holder;
  }

  start(): void {
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.renewMs ?? 1_500);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A renewal stuck on an unreachable database must not block shutdown for long.
    for (let waited = 0; this.busy && waited < 5_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    if (this.held) {
      this.held = false;
      await this.opts.onLost();
      await releaseLease(this.opts.db, this.opts.mailbox, this.holder).catch((err: unknown) =>
        this.opts.log.warn({ err }, 'could not release the mailbox lease; it expires by itself'),
      );
    }
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    const balance = this.opts.balance;
    // A standby over its share leaves free mailboxes to the pollers under theirs.
    if (!this.held && (Date.now() < this.cooldownUntil || !balance.mayAcquire())) return;
    this.busy = true;
    try {
      if (this.held && balance.shouldYield()) {
        await this.handOver();
        return;
      }
      const got = await acquireLease(this.opts.db, this.opts.mailbox, this.holder, this.ttlMs, (this.held ? this.opts.status?.() : undefined) ?? { state: 'connecting', lastError: null, lastSyncAt: null });
      if (got) {
        this.lastRenewed = Date.now();
        if (!this.held) {
          this.held = true;
          this.opts.log.info({ holder: this.holder }, 'mailbox lease acquired');
          await this.opts.onAcquired();
        }
      } else if (this.held) {
        this.held = false;
        this.opts.log.warn('mailbox lease taken by another poller; standing by');
        await this.opts.onLost();
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'mailbox lease check failed');
      // Self-fencing: without a renewal the lease may already belong to someone else.
      if (this.held && Date.now() - this.lastRenewed > this.ttlMs - 1_000) {
        this.held = false;
        this.opts.log.warn('could not renew the mailbox lease in time; pausing polling');
        await this.opts.onLost();
      }
    } finally {
      this.busy = false;
    }
  }

  /** Stop polling and release the lease, so a poller with fewer mailboxes takes it. */
  private async handOver(): Promise<void> {
    this.held = false;
    this.cooldownUntil = Date.now() + 2 * this.ttlMs;
    this.opts.log.info({ holder: this.holder }, 'handing the mailbox over to another poller: this one holds more than its share');
    await this.opts.onLost();
    await releaseLease(this.opts.db, this.opts.mailbox, this.holder).catch((err: unknown) =>
      this.opts.log.warn({ err }, 'could not release the mailbox lease; it expires by itself'),
    );
  }
}
