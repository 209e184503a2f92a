import { asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { auditLog, watchedMailboxes } from '../schema';

export type WatchedMailbox = typeof watchedMailboxes.$inferSelect;

/** Every row of `watched_mailboxes`, enabled or not, by key. */
export async function listWatchedMailboxes(db: Tx): Promise<WatchedMailbox[]> {
  return db.select().from(watchedMailboxes).orderBy(asc(watchedMailboxes.key));
}

export async function getWatchedMailbox(db: Tx, key: string): Promise<WatchedMailbox | undefined> {
  const rows = await db.select().from(watchedMailboxes).where(eq(watchedMailboxes.key, key));
  return rows[0];
}

/** What is recorded in the audit log about a mailbox: never its password. */
function auditable(row: WatchedMailbox): Record<string, unknown> {
  return { url: row.url, enabled: row.enabled, after: row.after, auth: row.auth };
}

/**
 * Start watching a mailbox (audited).
 * @returns the new row, or null when the key is watched already.
 */
export async function addWatchedMailbox(
  tx: Tx,
  mailbox: { key: string; url: string; passwordSealed: string; auth?: 'password' | 'oauth2'; after: string | null; enabled?: boolean },
  actor: string,
): Promise<WatchedMailbox | null> {
  const [row] = await tx.insert(watchedMailboxes).values(mailbox).onConflictDoNothing().returning();
  if (!row) return null;
  await tx.insert(auditLog).values({ action: 'mailbox_add', actor, subject: row.key, detail: auditable(row) });
  return row;
}

/**
 * Change a watched mailbox's password, action or enabled flag (audited; the audit entry
 * says that the password changed, not what to). Pollers pick the change up on their next
 * refresh.
 * @returns the updated row, or null when there is no such mailbox.
 */
export async function updateWatchedMailbox(
  tx: Tx,
  key: string,
  change: { passwordSealed?: string; auth?: 'password' | 'oauth2'; after?: string | null; enabled?: boolean },
  actor: string,
  action = 'mailbox_set',
): Promise<WatchedMailbox | null> {
  const [row] = await tx
    .update(watchedMailboxes)
    .set({ ...change, updatedAt: new Date() })
    .where(eq(watchedMailboxes.key, key))
    .returning();
  if (!row) return null;
  const detail: Record<string, unknown> = { ...auditable(row), changed: Object.keys(change).map((k) => (k === 'passwordSealed' ? (row.auth === 'oauth2' ? 'oauth_settings' : 'password') : k)) };
  await tx.insert(auditLog).values({ action, actor, subject: key, detail });
  return row;
}

/**
 * Stop watching a mailbox (audited). Its inbound rows and checkpoint stay: adding it
 * again resumes where it stopped.
 */
export async function removeWatchedMailbox(tx: Tx, key: string, actor: string): Promise<boolean> {
  const [row] = await tx.delete(watchedMailboxes).where(eq(watchedMailboxes.key, key)).returning();
  if (!row) return false;
  await tx.insert(auditLog).values({ action: 'mailbox_remove', actor, subject: key, detail: auditable(row) });
  return true;
}

/** What pollers report about one mailbox: its checkpoint and its lease (with the holder's connection state). */
export interface MailboxStatus {
  mailbox: string;
  uidValidity: number | null;
  lastUid: number | null;
  checkpointAt: Date | null;
  holder: string | null;
  /** Whether the lease is current (database clock); a stale one means no poller renews it. */
  leaseLive: boolean;
  leaseExpiresAt: Date | null;
  state: string | null;
  lastError: string | null;
  lastSyncAt: Date | null;
}

/** Checkpoint and lease of every mailbox that has either, by key. */
export async function mailboxStatuses(db: Tx): Promise<Map<string, MailboxStatus>> {
  const rows = await db.execute<{
    mailbox: string;
    uid_validity: string | null;
    last_uid: string | null;
    updated_at: Date | null;
    holder: string | null;
    expires_at: Date | null;
    live: boolean | null;
    state: string | null;
    last_error: string | null;
    last_sync_at: Date | null;
  }>(sql`
    select coalesce(c.mailbox, l.mailbox) as mailbox, c.uid_validity, c.last_uid, c.updated_at,
           l.holder, l.expires_at, l.expires_at > now() as live, l.state, l.last_error, l.last_sync_at
    from mailbox_checkpoints c full outer join mailbox_leases l on l.mailbox = c.mailbox`);
  const date = (v: Date | string | null) => (v === null ? null : new Date(v));
  return new Map(
    rows.rows.map((r) => [
      r.mailbox,
      {
        mailbox: r.mailbox,
        uidValidity: r.uid_validity === null ? null : Number(r.uid_validity),
        lastUid: r.last_uid === null ? null : Number(r.last_uid),
        checkpointAt: date(r.updated_at),
        holder: r.holder,
        leaseLive: r.live === true,
        leaseExpiresAt: date(r.expires_at),
        state: r.state,
        lastError: r.last_error,
        lastSyncAt: date(r.last_sync_at),
      },
    ]),
  );
}
