import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import { DEFAULT_ATTACHMENT_LIMITS, markdownToSafeHtml, PermanentError } from '@blend/core';
import { listGroupsWithCounts, suggestPeople, type GroupSummary } from '@blend/db';
import { createComment, createStatusPost } from '../use-cases/esn-actions';
import { BODY_MAX, SLUG_PATTERN, TITLE_MAX } from '../routes/esn-schemas';
import { readComposerForm } from '../uploads';
import { html, sanitisedHtml, type SafeHtml } from './html';
import { csrfField, layout, sendHtml, tHtml, type PageContext } from './layout';
import { composeMessages } from './live-messages';
import { assertCsrf } from './session';
import { pageContext, type WebDeps } from './web-deps';

/**
 * The web composer: Markdown with a preview, files attached as mail attachments are, `@`
 * suggestions of people. Everything works as plain form posts; /web/static/compose.js only
 * shows the preview in place and offers the suggestions (docs/ARCHITECTURE.md "Web composer").
 */

const COMPOSE_JS = readFileSync(new URL('./static/compose.js', import.meta.url), 'utf8');

/** What the composer shows again after a preview. */
export interface Draft {
  group?: string;
  title?: string;
  body?: string;
}

const mb = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;

const option = (value: string, label: string, selected: string): SafeHtml =>
  html`<option value="${value}"${value === selected ? html` selected` : ''}>${label}</option>`;

/** Groups a person may post in: open, and public or theirs. */
export const writableGroups = (groups: GroupSummary[]): GroupSummary[] => groups.filter((g) => !g.archivedAt && (g.visibility === 'public' || g.myRole));

/** The new-post form of the feed (and of the preview page, filled in with `draft`). */
export function composerSection(ctx: PageContext, groups: GroupSummary[], current: string | undefined, draft: Draft = {}, limits = DEFAULT_ATTACHMENT_LIMITS): SafeHtml {
  const { t } = ctx;
  if (ctx.me?.optIn !== 'opted_in') {
    return html`<p class="notice">${tHtml(t, 'feed.readOnly', { optIn: html`<a href="/web/preferences">${t('feed.readOnly.optIn')}</a>` })}</p>`;
  }
  const selected = draft.group ?? current ?? 'general';
  return html`<section class="composer" aria-labelledby="compose-h"><h2 id="compose-h">${t('composer.heading')}</h2>
<form method="post" action="/web/compose" enctype="multipart/form-data" data-composer data-messages="${composeMessages(ctx)}">${csrfField(ctx)}
<label>${t('feed.group')} <select name="group" required>${groups.map((g) => option(g.slug, g.name, selected))}</select></label>
<label>${t('composer.title')} <input name="title" maxlength="${TITLE_MAX}" value="${draft.title ?? ''}"></label>
<label for="compose-body">${t('composer.body')}</label>
<p class="hint" id="compose-help">${t('composer.markdownHint')}</p>
<div class="mention-anchor"><textarea id="compose-body" name="body" rows="5" maxlength="${BODY_MAX}" required aria-describedby="compose-help" data-mentions>${draft.body ?? ''}</textarea></div>
<label>${t('composer.files')} <input type="file" name="files" multiple aria-describedby="files-help"></label>
<p class="hint" id="files-help">${t('composer.files.hint', { file: mb(limits.maxFileBytes), total: mb(limits.maxTotalBytes) })}</p>
<div class="actions"><button type="submit" name="action" value="preview" class="secondary" data-preview>${t('composer.preview')}</button> <button type="submit" name="action" value="post">${t('composer.post')}</button></div>
<section id="compose-preview" class="preview" aria-live="polite" aria-label="${t('composer.preview')}" hidden></section>
</form></section>`;
}

/**
 * The comment form of a thread: Markdown and files, as the post composer. Its files go out
 * with the comment's mirror mail (within BLEND_ATTACHMENTS_MAX_TOTAL_BYTES).
 */
export function commentForm(ctx: PageContext, postId: string, limits = DEFAULT_ATTACHMENT_LIMITS, draft = ''): SafeHtml {
  const { t } = ctx;
  return html`<form method="post" action="/web/posts/${encodeURIComponent(postId)}/reply" enctype="multipart/form-data" class="composer" data-composer data-messages="${composeMessages(ctx)}">${csrfField(ctx)}
<label for="comment-body">${t('comment.yours')}</label>
<p class="hint" id="comment-help">${t('composer.markdownHint.short')}</p>
<div class="mention-anchor"><textarea id="comment-body" name="body" rows="3" maxlength="${BODY_MAX}" required aria-describedby="comment-help" data-mentions>${draft}</textarea></div>
<label>${t('composer.files')} <input type="file" name="files" multiple aria-describedby="comment-files-help"></label>
<p class="hint" id="comment-files-help">${t('composer.files.hintShort', { file: mb(limits.maxFileBytes), total: mb(limits.maxTotalBytes) })}</p>
<div class="actions"><button type="submit" name="action" value="preview" class="secondary" data-preview>${t('composer.preview')}</button> <button type="submit" name="action" value="post">${t('thread.comment')}</button></div>
<section id="compose-preview" class="preview" aria-live="polite" aria-label="${t('composer.preview')}" hidden></section>
</form>`;
}

/** A Markdown body as it will be shown: the same rendering and sanitiser as a stored post. */
export function previewBody(body: string): SafeHtml {
  return html`<div class="body">${sanitisedHtml(markdownToSafeHtml(body))}</div>`;
}

const composeFields = new Set(['_csrf', 'group', 'title', 'body', 'action']);

function checkFields(f: Record<string, string>): { group: string; title: string; body: string; action: 'post' | 'preview' } {
  for (const k of Object.keys(f)) if (!composeFields.has(k)) throw new PermanentError('VALIDATION', `unknown field ${k}`);
  const group = f.group ?? '';
  const title = f.title ?? '';
  const body = f.body ?? '';
  if (!new RegExp(SLUG_PATTERN).test(group)) throw new PermanentError('VALIDATION', 'choose a group');
  if ([...title].length > TITLE_MAX) throw new PermanentError('VALIDATION', `the title is longer than ${TITLE_MAX} characters`);
  if ([...body].length > BODY_MAX) throw new PermanentError('VALIDATION', `the post is longer than ${BODY_MAX} characters`);
  return { group, title, body, action: f.action === 'preview' ? 'preview' : 'post' };
}

/** `POST /web/compose` and `POST /web/posts/:id/reply` (post or preview, multipart), `POST /web/preview` (the script's preview), `GET /web/people/suggest`. */
export function composerPages(app: FastifyInstance, deps: WebDeps): void {
  app.get('/web/static/compose.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(COMPOSE_JS));

  // Multipart only here: a scope of its own, so no other form takes files.
  void app.register(async (scope) => {
    await scope.register(multipart);
    scope.post('/web/compose', { preHandler: deps.auth }, async (req, reply) => {
      // Text fields at most a body's worth of UTF-8.
      const form = await readComposerForm(req, deps.uploads, BODY_MAX * 4, (fields) => assertCsrf(req, deps, fields._csrf));
      const f = checkFields(form.fields);
      if (f.action === 'preview') {
        const ctx = pageContext(req, deps);
        const { t } = ctx;
        const groups = writableGroups(await listGroupsWithCounts(deps.db, ctx.me!));
        const main = html`<h1>${t('composer.preview')}</h1>
<section class="post preview" aria-labelledby="preview-h"><h2 id="preview-h">${f.title || t('composer.yourPost')}</h2>${previewBody(f.body)}</section>
${form.files.length ? html`<p class="notice">${t('composer.filesAgain.post')}</p>` : ''}
${composerSection(ctx, groups, f.group, f, deps.uploads?.limits)}
<p><a href="/web">${t('error.back')}</a></p>`;
        return sendHtml(reply, 200, layout(ctx, { title: t('composer.preview'), current: '', main, compose: true }));
      }
      const id = await createStatusPost(deps, req.person!, { group: f.group, body: f.body, format: 'markdown', files: form.files, ...(f.title ? { title: f.title } : {}) });
      return reply.redirect(`/web/posts/${id}`, 303);
    });

    scope.post<{ Params: { id: string } }>('/web/posts/:id/reply', { preHandler: deps.auth }, async (req, reply) => {
      const form = await readComposerForm(req, deps.uploads, BODY_MAX * 4, (fields) => assertCsrf(req, deps, fields._csrf));
      const f = checkFields({ group: 'general', ...form.fields });
      if (f.action === 'preview') {
        const ctx = pageContext(req, deps);
        const { t } = ctx;
        const main = html`<h1>${t('composer.preview')}</h1>
<section class="post preview" aria-labelledby="preview-h"><h2 id="preview-h">${t('comment.yours')}</h2>${previewBody(f.body)}</section>
${form.files.length ? html`<p class="notice">${t('composer.filesAgain.comment')}</p>` : ''}
${commentForm(ctx, req.params.id, deps.uploads?.limits, f.body)}
<p><a href="${`/web/posts/${encodeURIComponent(req.params.id)}`}">${t('composer.backToThread')}</a></p>`;
        return sendHtml(reply, 200, layout(ctx, { title: t('composer.preview'), current: '', main, compose: true }));
      }
      const id = await createComment(deps, req.person!, req.params.id, f.body, undefined, { format: 'markdown', files: form.files });
      return reply.redirect(`/web/posts/${encodeURIComponent(req.params.id)}#c-${id}`, 303);
    });
  });

  app.post<{ Body: { _csrf?: string; body: string } }>(
    '/web/preview',
    {
      preHandler: deps.auth,
      schema: { body: { type: 'object', required: ['body'], additionalProperties: false, properties: { _csrf: { type: 'string' }, body: { type: 'string', maxLength: BODY_MAX } } } },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(previewBody(req.body.body).value);
    },
  );

  // People for `@` suggestions: opted-in people only (suggestPeople), for signed-in readers.
  app.get<{ Querystring: { q: string } }>(
    '/web/people/suggest',
    { preHandler: deps.auth, schema: { querystring: { type: 'object', required: ['q'], additionalProperties: false, properties: { q: { type: 'string', minLength: 1, maxLength: 100 } } } } },
    async (req, reply) => reply.header('cache-control', 'no-store').send({ people: (await suggestPeople(deps.db, req.query.q)).map((p) => ({ name: p.name, email: p.email })) }),
  );
}
