import { describe, expect, it } from 'vitest';
import { judgeGroupAction, type GroupAction, type GroupActor, type GroupCreation, type GroupFacts } from './group-access';

const admin: GroupActor = { isAdmin: true, optedIn: true };
const person: GroupActor = { isAdmin: false, optedIn: true };
const pending: GroupActor = { isAdmin: false, optedIn: false };
const pub: GroupFacts = { visibility: 'public', archived: false, role: null };
const priv: GroupFacts = { visibility: 'private', archived: false, role: null };

describe('judgeGroupAction', () => {
  it.each<[string, GroupAction, GroupActor, GroupFacts | null, GroupCreation, boolean]>([
    ['admin creates (admins only)', 'create', admin, null, 'admins', true],
    ['person cannot create (admins only)', 'create', person, null, 'admins', false],
    ['person creates (everyone)', 'create', person, null, 'everyone', true],
    ['not opted in cannot create (everyone)', 'create', pending, null, 'everyone', false],
    ['person joins a public group', 'join', person, pub, 'admins', true],
    ['person cannot join a private group', 'join', person, priv, 'admins', false],
    ['admin joins a private group', 'join', admin, priv, 'admins', true],
    ['nobody joins an archived group', 'join', person, { ...pub, archived: true }, 'admins', false],
    ['a member "joins" again (idempotent)', 'join', person, { ...priv, role: 'member' }, 'admins', true],
    ['not opted in cannot join', 'join', pending, pub, 'admins', false],
    ['anyone leaves', 'leave', person, priv, 'admins', true],
    ['member cannot manage', 'manage', person, { ...pub, role: 'member' }, 'everyone', false],
    ['owner manages', 'manage', person, { ...priv, role: 'owner' }, 'admins', true],
    ['admin manages', 'manage', admin, priv, 'admins', true],
    ['owner adds others', 'add_member', person, { ...priv, role: 'owner' }, 'admins', true],
    ['member cannot add others', 'add_member', person, { ...priv, role: 'member' }, 'admins', false],
    ['member cannot remove others', 'remove_member', person, { ...pub, role: 'member' }, 'admins', false],
    ['no group', 'manage', admin, null, 'admins', false],
  ])('%s', (_name, action, actor, group, creation, ok) => {
    expect(judgeGroupAction(action, actor, group, creation).ok).toBe(ok);
  });
});
