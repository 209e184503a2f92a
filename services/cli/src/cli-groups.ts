import { parseArgs } from 'node:util';
import { isUuid } from '@blend/core';
import { addGroupMember, findGroup, findPersonByEmail, findPersonById, listGroupMembers, removeGroupMember, updateGroup, type DbHandle } from '@blend/db';
import { UsageError } from './cli-commands';

/**
 * `blend groups members|add-member|remove-member|set …`: what owners and admins do on the Groups
 * page, for IT at the command line (a private group's first members, say).
 */

async function groupOrFail(dbh: DbHandle, slug: string | undefined, command: string) {
  if (!slug) throw new UsageError(`${command} takes a group SLUG`);
  const g = await findGroup(dbh.db, slug.toLowerCase());
  if (!g) throw new UsageError(`${command}: no group ${slug}`);
  return g;
}

async function personOrFail(dbh: DbHandle, who: string | undefined, command: string) {
  if (!who) throw new UsageError(`${command} takes a person's EMAIL (or id)`);
  const p = isUuid(who) ? await findPersonById(dbh.db, who) : await findPersonByEmail(dbh.db, who.toLowerCase());
  if (!p) throw new UsageError(`${command}: no person ${who} (add them with \`blend people add\`)`);
  return p;
}

export async function groupsMembers(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  const g = await groupOrFail(dbh, positionals[0], 'groups members');
  const members = await listGroupMembers(dbh.db, g.id);
  if (values.json) console.log(JSON.stringify({ group: g.slug, visibility: g.visibility, archived: g.archivedAt !== null, members }));
  else {
    console.log(`${g.slug} (${g.name}), ${g.visibility}${g.archivedAt ? ', archived' : ''}: ${members.length} ${members.length === 1 ? 'member' : 'members'}`);
    for (const m of members) console.log(`  ${m.email}${m.role === 'owner' ? ' (owner)' : ''}`);
  }
  return 0;
}

export async function groupsMember(dbh: DbHandle, args: string[], add: boolean): Promise<number> {
  const command = add ? 'groups add-member' : 'groups remove-member';
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { owner: { type: 'boolean', default: false } } });
  if (positionals.length !== 2) throw new UsageError(`${command} takes SLUG EMAIL`);
  const g = await groupOrFail(dbh, positionals[0], command);
  const p = await personOrFail(dbh, positionals[1], command);
  if (add) {
    await addGroupMember(dbh.db, g.id, p.id, values.owner ? 'owner' : 'member');
    console.log(`${p.email} is a member of ${g.slug}${values.owner ? ' (owner)' : ''}`);
  } else {
    const was = await removeGroupMember(dbh.db, g.id, p.id);
    console.log(was ? `${p.email} left ${g.slug}` : `${p.email} was not a member of ${g.slug}`);
  }
  return 0;
}

export async function groupsSet(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { name: { type: 'string' }, description: { type: 'string' }, archive: { type: 'boolean' }, unarchive: { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw new UsageError('groups set takes one SLUG');
  if (values.archive && values.unarchive) throw new UsageError('groups set: --archive or --unarchive, not both');
  const g = await groupOrFail(dbh, positionals[0], 'groups set');
  const updated = await updateGroup(dbh.db, g.id, {
    ...(values.name?.trim() ? { name: values.name.trim() } : {}),
    ...(values.description !== undefined ? { description: values.description.trim() } : {}),
    ...(values.archive ? { archivedAt: new Date() } : values.unarchive ? { archivedAt: null } : {}),
  });
  console.log(`group ${updated!.slug} (${updated!.name})${updated!.archivedAt ? ', archived' : ''}`);
  return 0;
}
