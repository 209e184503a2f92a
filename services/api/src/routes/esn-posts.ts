import type { FastifyInstance } from 'fastify';
import { PermanentError, REACTION_EMOJI, REACTION_KINDS, type ReactionKind } from '@blend/core';
import { getEsnPostView, reactionsAmong, type Database } from '@blend/db';
import { requirePerson } from '../auth';
import { createComment, createStatusPost, editComment, editPost, setReaction, type BodyFormat } from '../use-cases/esn-actions';
import { commentView, errors, myReactionsView, postView } from './esn-responses';
import { BEARER, bodySchema, idParams, SLUG_PATTERN, textBody, titleProp } from './esn-schemas';

/**
 * Writing on the ESN side: status posts, comments, likes, edits. Anyone with a token may
 * read; only opted-in people may write (403 otherwise).
 */
/** How the body is written: plain text, or Markdown as the web composer writes it (docs/SECURITY.md B43). */
const formatProp = { type: 'string', enum: ['text', 'markdown'], default: 'text', description: '`markdown`: rendered with raw HTML off, then through the same sanitiser as mail HTML' } as const;

export function esnPostRoutes(app: FastifyInstance, deps: { db: Database; publicUrl?: string }): void {
  const auth = requirePerson(deps.db);
  const view = async (postId: string, viewerId: string) => {
    const post = await getEsnPostView(deps.db, postId, viewerId);
    if (!post) throw new PermanentError('NOT_FOUND', 'no such post');
    return post;
  };
  const myReactions = async (postId: string, viewerId: string) => {
    const post = await view(postId, viewerId);
    return { ...post.reactions, mine: (await reactionsAmong(deps.db, viewerId, [post.id])).get(post.id) ?? [] };
  };

  app.post<{ Body: { group: string; title?: string; body: string; format?: BodyFormat } }>(
    '/api/v1/posts',
    {
      preHandler: auth,
      schema: {
        tags: ['posts'],
        summary: 'Post a status into a group',
        security: BEARER,
        body: bodySchema(['group', 'body'], { group: { type: 'string', pattern: SLUG_PATTERN }, title: titleProp, body: textBody, format: formatProp }),
        response: { 201: { ...postView, description: 'The new post; Location names it' }, ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const id = await createStatusPost(deps, req.person!, req.body);
      return reply.status(201).header('location', `/api/v1/posts/${id}`).send(await view(id, req.person!.id));
    },
  );

  app.post<{ Params: { id: string }; Body: { body: string; format?: BodyFormat } }>(
    '/api/v1/posts/:id/comments',
    {
      preHandler: auth,
      schema: {
        tags: ['posts'],
        summary: 'Comment on a thread',
        security: BEARER,
        params: idParams,
        body: bodySchema(['body'], { body: textBody, format: formatProp }),
        response: { 201: { ...commentView, description: 'The new comment' }, ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const commentId = await createComment(deps, req.person!, req.params.id, req.body.body, undefined, req.body.format ? { format: req.body.format } : {});
      const post = await view(req.params.id, req.person!.id);
      return reply.status(201).send(post.comments.find((c) => c.id === commentId));
    },
  );

  for (const method of ['POST', 'DELETE'] as const) {
    app.route<{ Params: { id: string } }>({
      method,
      url: '/api/v1/posts/:id/reactions',
      preHandler: auth,
      schema: {
        tags: ['posts'],
        summary: method === 'POST' ? 'Like a thread (idempotent)' : 'Take a like back (idempotent)',
        security: BEARER,
        params: idParams,
        response: { 200: { ...myReactionsView, description: 'The likes and other reactions now' }, ...errors(401, 403, 404) },
      },
      handler: async (req) => {
        await setReaction(deps, req.person!, req.params.id, 'like', method === 'POST');
        return myReactions(req.params.id, req.person!.id);
      },
    });
    app.route<{ Params: { id: string; kind: ReactionKind } }>({
      method,
      url: '/api/v1/posts/:id/reactions/:kind',
      preHandler: auth,
      schema: {
        tags: ['posts'],
        summary: method === 'POST' ? 'React to a thread with one emoji of the allow-list (idempotent)' : 'Take a reaction back (idempotent)',
        description: 'Mail, webhooks and digests show every reaction as a like; `like` here is the same as the like endpoint.',
        security: BEARER,
        params: {
          type: 'object',
          required: ['id', 'kind'],
          additionalProperties: false,
          properties: { ...idParams.properties, kind: { type: 'string', enum: [...REACTION_KINDS], description: REACTION_KINDS.map((k) => `${k} ${REACTION_EMOJI[k].emoji}`).join(', ') } },
        },
        response: { 200: { ...myReactionsView, description: 'The reactions now' }, ...errors(400, 401, 403, 404) },
      },
      handler: async (req) => {
        await setReaction(deps, req.person!, req.params.id, req.params.kind, method === 'POST');
        return myReactions(req.params.id, req.person!.id);
      },
    });
  }

  app.patch<{ Params: { id: string }; Body: { title?: string; body: string } }>(
    '/api/v1/posts/:id',
    {
      preHandler: auth,
      schema: {
        tags: ['posts'],
        summary: 'Edit a post (author only)',
        security: BEARER,
        params: idParams,
        body: bodySchema(['body'], { title: titleProp, body: textBody }),
        response: { 200: { ...postView, description: 'The post as edited' }, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      await editPost(deps, req.person!, req.params.id, req.body);
      return view(req.params.id, req.person!.id);
    },
  );

  app.patch<{ Params: { id: string }; Body: { body: string } }>(
    '/api/v1/comments/:id',
    {
      preHandler: auth,
      schema: {
        tags: ['posts'],
        summary: 'Edit a comment (author only)',
        security: BEARER,
        params: idParams,
        body: bodySchema(['body'], { body: textBody }),
        response: { 200: { ...commentView, description: 'The comment as edited' }, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const postId = await editComment(deps, req.person!, req.params.id, req.body.body);
      return (await view(postId, req.person!.id)).comments.find((c) => c.id === req.params.id);
    },
  );
}
