import { writeOutboundMail, type Tx } from '@blend/db';
import { answering, type Addressing, type NoticeText } from '@blend/core';

export interface OutboxMail {
  kind: string;
  to: string;
  notice: NoticeText;
  personId?: string | null;
  postId?: string | null;
  /** At most one mail per key (e.g. one invitation per address per week). */
  dedupeKey: string;
  /** Answering a mail: thread the notice under it and mark it `auto-replied` (RFC 3834). */
  inReplyTo?: string | null;
}

/**
 * {@link writeOutboundMail} for a plain-text notice, answering the mail it is about.
 * @returns the outbox row id, or null when the dedupe key was already used.
 */
export async function queueMail(tx: Tx, addressing: Addressing, m: OutboxMail): Promise<string | null> {
  const { notice, inReplyTo, ...rest } = m;
  return writeOutboundMail(tx, addressing, { ...rest, ...notice, ...answering(inReplyTo) });
}

/** ISO-8601 week of a date, `2026-W48`: the period of "at most one notice per week". */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((t.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
