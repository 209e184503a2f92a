import type { FastifyInstance } from 'fastify';
import { suggestPeople, type Database } from '@blend/db';
import { requirePerson } from '../auth';
import { errors } from './esn-responses';
import { BEARER } from './esn-schemas';

/** `GET /api/v1/people?q=`: people to `@`-mention, as the web composer suggests them. */
export function esnPeopleSearchRoutes(app: FastifyInstance, deps: { db: Database }): void {
  app.get<{ Querystring: { q: string; limit?: number } }>(
    '/api/v1/people',
    {
      preHandler: requirePerson(deps.db),
      schema: {
        tags: ['people'],
        summary: 'People whose name or address starts with q, for @mentions (opted-in people only)',
        security: BEARER,
        querystring: {
          type: 'object',
          required: ['q'],
          additionalProperties: false,
          properties: { q: { type: 'string', minLength: 1, maxLength: 100, description: 'the start of a name (any word of it) or address; a leading @ is ignored' }, limit: { type: 'integer', minimum: 1, maximum: 20, default: 8 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['items'],
            properties: {
              items: {
                type: 'array',
                items: { type: 'object', required: ['id', 'name', 'email'], properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' }, email: { type: 'string' } } },
                description: 'mention one as @email in a post or comment',
              },
            },
          },
          ...errors(400, 401),
        },
      },
    },
    async (req) => ({ items: await suggestPeople(deps.db, req.query.q, req.query.limit ?? 8) }),
  );
}
