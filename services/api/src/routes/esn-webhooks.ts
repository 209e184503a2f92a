import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { PermanentError, sealSecret, WEBHOOK_FORMATS, WEBHOOK_SECRET_CONTEXT, type WebhookFilter, type WebhookFormat } from '@blend/core';
import { createWebhook, deleteWebhook, listEvents, listWebhooksWithDeliveries, redeliver, replayEvents, WEBHOOK_EVENTS, type Database, type WebhookEventName } from '@blend/db';
import { resolveWebhookTarget, WebhookTargetError, type ResolveAll } from '@blend/outbound';
import { requireAdmin } from '../auth';
import { isUuid } from '@blend/core';
import { errors, eventPage, noContent, redelivered, replayed, webhookCreated, webhookList } from './esn-responses';
import { BEARER, bodySchema, idParams } from './esn-schemas';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A hook URL must be https; plain http only to this machine (local receivers and tests).
 * Credentials in the URL are refused: they would be shown in listings. Its host must not be,
 * or resolve to, a loopback, private or link-local address unless `allowPrivate`
 * (BLEND_WEBHOOK_ALLOW_PRIVATE; docs/SECURITY.md, B26). A name that does not resolve yet is
 * accepted: every delivery resolves and checks it again.
 */
export async function checkWebhookUrl(s: string, opts: { allowPrivate: boolean; resolve?: ResolveAll }): Promise<string> {
  if (!URL.canParse(s)) throw new PermanentError('VALIDATION', 'url is not a URL');
  const u = new URL(s);
  if (u.username || u.password) throw new PermanentError('VALIDATION', 'url must not contain credentials');
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) {
    throw new PermanentError('VALIDATION', 'url must be https:// (http:// only to 127.0.0.1 or localhost)');
  }
  try {
    await resolveWebhookTarget(u.toString(), opts);
  } catch (err) {
    if (!(err instanceof WebhookTargetError && err.kind === 'unresolved')) throw new PermanentError('VALIDATION', `url not allowed: ${(err as Error).message}`);
  }
  return u.toString();
}

/**
 * A new hook's signing secret: `whsec_` and 32 random bytes. In base64 for `cloudevents`
 * hooks, as Standard Webhooks libraries decode it; base64url for the others, whose receivers
 * use the whole string as the HMAC key (`signWebhook`) and never decode it.
 */
export function newWebhookSecret(format: WebhookFormat): string {
  const key = randomBytes(32);
  return `whsec_${format === 'cloudevents' ? key.toString('base64') : key.toString('base64url')}`;
}

const eventTypes = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...WEBHOOK_EVENTS] } } as const;

type CreateBody = { url: string; events?: WebhookEventName[]; format?: WebhookFormat; filter?: WebhookFilter & { types?: WebhookEventName[] } };

/** Outbound webhooks and the event stream, admin only. The secret is returned once, at creation. */
export function esnWebhookRoutes(app: FastifyInstance, deps: { db: Database; secret: string; webhookAllowPrivate?: boolean }): void {
  const admin = requireAdmin(deps.db);

  app.post<{ Body: CreateBody }>(
    '/api/v1/admin/webhooks',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'Register a webhook; the signing secret is in this answer only',
        description: 'Give the event types in `events` or in `filter.types`. `filter.groups` (slugs) and `filter.origin` (`email` or `esn`) narrow them further.',
        security: BEARER,
        body: bodySchema(['url'], {
          url: { type: 'string', maxLength: 2000 },
          events: eventTypes,
          format: { type: 'string', enum: [...WEBHOOK_FORMATS], default: 'blend' },
          filter: {
            type: 'object',
            additionalProperties: false,
            properties: {
              groups: { type: 'array', maxItems: 200, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 63 } },
              origin: { type: 'string', enum: ['email', 'esn'] },
              types: eventTypes,
            },
          },
        }),
        response: { 201: { ...webhookCreated, description: 'The webhook with its secret' }, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const { types, ...filter } = req.body.filter ?? {};
      if (req.body.events && types && req.body.events.join() !== types.join()) throw new PermanentError('VALIDATION', 'give the event types once: in events or in filter.types');
      const events = req.body.events ?? types;
      if (!events) throw new PermanentError('VALIDATION', 'events (or filter.types) is required');
      const format = req.body.format ?? 'blend';
      const secret = newWebhookSecret(format);
      const url = await checkWebhookUrl(req.body.url, { allowPrivate: deps.webhookAllowPrivate ?? false });
      // Stored sealed under BLEND_SECRET, like mailbox passwords: a database dump does not let anyone sign events.
      const hook = await createWebhook(deps.db, { url, events, format, filter, secret: sealSecret(secret, deps.secret, WEBHOOK_SECRET_CONTEXT) });
      req.log.info({ webhookId: hook.id, events: hook.events, format }, 'webhook created');
      return reply.status(201).send({ id: hook.id, url: hook.url, events: hook.events, format: hook.format, filter: hook.filter, active: hook.active, created_at: hook.createdAt.toISOString(), secret });
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/admin/webhooks/deliveries/:id/redeliver',
    {
      preHandler: admin,
      schema: { tags: ['admin'], summary: 'Deliver what a delivery carried again (a new pending delivery)', security: BEARER, params: idParams, response: { 201: redelivered, ...errors(401, 403, 404) } },
    },
    async (req, reply) => {
      const id = isUuid(req.params.id) ? await redeliver(deps.db, req.params.id) : null;
      if (!id) throw new PermanentError('NOT_FOUND', 'no such delivery');
      req.log.info({ deliveryId: req.params.id, newDeliveryId: id }, 'webhook redelivery queued');
      return reply.status(201).send({ id });
    },
  );

  app.post<{ Params: { id: string }; Body: { since: string } }>(
    '/api/v1/admin/webhooks/:id/replay',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'Deliver again every event the hook takes since a time, in order',
        security: BEARER,
        params: idParams,
        body: bodySchema(['since'], { since: { type: 'string', format: 'date-time' } }),
        response: { 200: replayed, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const n = isUuid(req.params.id) ? await replayEvents(deps.db, req.params.id, new Date(req.body.since)) : null;
      if (n === null) throw new PermanentError('NOT_FOUND', 'no such webhook');
      req.log.info({ webhookId: req.params.id, since: req.body.since, deliveries: n }, 'webhook replay queued');
      return { deliveries: n };
    },
  );

  app.get<{ Querystring: { after?: string; limit?: number } }>(
    '/api/v1/events',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'Events after a cursor, oldest first (catching up without webhooks)',
        description:
          '`after` is the `next_after` of the previous page (a position), or an event id; without it, from the first event. A private group\'s events are shown to its members only, as its posts. A page may hold fewer than `limit` items (even none) while `next_after` moves on.',
        security: BEARER,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { after: { type: 'string', maxLength: 40, pattern: '^([0-9]{1,15}|[0-9a-fA-F-]{36})$' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
        },
        response: { 200: eventPage, ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const raw = req.query.after;
      const after = raw === undefined ? null : /^[0-9]+$/.test(raw) ? Number(raw) : isUuid(raw) ? raw : undefined;
      if (after === undefined) throw new PermanentError('VALIDATION', 'after must be a position or an event id');
      const page = await listEvents(deps.db, { after, limit: req.query.limit ?? 100, viewerId: req.person!.id });
      if (!page) throw new PermanentError('VALIDATION', 'after names no event');
      return { items: page.items, next_after: page.last };
    },
  );

  app.get(
    '/api/v1/admin/webhooks',
    {
      preHandler: admin,
      schema: { tags: ['admin'], summary: 'Webhooks with their 20 latest deliveries', security: BEARER, response: { 200: { ...webhookList, description: 'Every webhook' }, ...errors(401, 403) } },
    },
    async () => ({ items: await listWebhooksWithDeliveries(deps.db, { deliveriesPerHook: 20 }) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/admin/webhooks/:id',
    {
      preHandler: admin,
      schema: { tags: ['admin'], summary: 'Remove a webhook and its deliveries', security: BEARER, params: idParams, response: { 204: noContent, ...errors(401, 403, 404) } },
    },
    async (req, reply) => {
      if (!isUuid(req.params.id) || !(await deleteWebhook(deps.db, req.params.id))) throw new PermanentError('NOT_FOUND', 'no such webhook');
      req.log.info({ webhookId: req.params.id }, 'webhook deleted');
      return reply.status(204).send();
    },
  );
}
