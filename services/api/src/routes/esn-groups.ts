import type { FastifyInstance } from 'fastify';
import { bridgeAddress, PermanentError, type Addressing } from '@blend/core';
import { findGroup, follow, isFollowing, listGroupMembers, listGroupsWithCounts, unfollow, type Database, type GroupSummary } from '@blend/db';
import { requirePerson } from '../auth';
import { assertCanWrite, loadLivePost } from './esn-actions';
import { errors, following, groupDetail, groupList } from './esn-responses';
import { BEARER, idParams, slugParams } from './esn-schemas';

export interface GroupDeps {
  db: Database;
  /** Blend's addresses: a group's inbound address is `<slug>@DOMAIN` or `MAILBOX+<slug>@DOMAIN`. */
  addressing: Addressing;
}

/** A group as the API shows it. */
export function groupView(g: GroupSummary, addressing: Addressing) {
  return {
    id: g.id,
    slug: g.slug,
    name: g.name,
    description: g.description,
    member_count: g.memberCount,
    address: bridgeAddress(addressing, { kind: 'group', slug: g.slug }),
    followed_by_me: g.followedByMe,
  };
}

/** Groups (with their mail address and members) and following groups and threads. */
export function esnGroupRoutes(app: FastifyInstance, deps: GroupDeps): void {
  const auth = requirePerson(deps.db);
  const groupOr404 = async (slug: string) => {
    const g = await findGroup(deps.db, slug);
    if (!g) throw new PermanentError('NOT_FOUND', `no group ${slug}`);
    return g;
  };

  app.get(
    '/api/v1/groups',
    { preHandler: auth, schema: { tags: ['groups'], summary: 'Every group with member count and inbound address', security: BEARER, response: { 200: groupList, ...errors(401) } } },
    async (req) => ({
      items: (await listGroupsWithCounts(deps.db, req.person!.id)).map((g) => groupView(g, deps.addressing)),
    }),
  );

  app.get<{ Params: { slug: string } }>(
    '/api/v1/groups/:slug',
    { preHandler: auth, schema: { tags: ['groups'], summary: 'One group with its members', security: BEARER, params: slugParams, response: { 200: { ...groupDetail, description: 'The group' }, ...errors(400, 401, 404) } } },
    async (req) => {
      const g = await groupOr404(req.params.slug);
      const summary = (await listGroupsWithCounts(deps.db, req.person!.id)).find((s) => s.id === g.id)!;
      return { ...groupView(summary, deps.addressing), members: await listGroupMembers(deps.db, g.id) };
    },
  );

  for (const method of ['PUT', 'DELETE'] as const) {
    const on = method === 'PUT';
    app.route<{ Params: { slug: string } }>({
      method,
      url: '/api/v1/groups/:slug/follow',
      preHandler: auth,
      schema: {
        tags: ['groups'],
        summary: on ? 'Follow a group (idempotent)' : 'Stop following a group',
        security: BEARER,
        params: slugParams,
        response: { 200: { ...following, description: 'Whether I follow it now' }, ...errors(400, 401, 403, 404) },
      },
      handler: async (req) => {
        assertCanWrite(req.person!);
        const g = await groupOr404(req.params.slug);
        await (on ? follow : unfollow)(deps.db, req.person!.id, { groupId: g.id });
        return { following: await isFollowing(deps.db, req.person!.id, { groupId: g.id }) };
      },
    });
    app.route<{ Params: { id: string } }>({
      method,
      url: '/api/v1/posts/:id/follow',
      preHandler: auth,
      schema: {
        tags: ['posts'],
        summary: on ? 'Follow a thread (idempotent)' : 'Stop following a thread',
        security: BEARER,
        params: idParams,
        response: { 200: { ...following, description: 'Whether I follow it now' }, ...errors(401, 403, 404) },
      },
      handler: async (req) => {
        assertCanWrite(req.person!);
        const post = await loadLivePost(deps.db, req.params.id);
        await (on ? follow : unfollow)(deps.db, req.person!.id, { postId: post.id });
        return { following: await isFollowing(deps.db, req.person!.id, { postId: post.id }) };
      },
    });
  }
}
