import { formatDateTime, formatRelativeTime, sanitiseHtml, type ReactionKind } from '@blend/core';
import type { EsnCommentView, EsnPostView, PersonRef } from '@blend/db';
import { html, sanitisedHtml, type SafeHtml } from './html';
import { csrfField, tHtml, timeTag, type PageContext } from './layout';
import { hiddenNotice, moderationControls } from './moderation-pages';
import { avatar } from './avatar-view';
import { reactionBar } from './reactions-view';

/** Views of posts and comments shared by the feed and thread pages. */

const tz = (ctx: PageContext): string => ctx.me?.timezone ?? 'UTC';
const who = (p: PersonRef): SafeHtml => html`${avatar(p)}<span class="author" title="${p.email}">${p.name || p.email}</span>`;

/**
 * When something happened, as people say it ("5 minutes ago"), with the exact date and time in
 * the reader's time zone on hover and in `datetime` for machines; as of the page's making.
 */
export function ago(ctx: PageContext, iso: string, now: Date = new Date()): SafeHtml {
  const at = new Date(iso);
  return html`<time datetime="${iso}" title="${formatDateTime(ctx.lang, at, tz(ctx), 'medium')}">${formatRelativeTime(ctx.lang, at, now)}</time>`;
}
export const postHref = (id: string): string => `/web/posts/${encodeURIComponent(id)}`;

/** Stored bodies were sanitised when written; sanitising again costs little and guards old rows. */
const body = (stored: string): SafeHtml => sanitisedHtml(sanitiseHtml(stored));

export const sourceBadge = (ctx: PageContext, source: 'email' | 'esn'): SafeHtml | '' =>
  source === 'email' ? html`<span class="badge" title="${ctx.t('post.byEmail.title')}">${ctx.t('post.byEmail')}</span>` : '';

const edited = (at: string | null, ctx: PageContext): SafeHtml | '' =>
  at ? html` · <span class="edited">${tHtml(ctx.t, 'post.edited', { time: timeTag(at, tz(ctx), ctx.lang) })}</span>` : '';

/** The like button: a plain form POST, so it works without script. */
export function likeForm(ctx: PageContext, p: EsnPostView, returnTo: string): SafeHtml {
  const liked = p.reactions.liked_by_me;
  const n = p.reactions.like;
  const canWrite = ctx.me?.optIn === 'opted_in';
  const { t } = ctx;
  return html`<form method="post" action="${postHref(p.id)}/like" class="inline">
${csrfField(ctx)}<input type="hidden" name="like" value="${liked ? 'false' : 'true'}"><input type="hidden" name="return_to" value="${returnTo}">
<button type="submit" aria-pressed="${liked ? 'true' : 'false'}"${canWrite ? '' : html` disabled title="${t('post.like.optIn')}"`}>${liked ? t('post.liked') : t('post.like')}</button>
<span class="count">${t('post.likes', { count: n })}</span></form>`;
}

function postMeta(ctx: PageContext, p: EsnPostView): SafeHtml {
  const group = html`<a href="/web?group=${encodeURIComponent(p.group.slug)}">${p.group.name}</a>`;
  return html`<p class="meta">${tHtml(ctx.t, 'post.authorInGroup', { author: who(p.author), group })} · ${ago(ctx, p.created_at)}${edited(p.edited_at, ctx)} ${sourceBadge(ctx, p.source)}</p>`;
}

const tagList = (ctx: PageContext, tags: string[]): SafeHtml | '' =>
  tags.length === 0 ? '' : html`<ul class="tags" aria-label="${ctx.t('post.tags')}">${tags.map((t) => html`<li><a href="/web?tag=${encodeURIComponent(t)}">#${t}</a></li>`)}</ul>`;

/**
 * A post in the feed: title linking to its thread, meta, body, like and reactions, and its
 * latest comments with a link to the rest. `mine`: the reader's own reactions to it.
 */
export function postCard(ctx: PageContext, p: EsnPostView, returnTo: string, mine: readonly ReactionKind[] = []): SafeHtml {
  const { t } = ctx;
  return html`<article class="post" aria-labelledby="t-${p.id}">
<header><h3 id="t-${p.id}"><a href="${postHref(p.id)}">${p.title || t('post.untitled')}</a></h3>${postMeta(ctx, p)}</header>
<div class="body">${body(p.body_html)}</div>${tagList(ctx, p.tags)}
<footer>${likeForm(ctx, p, returnTo)}${reactionBar(ctx, p, mine, returnTo)} <a href="${postHref(p.id)}#comments">${t('post.comments', { count: p.comment_count })}</a>${
    p.withheld_replies > 0 ? html` · <span class="withheld">${t('post.withheld', { count: p.withheld_replies })}</span>` : ''
  }</footer>${latestComments(ctx, p)}
</article>`;
}

/** The latest few comments under a feed card (the feed reads them with the page): who, when, what. */
function latestComments(ctx: PageContext, p: EsnPostView): SafeHtml | '' {
  const shown = p.comments.filter((c) => !c.deleted);
  if (shown.length === 0) return '';
  const earlier = p.comment_count - shown.length;
  return html`<section class="latest" aria-label="${ctx.t('post.latestComments')}"><ol class="comments compact">${shown.map(
    (c) => html`<li class="comment-mini"><p class="meta">${who(c.author)} · <a href="${postHref(p.id)}#c-${c.id}">${ago(ctx, c.created_at)}</a></p><div class="body">${body(c.body_html)}</div></li>`,
  )}</ol>${earlier > 0 ? html`<p class="more"><a href="${postHref(p.id)}#comments">${ctx.t('post.earlierComments', { count: earlier })}</a></p>` : ''}</section>`;
}

/** For admins: the original message a post or comment came from, as an audited download. */
const originalLink = (ctx: PageContext, inboundId: string | undefined): SafeHtml | '' =>
  inboundId ? html`<p class="hint"><a href="/web/admin/inbound/${inboundId}/source" download>${ctx.t('post.original')}</a> ${ctx.t('post.original.audited')}</p>` : '';

/**
 * The post at the top of its thread page (a tombstone when retracted); `inboundId` (given to
 * admins only) links the mail it came from.
 */
export function postFull(ctx: PageContext, p: EsnPostView, inboundId?: string, mine: readonly ReactionKind[] = []): SafeHtml {
  const { t } = ctx;
  if (p.deleted) {
    return html`<article class="post tombstone"><h1>${t('post.retracted')}</h1><p>${t('post.retracted.text')}</p></article>`;
  }
  return html`<article class="post" aria-labelledby="title">
<header><h1 id="title">${p.title || t('post.untitled')}</h1>${postMeta(ctx, p)}</header>${hiddenNotice(ctx, p)}
<div class="body">${body(p.body_html)}</div>${trimmedToggle(ctx, p.trimmed_text)}${attachmentList(ctx, p.attachments)}${forwardedList(ctx, p.forwarded)}${tagList(ctx, p.tags)}
${originalLink(ctx, inboundId)}<footer>${likeForm(ctx, p, postHref(p.id))}${reactionBar(ctx, p, mine, postHref(p.id))}${moderationControls(ctx, p.id, p, 'post')}</footer>
</article>`;
}

const IMAGE = /^image\/(png|jpeg|gif|webp)$/;
const kb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);

/**
 * Files of the thread: images that were shown within the mail appear as images (served from
 * Blend itself, never a remote fetch), the rest as downloads with their size and any note.
 */
function attachmentList(ctx: PageContext, list: EsnPostView['attachments']): SafeHtml | '' {
  if (list.length === 0) return '';
  const images = list.filter((a) => a.url && a.inline && IMAGE.test(a.content_type));
  const files = list.filter((a) => !images.includes(a));
  return html`<section class="attachments" aria-label="${ctx.t('post.attachments')}">
${images.map((a) => html`<figure><img src="/web/attachments/${a.id}" alt="${a.name}" loading="lazy"><figcaption>${a.name}</figcaption></figure>`)}
${files.length ? html`<ul>${files.map((a) => html`<li>${a.url ? html`<a href="/web/attachments/${a.id}" download>${a.name}</a>` : html`<span>${a.name}</span>`} <span class="meta">${kb(a.size)}</span>${a.note ? html` <span class="hint">${a.note}</span>` : ''}</li>`)}</ul>` : ''}
</section>`;
}

/** Forwarded messages under the note, attributed and visibly apart from the author's words. */
function forwardedList(ctx: PageContext, list: EsnPostView['forwarded']): SafeHtml | '' {
  if (list.length === 0) return '';
  return html`<section class="forwarded" aria-label="${ctx.t('post.forwarded.label')}">${list.map(
    (f) => html`<details><summary>${ctx.t('post.forwarded')}${f.from ? html`: ${f.from}` : ''}${f.subject ? html` — ${f.subject}` : ''}${f.date ? html` (${f.date})` : ''}</summary><pre class="body">${f.text}</pre></details>`,
  )}</section>`;
}

/**
 * What extraction cut from the mail (quotes, signature, footer), closed until asked for, as
 * Gmail and Discourse do. The view has it only for the mail's own author (withTrimmedText).
 */
function trimmedToggle(ctx: PageContext, text: string | null | undefined): SafeHtml | '' {
  if (!text) return '';
  return html`<details class="trimmed"><summary>${ctx.t('post.trimmed')}</summary><pre class="body">${text}</pre></details>`;
}

/** One comment; a retracted one stays in place as "retracted". `inboundId` as for {@link postFull}. */
export function commentItem(ctx: PageContext, c: EsnCommentView, inboundId?: string, postId?: string): SafeHtml {
  const { t } = ctx;
  if (c.deleted) {
    return html`<li id="c-${c.id}" class="comment tombstone"><p>${t('comment.retracted')} <span class="meta">· ${timeTag(c.created_at, tz(ctx), ctx.lang)}</span></p></li>`;
  }
  return html`<li id="c-${c.id}" class="comment"><article aria-label="${t('comment.by', { name: c.author.name || c.author.email })}">
<p class="meta">${who(c.author)} · ${ago(ctx, c.created_at)}${edited(c.edited_at, ctx)} ${sourceBadge(ctx, c.source)}</p>
${hiddenNotice(ctx, c)}<div class="body">${body(c.body_html)}</div>${trimmedToggle(ctx, c.trimmed_text)}${originalLink(ctx, inboundId)}${ownCommentControls(ctx, c)}${postId ? moderationControls(ctx, postId, c, 'comment') : ''}</article></li>`;
}

/**
 * Edit or retract one's own comment, without scripts. People who got a mirrored comment by
 * mail get a short correction; mail already sent is never rewritten.
 */
function ownCommentControls(ctx: PageContext, c: EsnCommentView): SafeHtml | '' {
  if (!ctx.me || c.author.id !== ctx.me.id || ctx.me.optIn !== 'opted_in' || c.hidden) return '';
  const { t } = ctx;
  return html`<details class="edit"><summary>${t('comment.editOrRetract')}</summary>
<form method="post" action="/web/comments/${c.id}/edit">${csrfField(ctx)}
<label>${t('comment.yours')} <textarea name="body" rows="3" required>${c.body_text}</textarea></label>
<button type="submit">${t('common.save')}</button></form>
<form method="post" action="/web/comments/${c.id}/retract">${csrfField(ctx)}<button type="submit" class="secondary">${t('comment.retract')}</button></form>
</details>`;
}
