import { languageOf, postLink, preferencesLink, type OutboundMail } from '@blend/core';
import { sql } from 'drizzle-orm';
import {
  dbNow,
  schema,
  finishNotifications,
  lockDueNotifications,
  mirrorMessageId,
  notificationContext,
  saveReplyTokens,
  threadsMessageIds,
  writeOutboundMails,
  type Database,
  type NotificationContext,
  type NotificationOutcome,
  type NotificationRow,
  type NewReplyToken,
  type Tx,
} from '@blend/db';
import { renderCorrectionMail, renderMirrorMail, renderNotificationMail, warmTemplates, type RenderedMail } from '@blend/mail';
import type { Logger, Metrics } from '@blend/runtime';
import { conversationHeaders, replyAddress, unsubscribeHeaders, unsubscribeUrl, type MailSite } from '@blend/outbound';

export interface NotifyDeps {
  db: Database;
  log: Logger;
  site: MailSite;
  metrics?: Metrics;
}

const displayName = (p: { name: string; email: string } | undefined) => (p ? p.name || p.email : 'Someone');

/**
 * Turn due `notifications` rows into mail: one mail per person and thread for mentions and
 * replies (what gathered in the coalescing window), one mirror per ESN comment, one
 * correction per edited or deleted comment. The outbox rows and the rows' new state are
 * written in one transaction; rows another worker holds are skipped.
 * @returns the outbox row ids to queue for sending.
 */
export async function sweepNotifications(deps: NotifyDeps): Promise<string[]> {
  // Most ticks find nothing due: one statement then, not a transaction of four.
  if (!(await anyDue(deps.db))) return [];
  await warmTemplates();
  const written: string[] = [];
  for (let round = 0; round < 20; round++) {
    const batch = await deps.db.transaction(async (tx) => {
      const now = await dbNow(tx);
      const rows = await lockDueNotifications(tx, now, ROUND_ROWS);
      if (rows.length === 0) return null;
      const out: string[] = [];
      const ctx = await notificationContext(tx, rows);
      // The Message-IDs of every thread of the round, in one read (this sweep's own mail does not change them).
      const references = await threadsMessageIds(tx, [...new Set(rows.map((r) => r.postId))]);
      const round: Round = { ctx, now, references, finished: [], tokens: [], mails: [], mirrors: new Map() };
      const groups = new Map<string, NotificationRow[]>();
      for (const r of rows) {
        // Mirrors and corrections are one mail per comment; mentions and replies one per thread.
        const key = r.kind === 'mirror' || r.kind === 'correction' ? `${r.kind}|${r.personId}|${r.commentId}` : `note|${r.personId}|${r.postId}`;
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
      for (const group of groups.values()) await writeGroup(tx, deps, round, group);
      // The round's mails in one statement; a mail whose dedupe key was used before is not written.
      const written = new Set(await writeOutboundMails(tx, deps.site.addressing, round.mails));
      for (const m of round.mails) {
        if (!written.has(m.id)) {
          round.finished.push({ ids: m.notificationIds, outcome: { dropped: 'duplicate' } });
          continue;
        }
        round.finished.push({ ids: m.notificationIds, outcome: { outboundId: m.id } });
        deps.metrics?.outboundQueued.inc({ kind: m.kind });
        out.push(m.id);
      }
      await saveReplyTokens(tx, round.tokens);
      await finishNotifications(tx, round.finished);
      // Fewer than a round's rows: nothing else was due (a round that came after would be empty).
      return { out, more: rows.length >= ROUND_ROWS };
    });
    if (batch === null) break;
    written.push(...batch.out);
    if (!batch.more) break;
  }
  return written;
}

/** Due notifications a sweep round locks at most (with the other pending rows of their people and threads). */
const ROUND_ROWS = 200;

/** Whether any notification is due now (on the database clock): one read, on `notifications_due_idx`. */
async function anyDue(db: Database): Promise<boolean> {
  const n = schema.notifications;
  const r = await db.execute<{ due: boolean }>(sql`select exists (select 1 from ${n} where ${n.state} = 'pending' and ${n.dueAt} <= now()) as due`);
  return r.rows[0]?.due === true;
}

/** What the groups of one sweep round share: settled together at its end. */
interface Round {
  ctx: NotificationContext;
  now: Date;
  /** Each thread's Message-IDs, read once per round for all its threads. */
  references: Map<string, string[]>;
  finished: { ids: string[]; outcome: NotificationOutcome }[];
  /** The reply tokens of the round's mail, stored together. */
  tokens: NewReplyToken[];
  /** The round's mail, written together to the outbox: each with the notifications it settles. */
  mails: { id: string; mail: OutboundMail; notificationIds: string[]; kind: NotificationRow['kind'] }[];
  /** Mirror mails rendered in the round, by comment and language: a comment mirrored to several people is rendered once for each language. */
  mirrors: Map<string, RenderedMail>;
}

/** The mail of one group of due notifications, added to the round's (or the group settled as dropped). */
async function writeGroup(tx: Tx, deps: NotifyDeps, round: Round, group: NotificationRow[]): Promise<void> {
  const { ctx, now } = round;
  const first = group[0]!;
  const ids = group.map((r) => r.id);
  const to = ctx.people.get(first.personId);
  const post = ctx.posts.get(first.postId);
  const drop = (why: string) => void round.finished.push({ ids, outcome: { dropped: why } });
  // Checked again at send time: a person may have opted out or bounced since.
  if (!to || to.optIn === 'opted_out') return drop('opted_out');
  if (to.paused) return drop('paused');
  if (!post || post.deletedAt) return drop('post_gone');
  const site = deps.site;
  const outboundId = crypto.randomUUID();
  const references = round.references.get(post.id) ?? [];
  const postUrl = postLink(site.publicUrl, post.id);
  const preferencesUrl = preferencesLink(site.publicUrl);
  // Blend's words in the reader's language; people's own words stay as written.
  const language = languageOf(to, site.defaultLanguage);
  // Every mail of the sweep is in the thread: a reply to it, to any address, comments there.
  const base = {
    language,
    to: to.email,
    personId: to.id,
    postId: post.id,
    threaded: true,
    headers: { ...conversationHeaders(post, now), ...unsubscribeHeaders(site, unsubscribeUrl(site, to.id, `thread:${post.id}`, now), 'unsubscribe') },
  };

  let mail: OutboundMail;
  if (first.kind === 'mirror' || first.kind === 'correction') {
    const comment = first.commentId ? ctx.comments.get(first.commentId) : undefined;
    if (!comment) return drop('comment_gone');
    const author = ctx.people.get(comment.authorId);
    const fromName = `${displayName(author)} via Blend`;
    const replyTo = issueReply(round, site, to.id, post.id, outboundId);
    if (first.kind === 'mirror') {
      if (comment.deletedAt) return drop('comment_gone');
      // The same for every recipient of the comment who reads the same language (what differs, the reply address and headers, is outside the rendering).
      const key = `${comment.id}|${language}`;
      let m = round.mirrors.get(key);
      if (!m) round.mirrors.set(key, (m = renderMirrorMail({ authorName: displayName(author), text: comment.bodyText, postTitle: post.title, postUrl, preferencesUrl, language })));
      mail = { ...base, kind: 'mirror', commentId: comment.id, subject: m.subject, text: m.text, html: m.html, fromName, replyTo, inReplyTo: references.at(-1) ?? null, references, dedupeKey: `mirror:${comment.id}:${to.id}` };
    } else {
      const mirrored = await mirrorMessageId(tx, comment.id, to.id);
      const m = renderCorrectionMail({
        authorName: displayName(author),
        change: comment.deletedAt ? 'deleted' : 'edited',
        text: comment.deletedAt ? '' : comment.bodyText,
        postTitle: post.title,
        postUrl,
        preferencesUrl,
        language,
      });
      const refs = mirrored ? [...references, mirrored] : references;
      mail = { ...base, kind: 'correction', commentId: comment.id, subject: m.subject, text: m.text, html: m.html, fromName, replyTo, inReplyTo: refs.at(-1) ?? null, references: refs };
    }
  } else {
    const items = group
      .map((r) => {
        const c = r.commentId ? ctx.comments.get(r.commentId) : undefined;
        if (r.commentId && (!c || c.deletedAt)) return null;
        const authorId = c ? c.authorId : post.authorId;
        return { kind: r.kind === 'mention' ? ('mention' as const) : ('reply' as const), authorName: displayName(ctx.people.get(authorId)), text: c ? c.bodyText : post.bodyText, at: c ? c.createdAt : post.createdAt };
      })
      .filter((i): i is NonNullable<typeof i> => i !== null);
    if (items.length === 0) return drop('comment_gone');
    const m = renderNotificationMail({ recipientName: to.name || to.email, threadTitle: post.title, postUrl, items, preferencesUrl, timezone: to.timezone, language });
    const replyTo = issueReply(round, site, to.id, post.id, outboundId);
    mail = { ...base, kind: 'notification', subject: m.subject, text: m.text, html: m.html, replyTo, inReplyTo: references.at(-1) ?? null, references };
  }
  round.mails.push({ id: outboundId, mail, notificationIds: ids, kind: first.kind });
}

/** A reply address for the mail; its token is stored with the round's others. */
function issueReply(round: Round, site: MailSite, personId: string, postId: string, outboundId: string): string {
  const issued = replyAddress(site, personId, postId, outboundId, round.now);
  round.tokens.push(issued.record);
  return issued.address;
}
