import { and, eq, is, sql, type AnyColumn, type Placeholder, type SQL } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Database, Tx } from '../client';
import { groupMembers, groups } from '../schema';
import { preparedQuery, preparedSql } from './raw-statement';

export type Group = typeof groups.$inferSelect;

/** The group with this slug, created on first use (the default group and group addresses). */
const groupBySlugStatement = preparedQuery('blend_group_by_slug', (tx) => tx.query.groups.findFirst({ where: eq(groups.slug, sql.placeholder('slug')) }));

export async function ensureGroup(db: Tx, slug: string, name?: string): Promise<Group> {
  // Nearly always there already: one read, and the insert only for a new group. A group found
  // in a transaction is taken again for its later posts (a batch's, docs/ARCHITECTURE.md
  // "Ingest, one mail at a time"): callers use its id, which does not change; one the
  // transaction created itself is not kept, as a mail's savepoint may roll it back.
  const seen = groupsSeen.get(db)?.get(slug);
  if (seen) return seen;
  const found = await groupBySlugStatement(db, { slug });
  if (found) {
    // Only in a transaction: a database handle lives as long as the process.
    if (!is(db, PgTransaction)) return found;
    let bySlug = groupsSeen.get(db);
    if (!bySlug) groupsSeen.set(db, (bySlug = new Map()));
    bySlug.set(slug, found);
    return found;
  }
  await db
    .insert(groups)
    .values({ slug, name: name ?? slug })
    .onConflictDoNothing({ target: groups.slug });
  const g = await db.query.groups.findFirst({ where: eq(groups.slug, slug) });
  if (!g) throw new Error(`group ${slug} vanished after upsert`);
  return g;
}

/** Groups {@link ensureGroup} found in a transaction, by slug. */
const groupsSeen = new WeakMap<Tx, Map<string, Group>>();

export async function findGroup(db: Tx, slug: string): Promise<Group | undefined> {
  return db.query.groups.findFirst({ where: eq(groups.slug, slug) });
}

/**
 * Who may see a group's posts: the one rule every read path applies (the feed, a post, its
 * files, ActivityStreams, digests, notifications, search). A public group's posts every
 * signed-in person sees; a private group's only its members (docs/SECURITY.md, private groups).
 * `groupId` is the group's id as SQL (a column or an expression), `viewer` a person id (a value,
 * a placeholder or an SQL expression; null sees public groups only).
 */
export function groupVisibleTo(groupId: SQL | AnyColumn, viewer: SQL | Placeholder | string | null): SQL {
  return sql`exists (select 1 from ${groups} vg where vg.id = ${groupId} and (vg.visibility = 'public' or exists (select 1 from ${groupMembers} vm where vm.group_id = vg.id and vm.person_id = ${viewer}::uuid)))`;
}

/** Whether `personId` may see the posts of this group ({@link groupVisibleTo} for one group). */
export async function canSeeGroup(db: Tx, groupId: string, personId: string | null): Promise<boolean> {
  const r = await db.execute<{ ok: boolean }>(sql`select ${groupVisibleTo(sql`${groupId}::uuid`, personId)} as ok`);
  return r.rows[0]?.ok === true;
}

/**
 * A group by slug as `viewer` may know it, else undefined, exactly as if it did not exist: a
 * private group is known to its members and to admins (who manage it) only, so an outsider's
 * request is answered 404, never 403 (docs/SECURITY.md, private groups).
 */
export async function findGroupFor(db: Tx, slug: string, viewer: { id: string; isAdmin: boolean }): Promise<Group | undefined> {
  const g = await findGroup(db, slug);
  if (!g || g.visibility === 'public' || viewer.isAdmin) return g;
  return (await memberRole(db, g.id, viewer.id)) ? g : undefined;
}

/** The person's role in the group (`member` or `owner`), or undefined when not a member. */
export async function memberRole(db: Tx, groupId: string, personId: string): Promise<string | undefined> {
  const rows = await db
    .select({ role: groupMembers.role })
    .from(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.personId, personId)))
    .limit(1);
  return rows[0]?.role;
}

/** Make a group; its owner (when given) becomes its first member. CONFLICT-free: undefined when the slug is taken. */
export async function createGroup(
  db: Database,
  g: { slug: string; name: string; description?: string; visibility: 'public' | 'private'; ownerId: string | null },
): Promise<Group | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(groups)
      .values({ slug: g.slug, name: g.name, description: g.description ?? '', visibility: g.visibility, ownerId: g.ownerId })
      .onConflictDoNothing({ target: groups.slug })
      .returning();
    if (row && g.ownerId) await tx.insert(groupMembers).values({ groupId: row.id, personId: g.ownerId, role: 'owner' }).onConflictDoNothing();
    return row;
  });
}

/** Rename, describe, archive (a date) or unarchive (null) a group. */
export async function updateGroup(db: Tx, id: string, change: { name?: string; description?: string; archivedAt?: Date | null }): Promise<Group | undefined> {
  if (Object.keys(change).length === 0) return db.query.groups.findFirst({ where: eq(groups.id, id) });
  const [row] = await db.update(groups).set(change).where(eq(groups.id, id)).returning();
  return row;
}

/** Add a member (idempotent; an owner stays owner). */
export async function addGroupMember(db: Tx, groupId: string, personId: string, role: 'member' | 'owner' = 'member'): Promise<void> {
  await db.insert(groupMembers).values({ groupId, personId, role }).onConflictDoNothing();
}

/** Remove a member. @returns whether they were one. */
export async function removeGroupMember(db: Tx, groupId: string, personId: string): Promise<boolean> {
  const rows = await db
    .delete(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.personId, personId)))
    .returning({ personId: groupMembers.personId });
  return rows.length > 0;
}

/**
 * What limits who may write to the group a mail would land in, in one statement: the group of
 * post `postId` when there is one, else the group `slug`; its visibility, whether it is
 * archived and whether `personId` is a member.
 */
export async function targetGroupOf(
  db: Tx,
  q: { postId: string | null; slug: string; personId: string | null },
): Promise<{ visibility: Group['visibility']; archived: boolean; senderIsMember: boolean } | undefined> {
  const r = await targetGroupStatement(db, q);
  const row = r.rows[0];
  return row ? { visibility: row.visibility, archived: row.archived, senderIsMember: row.member } : undefined;
}

const targetGroupStatement = preparedSql<{ visibility: Group['visibility']; archived: boolean; member: boolean }>('blend_target_group', () => sql`
    select g.visibility, g.archived_at is not null as archived,
      exists (select 1 from ${groupMembers} m where m.group_id = g.id and m.person_id = ${sql.placeholder('personId')}::uuid) as member
    from ${groups} g
    where g.id = coalesce((select p.group_id from posts p where p.id = ${sql.placeholder('postId')}::uuid), (select s.id from ${groups} s where s.slug = ${sql.placeholder('slug')}))`);

export async function getGroupById(db: Tx, id: string): Promise<Group | undefined> {
  return db.query.groups.findFirst({ where: eq(groups.id, id) });
}

/**
 * The private groups a person is a member of, by id: with the filters, what makes one reader's
 * feed page differ from another's (the API's shared feed cache keys pages by it).
 */
export async function privateGroupsOf(db: Tx, personId: string): Promise<string[]> {
  const rows = await db
    .select({ id: groups.id })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(and(eq(groupMembers.personId, personId), eq(groups.visibility, 'private')))
    .orderBy(groups.id);
  return rows.map((r) => r.id);
}

/** Make a group public or private (the CLI's `groups add --private`). */
export async function setGroupVisibility(db: Tx, id: string, visibility: 'public' | 'private'): Promise<Group | undefined> {
  const [row] = await db.update(groups).set({ visibility }).where(eq(groups.id, id)).returning();
  return row;
}
