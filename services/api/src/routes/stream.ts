import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { isUuid, PermanentError } from '@blend/core';
import { eventPositionOf, type Database } from '@blend/db';
import { requirePerson } from '../auth';
import { LoginRequired, requireWebPerson } from '../web/session';
import { StreamLimitError, type StreamClient, type StreamHub } from '../stream';
import { errors } from './esn-responses';
import { BEARER } from './esn-schemas';

export const STREAM_ROUTE = '/api/v1/stream';

/**
 * `GET /api/v1/stream`: server-sent events of the changes the reader may see (docs/ARCHITECTURE.md
 * "Live updates"; docs/SECURITY.md B41). A bearer token or the web session's cookie; a
 * reconnecting client sends `Last-Event-ID` and gets what it missed.
 */
export function streamRoutes(parent: FastifyInstance, deps: { db: Database; hub: StreamHub }): void {
  // Its own scope, for the cookie parser the web session needs.
  void parent.register(async (app) => {
    await app.register(cookie);
    route(app, deps);
  });
}

function route(app: FastifyInstance, deps: { db: Database; hub: StreamHub }): void {
  const bearer = requirePerson(deps.db);
  const web = requireWebPerson(deps.db);
  const auth = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.headers.authorization) return bearer(req, reply);
    try {
      await web(req);
    } catch (err) {
      if (!(err instanceof LoginRequired)) throw err;
      void reply.header('www-authenticate', 'Bearer realm="blend"');
      throw new PermanentError('UNAUTHORIZED', 'a valid bearer token or web session is required');
    }
  };

  app.get(
    STREAM_ROUTE,
    {
      preHandler: auth,
      schema: {
        tags: ['events'],
        summary: 'Live updates: new posts, comments, likes and removals, as server-sent events',
        description:
          'A `text/event-stream` that stays open: one event per change the reader may see (the `event` field is the type, as in `GET /api/v1/events`, `data` the same JSON, `id` the event id). A private group\'s events only reach its members; a hidden or retracted item comes as `post.deleted` / `comment.deleted`. Send `Last-Event-ID` to resume after a dropped connection. A comment line every 25 s keeps it open. The bearer token or the web session cookie authenticates. Connections are capped per person and per server (429).',
        security: BEARER,
        response: {
          200: { description: 'The event stream (text/event-stream)', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          ...errors(401),
          429: { description: 'RATE_LIMITED: too many live connections (per person or on this server)', type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } },
        },
      },
    },
    async (req, reply) => {
      let closed = false;
      const client: StreamClient = {
        personId: req.person!.id,
        credential: req.webSessionId ? { sessionId: req.webSessionId } : { tokenId: req.apiTokenId! },
        send: (frame) => {
          if (closed || reply.raw.destroyed) return false;
          return reply.raw.write(frame) || true;
        },
        close: () => {
          if (!closed) reply.raw.end();
        },
      };
      let remove: () => void;
      try {
        remove = deps.hub.add(client);
      } catch (err) {
        if (err instanceof StreamLimitError) {
          void reply.header('retry-after', '30');
          throw new PermanentError('RATE_LIMITED', err.message);
        }
        throw err;
      }
      const done = () => {
        closed = true;
        remove();
      };
      req.raw.on('close', done);
      reply.raw.on('close', done);
      reply.hijack();
      reply.raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // Proxies (nginx) pass it on as it comes instead of buffering.
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 3000\n\n');
      const last = req.headers['last-event-id'];
      const from = typeof last === 'string' && isUuid(last.trim()) ? await eventPositionOf(deps.db, last.trim()) : null;
      try {
        if (from !== null) await deps.hub.resume(client, from);
        else client.cursor = Math.max(client.cursor ?? 0, await deps.hub.position());
      } catch (err) {
        req.log.warn({ err: { message: (err as Error).message } }, 'live stream start failed');
        client.close();
      }
    },
  );
}
