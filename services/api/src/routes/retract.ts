import type { FastifyInstance } from 'fastify';
import { isUuid, PermanentError } from '@blend/core';
import { getPostRow, tombstonePost, type Database } from '@blend/db';
import { requirePerson } from '../auth';
import { retractComment, type ActionDeps } from '../use-cases/esn-actions';
import { errors, noContent } from './esn-responses';
import { BEARER, idParams } from './esn-schemas';

/**
 * Authors take back what was mirrored. Retracting leaves a tombstone (the thread keeps its
 * shape); un-mirroring is for the person who shared the thread and empties all of it.
 * Email is never rewritten: this changes only what the feed shows.
 */
export function retractRoutes(app: FastifyInstance, deps: ActionDeps & { db: Database }): void {
  const auth = requirePerson(deps.db);
  const loadPost = async (id: string) => {
    const post = isUuid(id) ? await getPostRow(deps.db, id) : undefined;
    if (!post || post.deletedAt) throw new PermanentError('NOT_FOUND', 'no such post');
    return post;
  };
  // 400 only for an id over idParams' maxLength; any other malformed id is a 404 like an unknown one.
  const schema = (summary: string) => ({ tags: ['posts'], summary, security: BEARER, params: idParams, response: { 204: noContent, ...errors(400, 401, 403, 404) } });

  app.delete<{ Params: { id: string } }>('/api/v1/posts/:id', { preHandler: auth, schema: schema('Retract my post, leaving a tombstone') }, async (req, reply) => {
    const post = await loadPost(req.params.id);
    if (post.authorId !== req.person!.id) throw new PermanentError('FORBIDDEN', 'only the author can retract a post');
    await tombstonePost(deps.db, post.id, false);
    return reply.status(204).send();
  });

  app.post<{ Params: { id: string } }>('/api/v1/posts/:id/unmirror', { preHandler: auth, schema: schema('Un-mirror a thread I shared: it and all its comments leave the feed') }, async (req, reply) => {
    const post = await loadPost(req.params.id);
    if (post.authorId !== req.person!.id) throw new PermanentError('FORBIDDEN', 'only the person who shared the thread can un-mirror it');
    await deps.db.transaction((tx) => tombstonePost(tx, post.id, true));
    return reply.status(204).send();
  });

  app.delete<{ Params: { id: string } }>('/api/v1/comments/:id', { preHandler: auth, schema: schema('Retract my comment, leaving a tombstone') }, async (req, reply) => {
    await retractComment(deps, req.person!, req.params.id);
    return reply.status(204).send();
  });
}
