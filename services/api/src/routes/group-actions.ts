import { groupSlugProblem, judgeGroupAction, PermanentError, type GroupAction, type GroupCreation } from '@blend/core';
import {
  addGroupMember,
  createGroup,
  findGroupFor,
  findPersonByEmail,
  findPersonById,
  listGroupsWithCounts,
  memberRole,
  removeGroupMember,
  updateGroup,
  type Database,
  type Group,
  type GroupSummary,
  type Person,
} from '@blend/db';
import { isUuid } from '@blend/core';

/**
 * What people do with groups, shared by the JSON API and the web pages: create, rename,
 * describe, archive, join, leave, add and remove members. Permissions are decided by
 * `judgeGroupAction` (packages/core); a private group an outsider asks about is NOT_FOUND,
 * never FORBIDDEN (docs/SECURITY.md, private groups).
 */

export interface GroupActionDeps {
  db: Database;
  /** BLEND_GROUP_CREATION. @defaultValue 'admins' */
  groupCreation?: GroupCreation;
}

const actor = (me: Person) => ({ isAdmin: me.isAdmin, optedIn: me.optIn === 'opted_in' });

function allow(action: GroupAction, me: Person, group: Group | null, role: string | null, deps: GroupActionDeps): void {
  const facts = group ? { visibility: group.visibility, archived: group.archivedAt !== null, role } : null;
  const verdict = judgeGroupAction(action, actor(me), facts, deps.groupCreation ?? 'admins');
  if (!verdict.ok) throw new PermanentError('FORBIDDEN', verdict.reason);
}

/** The group as `me` may know it, with my role in it, or NOT_FOUND. */
export async function loadGroupFor(db: Database, slug: string, me: Person): Promise<{ group: Group; role: string | null }> {
  const group = await findGroupFor(db, slug, me);
  if (!group) throw new PermanentError('NOT_FOUND', `no group ${slug}`);
  return { group, role: (await memberRole(db, group.id, me.id)) ?? null };
}

/** The group's summary as `me` sees it. */
export async function groupSummaryFor(db: Database, group: Group, me: Person): Promise<GroupSummary> {
  const [s] = await listGroupsWithCounts(db, me, { groupId: group.id });
  if (!s) throw new PermanentError('NOT_FOUND', `no group ${group.slug}`);
  return s;
}

export async function createGroupAs(
  deps: GroupActionDeps,
  me: Person,
  input: { slug: string; name?: string; description?: string; visibility?: 'public' | 'private' },
): Promise<Group> {
  allow('create', me, null, null, deps);
  const slug = input.slug.trim().toLowerCase();
  const problem = groupSlugProblem(slug);
  if (problem) throw new PermanentError('VALIDATION', `slug ${problem}`);
  const name = (input.name ?? '').trim() || slug;
  const created = await createGroup(deps.db, { slug, name, description: (input.description ?? '').trim(), visibility: input.visibility ?? 'public', ownerId: me.id });
  if (!created) throw new PermanentError('CONFLICT', `a group ${slug} exists already`);
  return created;
}

export async function changeGroupAs(
  deps: GroupActionDeps,
  me: Person,
  slug: string,
  change: { name?: string; description?: string; archived?: boolean },
): Promise<Group> {
  const { group, role } = await loadGroupFor(deps.db, slug, me);
  allow('manage', me, group, role, deps);
  const name = change.name?.trim();
  if (change.name !== undefined && !name) throw new PermanentError('VALIDATION', 'name must not be empty');
  const updated = await updateGroup(deps.db, group.id, {
    ...(name ? { name } : {}),
    ...(change.description !== undefined ? { description: change.description.trim() } : {}),
    ...(change.archived !== undefined && change.archived !== (group.archivedAt !== null) ? { archivedAt: change.archived ? new Date() : null } : {}),
  });
  if (!updated) throw new PermanentError('NOT_FOUND', `no group ${slug}`);
  return updated;
}

/** Join (`on`) or leave a group oneself. @returns whether I am a member now. */
export async function setMembership(deps: GroupActionDeps, me: Person, slug: string, on: boolean): Promise<boolean> {
  const { group, role } = await loadGroupFor(deps.db, slug, me);
  allow(on ? 'join' : 'leave', me, group, role, deps);
  if (on) await addGroupMember(deps.db, group.id, me.id);
  else await removeGroupMember(deps.db, group.id, me.id);
  return on;
}

/** A person named by id or email address, or NOT_FOUND. */
async function personNamed(db: Database, who: string): Promise<Person> {
  const p = isUuid(who) ? await findPersonById(db, who) : await findPersonByEmail(db, who.trim().toLowerCase());
  if (!p) throw new PermanentError('NOT_FOUND', 'no such person');
  return p;
}

/** An owner or admin adds (`on`) or removes someone else. @returns the person. */
export async function setOthersMembership(deps: GroupActionDeps, me: Person, slug: string, who: string, on: boolean, role: 'member' | 'owner' = 'member'): Promise<Person> {
  const { group, role: myRole } = await loadGroupFor(deps.db, slug, me);
  allow(on ? 'add_member' : 'remove_member', me, group, myRole, deps);
  if (on && group.archivedAt) throw new PermanentError('FORBIDDEN', 'this group is archived: nobody joins it');
  const person = await personNamed(deps.db, who);
  if (on) await addGroupMember(deps.db, group.id, person.id, role);
  else if (!(await removeGroupMember(deps.db, group.id, person.id))) throw new PermanentError('NOT_FOUND', 'not a member of this group');
  return person;
}
