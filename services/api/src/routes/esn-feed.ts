import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PermanentError } from '@blend/core';
import { decodeCursor, encodeCursor, FEED_COMMENTS_DEFAULT, FEED_COMMENTS_MAX, FEED_LIMIT_DEFAULT, findPostMerge, getEsnPostView, likedAmong, listFeedFiltered, privateGroupsOf, type Database, type FeedFilter } from '@blend/db';
import { requirePerson } from '../auth';
import { isUuid } from '@blend/core';
import { AS_MEDIA_TYPE, feedToCollection, postToNote, wantsActivityStreams } from './esn-activitystreams';
import { feedResponses, postResponses } from './esn-responses';
import { BEARER, baseUrl, idParams, SLUG_PATTERN } from './esn-schemas';
import { joinPage, noneMatch, pageEtag, splitPage, type CacheOutcome, type FeedCache } from '../feed-cache';

const JSON_TYPE = 'application/json; charset=utf-8';

export interface FeedQuery {
  limit?: number;
  comments?: number;
  cursor?: string;
  group?: string;
  author?: string;
  tag?: string;
  source?: 'email' | 'esn';
  mentions?: 'me';
}

export const feedQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: FEED_LIMIT_DEFAULT },
    comments: {
      type: 'integer',
      minimum: 0,
      maximum: FEED_COMMENTS_MAX,
      default: FEED_COMMENTS_DEFAULT,
      description: 'how many of each post\'s latest comments to include (0 for none); `comment_count` has the total and GET /api/v1/posts/{id} has them all',
    },
    cursor: { type: 'string', maxLength: 200, description: 'next_cursor of the previous page (same filters)' },
    group: { type: 'string', pattern: SLUG_PATTERN, description: 'group slug' },
    author: { type: 'string', maxLength: 320, description: 'author id or email address' },
    tag: { type: 'string', pattern: '^#?[^\\s#]{1,50}$', description: 'a #tag, with or without #' },
    source: { type: 'string', enum: ['email', 'esn'] },
    mentions: { type: 'string', enum: ['me'], description: 'only posts that mention me' },
  },
} as const;

/** Turn the query into a filter, or VALIDATION. Shared with the web feed page. */
export function feedFilter(q: FeedQuery, meId: string): FeedFilter {
  const f: FeedFilter = {};
  if (q.group) f.group = q.group;
  if (q.source) f.source = q.source;
  if (q.tag) f.tag = q.tag.replace(/^#/, '').toLowerCase();
  if (q.mentions === 'me') f.mentioning = meId;
  if (q.author) {
    if (isUuid(q.author)) f.author = { id: q.author };
    else if (/^[^\s@]+@[^\s@]+$/.test(q.author)) f.author = { email: q.author };
    else throw new PermanentError('VALIDATION', 'author must be a person id or an email address');
  }
  return f;
}

export function parseCursor(s: string | undefined) {
  const cursor = s ? decodeCursor(s) : null;
  if (s && !cursor) throw new PermanentError('VALIDATION', 'cursor is not one this API issued');
  return cursor;
}

const selfUrl = (req: FastifyRequest, base: string) => `${base}${req.url}`;

/**
 * The page a request asks for, as a cache key: the same for every reader who may see the same
 * posts (a mention filter names the reader; `privateGroups`, the private groups the reader is
 * in, sets a private group's posts apart), whatever the order or spelling of the query.
 */
export function feedCacheKey(limit: number, comments: number, cursor: string | undefined, filter: FeedFilter, privateGroups: readonly string[] = []): string {
  const author = filter.author ? ('id' in filter.author ? `id:${filter.author.id}` : `email:${filter.author.email.toLowerCase()}`) : '';
  return JSON.stringify([limit, comments, cursor ?? '', filter.group ?? '', author, filter.tag ?? '', filter.source ?? '', filter.mentioning ?? '', privateGroups.join(',')]);
}

/** `Cache-Control: no-cache` (or no-store) from the client: read the page afresh. */
const refuses = (h: string | string[] | undefined) => /\bno-(cache|store)\b/i.test(Array.isArray(h) ? h.join(',') : (h ?? ''));

/**
 * `GET /api/v1/feed` (filters, AS2 by content negotiation) and `GET /api/v1/posts/:id`.
 * Replaces routes/feed.ts: same paths, same fields, plus reactions, tags, edits, attachments.
 */
export function esnFeedRoutes(app: FastifyInstance, deps: { db: Database; publicUrl?: string; feedCache?: FeedCache; onFeedCache?: (outcome: CacheOutcome) => void }): void {
  const auth = requirePerson(deps.db);
  const cache = deps.feedCache;

  app.get<{ Querystring: FeedQuery }>(
    '/api/v1/feed',
    {
      preHandler: auth,
      schema: {
        tags: ['feed'],
        summary: 'The feed, newest first, with filters. `Accept: application/activity+json` gives an AS2 OrderedCollection.',
        description:
          'Each post carries its latest comments (`?comments=`, 3 unless asked) that are not retracted, in time order, and `comment_count`; ' +
          'the thread (GET /api/v1/posts/{id}) has every comment. JSON pages are served from a cache shared by all readers and emptied on every change ' +
          '(`X-Blend-Cache: hit`, `miss` or `off`); send `Cache-Control: no-cache` to have the page read afresh. Cached pages carry an `ETag`: ' +
          'polling with `If-None-Match` answers 304 until the page changes.',
        security: BEARER,
        querystring: feedQuerySchema,
        response: feedResponses,
      },
    },
    async (req, reply) => {
      const me = req.person!;
      const limit = req.query.limit ?? FEED_LIMIT_DEFAULT;
      const comments = req.query.comments ?? FEED_COMMENTS_DEFAULT;
      const cursor = parseCursor(req.query.cursor);
      const filter = feedFilter(req.query, me.id);
      const json = !wantsActivityStreams(req.headers.accept);
      const cached = json && cache?.active && !refuses(req.headers['cache-control']);
      const key = cached ? feedCacheKey(limit, comments, req.query.cursor, filter, await privateGroupsOf(deps.db, me.id)) : '';
      const hit = cached ? cache.get(key) : undefined;
      if (cache) {
        const outcome: CacheOutcome = !cached ? 'off' : hit ? 'hit' : 'miss';
        deps.onFeedCache?.(outcome);
        void reply.header('x-blend-cache', outcome);
      }
      if (cached) void reply.header('cache-control', 'private, no-cache');
      if (hit) {
        const liked = await likedAmong(deps.db, me.id, hit.postIds);
        const etag = pageEtag(hit, liked);
        void reply.header('etag', etag);
        if (noneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();
        return reply.type(JSON_TYPE).send(joinPage(hit, liked));
      }
      const generation = cache?.begin() ?? 0;
      const page = await listFeedFiltered(deps.db, { limit, comments, cursor, filter, viewerId: me.id });
      const next = page.next ? encodeCursor(page.next) : null;
      if (json) {
        const body = { items: page.items, next_cursor: next };
        if (!cached) return body;
        const text = reply.serializeInput(body, '200', 'application/json') as string;
        const split = splitPage(text, page.items.map((i) => i.id), Date.now());
        if (split) {
          cache!.put(key, generation, split);
          const liked = new Set(page.items.filter((i) => i.reactions.liked_by_me).map((i) => i.id));
          const etag = pageEtag(split, liked);
          void reply.header('etag', etag);
          if (noneMatch(req.headers['if-none-match'], etag)) return reply.code(304).send();
          // The kept parts are the text's bytes already: joined, the same body without encoding the text again.
          return reply.type(JSON_TYPE).send(joinPage(split, liked));
        }
        return reply.type(JSON_TYPE).send(text);
      }
      const base = baseUrl(req, deps.publicUrl);
      if (next) {
        const url = new URL(selfUrl(req, base));
        url.searchParams.set('cursor', next);
        void reply.header('link', `<${url.toString()}>; rel="next"`);
      }
      return reply.type(AS_MEDIA_TYPE).send(feedToCollection(base, selfUrl(req, base), page.items));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/posts/:id',
    {
      preHandler: auth,
      schema: { tags: ['feed'], summary: 'One thread with all its comments in time order (an AS2 Note on request).', security: BEARER, params: idParams, response: postResponses },
    },
    async (req, reply) => {
      const post = isUuid(req.params.id) ? await getEsnPostView(deps.db, req.params.id, req.person!.id) : undefined;
      if (!post) {
        // A post merged into an earlier thread: its links keep working (permanent, method kept).
        const merge = isUuid(req.params.id) ? await findPostMerge(deps.db, req.params.id) : undefined;
        // Only to a thread the reader may see: a private group's merged post is 404 too (docs/SECURITY.md B37).
        if (!merge || !(await getEsnPostView(deps.db, merge.survivingPostId, req.person!.id))) throw new PermanentError('NOT_FOUND', 'no such post');
        const location = `/api/v1/posts/${merge.survivingPostId}`;
        return reply.status(308).header('location', location).send({ merged_into: merge.survivingPostId, comment_id: merge.commentId, location });
      }
      if (!wantsActivityStreams(req.headers.accept)) return post;
      return reply.type(AS_MEDIA_TYPE).send(postToNote(baseUrl(req, deps.publicUrl), post));
    },
  );
}
