import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { activityFacts, addThreadParticipants, ensureGroup, finishNotifications, insertEsnPost, writeOutboundMail, insertNotifications, muteThread, schema, upsertPerson, type ActivityEvent } from '@blend/db';
import { createTestDatabase, type TestDatabase } from './support/database';

// What the mail planning of an event reads (docs/ARCHITECTURE.md "Outbound mail"), on real
// Postgres: the post's author, its mail participants, the mentioned, who muted the thread and
// who has the mail already, read in one statement besides the recipients; and how a sweep
// settles its notification rows, all groups in one statement; and a threaded outbox row with
// its Message-ID's place in the thread, written together or not at all.
let t: TestDatabase;
const ids: Record<string, string> = {};
let postId = '';

beforeAll(async () => {
  t = await createTestDatabase();
  for (const who of ['author', 'bea', 'carl', 'dora', 'emil']) {
    ids[who] = (await upsertPerson(t.db, { email: `${who}@corp.test`, name: who, optIn: true })).person.id;
  }
  const group = await ensureGroup(t.db, 'general');
  postId = (await insertEsnPost(t.db, { groupId: group.id, authorId: ids.author!, title: 'Facts', bodyText: 'Facts', bodyHtml: '<p>Facts</p>', tags: [], mentionedEmails: [] })).id;
  await addThreadParticipants(t.db, postId, ['bea@corp.test', 'CARL@corp.test', 'emil@corp.test']);
  await muteThread(t.db, postId, ids.carl!);
});
afterAll(async () => t?.drop());

const event = (over: Partial<ActivityEvent> = {}): ActivityEvent => ({
  kind: 'comment', postId, commentId: null, authorId: ids.bea!, source: 'email', at: new Date(), mentionedIds: [], ...over,
});

describe('activityFacts', () => {
  it('reads the participants, the mentioned, the author, the mutes and who has the mail already', async () => {
    const facts = (await activityFacts(t.db, event({ mentionedIds: [ids.dora!], alreadyHaveEmails: ['EMIL@corp.test', 'nobody@corp.test'] })))!;
    expect(facts.post).toEqual({ authorId: ids.author, source: 'esn' });
    expect(facts.emailParticipants.map((r) => r.id).sort()).toEqual([ids.bea, ids.carl, ids.emil].sort());
    expect(facts.mentioned.map((r) => r.id)).toEqual([ids.dora]);
    expect(facts.postAuthor?.id).toBe(ids.author);
    expect([...facts.muted]).toEqual([ids.carl]);
    expect([...facts.alreadyHave]).toEqual([ids.emil]);
  });

  it('has nobody with the mail already when the event names no addresses, and nothing for a post that is gone', async () => {
    const facts = (await activityFacts(t.db, event()))!;
    expect(facts.alreadyHave.size).toBe(0);
    expect(facts.mentioned).toEqual([]);
    expect(await activityFacts(t.db, event({ postId: randomUUID() }))).toBeNull();
  });
});

describe('finishNotifications', () => {
  it('settles each group with its own outcome and leaves other rows pending', async () => {
    const due = new Date();
    await insertNotifications(t.db, { postId, commentId: null }, ['bea', 'carl', 'dora', 'emil'].map((who) => ({ personId: ids[who]!, kind: 'reply' as const, dueAt: due })));
    const rows = await t.db.select().from(schema.notifications).where(eq(schema.notifications.postId, postId));
    const of = (who: string) => rows.filter((r) => r.personId === ids[who]).map((r) => r.id);
    const outboundA = randomUUID();
    const outboundB = randomUUID();
    await finishNotifications(t.db, [
      { ids: of('bea'), outcome: { outboundId: outboundA } },
      { ids: of('carl'), outcome: { dropped: 'opted_out' } },
      { ids: of('dora'), outcome: { outboundId: outboundB } },
    ]);
    await finishNotifications(t.db, []);
    const after = new Map((await t.db.select().from(schema.notifications).where(eq(schema.notifications.postId, postId))).map((r) => [r.personId, r]));
    expect(after.get(ids.bea!)).toMatchObject({ state: 'sent', outboundId: outboundA, reason: null });
    expect(after.get(ids.carl!)).toMatchObject({ state: 'dropped', outboundId: null, reason: 'opted_out' });
    expect(after.get(ids.dora!)).toMatchObject({ state: 'sent', outboundId: outboundB, reason: null });
    expect(after.get(ids.emil!)).toMatchObject({ state: 'pending', outboundId: null, reason: null });
  });
});

describe('writeOutboundMail', () => {
  const addressing = { mode: 'domain', domain: 'bridge.test' } as const;
  const mail = (dedupeKey: string, threaded: boolean) => ({ kind: 'mirror', to: 'bea@corp.test', personId: ids.bea!, postId, subject: 'Re: Facts', text: 'Hello', dedupeKey, threaded });
  const refsOf = async (outboundId: string) => {
    const [row] = await t.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, outboundId));
    return t.db.select().from(schema.messageRefs).where(eq(schema.messageRefs.messageId, row!.messageId));
  };

  it('maps the Message-ID of a threaded mail to its thread, and writes nothing again for a used key', async () => {
    const id = (await writeOutboundMail(t.db, addressing, mail('facts:threaded', true)))!;
    expect(id).toBeTruthy();
    expect((await refsOf(id)).map((r) => ({ postId: r.postId, commentId: r.commentId, inboundId: r.inboundId }))).toEqual([{ postId, commentId: null, inboundId: null }]);
    expect(await writeOutboundMail(t.db, addressing, mail('facts:threaded', true))).toBeNull();
    expect(await t.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.dedupeKey, 'facts:threaded'))).toHaveLength(1);
  });

  it('does not map a mail that is not threaded', async () => {
    const id = (await writeOutboundMail(t.db, addressing, mail('facts:plain', false)))!;
    expect(id).toBeTruthy();
    expect(await refsOf(id)).toEqual([]);
  });
});
