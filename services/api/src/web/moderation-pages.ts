import type { FastifyInstance } from 'fastify';
import { isUuid, PermanentError } from '@blend/core';
import { dismissReport, hideItem, reportItem, restoreItem, type EsnCommentView, type EsnPostView, type HiddenItemView, type ReportView } from '@blend/db';
import { MODERATION_REASON_MAX } from '../routes/moderation';
import { html, type SafeHtml } from './html';
import { csrfField, tHtml, timeTag, type PageContext } from './layout';
import { assertCsrf } from './session';
import type { WebDeps } from './web-deps';

/**
 * Moderation on the web pages, all plain forms that work without script (docs/SECURITY.md,
 * moderation): a reader's "Report", an admin's "Hide" under a post or comment, the admin
 * page's queue with hide, dismiss and restore, and the notice its author sees on a hidden item.
 */

const postHref = (id: string): string => `/web/posts/${encodeURIComponent(id)}`;
const reasonField = (label: string, value = ''): SafeHtml =>
  html`<label>${label} <input type="text" name="reason" maxlength="${MODERATION_REASON_MAX}" required value="${value}"></label>`;

/** What the author of a hidden item sees on it. */
export function hiddenNotice(ctx: PageContext, item: { hidden?: { hidden_at: string; reason: string } }): SafeHtml | '' {
  if (!item.hidden) return '';
  return html`<p class="notice moderated" role="note"><strong>${ctx.t('moderation.hiddenBy')}</strong> ${tHtml(ctx.t, 'moderation.hiddenReason', { reason: item.hidden.reason })}</p>`;
}

/**
 * Under a post or comment: "Report" for readers other than its author, and "Hide" for admins.
 * Closed until asked for (a details element), so they cost nothing to the page.
 */
export function moderationControls(ctx: PageContext, postId: string, item: EsnPostView | EsnCommentView, kind: 'post' | 'comment'): SafeHtml | '' {
  if (!ctx.me || item.deleted || item.hidden) return '';
  const target = kind === 'comment' ? html`<input type="hidden" name="comment" value="${item.id}">` : '';
  const { t } = ctx;
  const report =
    item.author.id === ctx.me.id
      ? ''
      : html`<details class="report"><summary>${t('moderation.report')}</summary>
<form method="post" action="${postHref(postId)}/report">${csrfField(ctx)}${target}${reasonField(t('moderation.report.why'))}
<button type="submit" class="secondary">${t('moderation.report.send')}</button></form></details>`;
  const hide = ctx.me.isAdmin
    ? html`<details class="hide"><summary>${t('moderation.hideAdmin')}</summary>
<form method="post" action="/web/admin/${kind}s/${item.id}/hide">${csrfField(ctx)}<input type="hidden" name="return_to" value="${postHref(postId)}">${reasonField(t('moderation.reasonForAuthor'))}
<button type="submit" class="secondary">${t('moderation.hide')}</button></form></details>`
    : '';
  return html`${report}${hide}`;
}

/** The admin page's "Moderation" section: open reports with hide and dismiss, hidden items with restore. */
export function moderationSection(ctx: PageContext, reports: ReportView[], hidden: HiddenItemView[], flash: string | undefined): SafeHtml {
  const tz = ctx.me?.timezone ?? 'UTC';
  const { t } = ctx;
  const aComment = (commentId: string | null) => (commentId ? ` ${t('moderation.aComment')}` : '');
  const itemLink = (postId: string, commentId: string | null, title: string) =>
    html`<a href="${postHref(postId)}${commentId ? `#c-${commentId}` : ''}">${title || t('post.untitled')}</a>${aComment(commentId)}`;
  const message = flash && FLASHES.has(flash) ? t(`moderation.flash.${flash}`) : undefined;
  const col = (key: string) => html`<th scope="col">${t(key)}</th>`;
  return html`<section aria-labelledby="moderation-h"><h2 id="moderation-h">${t('moderation.heading')}</h2>${message ? html`<p role="status" class="notice">${message}</p>` : ''}
<h3>${t('moderation.reports')}</h3>
${
  reports.length === 0
    ? html`<p>${t('moderation.reports.none')}</p>`
    : html`<div class="scroll"><table class="reports"><caption class="visually-hidden">${t('moderation.reports.caption')}</caption>
<thead><tr>${col('moderation.col.item')}${col('moderation.col.author')}${col('moderation.col.reportedBy')}${col('moderation.col.reason')}${col('moderation.col.when')}${col('moderation.col.action')}</tr></thead>
<tbody>${reports.map(
        (r) => html`<tr><td>${itemLink(r.post.id, r.comment_id, r.post.title)}<br><span class="hint">${r.excerpt}</span></td><td>${r.author.name || r.author.email}</td><td>${r.reporter.name || r.reporter.email}</td><td>${r.reason}</td><td>${timeTag(r.created_at, tz, ctx.lang)}</td>
<td><form method="post" action="/web/admin/${r.comment_id ? 'comments' : 'posts'}/${r.comment_id ?? r.post.id}/hide">${csrfField(ctx)}${reasonField(t('moderation.reasonForAuthor'), r.reason)}<button type="submit">${t('moderation.hide')}</button></form>
<form method="post" action="/web/admin/reports/${r.id}/dismiss" class="inline">${csrfField(ctx)}<button type="submit" class="secondary">${t('moderation.dismiss')}</button></form></td></tr>`,
      )}</tbody></table></div>`
}
<h3>${t('moderation.hiddenNow')}</h3>
${
  hidden.length === 0
    ? html`<p>${t('moderation.hiddenNow.none')}</p>`
    : html`<div class="scroll"><table class="hidden-items"><caption class="visually-hidden">${t('moderation.hiddenNow.caption')}</caption>
<thead><tr>${col('moderation.col.item')}${col('moderation.col.author')}${col('moderation.col.reason')}${col('moderation.col.hidden')}${col('moderation.col.action')}</tr></thead>
<tbody>${hidden.map(
        (h) => html`<tr><td>${h.title || t('post.untitled')}${aComment(h.kind === 'comment' ? h.id : null)}</td><td>${h.author.name || h.author.email}</td><td>${h.reason}</td><td>${timeTag(h.hidden_at, tz, ctx.lang)}</td>
<td><form method="post" action="/web/admin/${h.kind}s/${h.id}/restore" class="inline">${csrfField(ctx)}<button type="submit" class="secondary" aria-label="${t('moderation.restore.label', { item: h.title || t('moderation.theItem') })}">${t('moderation.restore')}</button></form></td></tr>`,
      )}</tbody></table></div>`
}
</section>`;
}

/** What `?moderation=` on the admin page confirms (messages `moderation.flash.*`). */
const FLASHES = new Set(['hidden', 'restored', 'dismissed', 'gone']);

const formBody = (extra: Record<string, object> = {}, required: string[] = []) => ({
  type: 'object',
  required,
  additionalProperties: false,
  properties: { _csrf: { type: 'string' }, ...extra },
});
const reasonBody = { type: 'string', minLength: 1, maxLength: MODERATION_REASON_MAX };

/** The forms' endpoints: a reader's report, and the admin's hide, restore and dismiss (all CSRF-checked). */
export function moderationPages(app: FastifyInstance, deps: WebDeps): void {
  const ctxOf = { publicUrl: deps.publicUrl ?? null };
  const admin = (req: { person?: { isAdmin: boolean } | null }) => {
    if (!req.person?.isAdmin) throw new PermanentError('FORBIDDEN', 'this needs the admin role');
  };
  // A safe place to go back to: a thread of this site, else the admin page.
  const back = (to: string | undefined, flash: string) => (to && /^\/web\/posts\/[0-9a-f-]{36}$/.test(to) ? to : `/web/admin?moderation=${flash}#moderation-h`);

  app.post<{ Params: { id: string }; Body: { _csrf?: string; reason: string; comment?: string } }>(
    '/web/posts/:id/report',
    { preHandler: deps.auth, schema: { body: formBody({ reason: reasonBody, comment: { type: 'string', maxLength: 100 } }, ['reason']) } },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const { id } = req.params;
      const comment = req.body.comment;
      const outcome =
        isUuid(id) && (comment === undefined || isUuid(comment)) ? await reportItem(deps.db, { reporterId: req.person!.id, postId: id, commentId: comment ?? null, reason: req.body.reason }) : 'missing';
      if (outcome === 'missing') throw new PermanentError('NOT_FOUND', 'no such post');
      return reply.redirect(`${postHref(id)}?reported=1${comment ? `#c-${comment}` : ''}`, 303);
    },
  );

  for (const kind of ['post', 'comment'] as const) {
    app.post<{ Params: { id: string }; Body: { _csrf?: string; reason: string; return_to?: string } }>(
      `/web/admin/${kind}s/:id/hide`,
      { preHandler: deps.auth, schema: { body: formBody({ reason: reasonBody, return_to: { type: 'string', maxLength: 200 } }, ['reason']) } },
      async (req, reply) => {
        assertCsrf(req, deps, req.body._csrf);
        admin(req);
        // The author's notice goes into the outbox; the worker's reconciler sends it (these pages have no send queue).
        const notify = { addressing: deps.addressing, publicUrl: deps.publicUrl ?? null, queued: [] as string[] };
        const outcome = isUuid(req.params.id) ? await hideItem(deps.db, { kind, id: req.params.id }, req.person!.id, req.body.reason, ctxOf, notify) : 'missing';
        return reply.redirect(outcome === 'missing' ? back(undefined, 'gone') : back(req.body.return_to, 'hidden'), 303);
      },
    );
    app.post<{ Params: { id: string }; Body: { _csrf?: string } }>(
      `/web/admin/${kind}s/:id/restore`,
      { preHandler: deps.auth, schema: { body: formBody() } },
      async (req, reply) => {
        assertCsrf(req, deps, req.body?._csrf);
        admin(req);
        const outcome = isUuid(req.params.id) ? await restoreItem(deps.db, { kind, id: req.params.id }, req.person!.id, ctxOf) : 'missing';
        return reply.redirect(back(undefined, outcome === 'missing' ? 'gone' : 'restored'), 303);
      },
    );
  }

  app.post<{ Params: { id: string }; Body: { _csrf?: string } }>(
    '/web/admin/reports/:id/dismiss',
    { preHandler: deps.auth, schema: { body: formBody() } },
    async (req, reply) => {
      assertCsrf(req, deps, req.body?._csrf);
      admin(req);
      const done = isUuid(req.params.id) && (await dismissReport(deps.db, req.params.id, req.person!.id));
      return reply.redirect(back(undefined, done ? 'dismissed' : 'gone'), 303);
    },
  );
}
