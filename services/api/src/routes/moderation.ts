import type { FastifyInstance } from 'fastify';
import { isUuid, PermanentError, type Addressing, type Language } from '@blend/core';
import { enqueueSends, type Queues } from '@blend/queue';
import { dismissReport, hideItem, listHiddenItems, listOpenReports, reportItem, restoreItem, type Database, type ModerationTarget } from '@blend/db';
import { requireAdmin, requirePerson } from '../auth';
import { errors } from './esn-responses';
import { BEARER, bodySchema, idParams } from './esn-schemas';

/** Longest reason for a hide or a report. */
export const MODERATION_REASON_MAX = 1000;
const reasonProp = { type: 'string', minLength: 1, maxLength: MODERATION_REASON_MAX, description: 'why; shown to the author (hide) or to admins (report)' } as const;
const person = { type: 'object', required: ['id', 'email', 'name'], properties: { id: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' } } } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

const moderationResult = {
  type: 'object',
  required: ['id', 'kind', 'hidden', 'changed'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    kind: { type: 'string', enum: ['post', 'comment'] },
    hidden: { type: 'boolean', description: 'hidden now' },
    changed: { type: 'boolean', description: 'false when it was so already (the call is idempotent)' },
  },
  description: 'The item as it is now',
} as const;

const reportResult = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['created', 'exists'], description: '`exists`: this reader has an open report of this item already' } },
} as const;

const reportQueue = {
  type: 'object',
  required: ['items', 'hidden'],
  properties: {
    items: {
      type: 'array',
      description: 'open reports, oldest first',
      items: {
        type: 'object',
        required: ['id', 'post', 'comment_id', 'excerpt', 'author', 'reporter', 'reason', 'created_at'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          post: { type: 'object', required: ['id', 'title'], properties: { id: { type: 'string', format: 'uuid' }, title: { type: 'string' } } },
          comment_id: { type: ['string', 'null'], format: 'uuid' },
          excerpt: { type: 'string', description: 'the reported text, cut to 300 characters' },
          author: person,
          reporter: person,
          reason: { type: 'string' },
          created_at: dateTime,
        },
      },
    },
    hidden: {
      type: 'array',
      description: 'items hidden now, newest first',
      items: {
        type: 'object',
        required: ['kind', 'id', 'post_id', 'title', 'author', 'reason', 'hidden_at'],
        properties: {
          kind: { type: 'string', enum: ['post', 'comment'] },
          id: { type: 'string', format: 'uuid' },
          post_id: { type: 'string', format: 'uuid' },
          title: { type: 'string' },
          author: person,
          reason: { type: 'string' },
          hidden_at: dateTime,
        },
      },
    },
  },
} as const;

/**
 * Moderation (docs/SECURITY.md, moderation): admins hide and restore posts and comments with a
 * reason; any signed-in reader reports a post or comment they can see; the open reports are
 * the admins' queue.
 */
export function moderationRoutes(app: FastifyInstance, deps: { db: Database; publicUrl?: string; addressing: Addressing; defaultLanguage?: Language; queues: Pick<Queues, 'send'> }): void {
  const admin = requireAdmin(deps.db);
  const ctx = { publicUrl: deps.publicUrl ?? null };

  for (const kind of ['post', 'comment'] as const) {
    for (const action of ['hide', 'restore'] as const) {
      app.post<{ Params: { id: string }; Body: { reason?: string } }>(
        `/api/v1/admin/${kind}s/:id/${action}`,
        {
          preHandler: admin,
          schema: {
            tags: ['admin'],
            summary:
              action === 'hide'
                ? `Hide a ${kind} with a reason: gone for readers like a retracted one, shown to its author with the reason (admin, idempotent)`
                : `Restore a hidden ${kind} (admin, idempotent)`,
            security: BEARER,
            params: idParams,
            ...(action === 'hide' ? { body: bodySchema(['reason'], { reason: reasonProp }) } : {}),
            response: { 200: moderationResult, ...errors(...(action === 'hide' ? ([400, 401, 403, 404] as const) : ([401, 403, 404] as const))) },
          },
        },
        async (req) => {
          if (!isUuid(req.params.id)) throw new PermanentError('NOT_FOUND', `no such ${kind}`);
          const target: ModerationTarget = { kind, id: req.params.id };
          const notify = { addressing: deps.addressing, publicUrl: deps.publicUrl ?? null, defaultLanguage: deps.defaultLanguage, queued: [] as string[] };
          const outcome = action === 'hide' ? await hideItem(deps.db, target, req.person!.id, req.body.reason!, ctx, notify) : await restoreItem(deps.db, target, req.person!.id, ctx);
          // The author's notice is in the outbox already; the reconciler sends it if this fails.
          await enqueueSends(deps.queues.send, notify.queued).catch((err: unknown) => req.log.warn({ err }, 'enqueue of the moderation notice failed; left to the reconciler'));
          if (outcome === 'missing') throw new PermanentError('NOT_FOUND', `no such ${kind}${action === 'restore' ? ' hidden' : ''}`);
          return { id: target.id, kind, hidden: action === 'hide', changed: outcome === 'done' };
        },
      );
    }
  }

  app.post<{ Params: { id: string }; Body: { reason: string; comment?: string } }>(
    '/api/v1/posts/:id/report',
    {
      preHandler: requirePerson(deps.db),
      schema: {
        tags: ['posts'],
        summary: 'Report a post (or one of its comments) to the admins; one open report per reader and item',
        security: BEARER,
        params: idParams,
        body: bodySchema(['reason'], { reason: reasonProp, comment: { type: 'string', maxLength: 100, description: 'a comment of this post to report instead of the post' } }),
        response: {
          201: { ...reportResult, description: 'Reported' },
          200: { ...reportResult, description: 'This reader had reported it already; nothing changed' },
          ...errors(400, 401, 404),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const comment = req.body.comment;
      if (!isUuid(id) || (comment !== undefined && !isUuid(comment))) throw new PermanentError('NOT_FOUND', 'no such post');
      const outcome = await reportItem(deps.db, { reporterId: req.person!.id, postId: id, commentId: comment ?? null, reason: req.body.reason });
      if (outcome === 'missing') throw new PermanentError('NOT_FOUND', comment ? 'no such comment' : 'no such post');
      return reply.status(outcome === 'created' ? 201 : 200).send({ status: outcome });
    },
  );

  app.get(
    '/api/v1/admin/reports',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'The moderation queue: open reports, and the items hidden now (admin)',
        security: BEARER,
        response: { 200: reportQueue, ...errors(401, 403) },
      },
    },
    async () => ({ items: await listOpenReports(deps.db), hidden: await listHiddenItems(deps.db) }),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/admin/reports/:id/dismiss',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'Close an open report without hiding anything (admin, audited)',
        security: BEARER,
        params: idParams,
        response: { 204: { type: 'null', description: 'Dismissed' }, ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      if (!isUuid(req.params.id) || !(await dismissReport(deps.db, req.params.id, req.person!.id))) throw new PermanentError('NOT_FOUND', 'no such open report');
      return reply.status(204).send();
    },
  );
}
