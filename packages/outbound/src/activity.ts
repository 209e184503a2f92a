import { planActivityMail } from '@blend/core';
import { activityFacts, insertNotifications, type ActivityEvent, type ThreadFacts, type Tx } from '@blend/db';

/**
 * The mail a new post or comment causes, whether it came by mail (ingest) or through the API:
 * the thread's facts read in the caller's transaction, the mirrors and notifications planned by
 * core (`planActivityMail`), and stored as `notifications` rows in the same transaction
 * (docs/ARCHITECTURE.md "Outbound mail"). The notification sweep turns them into mail.
 *
 * @param coalesceMs how long a mention or reply notification waits to gather others (BLEND_NOTIFY_COALESCE_MS).
 * @returns what the same statement read of the thread (its title, `ev.countPublished`'s count); null when the post is gone.
 */
export async function recordActivity(tx: Tx, ev: ActivityEvent, coalesceMs: number): Promise<ThreadFacts | null> {
  const read = await activityFacts(tx, ev);
  if (!read) return null;
  const { thread, ...facts } = read;
  await insertNotifications(tx, ev, planActivityMail({ ...facts, coalesceMs }));
  return thread;
}
