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
}

/** Every group with its member count and whether `viewerId` follows it, by name. */
export async function listGroupsWithCounts(db: Tx, viewerId: string | null): Promise<GroupSummary[]> {
  const rows = await db
    .select({ id: groups.id, slug: groups.slug, name: groups.name, description: groups.description, memberCount: count(groupMembers.personId) })
    .from(groups)
    .leftJoin(groupMembers, eq(groupMembers.groupId, groups.id))
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

/** Follow a thread or group. Idempotent (the unique key treats nulls as equal). */
export async function follow(db: Tx, personId: string, target: FollowTarget): Promise<void> {
  await db.insert(follows).values({ personId, ...targetColumns(target) }).onConflictDoNothing();
}

/** Stop following. Idempotent. */
export async function unfollow(db: Tx, personId: string, target: FollowTarget): Promise<void> {
  const t = targetColumns(target);
  await db
    .delete(follows)
    .where(
      and(
        eq(follows.personId, personId),
        t.postId ? eq(follows.postId, t.postId) : isNull(follows.postId),
        t.groupId ? eq(follows.groupId, t.groupId) : isNull(follows.groupId),
      ),
    );
}

/** Whether a person follows a thread or group. */
export async function isFollowing(db: Tx, personId: string, target: FollowTarget): Promise<boolean> {
  const t = targetColumns(target);
  const rows = await db
    .select({ id: follows.id })
    .from(follows)
    .where(
      and(
        eq(follows.personId, personId),
        t.postId ? eq(follows.postId, t.postId) : isNull(follows.postId),
        t.groupId ? eq(follows.groupId, t.groupId) : isNull(follows.groupId),
      ),
    )
    .limit(1);
  return rows.length > 0;
}
