import { and, desc, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Database, Tx } from '../client';
import { auditLog, comments, people, posts, reports } from '../schema';
import { emitCommentEvent, emitCommentRemoved, emitPostEvent, emitPostRemoved, refreshEventContent, type EventContext } from './events';
import { groupVisibleTo } from './groups';
import type { EsnPostView } from './esn-post-view';
import { writeOutboundMail } from './outbound';
import { bridgeAddress, hiddenItemNotice, languageOf, postLink, type Addressing, type Language } from '@blend/core';

/**
 * Moderation (docs/SECURITY.md, moderation): an admin hides a post or comment with a reason and
 * may restore it; readers report what they see. A hidden item carries `deleted_at` as well
 * (equal to `hidden_at`), so the visibility predicate and every other reader-facing query
 * treat it exactly as a retracted one: gone from the feed, search, the thread, ActivityStreams,
 * digests, notifications and mirrored mail not yet sent. Unlike a retraction the content stays,
 * shown to its author with the reason and brought back by a restore. The change writes the
 * item's removal event (reason `hidden`) and an audit entry in one transaction.
 */

export type ModerationTarget = { kind: 'post'; id: string } | { kind: 'comment'; id: string };

/** What a hide or restore did: `done`, `unchanged` (already so), or `missing` (no such item, or retracted/erased). */
export type ModerationOutcome = 'done' | 'unchanged' | 'missing';

/** A hidden item's moderation facts, for its author's view. */
export interface HiddenInfo {
  hidden_at: string;
  reason: string;
}

async function rowOf(tx: Tx, t: ModerationTarget) {
  const table = t.kind === 'post' ? posts : comments;
  const [row] = await tx
    .select({ id: table.id, deletedAt: table.deletedAt, hiddenAt: table.hiddenAt, authorId: table.authorId })
    .from(table)
    .where(eq(table.id, t.id))
    .for('update');
  return row;
}

/** How a hide tells the author: the installation's addresses; the outbox row ids written are pushed to `queued`. */
export interface HideNotify {
  addressing: Addressing;
  publicUrl?: string | null;
  /** The notice's language for an author who has not chosen one (BLEND_DEFAULT_LANGUAGE). @defaultValue 'en' */
  defaultLanguage?: Language;
  queued: string[];
}

/**
 * Hide an item (audited, `*.deleted` event with reason `hidden`); its open reports are resolved
 * as `hidden`. With `notify`, an opted-in author gets a mail saying what and why, written to the
 * outbox in the same transaction (the caller enqueues its send; the reconciler would find it).
 */
export async function hideItem(db: Database, t: ModerationTarget, actor: string, reason: string, ctx: EventContext = {}, notify?: HideNotify): Promise<ModerationOutcome> {
  return db.transaction(async (tx) => {
    const row = await rowOf(tx, t);
    if (!row) return 'missing';
    if (row.hiddenAt && row.deletedAt && row.deletedAt.getTime() === row.hiddenAt.getTime()) return 'unchanged';
    if (row.deletedAt) return 'missing';
    const now = new Date();
    const set = { deletedAt: now, hiddenAt: now, hiddenBy: actor, hiddenReason: reason };
    if (t.kind === 'post') {
      await tx.update(posts).set(set).where(eq(posts.id, t.id));
      await emitPostRemoved(tx, t.id, 'hidden');
    } else {
      await tx.update(comments).set(set).where(eq(comments.id, t.id));
      await emitCommentRemoved(tx, t.id, 'hidden', ctx);
    }
    await tx.insert(auditLog).values({ action: `hide_${t.kind}`, actor, subject: t.id, detail: { reason, author: row.authorId } });
    await tx
      .update(reports)
      .set({ resolvedAt: now, resolvedBy: actor, resolution: 'hidden' })
      .where(and(isNull(reports.resolvedAt), t.kind === 'post' ? and(eq(reports.postId, t.id), isNull(reports.commentId)) : eq(reports.commentId, t.id)));
    if (notify) {
      const [a] = await tx.select({ email: people.email, optIn: people.optIn, language: people.language }).from(people).where(eq(people.id, row.authorId));
      const postId = t.kind === 'post' ? t.id : (await tx.select({ postId: comments.postId }).from(comments).where(eq(comments.id, t.id)))[0]?.postId;
      const [p] = postId ? await tx.select({ title: posts.title }).from(posts).where(eq(posts.id, postId)) : [];
      if (a && a.optIn === 'opted_in' && postId) {
        const notice = hiddenItemNotice({ kind: t.kind, title: p?.title ?? '', reason, postUrl: notify.publicUrl ? postLink(notify.publicUrl, postId) : null, bridge: bridgeAddress(notify.addressing, { kind: 'status' }), lang: languageOf(a, notify.defaultLanguage) });
        // No post or comment id on the row: the outbox voids mail about a removed item, and this
        // mail is about exactly that.
        const queued = await writeOutboundMail(tx, notify.addressing, {
          kind: 'moderation',
          to: a.email,
          personId: row.authorId,
          ...notice,
          dedupeKey: `hidden:${t.kind}:${t.id}:${now.toISOString()}`,
        });
        if (queued) notify.queued.push(queued);
      }
    }
    return 'done';
  });
}

/**
 * Bring a hidden item back (audited): readers see it again and the receivers of events get it
 * again as `post.created`/`comment.created`, the earlier events regaining its content. An item
 * retracted or erased while hidden stays gone (its `deleted_at` moved on).
 */
export async function restoreItem(db: Database, t: ModerationTarget, actor: string, ctx: EventContext = {}): Promise<ModerationOutcome> {
  return db.transaction(async (tx) => {
    const row = await rowOf(tx, t);
    if (!row) return 'missing';
    if (!row.deletedAt) return 'unchanged';
    if (!row.hiddenAt || row.deletedAt.getTime() !== row.hiddenAt.getTime()) return 'missing';
    const set = { deletedAt: null, hiddenAt: null, hiddenBy: null, hiddenReason: null };
    if (t.kind === 'post') {
      await tx.update(posts).set(set).where(eq(posts.id, t.id));
      await emitPostEvent(tx, 'post.created', t.id, ctx);
      await refreshEventContent(tx, { postId: t.id });
    } else {
      await tx.update(comments).set(set).where(eq(comments.id, t.id));
      await emitCommentEvent(tx, 'comment.created', t.id, ctx);
      await refreshEventContent(tx, { commentId: t.id });
    }
    await tx.insert(auditLog).values({ action: `restore_${t.kind}`, actor, subject: t.id, detail: { author: row.authorId } });
    return 'done';
  });
}

/**
 * The moderation facts of a post's hidden parts, for a viewer who may see them (the author, or
 * an admin): the post's own, and each hidden comment's, with their content.
 */
export async function hiddenPartsOf(
  db: Tx,
  postId: string,
): Promise<{ post: (HiddenInfo & { authorId: string; title: string; bodyText: string; bodyHtml: string }) | null; comments: Map<string, HiddenInfo & { authorId: string; bodyText: string; bodyHtml: string }> }> {
  const [p] = await db
    .select({ authorId: posts.authorId, hiddenAt: posts.hiddenAt, reason: posts.hiddenReason, deletedAt: posts.deletedAt, title: posts.title, bodyText: posts.bodyText, bodyHtml: posts.bodyHtml })
    .from(posts)
    .where(and(eq(posts.id, postId), isNotNull(posts.hiddenAt)));
  const cs = await db
    .select({ id: comments.id, authorId: comments.authorId, hiddenAt: comments.hiddenAt, reason: comments.hiddenReason, deletedAt: comments.deletedAt, bodyText: comments.bodyText, bodyHtml: comments.bodyHtml })
    .from(comments)
    .where(and(eq(comments.postId, postId), isNotNull(comments.hiddenAt), sql`${comments.deletedAt} = ${comments.hiddenAt}`));
  const live = (d: Date | null, h: Date | null) => !!d && !!h && d.getTime() === h.getTime();
  return {
    post: p && live(p.deletedAt, p.hiddenAt) ? { authorId: p.authorId, hidden_at: p.hiddenAt!.toISOString(), reason: p.reason ?? '', title: p.title, bodyText: p.bodyText, bodyHtml: p.bodyHtml } : null,
    comments: new Map(cs.map((c) => [c.id, { authorId: c.authorId, hidden_at: c.hiddenAt!.toISOString(), reason: c.reason ?? '', bodyText: c.bodyText, bodyHtml: c.bodyHtml }])),
  };
}

/** What {@link reportItem} did. */
export type ReportOutcome = 'created' | 'exists' | 'missing';

/**
 * A reader reports a post (or one of its comments) they can see: one open report per reader
 * and item, a second is `exists`. `missing` when the reader cannot see it (as for nothing).
 */
export async function reportItem(db: Database, r: { reporterId: string; postId: string; commentId?: string | null; reason: string }): Promise<ReportOutcome> {
  return db.transaction(async (tx) => {
    const [p] = await tx
      .select({ id: posts.id })
      .from(posts)
      .where(and(eq(posts.id, r.postId), isNull(posts.deletedAt), groupVisibleTo(posts.groupId, r.reporterId)));
    if (!p) return 'missing';
    if (r.commentId) {
      const [c] = await tx.select({ id: comments.id }).from(comments).where(and(eq(comments.id, r.commentId), eq(comments.postId, r.postId), isNull(comments.deletedAt)));
      if (!c) return 'missing';
    }
    const rows = await tx.execute(sql`
      insert into reports (reporter_id, post_id, comment_id, reason) values (${r.reporterId}, ${r.postId}, ${r.commentId ?? null}, ${r.reason})
      on conflict (reporter_id, post_id, coalesce(comment_id, '00000000-0000-0000-0000-000000000000'::uuid)) where resolved_at is null do nothing
      returning id`);
    return rows.rows.length > 0 ? 'created' : 'exists';
  });
}

/** An open report in the moderation queue. */
export interface ReportView {
  id: string;
  post: { id: string; title: string };
  comment_id: string | null;
  /** The reported text (the comment's, or the post's), cut to 300 characters. */
  excerpt: string;
  author: { id: string; email: string; name: string };
  reporter: { id: string; email: string; name: string };
  reason: string;
  created_at: string;
}

/** The open reports, oldest first (the queue an admin works through). */
export async function listOpenReports(db: Tx, limit = 100): Promise<ReportView[]> {
  const rows = await db.execute<{
    id: string; post_id: string; title: string; comment_id: string | null; excerpt: string; author_id: string; author_email: string; author_name: string;
    reporter_id: string; reporter_email: string; reporter_name: string; reason: string; created_at: Date | string;
  }>(sql`
    select r.id, r.post_id, p.title, r.comment_id, left(coalesce(c.body_text, p.body_text), 300) as excerpt,
      a.id as author_id, a.email as author_email, a.name as author_name,
      rp.id as reporter_id, rp.email as reporter_email, rp.name as reporter_name, r.reason, r.created_at
    from reports r join posts p on p.id = r.post_id left join comments c on c.id = r.comment_id
      join people a on a.id = coalesce(c.author_id, p.author_id) join people rp on rp.id = r.reporter_id
    where r.resolved_at is null order by r.created_at, r.id limit ${limit}`);
  return rows.rows.map((r) => ({
    id: r.id,
    post: { id: r.post_id, title: r.title },
    comment_id: r.comment_id,
    excerpt: r.excerpt,
    author: { id: r.author_id, email: r.author_email, name: r.author_name },
    reporter: { id: r.reporter_id, email: r.reporter_email, name: r.reporter_name },
    reason: r.reason,
    created_at: new Date(r.created_at).toISOString(),
  }));
}

/** Close an open report without hiding anything (audited). @returns false when no such open report. */
export async function dismissReport(db: Database, id: string, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const done = await tx
      .update(reports)
      .set({ resolvedAt: new Date(), resolvedBy: actor, resolution: 'dismissed' })
      .where(and(eq(reports.id, id), isNull(reports.resolvedAt)))
      .returning({ id: reports.id });
    if (done.length === 0) return false;
    await tx.insert(auditLog).values({ action: 'dismiss_report', actor, subject: id, detail: {} });
    return true;
  });
}

/** An item hidden now, for the admin page's "recently hidden" list. */
export interface HiddenItemView {
  kind: 'post' | 'comment';
  id: string;
  post_id: string;
  title: string;
  author: { id: string; email: string; name: string };
  reason: string;
  hidden_at: string;
}

/** Items hidden now, newest first. */
export async function listHiddenItems(db: Tx, limit = 50): Promise<HiddenItemView[]> {
  const ps = await db
    .select({ id: posts.id, title: posts.title, reason: posts.hiddenReason, at: posts.hiddenAt, a: { id: people.id, email: people.email, name: people.name } })
    .from(posts)
    .innerJoin(people, eq(people.id, posts.authorId))
    .where(and(isNotNull(posts.hiddenAt), sql`${posts.deletedAt} = ${posts.hiddenAt}`))
    .orderBy(desc(posts.hiddenAt))
    .limit(limit);
  const cs = await db
    .select({ id: comments.id, postId: comments.postId, title: posts.title, reason: comments.hiddenReason, at: comments.hiddenAt, a: { id: people.id, email: people.email, name: people.name } })
    .from(comments)
    .innerJoin(posts, eq(posts.id, comments.postId))
    .innerJoin(people, eq(people.id, comments.authorId))
    .where(and(isNotNull(comments.hiddenAt), sql`${comments.deletedAt} = ${comments.hiddenAt}`))
    .orderBy(desc(comments.hiddenAt))
    .limit(limit);
  return [
    ...ps.map((p) => ({ kind: 'post' as const, id: p.id, post_id: p.id, title: p.title, author: p.a, reason: p.reason ?? '', hidden_at: p.at!.toISOString() })),
    ...cs.map((c) => ({ kind: 'comment' as const, id: c.id, post_id: c.postId, title: c.title, author: c.a, reason: c.reason ?? '', hidden_at: c.at!.toISOString() })),
  ]
    .sort((x, y) => y.hidden_at.localeCompare(x.hidden_at))
    .slice(0, limit);
}

/**
 * A thread as `viewerId` may see it with moderation applied: a hidden post is nothing (404) to
 * everyone but its author, who sees it with `hidden` (when and why); a hidden comment is a
 * tombstone like a retracted one, except to its author.
 */
export async function withModeration(db: Tx, view: EsnPostView, viewerId: string | null): Promise<EsnPostView | undefined> {
  const anyDeleted = view.deleted || view.comments.some((c) => c.deleted);
  if (!anyDeleted) return view;
  const hidden = await hiddenPartsOf(db, view.id);
  let out = view;
  if (hidden.post) {
    if (hidden.post.authorId !== viewerId) return undefined;
    const { deleted: _deleted, ...rest } = out;
    out = { ...rest, title: hidden.post.title, body_text: hidden.post.bodyText, body_html: hidden.post.bodyHtml, hidden: { hidden_at: hidden.post.hidden_at, reason: hidden.post.reason } };
  }
  if (hidden.comments.size > 0) {
    out = {
      ...out,
      comments: out.comments.map((c) => {
        const h = hidden.comments.get(c.id);
        if (!h || h.authorId !== viewerId) return c;
        const { deleted: _deleted, ...rest } = c;
        return { ...rest, body_text: h.bodyText, body_html: h.bodyHtml, hidden: { hidden_at: h.hidden_at, reason: h.reason } };
      }),
    };
  }
  return out;
}
