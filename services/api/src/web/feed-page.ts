import type { FastifyInstance } from 'fastify';
import { encodeCursor, FEED_LIMIT_DEFAULT, listFeedFiltered, listGroupsWithCounts, type GroupSummary } from '@blend/db';
import { createStatusPost, setLike } from '../routes/esn-actions';
import { feedFilter, parseCursor, type FeedQuery } from '../routes/esn-feed';
import { BODY_MAX, TITLE_MAX } from '../routes/esn-schemas';
import { html, type SafeHtml } from './html';
import { csrfField, layout, sendHtml, type PageContext } from './layout';
import { postCard } from './post-view';
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

function filters(q: FeedQuery, groups: GroupSummary[]): SafeHtml {
  return html`<form method="get" action="/web" class="filters" role="search" aria-label="Filter the feed">
<label>Group <select name="group">${option('', 'All groups', q.group)}${groups.map((g) => option(g.slug, g.name, q.group))}</select></label>
<label>Source <select name="source">${option('', 'Email and ESN', q.source)}${option('email', 'Email', q.source)}${option('esn', 'ESN', q.source)}</select></label>
<label>Tag <input name="tag" value="${q.tag ?? ''}" maxlength="51" placeholder="#launch"></label>
<label class="check"><input type="checkbox" name="mentions" value="me"${q.mentions === 'me' ? html` checked` : ''}> Mentioning me</label>
<button type="submit">Filter</button></form>`;
}

function composer(ctx: PageContext, groups: GroupSummary[], current: string | undefined): SafeHtml {
  if (ctx.me?.optIn !== 'opted_in') {
    return html`<p class="notice">You can read the feed. To post, comment or like, <a href="/web/preferences">opt in</a>.</p>`;
  }
  return html`<section class="composer" aria-labelledby="compose-h"><h2 id="compose-h">New post</h2>
<form method="post" action="/web/posts">${csrfField(ctx)}
<label>Group <select name="group" required>${groups.map((g) => option(g.slug, g.name, current ?? 'general'))}</select></label>
<label>Title (optional) <input name="title" maxlength="${TITLE_MAX}"></label>
<label>What's new? <textarea name="body" rows="4" maxlength="${BODY_MAX}" required></textarea></label>
<button type="submit">Post</button></form></section>`;
}

function nextLink(q: FeedQuery, next: string | null): SafeHtml | '' {
  if (!next) return '';
  // The filters stay; the cursor is replaced.
  const params = new URLSearchParams({ ...(q as Record<string, string>), cursor: next });
  return html`<nav aria-label="Pages" class="pages"><a rel="next" href="/web?${params.toString()}">Older posts</a></nav>`;
}

/** `GET /web` (the feed), `POST /web/posts` (compose), `POST /web/posts/:id/like`. */
export function feedPages(app: FastifyInstance, deps: WebDeps): void {
  app.get<{ Querystring: WebFeedQuery }>('/web', { preHandler: deps.auth, schema: { querystring: webFeedQuery } }, async (req, reply) => {
    const ctx = pageContext(req, deps);
    const q = nonEmpty(req.query);
    const [page, groups] = await Promise.all([
      // The cards show the comment count, not the comments: the thread page has them.
      listFeedFiltered(deps.db, { limit: FEED_LIMIT_DEFAULT, comments: 0, cursor: parseCursor(q.cursor), filter: feedFilter(q, ctx.me!.id), viewerId: ctx.me!.id }),
      listGroupsWithCounts(deps.db, ctx.me!),
    ]);
    const main = html`<h1>Feed</h1>
<div id="live" class="live" aria-live="polite" data-live="feed"></div>
${composer(ctx, groups.filter((g) => !g.archivedAt && (g.visibility === 'public' || g.myRole)), q.group)}
${filters(q, groups)}
<section aria-labelledby="posts-h"><h2 id="posts-h" class="visually-hidden">Posts</h2>
${page.items.length === 0 ? html`<p>No posts yet.</p>` : page.items.map((p) => postCard(ctx, p, req.url))}
</section>
${nextLink(q, page.next ? encodeCursor(page.next) : null)}`;
    return sendHtml(reply, 200, layout(ctx, { title: 'Feed', current: '/web', main, live: true }));
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
      await setLike(deps, req.person!, req.params.id, req.body.like === 'true');
      return reply.redirect(safeReturnTo(req.body.return_to, `/web/posts/${req.params.id}`), 303);
    },
  );
}
