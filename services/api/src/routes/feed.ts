import type { FastifyInstance } from 'fastify';
import { PermanentError } from '@blend/core';
import { decodeCursor, encodeCursor, getPostView, listFeed, type Database } from '@blend/db';
import { requirePerson } from '../auth';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET /api/v1/feed` and `GET /api/v1/posts/:id`. */
export function feedRoutes(app: FastifyInstance, deps: { db: Database }): void {
  const auth = requirePerson(deps.db);

  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/api/v1/feed',
    {
      preHandler: auth,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 20 },
            cursor: { type: 'string', maxLength: 200 },
          },
        },
      },
    },
    async (req) => {
      const cursor = req.query.cursor ? decodeCursor(req.query.cursor) : null;
      if (req.query.cursor && !cursor) throw new PermanentError('VALIDATION', 'cursor is not one this API issued');
      const page = await listFeed(deps.db, { limit: req.query.limit ?? 20, cursor });
      return { items: page.items, next_cursor: page.next ? encodeCursor(page.next) : null };
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/posts/:id', { preHandler: auth }, async (req) => {
    if (!UUID.test(req.params.id)) throw new PermanentError('NOT_FOUND', 'no such post');
    const post = await getPostView(deps.db, req.params.id);
    if (!post) throw new PermanentError('NOT_FOUND', 'no such post');
    return post;
  });
}
