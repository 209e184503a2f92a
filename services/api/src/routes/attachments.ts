import type { FastifyInstance, FastifyReply } from 'fastify';
import { contentDisposition, isUuid, PermanentError, servedAs } from '@blend/core';
import { getAttachmentContent, type Database } from '@blend/db';
import { requirePerson } from '../auth';
import { errors } from './esn-responses';
import { BEARER, idParams } from './esn-schemas';

/**
 * Send one stored file. Only safe image types are shown inline; everything else is a download
 * as `application/octet-stream` (or PDF / plain text), with `nosniff` and a CSP sandbox
 * (security-headers.ts, "download"), so a
 * file mailed as `text/html` or SVG never runs in Blend's origin.
 */
export async function sendAttachment(db: Database, id: string, viewerId: string, reply: FastifyReply): Promise<FastifyReply> {
  const found = isUuid(id) ? await getAttachmentContent(db, id, viewerId) : undefined;
  if (!found) throw new PermanentError('NOT_FOUND', 'no such attachment');
  const as = servedAs(found.row.declaredType);
  return reply
    .header('content-type', as.contentType)
    .header('content-disposition', contentDisposition(as.disposition, found.row.filename))
    .header('content-length', String(found.content.length))
    .header('cache-control', 'private, max-age=3600')
    .send(found.content);
}

/** `GET /api/v1/attachments/:id`: a file that came with a post or comment. */
export function attachmentRoutes(app: FastifyInstance, deps: { db: Database }): void {
  app.get<{ Params: { id: string } }>(
    '/api/v1/attachments/:id',
    {
      preHandler: requirePerson(deps.db),
      schema: {
        tags: ['posts'],
        summary: 'Download a file that came with a post or comment (safe content type, Content-Disposition)',
        security: BEARER,
        params: idParams,
        response: {
          200: {
            description: 'the file: a safe image inline with its type, a PDF or plain text as a download with its type, anything else as application/octet-stream',
            content: Object.fromEntries(
              ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain', 'application/octet-stream'].map((t) => [t, { schema: { type: 'string', format: 'binary' } }]),
            ),
          },
          ...errors(400, 401, 404),
        },
      },
    },
    async (req, reply) => sendAttachment(deps.db, req.params.id, req.person!.id, reply),
  );
}
