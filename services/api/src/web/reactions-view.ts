import type { FastifyInstance } from 'fastify';
import { REACTION_EMOJI, REACTION_KINDS, type ReactionKind } from '@blend/core';
import type { EsnPostView } from '@blend/db';
import { setReaction } from '../use-cases/esn-actions';
import { html, type SafeHtml } from './html';
import { csrfField, type PageContext } from './layout';
import { assertCsrf } from './session';
import { safeReturnTo, type WebDeps } from './web-deps';

export const postPath = (id: string): string => `/web/posts/${encodeURIComponent(id)}`;

/** The reactions besides the like, which keeps its own "Like" button (post-view.ts `likeForm`). */
const EMOJI_KINDS = REACTION_KINDS.filter((k) => k !== 'like');

/**
 * The emoji reactions under a post: one plain form (no script needed) with a toggle button per
 * emoji of the allow-list and its count; the button says what it sets (`set=tada:on`), so a
 * second click of a stale page changes nothing. A button's name is the reaction in words and its
 * count ("Love: 2"); `aria-pressed` tells whether the reader gave it. One form per post keeps a
 * feed page small: the CSRF token and the way back are written once.
 */
export function reactionBar(ctx: PageContext, p: Pick<EsnPostView, 'id' | 'reactions'>, mine: readonly ReactionKind[], returnTo: string): SafeHtml {
  const canWrite = ctx.me?.optIn === 'opted_in';
  const button = (kind: ReactionKind) => {
    const { emoji } = REACTION_EMOJI[kind];
    const label = ctx.t(`reaction.${kind}`);
    const n = p.reactions.counts[kind];
    const given = mine.includes(kind);
    return html`<button type="submit" name="set" value="${kind}:${given ? 'off' : 'on'}" class="reaction" aria-pressed="${given ? 'true' : 'false'}" aria-label="${label}: ${n}" title="${label}"${canWrite ? '' : html` disabled`}><span aria-hidden="true">${emoji}</span> <span class="n">${n}</span></button>`;
  };
  return html`<form method="post" action="${postPath(p.id)}/reactions" class="reactions" role="group" aria-label="${ctx.t('reaction.label')}">${csrfField(ctx)}<input type="hidden" name="return_to" value="${returnTo}">${EMOJI_KINDS.map(button)}</form>`;
}

/** `POST /web/posts/:id/reactions`: give or take back one reaction, then back to the page. */
export function reactionPages(app: FastifyInstance, deps: WebDeps): void {
  app.post<{ Params: { id: string }; Body: { _csrf?: string; set: string; return_to?: string } }>(
    '/web/posts/:id/reactions',
    {
      preHandler: deps.auth,
      schema: {
        body: {
          type: 'object',
          required: ['set'],
          additionalProperties: false,
          properties: { _csrf: { type: 'string' }, set: { type: 'string', pattern: `^(${REACTION_KINDS.join('|')}):(on|off)$` }, return_to: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const [kind, state] = req.body.set.split(':') as [ReactionKind, 'on' | 'off'];
      await setReaction(deps, req.person!, req.params.id, kind, state === 'on');
      return reply.redirect(safeReturnTo(req.body.return_to, postPath(req.params.id)), 303);
    },
  );
}
