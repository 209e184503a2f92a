import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, eq, like } from 'drizzle-orm';
import { addOutbound, claimOutbound, createWebhook, ensureGroup, schema } from '@blend/db';
import { personWithToken, startTestApi, type TestApi } from './support/api';

// Moderation (docs/SECURITY.md B40): admins hide and restore posts and
// comments with a reason, readers report them. app.inject() on real Postgres and Redis.
let api: TestApi;
const who: Record<string, { id: string; token: string }> = {};
const ids: Record<string, string> = {};

type Method = 'GET' | 'POST';
const req = (method: Method, url: string, as: string, payload?: unknown) =>
  api.app.inject({ method, url, headers: { authorization: `Bearer ${who[as]!.token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
const feedIds = async (as: string) => ((await req('GET', '/api/v1/feed', as)).json() as { items: { id: string }[] }).items.map((p) => p.id);
const searchIds = async (as: string, q: string) => ((await req('GET', `/api/v1/search?q=${q}`, as)).json() as { items: { post_id: string }[] }).items.map((i) => i.post_id);
const eventsOf = async (postId: string) =>
  (await api.t.db.select().from(schema.events).where(eq(schema.events.threadId, postId)).orderBy(schema.events.sequence)).map((e) => ({ type: e.type, payload: e.payload, commentId: e.commentId }));

beforeAll(async () => {
  api = await startTestApi();
  who.admin = await personWithToken(api.t.db, { email: 'ada@corp.test', name: 'Ada', isAdmin: true });
  who.author = await personWithToken(api.t.db, { email: 'bob@corp.test', name: 'Bob' });
  who.reader = await personWithToken(api.t.db, { email: 'cy@corp.test', name: 'Cy' });
  who.other = await personWithToken(api.t.db, { email: 'dee@corp.test', name: 'Dee' });
  await ensureGroup(api.t.db, 'general');
  await createWebhook(api.t.db, { url: 'https://hooks.example.test/in', events: ['post.deleted', 'comment.deleted', 'post.created', 'comment.created'], format: 'blend', secret: 'whsec_test' });
  const post = await req('POST', '/api/v1/posts', 'author', { group: 'general', title: 'Quarterly flamingo', body: 'The flamingo report is late again' });
  expect(post.statusCode, post.body).toBe(201);
  ids.post = (post.json() as { id: string }).id;
  const comment = await req('POST', `/api/v1/posts/${ids.post}/comments`, 'author', { body: 'A remark about pelicans' });
  ids.comment = (comment.json() as { id: string }).id;
  const other = await req('POST', `/api/v1/posts/${ids.post}/comments`, 'reader', { body: 'Plain reply' });
  ids.readerComment = (other.json() as { id: string }).id;
});
afterAll(async () => {
  await api?.close();
});

describe('reports', () => {
  it('a reader reports a post; a second report by the same reader is idempotent', async () => {
    const first = await req('POST', `/api/v1/posts/${ids.post}/report`, 'reader', { reason: 'insulting' });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toEqual({ status: 'created' });
    const again = await req('POST', `/api/v1/posts/${ids.post}/report`, 'reader', { reason: 'still insulting' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ status: 'exists' });
    expect(await api.t.db.select().from(schema.reports).where(eq(schema.reports.postId, ids.post!))).toHaveLength(1);
  });

  it('another reader may report the same post, and a comment apart', async () => {
    expect((await req('POST', `/api/v1/posts/${ids.post}/report`, 'other', { reason: 'spam' })).statusCode).toBe(201);
    expect((await req('POST', `/api/v1/posts/${ids.post}/report`, 'other', { reason: 'rude', comment: ids.comment })).statusCode).toBe(201);
  });

  it('an unknown post or a comment of another post is 404; an empty reason 400', async () => {
    expect((await req('POST', `/api/v1/posts/00000000-0000-4000-8000-000000000000/report`, 'reader', { reason: 'x' })).statusCode).toBe(404);
    expect((await req('POST', `/api/v1/posts/nope/report`, 'reader', { reason: 'x' })).statusCode).toBe(404);
    expect((await req('POST', `/api/v1/posts/${ids.post}/report`, 'reader', { reason: 'x', comment: '00000000-0000-4000-8000-000000000000' })).statusCode).toBe(404);
    expect((await req('POST', `/api/v1/posts/${ids.post}/report`, 'reader', { reason: '' })).statusCode).toBe(400);
  });

  it('the queue lists the open reports for admins only', async () => {
    expect((await req('GET', '/api/v1/admin/reports', 'reader')).statusCode).toBe(403);
    const res = await req('GET', '/api/v1/admin/reports', 'admin');
    expect(res.statusCode, res.body).toBe(200);
    const queue = res.json() as { items: { reason: string; comment_id: string | null; reporter: { email: string }; author: { email: string }; excerpt: string }[] };
    expect(queue.items.map((r) => [r.reporter.email, r.reason, r.comment_id])).toEqual([
      ['cy@corp.test', 'insulting', null],
      ['dee@corp.test', 'spam', null],
      ['dee@corp.test', 'rude', ids.comment],
    ]);
    expect(queue.items[2]).toMatchObject({ author: { email: 'bob@corp.test' }, excerpt: 'A remark about pelicans' });
  });
});

describe('hiding and restoring a post', () => {
  it('a non-admin cannot hide or restore (403)', async () => {
    for (const path of ['hide', 'restore']) {
      const res = await req('POST', `/api/v1/admin/posts/${ids.post}/${path}`, 'reader', { reason: 'x' });
      expect(res.statusCode).toBe(403);
    }
    expect(await feedIds('reader')).toContain(ids.post);
  });

  it('hiding takes it out of another reader’s feed, search and thread (404), and resolves its reports', async () => {
    expect(await searchIds('reader', 'flamingo')).toContain(ids.post);
    const res = await req('POST', `/api/v1/admin/posts/${ids.post}/hide`, 'admin', { reason: 'Breaks the code of conduct' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ id: ids.post, kind: 'post', hidden: true, changed: true });
    expect(await feedIds('reader')).not.toContain(ids.post);
    expect(await searchIds('reader', 'flamingo')).not.toContain(ids.post);
    expect((await req('GET', `/api/v1/posts/${ids.post}`, 'reader')).statusCode).toBe(404);
    expect((await req('GET', `/api/v1/posts/${ids.post}`, 'admin')).statusCode).toBe(404);
    const asNote = await api.app.inject({ method: 'GET', url: `/api/v1/posts/${ids.post}`, headers: { authorization: `Bearer ${who.reader!.token}`, accept: 'application/activity+json' } });
    expect(asNote.statusCode).toBe(404);
    const asFeed = await api.app.inject({ method: 'GET', url: '/api/v1/feed', headers: { authorization: `Bearer ${who.reader!.token}`, accept: 'application/activity+json' } });
    expect(asFeed.body).not.toContain(ids.post);
    const queue = (await req('GET', '/api/v1/admin/reports', 'admin')).json() as { items: { comment_id: string | null }[]; hidden: { id: string; reason: string }[] };
    expect(queue.items.map((r) => r.comment_id)).toEqual([ids.comment]);
    expect(queue.hidden).toEqual([expect.objectContaining({ id: ids.post, kind: 'post', reason: 'Breaks the code of conduct', title: 'Quarterly flamingo' })]);
  });

  it('its author still sees it, marked with the reason', async () => {
    const res = await req('GET', `/api/v1/posts/${ids.post}`, 'author');
    expect(res.statusCode).toBe(200);
    const post = res.json() as { title: string; body_text: string; deleted?: boolean; hidden?: { reason: string } };
    expect(post).toMatchObject({ title: 'Quarterly flamingo', body_text: 'The flamingo report is late again', hidden: { reason: 'Breaks the code of conduct' } });
    expect(post.deleted).toBeUndefined();
    expect(await feedIds('author')).not.toContain(ids.post);
  });

  it('hiding again changes nothing; a reader cannot report what is hidden', async () => {
    const res = await req('POST', `/api/v1/admin/posts/${ids.post}/hide`, 'admin', { reason: 'again' });
    expect(res.json()).toMatchObject({ changed: false });
    expect((await req('POST', `/api/v1/posts/${ids.post}/report`, 'reader', { reason: 'x' })).statusCode).toBe(404);
  });

  it('the hide wrote post.deleted (reason hidden) for the webhook, emptied the earlier events, and an audit entry', async () => {
    const evs = await eventsOf(ids.post!);
    const removal = evs.filter((e) => e.type === 'post.deleted');
    expect(removal).toHaveLength(1);
    expect(removal[0]!.payload).toMatchObject({ reason: 'hidden', post: { id: ids.post, title: '', url: null } });
    const created = evs.find((e) => e.type === 'post.created')!;
    expect(created.payload).toMatchObject({ post: { title: '', body_text: '' } });
    const deliveries = await api.t.db.select().from(schema.webhookDeliveries).where(eq(schema.webhookDeliveries.event, 'post.deleted'));
    expect(deliveries).toHaveLength(1);
    const audit = await api.t.db.select().from(schema.auditLog).where(and(eq(schema.auditLog.subject, ids.post!), like(schema.auditLog.action, 'hide_%')));
    expect(audit).toEqual([expect.objectContaining({ action: 'hide_post', actor: who.admin!.id, detail: { reason: 'Breaks the code of conduct', author: who.author!.id } })]);
  });

  it('an admin restores it', async () => {
    const res = await req('POST', `/api/v1/admin/posts/${ids.post}/restore`, 'admin');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ id: ids.post, kind: 'post', hidden: false, changed: true });
  });

  it('restoring brings it back to feed, search and thread, with post.created and its content in earlier events again', async () => {
    expect(await feedIds('reader')).toContain(ids.post);
    expect(await searchIds('reader', 'flamingo')).toContain(ids.post);
    const view = (await req('GET', `/api/v1/posts/${ids.post}`, 'reader')).json() as { title: string; hidden?: unknown };
    expect(view.title).toBe('Quarterly flamingo');
    expect(view.hidden).toBeUndefined();
    const evs = await eventsOf(ids.post!);
    expect(evs.at(-1)).toMatchObject({ type: 'post.created', payload: { post: { title: 'Quarterly flamingo', body_text: 'The flamingo report is late again' } } });
    expect(evs[0]).toMatchObject({ type: 'post.created', payload: { post: { title: 'Quarterly flamingo' } } });
    const audit = await api.t.db.select().from(schema.auditLog).where(and(eq(schema.auditLog.subject, ids.post!), eq(schema.auditLog.action, 'restore_post')));
    expect(audit).toHaveLength(1);
    expect((await req('POST', `/api/v1/admin/posts/${ids.post}/restore`, 'admin')).json()).toMatchObject({ changed: false });
  });

  it('an unknown or retracted post is 404 to hide', async () => {
    expect((await req('POST', '/api/v1/admin/posts/00000000-0000-4000-8000-000000000000/hide', 'admin', { reason: 'x' })).statusCode).toBe(404);
    expect((await req('POST', '/api/v1/admin/posts/zzz/restore', 'admin')).statusCode).toBe(404);
  });
});

describe('the author is told', () => {
  it('by a mail in the outbox naming the post and the reason, which the outbox does not void', async () => {
    const mails = await api.t.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.kind, 'moderation'));
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ toAddress: 'bob@corp.test', personId: who.author!.id, subject: 'Your post was hidden by a moderator', state: 'pending' });
    expect(mails[0]!.textBody).toContain('Your post “Quarterly flamingo” was hidden');
    expect(mails[0]!.textBody).toContain('Reason: Breaks the code of conduct');
    expect((await claimOutbound(api.t.db, mails[0]!.id, 1))?.voidReason).toBeNull();
  });
});

describe('hiding a comment', () => {
  it('is a tombstone for other readers, the text with the reason for its author, comment.deleted for hooks', async () => {
    const res = await req('POST', `/api/v1/admin/comments/${ids.comment}/hide`, 'admin', { reason: 'Off topic' });
    expect(res.statusCode, res.body).toBe(200);
    const seen = (await req('GET', `/api/v1/posts/${ids.post}`, 'reader')).json() as { comment_count: number; comments: { id: string; body_text: string; deleted?: boolean }[] };
    expect(seen.comments.find((c) => c.id === ids.comment)).toMatchObject({ body_text: '', deleted: true });
    expect(seen.comment_count).toBe(1);
    expect(await searchIds('reader', 'pelicans')).toEqual([]);
    const mine = (await req('GET', `/api/v1/posts/${ids.post}`, 'author')).json() as { comments: { id: string; body_text: string; hidden?: { reason: string } }[] };
    expect(mine.comments.find((c) => c.id === ids.comment)).toMatchObject({ body_text: 'A remark about pelicans', hidden: { reason: 'Off topic' } });
    const removal = (await eventsOf(ids.post!)).filter((e) => e.type === 'comment.deleted');
    expect(removal).toEqual([expect.objectContaining({ commentId: ids.comment, payload: expect.objectContaining({ reason: 'hidden' }) })]);
    // Its open report was resolved by the hide.
    expect(((await req('GET', '/api/v1/admin/reports', 'admin')).json() as { items: unknown[] }).items).toEqual([]);
  });

  it('restoring it brings the text back to everyone', async () => {
    expect((await req('POST', `/api/v1/admin/comments/${ids.comment}/restore`, 'admin')).statusCode).toBe(200);
    const seen = (await req('GET', `/api/v1/posts/${ids.post}`, 'reader')).json() as { comments: { id: string; body_text: string }[] };
    expect(seen.comments.find((c) => c.id === ids.comment)?.body_text).toBe('A remark about pelicans');
    expect(await searchIds('reader', 'pelicans')).toEqual([ids.post]);
  });
});

describe('mirrored mail of a hidden item', () => {
  it('a mail of a comment or post still in the outbox when it is hidden is not sent (void), and is again after a restore', async () => {
    const queue = async (n: number, kind: string, target: { commentId?: string; postId: string }) => {
      const id = `00000000-0000-4000-8000-00000000000${n}`;
      await addOutbound(api.t.db, { id, kind, toAddress: 'outside@mail.test', messageId: `<m${n}@b.test>`, subject: 'Re: Quarterly flamingo', textBody: 'x', ...target });
      return id;
    };
    const commentMail = await queue(1, 'mirror', { postId: ids.post!, commentId: ids.readerComment! });
    const postMail = await queue(2, 'notification', { postId: ids.post! });
    await req('POST', `/api/v1/admin/comments/${ids.readerComment}/hide`, 'admin', { reason: 'Spam' });
    await req('POST', `/api/v1/admin/posts/${ids.post}/hide`, 'admin', { reason: 'Spam' });
    expect((await claimOutbound(api.t.db, commentMail, 1))?.voidReason).toBe('retracted');
    expect((await claimOutbound(api.t.db, postMail, 1))?.voidReason).toBe('retracted');
    await req('POST', `/api/v1/admin/comments/${ids.readerComment}/restore`, 'admin');
    await req('POST', `/api/v1/admin/posts/${ids.post}/restore`, 'admin');
    const later = await queue(3, 'mirror', { postId: ids.post!, commentId: ids.readerComment! });
    expect((await claimOutbound(api.t.db, later, 60_000))?.voidReason).toBeNull();
  });
});

describe('dismissing a report', () => {
  it('closes it (audited); a second dismissal is 404', async () => {
    await req('POST', `/api/v1/posts/${ids.post}/report`, 'reader', { reason: 'once more' });
    const [open] = ((await req('GET', '/api/v1/admin/reports', 'admin')).json() as { items: { id: string }[] }).items;
    expect((await req('POST', `/api/v1/admin/reports/${open!.id}/dismiss`, 'reader')).statusCode).toBe(403);
    expect((await req('POST', `/api/v1/admin/reports/${open!.id}/dismiss`, 'admin')).statusCode).toBe(204);
    expect((await req('POST', `/api/v1/admin/reports/${open!.id}/dismiss`, 'admin')).statusCode).toBe(404);
    expect(((await req('GET', '/api/v1/admin/reports', 'admin')).json() as { items: unknown[] }).items).toEqual([]);
    const audit = await api.t.db.select().from(schema.auditLog).where(eq(schema.auditLog.action, 'dismiss_report'));
    expect(audit).toHaveLength(1);
  });
});
