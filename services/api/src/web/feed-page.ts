import type { FastifyInstance } from 'fastify';
import { encodeCursor, FEED_LIMIT_DEFAULT, listFeedFiltered, listGroupsWithCounts, reactionsAmong, type GroupSummary } from '@blend/db';
import { createStatusPost, setReaction } from '../use-cases/esn-actions';
import { feedFilter, parseCursor, type FeedQuery } from '../routes/esn-feed';
import { BODY_MAX, TITLE_MAX } from '../routes/esn-schemas';
import { html, type SafeHtml } from './html';
import { csrfField, layout, sendHtml, tHtml, type PageContext } from './layout';
import { liveMessages } from './live-messages';
import { postCard } from './post-view';
import { composerSection, writableGroups } from './composer';

/** Comments shown under each card of the web feed. */
const FEED_CARD_COMMENTS = 3;
import { assertCsrf } from './session';
import { pageContext, safeReturnTo, type WebDeps } from './web-deps';

/** The web pages' feed filters and cursor: like the API's, but an empty field (an unused filter) means "any". */
export const webFeedFilterProperties = {
  cursor: { type: 'string', maxLength: 200 },
  group: { type: 'string', pattern: '^(|[a-z0-9][a-z0-9._-]{0,62})$' },
  author: { type: 'string', maxLength: 320 },
  tag: { type: 'string', pattern: '^(|#?[^\\s#]{1,50})$' },
  source: { type: 'string', enum: ['', 'email', 'esn'] },
  mentions: { type: 'string', enum: ['', 'me'] },
} as const;

/** The web feed's query. */
const webFeedQuery = {
  type: 'object',
  additionalProperties: false,
  properties: webFeedFilterProperties,
} as const;

type WebFeedQuery = { [K in keyof FeedQuery]?: string };

function nonEmpty(q: WebFeedQuery): FeedQuery {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (typeof v === 'string' && v !== '') out[k] = v;
  return out as FeedQuery;
}

const option = (value: string, label: string, selected: string | undefined): SafeHtml =>
  html`<option value="${value}"${value === (selected ?? '') ? html` selected` : ''}>${label}</option>`;

function filters(ctx: PageContext, q: FeedQuery, groups: GroupSummary[]): SafeHtml {
  const { t } = ctx;
  return html`<form method="get" action="/web" class="filters" role="search" aria-label="${t('feed.filter.label')}">
<label>${t('feed.group')} <select name="group">${option('', t('feed.allGroups'), q.group)}${groups.map((g) => option(g.slug, g.name, q.group))}</select></label>
<label>${t('feed.source')} <select name="source">${option('', t('feed.source.any'), q.source)}${option('email', t('feed.source.email'), q.source)}${option('esn', t('feed.source.esn'), q.source)}</select></label>
<label>${t('feed.tag')} <input name="tag" value="${q.tag ?? ''}" maxlength="51" placeholder="${t('feed.tag.example')}"></label>
<label class="check"><input type="checkbox" name="mentions" value="me"${q.mentions === 'me' ? html` checked` : ''}> ${t('feed.mentioningMe')}</label>
<button type="submit">${t('feed.filter')}</button></form>`;
}

function nextLink(ctx: PageContext, q: FeedQuery, next: string | null): SafeHtml | '' {
  if (!next) return '';
  // The filters stay; the cursor is replaced.
  const params = new URLSearchParams({ ...(q as Record<string, string>), cursor: next });
  return html`<nav aria-label="${ctx.t('pages.label')}" class="pages"><a rel="next" href="/web?${params.toString()}">${ctx.t('pages.older')}</a></nav>`;
}

/** `GET /web` (the feed), `POST /web/posts` (compose), `POST /web/posts/:id/like`. */
export function feedPages(app: FastifyInstance, deps: WebDeps): void {
  app.get<{ Querystring: WebFeedQuery }>('/web', { preHandler: deps.auth, schema: { querystring: webFeedQuery } }, async (req, reply) => {
    const ctx = pageContext(req, deps);
    const q = nonEmpty(req.query);
    const [page, groups] = await Promise.all([
      // Each card shows its latest comments; the thread page has them all.
      listFeedFiltered(deps.db, { limit: FEED_LIMIT_DEFAULT, comments: FEED_CARD_COMMENTS, cursor: parseCursor(q.cursor), filter: feedFilter(q, ctx.me!.id), viewerId: ctx.me!.id }),
      listGroupsWithCounts(deps.db, ctx.me!),
    ]);
    const mine = await reactionsAmong(deps.db, ctx.me!.id, page.items.map((p) => p.id));
    const { t } = ctx;
    const main = html`<h1>${t('feed.title')}</h1>
<div id="live" class="live" aria-live="polite" data-live="feed" data-messages="${liveMessages(ctx)}"></div>
${composerSection(ctx, writableGroups(groups), q.group, {}, deps.uploads?.limits)}
${filters(ctx, q, groups)}
<section aria-labelledby="posts-h"><h2 id="posts-h" class="visually-hidden">${t('feed.posts')}</h2>
${page.items.length === 0 ? html`<p>${t('feed.empty')}</p>` : page.items.map((p) => postCard(ctx, p, req.url, mine.get(p.id)))}
</section>
${nextLink(ctx, q, page.next ? encodeCursor(page.next) : null)}`;
    return sendHtml(reply, 200, layout(ctx, { title: t('feed.title'), current: '/web', main, live: true, compose: true }));
  });

  app.post<{ Body: { _csrf?: string; group: string; title?: string; body: string } }>(
    '/web/posts',
    {
      preHandler: deps.auth,
      schema: {
        body: {
          type: 'object',
          required: ['group', 'body'],
          additionalProperties: false,
          properties: { _csrf: { type: 'string' }, group: { type: 'string', maxLength: 63 }, title: { type: 'string', maxLength: TITLE_MAX }, body: { type: 'string', maxLength: BODY_MAX } },
        },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      const { group, title, body } = req.body;
      const id = await createStatusPost(deps, req.person!, { group, body, ...(title ? { title } : {}) });
      return reply.redirect(`/web/posts/${id}`, 303);
    },
  );

  app.post<{ Params: { id: string }; Body: { _csrf?: string; like: 'true' | 'false'; return_to?: string } }>(
    '/web/posts/:id/like',
    {
      preHandler: deps.auth,
      schema: {
        body: {
          type: 'object',
          required: ['like'],
          additionalProperties: false,
          properties: { _csrf: { type: 'string' }, like: { type: 'string', enum: ['true', 'false'] }, return_to: { type: 'string', maxLength: 2000 } },
        },
      },
    },
    async (req, reply) => {
      assertCsrf(req, deps, req.body._csrf);
      await setReaction(deps, req.person!, req.params.id, 'like', req.body.like === 'true');
      return reply.redirect(safeReturnTo(req.body.return_to, `/web/posts/${req.params.id}`), 303);
    },
  );
}
