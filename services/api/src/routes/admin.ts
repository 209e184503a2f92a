import type { FastifyInstance } from 'fastify';
import { listInboundRows, schema, type Database } from '@blend/db';
import { requireAdmin } from '../auth';
import { errors, inboundList } from './esn-responses';
import { BEARER } from './esn-schemas';

export const INBOUND_STATES = schema.inboundState.enumValues;

/** `GET /api/v1/admin/inbound`: what happened to each inbound mail (admin role). */
export function adminRoutes(app: FastifyInstance, deps: { db: Database }): void {
  app.get<{ Querystring: { state?: (typeof INBOUND_STATES)[number]; limit?: number } }>(
    '/api/v1/admin/inbound',
    {
      preHandler: requireAdmin(deps.db),
      schema: {
        tags: ['admin'],
        summary: 'What happened to each inbound mail, newest first',
        security: BEARER,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...INBOUND_STATES] },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        },
        response: { 200: inboundList, ...errors(400, 401, 403) },
      },
    },
    async (req) => ({ items: await listInboundRows(deps.db, { state: req.query.state, limit: req.query.limit ?? 50 }) }),
  );
}
