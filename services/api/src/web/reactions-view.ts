import type { FastifyInstance } from 'fastify';
import { REACTION_EMOJI, REACTION_KINDS, type ReactionKind } from '@blend/core';
import type { EsnPostView } from '@blend/db';
import { setReaction } from '../routes/esn-actions';
import { html, type SafeHtml } from './html';
import { csrfField, type PageContext } from './layout';
import { assertCsrf } from './session';
import { safeReturnTo, type WebDeps } from './web-deps';

export const postPath = (id: string): string => `/web/posts/${encodeURIComponent(id)}`;

/** The reactions besides the like, which keeps its own "Like" button (post-view.ts `likeForm`). */
const EMOJI_KINDS = REACTION_KINDS.filter((k) => k !== 'like');

/**
 * The emoji reactions under a post: one toggle button per emoji of the allow-list with its
 * count, each a plain form post (no script needed). A button's name is the reaction in words
 * and its count ("Love: 2"); `aria-pressed` tells whether the reader gave it.
 */
export function reactionBar(ctx: PageContext, p: Pick<EsnPostView, 'id' | 'reactions'>, mine: readonly ReactionKind[], returnTo: string): SafeHtml {
  const canWrite = ctx.me?.optIn === 'opted_in';
  const button = (kind: ReactionKind) => {
    const { emoji } = REACTION_EMOJI[kind];
    const label = ctx.t(`reaction.${kind}`);
    const n = p.reactions.counts[kind];
    const given = mine.includes(kind);
    return html`<form method="post" action="${postPath(p.id)}/reactions" class="reaction">${csrfField(ctx)}<input type="hidden" name="kind" value="${kind}"><input type="hidden" name="on" value="${given ? 'false' : 'true'}"><input type="hidden" name="return_to" value="${returnTo}"><button type="submit" class="reaction" aria-pressed="${given ? 'true' : 'false'}" aria-label="${label}: ${n}" title="${label}"${canWrite ? '' : html` disabled`}><span aria-hidden="true">${emoji}</span> <span class="n">${n}</span></button></form>`;
  };
  return html`<div class="reactions" role="group" aria-label="${ctx.t('reaction.label')}">${EMOJI_KINDS.map(button)}</div>`;
}

/** `POST /web/posts/:id/reactions`: give or take back one reaction, then back to the page. */
export function reactionPages(app: FastifyInstance, deps: WebDeps): void {
  app.post<{ Params: { id: string }; Body: { _csrf?: string; kind: ReactionKind; on: 'true' | 'false'; return_to?: string } }>(
    '/web/posts/:id/reactions',
    {
      preHandler: deps.auth,
      schema: {
        body: {
          type: 'object',
          required: ['kind', 'on'],
          additionalProperties: false,
          properties: { _csrf: { type: 'string' }, kind: { type: 'string', enum: [...REACTION_KINDS] }, on: { type: 'string', enum: ['true', 'false'] }, return_to: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      await setReaction(deps, req.person!, req.params.id, req.body.kind, req.body.on === 'true');
      return reply.redirect(safeReturnTo(req.body.return_to, postPath(req.params.id)), 303);
    },
  );
}
