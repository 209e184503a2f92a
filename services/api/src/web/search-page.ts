import type { FastifyInstance } from 'fastify';
import { parseSearchQuery, SEARCH_QUERY_MAX } from '@blend/core';
import { encodeSearchCursor, SEARCH_LIMIT_DEFAULT, searchContent, type HighlightSegment, type SearchHit } from '@blend/db';
import { feedFilter, type FeedQuery } from '../routes/esn-feed';
import { parseSearchCursor } from '../routes/esn-search';
import { html, type SafeHtml } from './html';
import { layout, sendHtml, tHtml, timeTag, type PageContext } from './layout';
import { webFeedFilterProperties } from './feed-page';
import { postHref } from './post-view';
import { pageContext, type WebDeps } from './web-deps';

/** The search page's query: the words, the feed's filters (an empty field means "any") and the cursor. */
const webSearchQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    q: { type: 'string', maxLength: SEARCH_QUERY_MAX * 4 },
    ...webFeedFilterProperties,
  },
} as const;

type WebSearchQuery = { [K in keyof FeedQuery | 'q']?: string };

/**
 * A highlight as markup: every segment escaped by `html`, the matches wrapped in `<mark>`. The
 * segments are plain text from the database, so no text can open an element (docs/SECURITY.md B38).
 */
export function highlightHtml(segments: HighlightSegment[]): SafeHtml {
  return html`${segments.map((s) => (s.match ? html`<mark>${s.text}</mark>` : html`${s.text}`))}`;
}

function hitCard(ctx: PageContext, hit: SearchHit, timeZone: string): SafeHtml {
  const { t } = ctx;
  const href = hit.type === 'post' ? postHref(hit.post_id) : `${postHref(hit.post_id)}#c-${hit.id}`;
  const title = hit.highlight.title.length > 0 ? highlightHtml(hit.highlight.title) : html`${t('post.untitled')}`;
  const group = html`<a href="/web?group=${encodeURIComponent(hit.group.slug)}">${hit.group.name}</a>`;
  return html`<li class="card search-hit"><article>
<h3><a href="${href}">${hit.type === 'comment' ? html`<span class="kind">${t('search.commentOn')} </span>` : ''}${title}</a></h3>
<p class="meta">${tHtml(t, 'post.authorInGroup', { author: hit.author.name || hit.author.email, group })} · ${timeTag(hit.created_at, timeZone, ctx.lang)}</p>
<p class="snippet">${highlightHtml(hit.highlight.text)}</p>
</article></li>`;
}

/** The search form of the results page: the words and the group, as on the feed. */
function searchForm(ctx: PageContext, q: string): SafeHtml {
  const { t } = ctx;
  return html`<form method="get" action="/web/search" role="search" aria-label="${t('search.fieldLabel')}" class="filters">
<label for="search-page-q">${t('search.for')}</label> <input id="search-page-q" type="search" name="q" value="${q}" maxlength="${SEARCH_QUERY_MAX}" required>
<button type="submit">${t('search.button')}</button></form>`;
}

/** `GET /web/search?q=`: the results page, without any script. */
export function searchPages(app: FastifyInstance, deps: WebDeps): void {
  app.get<{ Querystring: WebSearchQuery }>('/web/search', { preHandler: deps.auth, schema: { querystring: webSearchQuery } }, async (req, reply) => {
    const ctx = pageContext(req, deps);
    const me = ctx.me!;
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string' && v !== '') query[k] = v;
    const raw = query.q ?? '';
    const { t } = ctx;
    if (raw.trim() === '') {
      const main = html`<h1>${t('search.title')}</h1>${searchForm(ctx, '')}<p>${t('search.intro')}</p>`;
      return sendHtml(reply, 200, layout(ctx, { title: t('search.title'), current: '/web/search', main, q: '' }));
    }
    const parsed = parseSearchQuery(raw);
    if (!parsed.ok) {
      // The parser's message is the API's (English); other languages say it in their words.
      const why = ctx.lang === 'en' ? `${parsed.message.replace(/^q /, 'The search ')}.` : t('search.invalid');
      const main = html`<h1>${t('search.title')}</h1>${searchForm(ctx, raw)}<p role="alert">${why}</p>`;
      return sendHtml(reply, 400, layout(ctx, { title: t('search.title'), current: '/web/search', main, q: raw }));
    }
    const filter = feedFilter(query as FeedQuery, me.id);
    const page = await searchContent(deps.db, { q: parsed.q, viewerId: me.id, limit: SEARCH_LIMIT_DEFAULT, cursor: parseSearchCursor(query.cursor), filter });
    const timeZone = me.timezone ?? 'UTC';
    const next = page.next ? new URLSearchParams({ ...query, cursor: encodeSearchCursor(page.next) }).toString() : null;
    const main = html`<h1>${t('search.title')}</h1>
${searchForm(ctx, parsed.q)}
<section aria-labelledby="results-h"><h2 id="results-h">${t('search.resultsFor', { q: parsed.q })}</h2>
${page.items.length === 0
  ? html`<p>${query.cursor ? t('search.noMore') : t('search.none')}</p>`
  : html`<ol class="results">${page.items.map((h) => hitCard(ctx, h, timeZone))}</ol>`}
</section>
${next ? html`<nav aria-label="${t('pages.label')}" class="pages"><a rel="next" href="/web/search?${next}">${t('search.more')}</a></nav>` : ''}`;
    return sendHtml(reply, 200, layout(ctx, { title: t('search.pageTitle', { q: parsed.q }), current: '/web/search', main, q: parsed.q }));
  });
}
