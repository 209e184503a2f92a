import type { FastifyInstance, FastifyReply } from 'fastify';
import { isUuid, PermanentError } from '@blend/core';
import { readInboundSource, type Database } from '@blend/db';
import { requireAdmin } from '../auth';
import { errors } from './esn-responses';
import { BEARER, idParams } from './esn-schemas';

/**
 * Send the original message of inbound mail `id` exactly as fetched, audited as read by
 * `actor`. It is someone's mail, HTML parts and all: served as a `message/rfc822` download
 * (`Content-Disposition: attachment`, `nosniff`, a CSP sandbox, never cached), so no browser
 * renders it in Blend's origin; a mail client opens the saved `.eml`.
 */
export async function sendInboundSource(db: Database, id: string, actor: string, reply: FastifyReply): Promise<FastifyReply> {
  const found = isUuid(id) ? await readInboundSource(db, id, actor) : { kind: 'unknown' as const };
  switch (found.kind) {
    case 'unknown':
      throw new PermanentError('INBOUND_NOT_FOUND', 'no such inbound mail');
    case 'purged':
      throw new PermanentError(
        'SOURCE_PURGED',
        found.reason === 'too_large' ? 'the raw mail was never downloaded (too large)' : 'the raw mail is no longer stored (retention or erasure); its state and reason are kept',
      );
    case 'found':
      return reply
        .header('content-type', 'message/rfc822')
        .header('content-disposition', `attachment; filename="inbound-${id}.eml"`)
        .header('content-length', String(found.raw.length))
        // nosniff and a CSP sandbox: security-headers.ts ("download").
        .header('cache-control', 'no-store')
        .send(found.raw);
  }
}

/** `GET /api/v1/admin/inbound/:id/source`: the raw mail of a post, comment or any inbound row (admin role, audited). */
export function adminSourceRoutes(app: FastifyInstance, deps: { db: Database }): void {
  app.get<{ Params: { id: string } }>(
    '/api/v1/admin/inbound/:id/source',
    {
      preHandler: requireAdmin(deps.db),
      schema: {
        tags: ['admin'],
        summary: 'The original message (headers and MIME source) as fetched, as a download; every read is audited',
        description:
          'Byte for byte what the mailbox held, served as `message/rfc822` with `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff` and a CSP sandbox, so it is never rendered by a browser. ' +
          'Each read writes an audit_log entry `view_inbound_source` (actor = the admin, subject = the inbound id). ' +
          '`post_id`/`comment_id` of GET /api/v1/admin/inbound name the inbound mail of a post or comment. 410 once retention (BLEND_RAW_RETENTION_DAYS) or an erasure removed the raw mail.',
        security: BEARER,
        params: idParams,
        response: {
          200: { description: 'the message as fetched', content: { 'message/rfc822': { schema: { type: 'string', format: 'binary' } } } },
          ...errors(401, 403, 404, 410),
        },
      },
    },
    async (req, reply) => sendInboundSource(deps.db, req.params.id, `api:${req.person!.email}`, reply),
  );
}
