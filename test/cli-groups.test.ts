import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGroup, upsertPerson } from '@blend/db';
import { createTestDatabase, type TestDatabase } from './support/database';
import { run } from './support/process';

// `blend groups …` for IT: a private group and its members, archiving, as real processes.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await upsertPerson(t.db, { email: 'ann@corp.test', name: 'Ann', optIn: true });
});
afterAll(async () => t?.drop());

const blend = async (...args: string[]) => {
  const p = run(['services/cli/src/cli.ts', ...args], { DATABASE_URL: t.url });
  const { code } = await p.done;
  return { code, out: p.out(), err: p.err() };
};

describe('blend groups', () => {
  it('makes a private group, adds and removes members, and archives it', async () => {
    expect(JSON.parse((await blend('groups', 'add', 'board', '--name', 'Board', '--private', '--json')).out)).toMatchObject({ slug: 'board', visibility: 'private' });
    expect(await blend('groups', 'add-member', 'board', 'Ann@corp.test', '--owner')).toMatchObject({ code: 0, out: 'ann@corp.test is a member of board (owner)\n' });
    const listed = JSON.parse((await blend('groups', 'members', 'board', '--json')).out) as { members: { email: string; role: string }[] };
    expect(listed).toMatchObject({ group: 'board', visibility: 'private', archived: false, members: [{ email: 'ann@corp.test', role: 'owner' }] });
    expect((await blend('groups', 'add-member', 'board', 'nobody@corp.test')).code).toBe(2);
    expect((await blend('groups', 'set', 'board', '--archive', '--description', 'Decisions')).code).toBe(0);
    expect(await findGroup(t.db, 'board')).toMatchObject({ description: 'Decisions', archivedAt: expect.any(Date) });
    expect((await blend('groups', 'remove-member', 'board', 'ann@corp.test')).out).toBe('ann@corp.test left board\n');
    expect((await blend('groups', 'members', 'board')).out).toMatch(/private, archived: 0 members/);
  });
});
