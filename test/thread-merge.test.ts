import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq, inArray } from 'drizzle-orm';
import { createMetrics, type Metrics } from '@blend/runtime';
import { generateReplyToken, hashReplyToken, signLink } from '@blend/core';
import { createWebhook, ensureGroup, getEsnPostView, getInbound, hasThreadOptOut, saveReplyToken, schema, storeFetched } from '@blend/db';
import { ingest, type IngestDeps } from '@blend/worker';
import { personWithToken, sessionCookie, startTestApi, type TestApi } from './support/api';
import { ingestDeps } from './support/ingest';
import { corpMail } from './support/messages';

// A reply whose References name messages of two threads proves they are one
// conversation; the later thread becomes comments of the earlier one, links follow it, and
// the guard rails (group, sender's part, cap) hold. Ingest runs against a real Postgres.

let api: TestApi;
let metrics: Metrics;
const SECRET = 's'.repeat(32);
const people: Record<string, { id: string; token: string }> = {};
let uid = 0;
const deps = (): IngestDeps => ingestDeps(api.t.db, { secret: SECRET, metrics });
const db = () => api.t.db;

async function store(raw: Buffer, at: Date) {
  const rows = await storeFetched(db(), 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: at }]);
  return rows[0]!.id;
}
async function deliver(raw: Buffer, at: Date) {
  const id = await store(raw, at);
  await ingest({ inboundId: id }, deps());
  return (await getInbound(db(), id))!;
}

const mail = (m: Parameters<typeof corpMail>[0]) => Buffer.from(corpMail(m));

const postExists = async (id: string) => (await db().select({ id: schema.posts.id }).from(schema.posts).where(eq(schema.posts.id, id))).length === 1;
const merges = () => db().select().from(schema.postMerges);
const mergeOutcomes = async () => Object.fromEntries((await metrics.threadMerges.get()).values.map((v) => [String(v.labels.outcome), v.value]));
const get = (url: string, who = 'alice', headers: Record<string, string> = { authorization: `Bearer ${people[who]!.token}` }) => api.app.inject({ method: 'GET', url, headers });

beforeAll(async () => {
  api = await startTestApi();
  metrics = createMetrics();
  await ensureGroup(db(), 'general');
  await ensureGroup(db(), 'sales');
  for (const name of ['alice', 'bob', 'carol', 'dan']) people[name] = await personWithToken(db(), { email: `${name}@corp.test`, name });
});
afterAll(async () => api?.close());

describe('a reply that links two threads', () => {
  // Each describe keeps its mail in its own hour: rate limits count per sender and minute.
  const at = (m: number) => new Date(Date.UTC(2026, 10, 20, 9, m));
  const A = 'merge-a@corp.test';
  const B = 'merge-b@corp.test';
  const C = 'merge-c@corp.test';
  const cOfBoth = () =>
    mail({ id: C, from: 'carol', cc: 'alice@corp.test, bob@corp.test', subject: 'Re: Desks on the third floor', body: 'Both plans are one: desks go where the move puts them.', inReplyTo: B, references: [A, 'merge-m@corp.test', B] });
  let postA = '';
  let postB = '';
  let token = '';
  let cInbound = '';

  it('joins them: the later post and its comments become comments of the earlier one, in date order', async () => {
    const a = await deliver(mail({ id: A, from: 'alice', cc: 'bob@corp.test, carol@corp.test', subject: 'Office move', body: 'We move to the new building in March.' }), at(1));
    postA = a.postId!;
    expect(a.state).toBe('posted');
    expect(await deliver(mail({ id: 'merge-a2@corp.test', from: 'bob', cc: 'alice@corp.test', subject: 'Re: Office move', body: 'Which floor?', inReplyTo: A, references: [A] }), at(2))).toMatchObject({ state: 'commented', postId: postA });
    // B answers a mail Blend never saw (sent without the bridge): nothing ties it to A yet.
    const b = await deliver(
      mail({ id: B, from: 'bob', cc: 'alice@corp.test, carol@corp.test', subject: 'Desks on the third floor', body: 'New desks for the team #desks', inReplyTo: 'merge-m@corp.test', references: ['merge-m@corp.test'] }),
      at(3),
    );
    postB = b.postId!;
    expect(b.state).toBe('posted');
    expect(postB).not.toBe(postA);
    expect(await deliver(mail({ id: 'merge-b2@corp.test', from: 'alice', cc: 'bob@corp.test', subject: 'Re: Desks on the third floor', body: 'Standing desks, please.', inReplyTo: B, references: ['merge-m@corp.test', B] }), at(4))).toMatchObject({
      state: 'commented',
      postId: postB,
    });
    // What people did with B: a file, a refusal to be mirrored, a mute, a follow, and a reply address.
    await db().insert(schema.attachments).values({ postId: postB, filename: 'floorplan.pdf', declaredType: 'application/pdf', size: 3, omitted: 'test' });
    await db().insert(schema.threadOptOuts).values({ postId: postB, address: 'dan@corp.test' });
    await db().insert(schema.threadMutes).values({ postId: postB, personId: people.dan!.id });
    await db().insert(schema.follows).values({ postId: postB, personId: people.dan!.id });
    token = generateReplyToken(randomBytes);
    await saveReplyToken(db(), { tokenHash: hashReplyToken(token, SECRET), personId: people.alice!.id, postId: postB, expiresAt: new Date(Date.now() + 86_400_000), maxUses: 20 });
    await createWebhook(db(), { url: 'https://esn.test/hook', events: ['post.merged'], format: 'blend', secret: 'k' });

    const c = await deliver(cOfBoth(), at(5));
    cInbound = c.id;
    expect(c).toMatchObject({ state: 'commented', postId: postA });
    const view = (await getEsnPostView(db(), postA, null))!;
    expect(view.body_text).toBe('We move to the new building in March.');
    expect(view.comments.map((x) => [x.author.email, x.body_text])).toEqual([
      ['bob@corp.test', 'Which floor?'],
      ['bob@corp.test', 'New desks for the team #desks'],
      ['alice@corp.test', 'Standing desks, please.'],
      ['carol@corp.test', 'Both plans are one: desks go where the move puts them.'],
    ]);
    const bComment = view.comments[1]!.id;
    expect(await postExists(postB)).toBe(false);
    expect(await merges()).toEqual([expect.objectContaining({ mergedPostId: postB, survivingPostId: postA, commentId: bComment, kind: 'merged', inboundId: c.id })]);
    // B's mail is now the comment it became; its file, tag, choices and Message-IDs followed it.
    expect(await getInbound(db(), b.id)).toMatchObject({ state: 'commented', postId: postA, commentId: bComment });
    expect(await db().select({ postId: schema.attachments.postId, commentId: schema.attachments.commentId }).from(schema.attachments).where(eq(schema.attachments.filename, 'floorplan.pdf'))).toEqual([
      { postId: postA, commentId: bComment },
    ]);
    expect(view.tags).toContain('desks');
    expect(await hasThreadOptOut(db(), postA, 'dan@corp.test')).toBe(true);
    expect(await db().select({ personId: schema.threadMutes.personId }).from(schema.threadMutes).where(eq(schema.threadMutes.postId, postA))).toEqual([{ personId: people.dan!.id }]);
    expect(await db().select({ postId: schema.follows.postId }).from(schema.follows).where(eq(schema.follows.personId, people.dan!.id))).toEqual([{ postId: postA }]);
    const refs = await db().select({ messageId: schema.messageRefs.messageId, postId: schema.messageRefs.postId }).from(schema.messageRefs).where(inArray(schema.messageRefs.messageId, [B, 'merge-b2@corp.test', 'merge-m@corp.test']));
    expect(refs.map((r) => r.postId)).toEqual([postA, postA, postA]);
    // The external ESN hears which post went where.
    const hooks = await db()
      .select({ event: schema.webhookDeliveries.event, payload: schema.events.payload })
      .from(schema.webhookDeliveries)
      .innerJoin(schema.events, eq(schema.events.id, schema.webhookDeliveries.eventId));
    expect(hooks).toEqual([
      {
        event: 'post.merged',
        payload: expect.objectContaining({ post: { id: postA, title: 'Office move', url: `http://blend.test/web/posts/${postA}` }, merged: { id: postB, title: 'Desks on the third floor', comment_id: bComment, url: `http://blend.test/web/posts/${postB}` } }),
      },
    ]);
    expect(await mergeOutcomes()).toEqual({ merged: 1 });
  });

  it('keeps links to the merged post working: the API and the web page redirect to the survivor', async () => {
    const res = await get(`/api/v1/posts/${postB}`);
    expect(res.statusCode).toBe(308);
    expect(res.headers.location).toBe(`/api/v1/posts/${postA}`);
    expect(res.json()).toMatchObject({ merged_into: postA, location: `/api/v1/posts/${postA}` });
    const followed = await get(res.headers.location as string);
    expect(followed.statusCode).toBe(200);
    expect(followed.json().comments.map((c: { id: string }) => c.id)).toContain(res.json().comment_id);
    const web = await get(`/web/posts/${postB}`, 'alice', { cookie: await sessionCookie(api.t.db, people.alice!.token) });
    expect(web.statusCode).toBe(308);
    expect(web.headers.location).toBe(`/web/posts/${postA}#c-${res.json().comment_id}`);
    // An id that never existed is still a 404.
    expect((await get('/api/v1/posts/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('does nothing more when the linking mail comes again', async () => {
    const before = { comments: (await getEsnPostView(db(), postA, null))!.comments.length, merges: (await merges()).length };
    expect(await deliver(cOfBoth(), at(6))).toMatchObject({ state: 'duplicate', duplicateOf: cInbound });
    // The same inbound row handed to ingest again (a re-queued job) is left alone.
    expect(await ingest({ inboundId: cInbound }, deps())).toEqual({ state: 'skipped', reason: 'already_final' });
    expect({ comments: (await getEsnPostView(db(), postA, null))!.comments.length, merges: (await merges()).length }).toEqual(before);
    expect(await db().select({ n: count() }).from(schema.webhookDeliveries)).toEqual([{ n: 1 }]);
  });

  it('sends later replies to the merged thread, by Message-ID and by an old reply address', async () => {
    expect(await deliver(mail({ id: 'merge-b3@corp.test', from: 'bob', subject: 'Re: Desks on the third floor', body: 'Ordered.', inReplyTo: 'merge-b2@corp.test', references: [B, 'merge-b2@corp.test'] }), at(7))).toMatchObject({
      state: 'commented',
      postId: postA,
    });
    expect(await deliver(mail({ id: 'merge-b4@corp.test', from: 'alice', to: `reply+${token}@example.test`, subject: 'Re: Desks on the third floor', body: 'Thanks!' }), at(8))).toMatchObject({
      state: 'commented',
      postId: postA,
    });
  });

  it("acts on the thread it joined from the merged post's signed links (receipt Undo, keep my replies out)", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const link = (path: string, claims: Parameters<typeof signLink>[0]) => api.app.inject({ method: 'POST', url: `${path}?t=${encodeURIComponent(signLink(claims, SECRET))}` });
    expect((await link('/links/withhold', { purpose: 'thread_withhold', subject: 'carol@corp.test', scope: postB, exp })).statusCode).toBe(200);
    expect(await hasThreadOptOut(db(), postA, 'carol@corp.test')).toBe(true);
    // Bob's receipt for B names the post; the text is now a comment of A, and Undo retracts that.
    const bComment = (await merges()).find((m) => m.mergedPostId === postB)!.commentId!;
    expect((await link('/links/undo', { purpose: 'undo', subject: `post:${postB}`, scope: people.alice!.id, exp })).body).toContain('already removed');
    expect((await link('/links/undo', { purpose: 'undo', subject: `post:${postB}`, scope: people.bob!.id, exp })).body).toContain('Removed from the feed');
    const comment = (await getEsnPostView(db(), postA, null))!.comments.find((c) => c.id === bComment) as { deleted?: true };
    expect(comment.deleted).toBe(true);
    expect(await postExists(postA)).toBe(true);
  });
});

describe('guard rails', () => {
  const at = (h: number, m: number) => new Date(Date.UTC(2026, 10, 21, h, m));

  it('does not merge threads of different groups: the reply goes to the first thread it names', async () => {
    const a = await deliver(mail({ id: 'grp-a@corp.test', from: 'alice', cc: 'carol@corp.test', subject: 'Budget', body: 'The budget for next year.' }), at(9, 1));
    const b = await deliver(mail({ id: 'grp-b@corp.test', from: 'bob', to: 'sales@example.test', cc: 'carol@corp.test', subject: 'Sales targets', body: 'Targets for next year.' }), at(9, 2));
    expect([a.state, b.state]).toEqual(['posted', 'posted']);
    const c = await deliver(mail({ id: 'grp-c@corp.test', from: 'carol', subject: 'Re: Sales targets', body: 'They depend on each other.', inReplyTo: 'grp-b@corp.test', references: ['grp-a@corp.test', 'grp-b@corp.test'] }), at(9, 3));
    expect(c).toMatchObject({ state: 'commented', postId: b.postId });
    expect([await postExists(a.postId!), await postExists(b.postId!)]).toEqual([true, true]);
    expect((await merges()).filter((m) => m.survivingPostId === a.postId || m.survivingPostId === b.postId)).toEqual([]);
    expect(await mergeOutcomes()).toMatchObject({ other_group: 1 });
  });

  it('does not let a sender who took part in neither thread merge them', async () => {
    const a = await deliver(mail({ id: 'out-a@corp.test', from: 'alice', cc: 'bob@corp.test', subject: 'Hiring plan', body: 'Two new roles.' }), at(10, 1));
    const b = await deliver(mail({ id: 'out-b@corp.test', from: 'bob', cc: 'alice@corp.test', subject: 'Interview panel', body: 'Who joins the panel?' }), at(10, 2));
    // Dan was on neither mail; the Message-IDs alone do not make him part of the conversations.
    const c = await deliver(mail({ id: 'out-c@corp.test', from: 'dan', subject: 'Re: Interview panel', body: 'These are one topic.', inReplyTo: 'out-b@corp.test', references: ['out-a@corp.test', 'out-b@corp.test'] }), at(10, 3));
    expect(c).toMatchObject({ state: 'commented', postId: b.postId });
    expect([await postExists(a.postId!), await postExists(b.postId!)]).toEqual([true, true]);
    expect(await mergeOutcomes()).toMatchObject({ not_participant: 1 });
  });

  it('merges at most five threads for one mail, the nearest ones in its References', async () => {
    const posts: string[] = [];
    for (let i = 1; i <= 7; i++) {
      const p = await deliver(mail({ id: `cap-${i}@corp.test`, from: 'bob', cc: 'carol@corp.test', subject: `Topic ${i}`, body: `Part ${i} of the plan.` }), at(11, i));
      expect(p.state).toBe('posted');
      posts.push(p.postId!);
    }
    const ids = posts.map((_, i) => `cap-${i + 1}@corp.test`);
    const c = await deliver(mail({ id: 'cap-c@corp.test', from: 'carol', subject: 'Re: Topic 7', body: 'All one plan.', inReplyTo: ids[6], references: ids }), at(11, 30));
    // In-Reply-To names topic 7, References from the newest: 6, 5, 4, 3 and 2 join it; 1 is over the cap.
    // The earliest of those, topic 2, survives.
    expect(c).toMatchObject({ state: 'commented', postId: posts[1] });
    expect(await Promise.all(posts.map(postExists))).toEqual([true, true, false, false, false, false, false]);
    const view = (await getEsnPostView(db(), posts[1]!, null))!;
    expect(view.comments.map((x) => x.body_text)).toEqual(['Part 3 of the plan.', 'Part 4 of the plan.', 'Part 5 of the plan.', 'Part 6 of the plan.', 'Part 7 of the plan.', 'All one plan.']);
    expect((await merges()).filter((m) => m.survivingPostId === posts[1]).map((m) => m.mergedPostId).sort()).toEqual(posts.slice(2).sort());
    expect(await mergeOutcomes()).toMatchObject({ over_cap: 1 });
  });
});
