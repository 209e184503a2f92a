import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { ensureGroup, findPersonByEmail, insertPost, optInHistory, schema, upsertPerson } from '@blend/db';
import { createTestDatabase, type TestDatabase } from './support/database';
import { run } from './support/process';

// `pnpm blend` commands for IT, as real processes against a real database.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const blend = (...args: string[]) => run(['services/api/src/cli.ts', ...args], { DATABASE_URL: t.url });

describe('blend people import', () => {
  it('imports people with their opt-in and records how', async () => {
    const file = path.join(tmpdir(), `people-${Date.now()}.csv`);
    writeFileSync(file, 'email,name,opt_in,admin\nAnn@Corp.test,Ann,yes,no\nben@corp.test,Ben,no,\ncid@corp.test,Cid,out,yes\n');
    const p = blend('people', 'import', file, '--json');
    expect((await p.done).code).toBe(0);
    expect(JSON.parse(p.out())).toEqual({ rows: 3, created: 3, updated: 0 });
    const ann = (await findPersonByEmail(t.db, 'ann@corp.test'))!;
    expect(ann.optIn).toBe('opted_in');
    expect((await optInHistory(t.db, ann.id)).map((e) => e.via)).toEqual(['import']);
    expect((await findPersonByEmail(t.db, 'cid@corp.test'))).toMatchObject({ optIn: 'opted_out', isAdmin: true });
  });

  it('imports nothing when any row is bad, and says which', async () => {
    const file = path.join(tmpdir(), `bad-${Date.now()}.csv`);
    writeFileSync(file, 'email,opt_in\nok@corp.test,yes\nnot an address,yes\nx@corp.test,perhaps\n');
    const p = blend('people', 'import', file);
    expect((await p.done).code).toBe(2);
    expect(p.err()).toMatch(/line 3: not an email address[\s\S]*line 4: opt_in must be yes, no or out/);
    expect(await findPersonByEmail(t.db, 'ok@corp.test')).toBeUndefined();
  });
});

describe('blend people erase', () => {
  it('needs --yes, then erases content and raw mail and writes an audit entry', async () => {
    const { person } = await upsertPerson(t.db, { email: 'gone@corp.test', name: 'Gone', optIn: true });
    const g = await ensureGroup(t.db, 'general');
    const post = await insertPost(t.db, { groupId: g.id, authorId: person.id, title: 'Private thoughts', bodyText: 'erase me', bodyHtml: '<p>erase me</p>', source: 'email' });
    const refused = blend('people', 'erase', 'gone@corp.test');
    expect((await refused.done).code).toBe(2);
    expect(refused.err()).toContain('--yes');

    const p = blend('people', 'erase', 'gone@corp.test', '--yes', '--json');
    expect((await p.done).code).toBe(0);
    expect(JSON.parse(p.out())).toMatchObject({ posts: 1 });
    const [row] = await t.db.select().from(schema.posts).where(eq(schema.posts.id, post.id));
    expect(row).toMatchObject({ title: '', bodyText: '', bodyHtml: '' });
    expect(row!.deletedAt).not.toBeNull();
    expect(await findPersonByEmail(t.db, 'gone@corp.test')).toBeUndefined();
    const audit = await t.db.select().from(schema.auditLog).where(eq(schema.auditLog.subject, person.id));
    expect(audit).toEqual([expect.objectContaining({ action: 'erase_person', detail: expect.objectContaining({ posts: 1 }) })]);
  });
});

describe('blend preview', () => {
  it('shows what would be published, with no database or servers', async () => {
    const p = run(['services/api/src/cli.ts', 'preview', 'test/fixtures/mail/conv-gmail-forward.eml', 'test/fixtures/mail/plain-reply.eml', '--json'], {});
    expect((await p.done).code).toBe(0);
    const [fwd, reply] = p.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(fwd).toMatchObject({ classification: { kind: 'new_thread' }, title: 'Supplier contract', tags: ['contracts'] });
    expect(fwd!.forwarded).toHaveLength(1);
    expect(fwd!.body_text).not.toContain('Forwarded message');
    expect(reply).toMatchObject({ classification: { kind: 'reply' }, body_text: 'Looks good to me, one question about Q3 hiring.' });
  });
});

describe('blend digest --now', () => {
  it('builds and queues one person’s digest whatever the schedule, then nothing when there is nothing new', async () => {
    const { person: reader } = await upsertPerson(t.db, { email: 'reader@corp.test', name: 'Reader', optIn: true });
    const { person: writer } = await upsertPerson(t.db, { email: 'writer@corp.test', name: 'Writer', optIn: true });
    const g = await ensureGroup(t.db, 'digest-cli');
    await t.db.insert(schema.groupMembers).values({ groupId: g.id, personId: reader.id });
    await t.db.update(schema.people).set({ lastDigestAt: new Date(Date.now() - 60_000), nextDigestAt: new Date(Date.now() + 86_400_000) }).where(eq(schema.people.id, reader.id));
    await insertPost(t.db, { groupId: g.id, authorId: writer.id, title: 'Canteen menu', bodyText: 'Soup on Monday', bodyHtml: '<p>Soup on Monday</p>', source: 'esn' });
    const env = { REDIS_URL: 'redis://127.0.0.1:6379', BLEND_MAIL_DOMAIN: 'bridge.corp.test', BLEND_SECRET: 'x'.repeat(40), BLEND_QUEUE_PREFIX: `cli${Date.now()}` };
    const digest = (...args: string[]) => run(['services/api/src/cli.ts', 'digest', ...args], { DATABASE_URL: t.url, ...env });

    const bad = digest('--person', 'reader@corp.test');
    expect((await bad.done).code).toBe(2);
    expect(bad.err()).toContain('--now');

    const p = digest('--now', '--person', 'reader@corp.test', '--json');
    expect((await p.done).code).toBe(0);
    const out = JSON.parse(p.out()) as { sent: number; outbound: string[] };
    expect(out.sent).toBe(1);
    const [row] = await t.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, out.outbound[0]!));
    expect(row).toMatchObject({ kind: 'digest', toAddress: 'reader@corp.test', state: 'pending' });
    expect(row!.textBody).toContain('Soup on Monday');
    expect(row!.headers).toMatchObject({ Precedence: 'bulk', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });

    const again = digest('--now', '--person', 'reader@corp.test', '--json');
    expect((await again.done).code).toBe(0);
    expect(JSON.parse(again.out())).toMatchObject({ sent: 0, empty: 1 });
  });
});
