import type { FastifyInstance } from 'fastify';
import { bridgeAddress, type Addressing, type GroupCreation } from '@blend/core';
import { follow, isFollowing, listGroupMembers, listGroupsWithCounts, unfollow, type Database, type Group, type GroupSummary, type Person } from '@blend/db';
import { requirePerson } from '../auth';
import { assertCanWrite, loadLivePost } from '../use-cases/esn-actions';
import { changeGroupAs, createGroupAs, groupSummaryFor, loadGroupFor, setMembership, setOthersMembership } from './group-actions';
import { errors, following, groupDetail, groupList, memberList, membership } from './esn-responses';
import { BEARER, bodySchema, idParams, SLUG_PATTERN, slugParams } from './esn-schemas';

export interface GroupDeps {
  db: Database;
  /** Blend's addresses: a group's inbound address is `<slug>@DOMAIN` or `MAILBOX+<slug>@DOMAIN`. */
  addressing: Addressing;
  /** BLEND_GROUP_CREATION: who may create groups. @defaultValue 'admins' */
  groupCreation?: GroupCreation;
}

/** A group as the API shows it. */
export function groupView(g: GroupSummary, addressing: Addressing) {
  return {
    id: g.id,
    slug: g.slug,
    name: g.name,
    description: g.description,
    visibility: g.visibility,
    archived: g.archivedAt !== null,
    archived_at: g.archivedAt ? g.archivedAt.toISOString() : null,
    member_count: g.memberCount,
    address: bridgeAddress(addressing, { kind: 'group', slug: g.slug }),
    followed_by_me: g.followedByMe,
    my_role: g.myRole,
  };
}

const groupWrite = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  description: { type: 'string', maxLength: 2000 },
} as const;

/** Groups (with their mail address and members), membership, and following groups and threads. */
export function esnGroupRoutes(app: FastifyInstance, deps: GroupDeps): void {
  const auth = requirePerson(deps.db);
  const detail = async (group: Group, me: Person) => ({
    ...groupView(await groupSummaryFor(deps.db, group, me), deps.addressing),
    members: await listGroupMembers(deps.db, group.id),
  });

  app.get(
    '/api/v1/groups',
    { preHandler: auth, schema: { tags: ['groups'], summary: 'The groups I may know of (public ones, and private ones I am in) with member count and inbound address', security: BEARER, response: { 200: groupList, ...errors(401) } } },
    async (req) => ({
      items: (await listGroupsWithCounts(deps.db, req.person!)).map((g) => groupView(g, deps.addressing)),
    }),
  );

  app.post<{ Body: { slug: string; name?: string; description?: string; visibility?: 'public' | 'private' } }>(
    '/api/v1/groups',
    {
      preHandler: auth,
      schema: {
        tags: ['groups'],
        summary: 'Create a group (admins, or everyone with BLEND_GROUP_CREATION=everyone); I become its owner',
        security: BEARER,
        body: bodySchema(['slug'], { slug: { type: 'string', pattern: SLUG_PATTERN, description: 'its mail address is <slug>@DOMAIN' }, ...groupWrite, visibility: { type: 'string', enum: ['public', 'private'], default: 'public', description: 'private: only members see its posts and may mail it' } }),
        response: { 201: { ...groupDetail, description: 'The new group; Location names it' }, ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const g = await createGroupAs(deps, req.person!, req.body);
      return reply.status(201).header('location', `/api/v1/groups/${g.slug}`).send(await detail(g, req.person!));
    },
  );

  app.get<{ Params: { slug: string } }>(
    '/api/v1/groups/:slug',
    { preHandler: auth, schema: { tags: ['groups'], summary: 'One group with its members (a private group: 404 unless I am a member or an admin)', security: BEARER, params: slugParams, response: { 200: { ...groupDetail, description: 'The group' }, ...errors(400, 401, 404) } } },
    async (req) => detail((await loadGroupFor(deps.db, req.params.slug, req.person!)).group, req.person!),
  );

  app.patch<{ Params: { slug: string }; Body: { name?: string; description?: string; archived?: boolean } }>(
    '/api/v1/groups/:slug',
    {
      preHandler: auth,
      schema: {
        tags: ['groups'],
        summary: 'Rename, describe, archive or unarchive a group (its owners and admins)',
        security: BEARER,
        params: slugParams,
        body: bodySchema([], { ...groupWrite, archived: { type: 'boolean', description: 'an archived group is read-only and refuses mail' } }, { minProperties: 1 }),
        response: { 200: { ...groupDetail, description: 'The group now' }, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => detail(await changeGroupAs(deps, req.person!, req.params.slug, req.body), req.person!),
  );

  app.get<{ Params: { slug: string } }>(
    '/api/v1/groups/:slug/members',
    { preHandler: auth, schema: { tags: ['groups'], summary: 'Members of a group, by name', security: BEARER, params: slugParams, response: { 200: memberList, ...errors(400, 401, 404) } } },
    async (req) => ({ items: await listGroupMembers(deps.db, (await loadGroupFor(deps.db, req.params.slug, req.person!)).group.id) }),
  );

  for (const method of ['POST', 'DELETE'] as const) {
    const on = method === 'POST';
    app.route<{ Params: { slug: string } }>({
      method,
      url: '/api/v1/groups/:slug/members/me',
      preHandler: auth,
      schema: {
        tags: ['groups'],
        summary: on ? 'Join a public group (idempotent); private groups are joined by being added' : 'Leave a group (idempotent)',
        security: BEARER,
        params: slugParams,
        response: { 200: { ...membership, description: 'Whether I am a member now' }, ...errors(400, 401, 403, 404) },
      },
      handler: async (req) => ({ member: await setMembership(deps, req.person!, req.params.slug, on) }),
    });
  }

  app.post<{ Params: { slug: string }; Body: { person: string; role?: 'member' | 'owner' } }>(
    '/api/v1/groups/:slug/members',
    {
      preHandler: auth,
      schema: {
        tags: ['groups'],
        summary: 'Add someone to a group (its owners and admins); the only way into a private group',
        security: BEARER,
        params: slugParams,
        body: bodySchema(['person'], { person: { type: 'string', minLength: 1, maxLength: 320, description: 'person id or email address' }, role: { type: 'string', enum: ['member', 'owner'], default: 'member' } }),
        response: { 200: memberList, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { group } = await loadGroupFor(deps.db, req.params.slug, req.person!);
      await setOthersMembership(deps, req.person!, req.params.slug, req.body.person, true, req.body.role ?? 'member');
      return { items: await listGroupMembers(deps.db, group.id) };
    },
  );

  app.delete<{ Params: { slug: string; person: string } }>(
    '/api/v1/groups/:slug/members/:person',
    {
      preHandler: auth,
      schema: {
        tags: ['groups'],
        summary: 'Remove someone from a group (its owners and admins)',
        security: BEARER,
        params: { type: 'object', required: ['slug', 'person'], additionalProperties: false, properties: { slug: slugParams.properties.slug, person: { type: 'string', minLength: 1, maxLength: 320, description: 'person id or email address' } } },
        response: { 200: memberList, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { group } = await loadGroupFor(deps.db, req.params.slug, req.person!);
      await setOthersMembership(deps, req.person!, req.params.slug, req.params.person, false);
      return { items: await listGroupMembers(deps.db, group.id) };
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
        const { group: g } = await loadGroupFor(deps.db, req.params.slug, req.person!);
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
        const post = await loadLivePost(deps.db, req.params.id, req.person!.id);
        await (on ? follow : unfollow)(deps.db, req.person!.id, { postId: post.id });
        return { following: await isFollowing(deps.db, req.person!.id, { postId: post.id }) };
      },
    });
  }
}
