/**
 * Who may do what with a group (docs/SECURITY.md, private groups). Pure: the API
 * loads the person, the group and the membership, and asks here.
 *
 * - Creating: admins, or every opted-in person when BLEND_GROUP_CREATION=everyone.
 * - Managing (rename, describe, archive, add and remove others): admins and the group's owners.
 * - Joining by oneself: public groups that are not archived. A private group is joined only by
 *   being added by an admin or an owner (no invitations to guess or forward).
 * - Leaving: always, by oneself.
 */

export type GroupCreation = 'admins' | 'everyone';

export interface GroupActor {
  isAdmin: boolean;
  optedIn: boolean;
}

export interface GroupFacts {
  visibility: 'public' | 'private';
  archived: boolean;
  /** The actor's role in the group, null when not a member. */
  role: string | null;
}

export type GroupAction = 'create' | 'manage' | 'join' | 'leave' | 'add_member' | 'remove_member';

/** Whether the action is allowed, or why not (a FORBIDDEN message). */
export type GroupVerdict = { ok: true } | { ok: false; reason: string };

const no = (reason: string): GroupVerdict => ({ ok: false, reason });
const OK: GroupVerdict = { ok: true };

export function judgeGroupAction(action: GroupAction, actor: GroupActor, group: GroupFacts | null, creation: GroupCreation): GroupVerdict {
  if (action === 'create') {
    if (actor.isAdmin) return OK;
    if (creation !== 'everyone') return no('only admins create groups here (BLEND_GROUP_CREATION=admins)');
    return actor.optedIn ? OK : no('opt in first: only opted-in people create groups');
  }
  if (!group) return no('no such group');
  const manages = actor.isAdmin || group.role === 'owner';
  switch (action) {
    case 'leave':
      return OK;
    case 'join':
      if (group.role) return OK;
      if (group.archived) return no('this group is archived: nobody joins it');
      if (!actor.optedIn) return no('opt in first: only opted-in people join groups');
      if (group.visibility === 'private' && !actor.isAdmin) return no('a private group is joined only by being added by its owner or an admin');
      return OK;
    case 'manage':
    case 'add_member':
    case 'remove_member':
      return manages ? OK : no('only the group\'s owners and admins manage it');
  }
}
