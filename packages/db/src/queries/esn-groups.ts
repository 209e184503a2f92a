import { and, asc, count, eq, isNull, sql } from 'drizzle-orm';
import type { Tx } from '../client';
import { follows, groupMembers, groups, people } from '../schema';

export interface GroupSummary {
  id: string;
  slug: string;
  name: string;
  description: string;
  memberCount: number;
  followedByMe: boolean;
  visibility: 'public' | 'private';
  archivedAt: Date | null;
  ownerId: string | null;
  /** The viewer's role in it (`member`, `owner`), null when not a member. */
  myRole: string | null;
}

/**
 * The groups `viewer` may know of, with member counts and whether the viewer follows each, by
 * name: every public group, and a private one only for its members and admins (an outsider is
 * not told it exists; docs/SECURITY.md, private groups).
 */
export async function listGroupsWithCounts(db: Tx, viewer: { id: string; isAdmin: boolean } | null, only?: { groupId: string }): Promise<GroupSummary[]> {
  const viewerId = viewer?.id ?? null;
  const listed =
    viewer?.isAdmin
      ? undefined
      : sql`(${groups.visibility} = 'public' or exists (select 1 from ${groupMembers} lm where lm.group_id = ${groups.id} and lm.person_id = ${viewerId}::uuid))`;
  const rows = await db
    .select({
      id: groups.id,
      slug: groups.slug,
      name: groups.name,
      description: groups.description,
      visibility: groups.visibility,
      archivedAt: groups.archivedAt,
      ownerId: groups.ownerId,
      memberCount: count(groupMembers.personId),
      myRole: sql<string | null>`(select mr.role from ${groupMembers} mr where mr.group_id = ${groups.id} and mr.person_id = ${viewerId}::uuid)`,
    })
    .from(groups)
    .leftJoin(groupMembers, eq(groupMembers.groupId, groups.id))
    .where(and(listed, only ? eq(groups.id, only.groupId) : undefined))
    .groupBy(groups.id)
    .orderBy(sql`lower(${groups.name})`, asc(groups.slug));
  const followed = viewerId
    ? await db.select({ groupId: follows.groupId }).from(follows).where(and(eq(follows.personId, viewerId), isNull(follows.postId)))
    : [];
  const mine = new Set(followed.map((f) => f.groupId));
  return rows.map((r) => ({ ...r, followedByMe: mine.has(r.id) }));
}

export interface GroupMember {
  id: string;
  email: string;
  name: string;
  role: string;
}

/** Members of a group, by name. */
export async function listGroupMembers(db: Tx, groupId: string): Promise<GroupMember[]> {
  return db
    .select({ id: people.id, email: people.email, name: people.name, role: groupMembers.role })
    .from(groupMembers)
    .innerJoin(people, eq(people.id, groupMembers.personId))
    .where(eq(groupMembers.groupId, groupId))
    .orderBy(asc(people.name), asc(people.email));
}

/** What a follow points at: a thread (post) or a group, never both. */
export type FollowTarget = { postId: string } | { groupId: string };

function targetColumns(t: FollowTarget): { postId: string | null; groupId: string | null } {
  return 'postId' in t ? { postId: t.postId, groupId: null } : { postId: null, groupId: t.groupId };
}

/** The one follow row a person has for a target (the other column is null). */
function followRow(personId: string, target: FollowTarget) {
  const t = targetColumns(target);
  return and(
    eq(follows.personId, personId),
    t.postId ? eq(follows.postId, t.postId) : isNull(follows.postId),
    t.groupId ? eq(follows.groupId, t.groupId) : isNull(follows.groupId),
  );
}

/** Follow a thread or group. Idempotent (the unique key treats nulls as equal). */
export async function follow(db: Tx, personId: string, target: FollowTarget): Promise<void> {
  await db.insert(follows).values({ personId, ...targetColumns(target) }).onConflictDoNothing();
}

/** Stop following. Idempotent. */
export async function unfollow(db: Tx, personId: string, target: FollowTarget): Promise<void> {
  await db.delete(follows).where(followRow(personId, target));
}

/** Whether a person follows a thread or group. */
export async function isFollowing(db: Tx, personId: string, target: FollowTarget): Promise<boolean> {
  const rows = await db
    .select({ id: follows.id })
    .from(follows)
    .where(followRow(personId, target))
    .limit(1);
  return rows.length > 0;
}
