import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { openSecret, sealSecret, WEBHOOK_SECRET_CONTEXT, webhookSigningSecret } from '@blend/core';
import { createWebhook, ensureGroup, findPersonByEmail, insertPost, optInHistory, schema, upsertPerson } from '@blend/db';
import { createTestDatabase, type TestDatabase } from './support/database';
import { run } from './support/process';

// `pnpm blend` commands for IT, as real processes against a real database.
let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

const blend = (...args: string[]) => run(['services/cli/src/cli.ts', ...args], { DATABASE_URL: t.url });

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

describe('blend groups add', () => {
  it('creates a group, and refuses slugs that are other addresses of Blend', async () => {
    const ok = blend('groups', 'add', 'Sales-EMEA', '--name', 'Sales EMEA', '--json');
    expect((await ok.done).code).toBe(0);
    expect(JSON.parse(ok.out())).toMatchObject({ slug: 'sales-emea', name: 'Sales EMEA' });
    // In plus mode bridge+reply-…@ and bridge+bounce-…@ are reply and bounce addresses, never a group.
    // The four refusals run side by side: each is a process of its own, started from source.
    const refusals = [
      ['reply-all', /must not start with "reply-" or "bounce-"/],
      ['bounce-team', /must not start with "reply-" or "bounce-"/],
      ['status', /one of Blend's own addresses/],
      ['postmaster', /reserved role address/],
    ] as const;
    const runs = refusals.map(([slug]) => blend('groups', 'add', slug));
    const ends = await Promise.all(runs.map((p) => p.done));
    for (const [i, [slug, message]] of refusals.entries()) {
      expect(ends[i]!.code).toBe(2);
      expect(runs[i]!.err()).toMatch(message);
      expect(await t.db.query.groups.findFirst({ where: (g, { eq: is }) => is(g.slug, slug) })).toBeUndefined();
    }
  });
});

describe('blend preview', () => {
  it('shows what would be published, with no database or servers', async () => {
    const p = run(['services/cli/src/cli.ts', 'preview', 'test/fixtures/mail/conv-gmail-forward.eml', 'test/fixtures/mail/plain-reply.eml', '--json'], {});
    expect((await p.done).code).toBe(0);
    const [fwd, reply] = p.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(fwd).toMatchObject({ classification: { kind: 'new_thread' }, title: 'Supplier contract', tags: ['contracts'] });
    expect(fwd!.forwarded).toHaveLength(1);
    expect(fwd!.body_text).not.toContain('Forwarded message');
    expect(reply).toMatchObject({ classification: { kind: 'reply' }, body_text: 'Looks good to me, one question about Q3 hiring.' });
    // What was cut comes too, in order, quotes keeping their `>`.
    expect(reply!.trimmed_text).toBe('On Tue, 24 Nov 2026 at 09:00, Alice Example <alice@corp.test> wrote:\n> The quarterly plan is ready for review\n> Please comment by Friday.');
  });

  it('says why a mail would be held for low confidence, in JSON and in words', async () => {
    const file = path.join(tmpdir(), `unclear-${Date.now()}.eml`);
    writeFileSync(file, [
      'From: Bob <bob@corp.test>', 'To: status@example.test', 'Subject: Re: Plan', 'Message-ID: <unclear-1@corp.test>', '',
      'Yes, Thursday works.', '', '-------- Thread archive 7 --------', 'Can we ship on Thursday?', '',
    ].join('\r\n'));
    const json = run(['services/cli/src/cli.ts', 'preview', file, 'test/fixtures/mail/plain-reply.eml', '--json'], {});
    expect((await json.done).code).toBe(0);
    const [unclear, plain] = json.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(unclear).toMatchObject({ confidence: 'low', confidence_reason: 'unrecognised_history' });
    expect(plain).toMatchObject({ confidence: 'high', confidence_reason: null });

    const human = run(['services/cli/src/cli.ts', 'preview', file], {});
    expect((await human.done).code).toBe(0);
    expect(human.out()).toContain('-- low confidence, would be held (unclear_quote): the kept text still looks like quoted history');
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
    const digest = (...args: string[]) => run(['services/cli/src/cli.ts', 'digest', ...args], { DATABASE_URL: t.url, ...env });

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

describe('blend mailbox', () => {
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  const mb = (env: Record<string, string>, ...args: string[]) => run(['services/cli/src/cli.ts', 'mailbox', ...args], { DATABASE_URL: t.url, ...env }, { timeoutMs: 90_000 });
  const url = 'imap://second%40corp.test@127.0.0.1:143/INBOX';
  const key = 'imap://second%40corp.test@127.0.0.1:143/INBOX';
  const pwFile = () => {
    const file = path.join(tmpdir(), `pw-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, 'Sesame-Open-42\n');
    return file;
  };

  const refusals: [string[], RegExp][] = [
    [['add', 'imap://second%40corp.test:Sesame-Open-42@127.0.0.1/INBOX', '--password-env', 'PW'], /leave the password out of the URL/],
    [['add', 'http://corp.test/INBOX', '--password-env', 'PW'], /must start with imap:\/\/ or imaps:\/\//],
    [['add', 'imap://127.0.0.1/INBOX', '--password-env', 'PW'], /needs a user/],
    [['add', url], /needs the password \(--password-file FILE or --password-env VAR\) or --oauth2/],
    [['add', url, '--password-env', 'NOT_SET_ANYWHERE'], /NOT_SET_ANYWHERE: that environment variable is not set/],
    [['add', url, '--password-file', '/nonexistent/pw'], /cannot read --password-file \/nonexistent\/pw: ENOENT/],
    [['add', url, '--password-env', 'PW', '--after', 'archive'], /--after must be flag, move:FOLDER or delete/],
    [['add', url, '--password-env', 'PW', '--after', 'move:inbox'], /cannot move processed mail into inbox: that is the folder being watched/],
    [['add', url, '--password-env', 'PW', '--bogus'], /Unknown option '--bogus'/],
    [['set', 'imap://nobody%40corp.test@127.0.0.1:143/INBOX', '--disable'], /no watched mailbox imap:\/\/nobody%40corp.test@127.0.0.1:143\/INBOX/],
    [['set'], /mailbox set takes the mailbox KEY/],
    [['remove', 'imap://nobody%40corp.test@127.0.0.1:143/INBOX'], /no watched mailbox/],
  ];
  it('refuses bad input with exit 2, says why, and never echoes a password', async () => {
    // Three processes at a time: each is a separate CLI run, and the machine may be small.
    const results: { args: string[]; code: number | null; err: string; out: string }[] = [];
    for (let i = 0; i < refusals.length; i += 3) {
      results.push(
        ...(await Promise.all(
          refusals.slice(i, i + 3).map(async ([args]) => {
            const p = run(['services/cli/src/cli.ts', 'mailbox', ...args], { DATABASE_URL: t.url, BLEND_SECRET: A, PW: 'Sesame-Open-42' }, { timeoutMs: 90_000 });
            return { args, code: (await p.done).code, err: p.err(), out: p.out() };
          }),
        )),
      );
    }
    for (const [i, r] of results.entries()) {
      expect({ args: r.args, code: r.code }).toEqual({ args: r.args, code: 2 });
      expect(r.err, r.args.join(' ')).toMatch(refusals[i]![1]);
      expect(r.err + r.out).not.toContain('Sesame-Open-42');
    }
  }, 300_000);

  it('adds a mailbox with its password encrypted, lists it without the password, changes and removes it (audited)', async () => {
    // No IMAP server behind this URL: saved without the login check (test/mailboxes.test.ts has it).
    const add = mb({ BLEND_SECRET: A }, 'add', url, '--password-file', pwFile(), '--after', 'move:Blend/Done', '--no-check', '--json');
    expect((await add.done).code).toBe(0);
    expect(JSON.parse(add.out())).toMatchObject({ key, enabled: true, after: 'move:Blend/Done' });
    const [row] = await t.db.select().from(schema.watchedMailboxes).where(eq(schema.watchedMailboxes.key, key));
    expect(row!.passwordSealed).toMatch(/^v1\./);
    expect(row!.passwordSealed).not.toContain('Sesame');

    const again = mb({ BLEND_SECRET: A, PW: 'x' }, 'add', url, '--password-env', 'PW');
    expect((await again.done).code).toBe(2);
    expect(again.err()).toContain('is watched already');

    const list = mb({ BLEND_SECRET: A, BLEND_IMAP_URL: 'imap://bridge%40corp.test:Env-Secret-99@127.0.0.1:143/INBOX', BLEND_IMAP_AFTER: 'delete' }, 'list', '--json');
    expect((await list.done).code).toBe(0);
    expect(list.out()).not.toContain('Sesame-Open-42');
    expect(list.out()).not.toContain('Env-Secret-99');
    expect(JSON.parse(list.out())).toEqual([
      expect.objectContaining({ key: 'imap://bridge%40corp.test@127.0.0.1:143/INBOX', source: 'BLEND_IMAP_URL', after: 'delete (BLEND_IMAP_AFTER)', holder: null }),
      expect.objectContaining({ key, source: 'watched_mailboxes', enabled: true, after: 'move:Blend/Done', password_key: 'current', holder: null, state: null }),
    ]);
    const text = mb({ BLEND_SECRET: A }, 'list');
    expect((await text.done).code).toBe(0);
    expect(text.out()).toContain(`${key}  (watched_mailboxes)`);
    expect(text.out()).toContain('none holds the lease');

    const none = mb({ BLEND_SECRET: A }, 'set', key);
    expect((await none.done).code).toBe(2);
    expect(none.err()).toContain('needs a change');
    const both = mb({ BLEND_SECRET: A }, 'set', key, '--enable', '--disable');
    expect((await both.done).code).toBe(2);

    const set = mb({ BLEND_SECRET: A }, 'set', key, '--disable', '--after', 'default', '--json');
    expect((await set.done).code).toBe(0);
    expect(JSON.parse(set.out())).toMatchObject({ enabled: false, after: 'default' });

    const rm = mb({ BLEND_SECRET: A }, 'remove', key);
    expect((await rm.done).code).toBe(0);
    expect(await t.db.select().from(schema.watchedMailboxes)).toEqual([]);
    const audit = await t.db.select().from(schema.auditLog).where(eq(schema.auditLog.subject, key));
    expect(audit.map((a) => a.action)).toEqual(['mailbox_add', 'mailbox_set', 'mailbox_remove']);
    expect(audit[1]!.detail).toMatchObject({ changed: ['after', 'enabled'] });
    expect(JSON.stringify(audit)).not.toContain('Sesame');
  }, 180_000);

  it('re-encrypts passwords and webhook secrets with the new key after keys rotate, and refuses what no key opens', async () => {
    expect((await mb({ BLEND_SECRET: A }, 'add', url, '--password-file', pwFile(), '--no-check').done).code).toBe(0);
    // A hook sealed under the old key, and one stored before secrets were sealed.
    const sealedHook = await createWebhook(t.db, { url: 'https://esn.test/a', events: ['post.created'], format: 'blend', secret: sealSecret('whsec_a', A, WEBHOOK_SECRET_CONTEXT) });
    const plainHook = await createWebhook(t.db, { url: 'https://esn.test/b', events: ['post.created'], format: 'blend', secret: 'whsec_b' });
    const rotated = { BLEND_SECRET: B, BLEND_SECRET_PREVIOUS: A };
    const before = mb(rotated, 'list', '--json');
    expect((await before.done).code).toBe(0);
    expect((JSON.parse(before.out()) as { password_key: string }[])[0]!.password_key).toMatch(/^not BLEND_SECRET/);

    const rekey = mb(rotated, 'rekey', '--json');
    expect((await rekey.done).code).toBe(0);
    expect(JSON.parse(rekey.out())).toEqual({ resealed: 1, current: 0, failed: [], webhooks: { resealed: 2, current: 0, failed: [] } });
    const [row] = await t.db.select().from(schema.watchedMailboxes);
    expect(openSecret(row!.passwordSealed, [B], key).plain).toBe('Sesame-Open-42');
    const hooks = new Map((await t.db.select().from(schema.webhooks)).map((h) => [h.id, h.secret]));
    expect(webhookSigningSecret(hooks.get(sealedHook.id)!, [B])).toBe('whsec_a');
    expect(webhookSigningSecret(hooks.get(plainHook.id)!, [B])).toBe('whsec_b');
    expect(hooks.get(plainHook.id)).not.toContain('whsec_b');
    const twice = mb(rotated, 'rekey', '--json');
    expect((await twice.done).code).toBe(0);
    expect(JSON.parse(twice.out())).toMatchObject({ resealed: 0, current: 1, webhooks: { resealed: 0, current: 2 } });
    await t.db.delete(schema.webhooks);

    // Without the key it was sealed with, rekey says which mailbox needs its password again.
    const lost = mb({ BLEND_SECRET: 'c'.repeat(64) }, 'rekey');
    expect((await lost.done).code).toBe(1);
    expect(lost.err()).toContain(`${key}: sealed with key`);
    expect((await mb({ BLEND_SECRET: B }, 'remove', key).done).code).toBe(0);
  }, 180_000);

  it('keeps `blend keys rotate` telling IT to re-encrypt mailbox passwords', async () => {
    const p = run(['services/cli/src/cli.ts', 'keys', 'rotate'], {});
    expect((await p.done).code).toBe(0);
    expect(p.out()).toContain('blend mailbox rekey');
  });
});
