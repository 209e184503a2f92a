import type { FastifyInstance } from 'fastify';
import { parseSearchQuery, PermanentError, SEARCH_QUERY_MAX } from '@blend/core';
import { decodeSearchCursor, encodeSearchCursor, SEARCH_LIMIT_DEFAULT, SEARCH_LIMIT_MAX, searchContent, type Database, type SearchCursor } from '@blend/db';
import { requirePerson } from '../auth';
import { feedFilter, feedQuerySchema, type FeedQuery } from './esn-feed';
import { searchResponses } from './esn-responses';
import { BEARER } from './esn-schemas';

export interface SearchQueryString extends Omit<FeedQuery, 'comments'> {
  q: string;
}

const { comments: _comments, ...feedFilters } = feedQuerySchema.properties;

/** The feed's filters and cursor, plus `q`. */
export const searchQuerySchema = {
  type: 'object',
  required: ['q'],
  additionalProperties: false,
  properties: {
    ...feedFilters,
    q: {
      type: 'string',
      maxLength: SEARCH_QUERY_MAX * 4,
      description:
        `the words to search for (at most ${SEARCH_QUERY_MAX} characters), as in a web search engine: \`"a phrase"\`, \`or\`, \`-left out\`. ` +
        'Matched in every language Blend tells apart, each post and comment in its own; people\'s names and titles also by similarity',
    },
    limit: { type: 'integer', minimum: 1, maximum: SEARCH_LIMIT_MAX, default: SEARCH_LIMIT_DEFAULT },
    cursor: { type: 'string', maxLength: 200, description: 'next_cursor of the previous page (same q and filters)' },
  },
} as const;

/** The query checked, or VALIDATION with the reason. Shared with the web search page. */
export function searchWords(raw: string | undefined): string {
  const parsed = parseSearchQuery(raw);
  if (!parsed.ok) throw new PermanentError('VALIDATION', parsed.message);
  return parsed.q;
}

export function parseSearchCursor(s: string | undefined): SearchCursor | null {
  const cursor = s ? decodeSearchCursor(s) : null;
  if (s && !cursor) throw new PermanentError('VALIDATION', 'cursor is not one this search issued');
  return cursor;
}

/** `GET /api/v1/search`: posts and comments the reader may see, best first. */
export function esnSearchRoutes(app: FastifyInstance, deps: { db: Database }): void {
  app.get<{ Querystring: SearchQueryString }>(
    '/api/v1/search',
    {
      preHandler: requirePerson(deps.db),
      schema: {
        tags: ['feed'],
        summary: 'Search posts and comments, best first, with the feed\'s filters and cursor.',
        description:
          'Only what the reader may see in the feed is searched: never a retracted, un-mirrored or erased post or comment, nor a comment on a post the reader does not see. ' +
          'Results are ranked by relevance (`ts_rank_cd`, or trigram similarity for names and titles) halving every 60 days of age; the newest 150 matching posts and ' +
          '150 matching comments are ranked. `highlight` holds the title and passages of the text as plain-text segments, `match: true` on the words that matched: ' +
          'escape the text when showing it.',
        security: BEARER,
        querystring: searchQuerySchema,
        response: searchResponses,
      },
    },
    async (req) => {
      const q = searchWords(req.query.q);
      const cursor = parseSearchCursor(req.query.cursor);
      const filter = feedFilter(req.query, req.person!.id);
      const page = await searchContent(deps.db, { q, viewerId: req.person!.id, limit: req.query.limit ?? SEARCH_LIMIT_DEFAULT, cursor, filter });
      return { items: page.items, next_cursor: page.next ? encodeSearchCursor(page.next) : null };
    },
  );
}
