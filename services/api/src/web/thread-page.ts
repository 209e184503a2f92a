import type { FastifyInstance } from 'fastify';
import { findPostMerge, follow, getEsnPostView, inboundIdsOfThread, isFollowing, reactionsAmong, unfollow } from '@blend/db';
import { isUuid, type AttachmentLimits } from '@blend/core';
import { assertCanWrite, createComment, editComment, loadLivePost, retractComment } from '../use-cases/esn-actions';
import { sendAttachment } from '../routes/attachments';
import { BODY_MAX } from '../routes/esn-schemas';
import { html, type SafeHtml } from './html';
import { csrfField, layout, sendHtml, tHtml, type PageContext } from './layout';
import { liveMessages } from './live-messages';
import { commentItem, postFull, postHref } from './post-view';
import { commentForm } from './composer';
import { assertCsrf } from './session';
import { pageContext, type WebDeps } from './web-deps';
import type { EsnPostView } from '@blend/db';

function commentComposer(ctx: PageContext, p: EsnPostView, limits?: AttachmentLimits): SafeHtml {
  const { t } = ctx;
  if (p.deleted) return html``;
  if (ctx.me?.optIn !== 'opted_in') return html`<p class="notice">${tHtml(t, 'thread.optInToComment', { optIn: html`<a href="/web/preferences">${t('thread.optInToComment.link')}</a>` })}</p>`;
  // Markdown, files and @ suggestions, as the post composer (composer.ts).
  return commentForm(ctx, p.id, limits);
}

/** Follow or stop following the thread: its activity then comes in the digest. */
function followForm(ctx: PageContext, p: EsnPostView, following: boolean): SafeHtml {
  if (p.deleted || ctx.me?.optIn !== 'opted_in') return html``;
  const { t } = ctx;
  return html`<form method="post" action="${postHref(p.id)}/follow" class="inline">${csrfField(ctx)}
<input type="hidden" name="follow" value="${following ? 'off' : 'on'}">
<button type="submit" aria-pressed="${following ? 'true' : 'false'}">${following ? t('thread.following') : t('thread.follow')}</button>
<span class="hint">${following ? t('thread.following.hint') : t('thread.follow.hint')}</span></form>`;
}

/** Comments in time order, email and ESN interleaved, with withheld replies counted. */
function comments(ctx: PageContext, p: EsnPostView, sources: Map<string, string>, limits?: AttachmentLimits): SafeHtml {
  const withheld = p.withheld_replies;
  const { t } = ctx;
  return html`<section id="comments" aria-labelledby="comments-h"><h2 id="comments-h">${t('thread.comments')}</h2>
${p.comments.length === 0 ? html`<p>${t('thread.noComments')}</p>` : html`<ol class="comments">${p.comments.map((c) => commentItem(ctx, c, sources.get(c.id), p.id))}</ol>`}
${withheld > 0 ? html`<p class="withheld">${t('thread.withheld', { count: withheld })}</p>` : ''}
${commentComposer(ctx, p, limits)}</section>`;
}

/** `GET /web/posts/:id` (the thread) and `POST /web/posts/:id/comments`. */
export function threadPages(app: FastifyInstance, deps: WebDeps): void {
  app.get<{ Params: { id: string } }>('/web/posts/:id', { preHandler: deps.auth }, async (req, reply) => {
    const ctx = pageContext(req, deps);
    const post = isUuid(req.params.id) ? await getEsnPostView(deps.db, req.params.id, ctx.me!.id) : undefined;
    if (!post) {
      // A post merged into an earlier thread: old links (mail, bookmarks, webhooks) follow it there.
      const merge = isUuid(req.params.id) ? await findPostMerge(deps.db, req.params.id) : undefined;
      // Only to a thread the reader may see: a private group's merged post is Not found too.
      if (merge && (await getEsnPostView(deps.db, merge.survivingPostId, ctx.me!.id))) return reply.redirect(`${postHref(merge.survivingPostId)}${merge.commentId ? `#c-${merge.commentId}` : ''}`, 308);
      const { t } = ctx;
      return sendHtml(reply, 404, layout(ctx, { title: t('error.title.notFound'), current: '', main: html`<h1>${t('error.title.notFound')}</h1><p>${t('thread.noSuchPost')} <a href="/web">${t('error.back')}</a></p>` }));
    }
    const following = await isFollowing(deps.db, ctx.me!.id, { postId: post.id });
    const mine = await reactionsAmong(deps.db, ctx.me!.id, [post.id]);
    // Admins get a link to each mirrored mail's original (served and audited by /web/admin/inbound/:id/source).
    const sources = ctx.me!.isAdmin && !post.deleted ? await inboundIdsOfThread(deps.db, post.id) : new Map<string, string>();
    // After a report (moderation-pages.ts): say it arrived.
    const reported = (req.query as { reported?: string } | undefined)?.reported === '1';
    const main = html`${reported ? html`<p role="status" class="notice">${ctx.t('thread.reported')}</p>` : ''}<div id="live" class="live" aria-live="polite" data-live="thread" data-post="${post.id}" data-messages="${liveMessages(ctx)}"></div>${postFull(ctx, post, sources.get(post.id), mine.get(post.id))}${followForm(ctx, post, following)}${comments(ctx, post, sources, deps.uploads?.limits)}`;
    return sendHtml(reply, 200, layout(ctx, { title: post.deleted ? ctx.t('post.retracted') : post.title || ctx.t('thread.title'), current: '', main, live: true, compose: true }));
  });

  app.post<{ Params: { id: string }; Body: { _csrf?: string; body: string } }>(
    '/web/posts/:id/comments',
    {
      preHandler: deps.auth,
      schema: {
        body: { type: 'object', required: ['body'], additionalProperties: false, properties: { _csrf: { type: 'string' }, body: { type: 'string', maxLength: BODY_MAX } } },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const id = await createComment(deps, req.person!, req.params.id, req.body.body);
      return reply.redirect(`${postHref(req.params.id)}#c-${id}`, 303);
    },
  );

  app.post<{ Params: { id: string }; Body: { _csrf?: string; follow: 'on' | 'off' } }>(
    '/web/posts/:id/follow',
    {
      preHandler: deps.auth,
      schema: {
        body: { type: 'object', required: ['follow'], additionalProperties: false, properties: { _csrf: { type: 'string' }, follow: { type: 'string', enum: ['on', 'off'] } } },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      assertCanWrite(req.person!);
      const post = await loadLivePost(deps.db, req.params.id, req.person!.id);
      await (req.body.follow === 'on' ? follow : unfollow)(deps.db, req.person!.id, { postId: post.id });
      return reply.redirect(postHref(post.id), 303);
    },
  );

  app.post<{ Params: { id: string }; Body: { _csrf?: string; body: string } }>(
    '/web/comments/:id/edit',
    {
      preHandler: deps.auth,
      schema: {
        body: { type: 'object', required: ['body'], additionalProperties: false, properties: { _csrf: { type: 'string' }, body: { type: 'string', maxLength: BODY_MAX } } },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const postId = await editComment(deps, req.person!, req.params.id, req.body.body, 'markdown');
      return reply.redirect(`${postHref(postId)}#c-${req.params.id}`, 303);
    },
  );

  app.post<{ Params: { id: string }; Body: { _csrf?: string } }>(
    '/web/comments/:id/retract',
    { preHandler: deps.auth, schema: { body: { type: 'object', additionalProperties: false, properties: { _csrf: { type: 'string' } } } } },
    async (req, reply) => {
      assertCsrf(req, deps, req.body?._csrf);
      const { postId, commentId } = await retractComment(deps, req.person!, req.params.id);
      return reply.redirect(`${postHref(postId)}#c-${commentId}`, 303);
    },
  );

  // The thread's files for the signed-in browser (the API serves the same at /api/v1/attachments/:id).
  app.get<{ Params: { id: string } }>('/web/attachments/:id', { preHandler: deps.auth }, async (req, reply) => sendAttachment(deps.db, req.params.id, req.person!.id, reply));
}
