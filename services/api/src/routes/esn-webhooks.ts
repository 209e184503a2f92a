import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { PermanentError, sealSecret, WEBHOOK_SECRET_CONTEXT } from '@blend/core';
import { createWebhook, deleteWebhook, listWebhooksWithDeliveries, WEBHOOK_EVENTS, WEBHOOK_FORMATS, type Database, type WebhookEventName, type WebhookFormat } from '@blend/db';
import { resolveWebhookTarget, WebhookTargetError, type ResolveAll } from '@blend/worker';
import { requireAdmin } from '../auth';
import { isUuid } from '@blend/core';
import { errors, noContent, webhookCreated, webhookList } from './esn-responses';
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

/** Outbound webhooks, admin only. The secret is returned once, at creation. */
export function esnWebhookRoutes(app: FastifyInstance, deps: { db: Database; secret: string; webhookAllowPrivate?: boolean }): void {
  const admin = requireAdmin(deps.db);

  app.post<{ Body: { url: string; events: WebhookEventName[]; format?: WebhookFormat } }>(
    '/api/v1/admin/webhooks',
    {
      preHandler: admin,
      schema: {
        tags: ['admin'],
        summary: 'Register a webhook; the signing secret is in this answer only',
        security: BEARER,
        body: bodySchema(['url', 'events'], {
          url: { type: 'string', maxLength: 2000 },
          events: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...WEBHOOK_EVENTS] } },
          format: { type: 'string', enum: [...WEBHOOK_FORMATS], default: 'blend' },
        }),
        response: { 201: { ...webhookCreated, description: 'The webhook with its secret' }, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const secret = `whsec_${randomBytes(32).toString('base64url')}`;
      const url = await checkWebhookUrl(req.body.url, { allowPrivate: deps.webhookAllowPrivate ?? false });
      // Stored sealed under BLEND_SECRET, like mailbox passwords: a database dump does not let anyone sign events.
      const hook = await createWebhook(deps.db, { url, events: req.body.events, format: req.body.format ?? 'blend', secret: sealSecret(secret, deps.secret, WEBHOOK_SECRET_CONTEXT) });
      req.log.info({ webhookId: hook.id, events: hook.events }, 'webhook created');
      return reply.status(201).send({ id: hook.id, url: hook.url, events: hook.events, format: hook.format, active: hook.active, created_at: hook.createdAt.toISOString(), secret });
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
