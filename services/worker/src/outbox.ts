import { randomUUID } from 'node:crypto';
import { addOutbound, type Tx } from '@blend/db';
import { newMessageId, type Addressing, type NoticeText } from '@blend/core';

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
 * Write a notice to the outbox inside the caller's transaction.
 * @returns the outbox row id, or null when the dedupe key was already used.
 */
export async function queueMail(tx: Tx, addressing: Addressing, m: OutboxMail): Promise<string | null> {
  const id = randomUUID();
  return addOutbound(tx, {
    id,
    kind: m.kind,
    toAddress: m.to,
    personId: m.personId ?? null,
    postId: m.postId ?? null,
    messageId: newMessageId(id, addressing),
    subject: m.notice.subject,
    textBody: m.notice.text,
    inReplyTo: m.inReplyTo ?? null,
    references: m.inReplyTo ? [m.inReplyTo] : [],
    autoSubmitted: m.inReplyTo ? 'auto-replied' : 'auto-generated',
    dedupeKey: m.dedupeKey,
  });
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
