import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, inArray } from 'drizzle-orm';
import { schema } from '@blend/db';
import { waitFor } from './support/database';
import { sendRaw } from './support/mail-server';
import { buildMessage } from './support/messages';
import { startStack, type Stack } from './support/stack';

// A reply delivered before the mail it answers, through Postfix, Dovecot, the poller and the
// worker (docs/ARCHITECTURE.md "Threads and merges"): it ends as a comment under its parent,
// published at once and adopted (no grace, the default), or put back until the parent came
// (BLEND_ORPHAN_REPLY_GRACE_MS). A reply to a mail Blend never gets still becomes a post.

const rowsOf = (s: Stack, ids: string[]) => s.db.db.select().from(schema.inboundMessages).where(inArray(schema.inboundMessages.messageId, ids));
const finished = (s: Stack, ids: string[], what: string) =>
  waitFor(
    async () => {
      const rows = await rowsOf(s, ids);
      return rows.length === ids.length && rows.every((r) => r.state !== 'received') ? new Map(rows.map((r) => [r.messageId!, r])) : undefined;
    },
    what,
    60_000,
    200,
  );

/** A parent from Alice and Bob's reply to it, to the bridge and each other. */
function conversation(s: Stack, subject: string) {
  const P = s.people.domain;
  const bridge = `status@${s.mail.domain}`;
  const parent = buildMessage({ from: `Alice <alice@${P}>`, to: `Bob <bob@${P}>, ${bridge}`, subject, body: `${subject}: shall we?` });
  const reply = buildMessage({ from: `Bob <bob@${P}>`, to: `Alice <alice@${P}>, ${bridge}`, subject: `Re: ${subject}`, body: 'Yes, let us.', inReplyTo: parent.messageId });
  const send = (m: { raw: string }, who: string) => sendRaw(m.raw, { from: `${who}@${P}`, to: bridge });
  return { parent, reply, sendParent: () => send(parent, 'alice'), sendReply: () => send(reply, 'bob') };
}

describe('without a grace (the default)', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000' });
    await s.person(`alice@${s.people.domain}`, { name: 'Alice' });
    await s.person(`bob@${s.people.domain}`, { name: 'Bob' });
  }, 60_000);
  afterAll(async () => s?.stop(), 60_000);

  it('publishes the early reply at once, and the parent delivered later adopts it as its comment', async () => {
    const c = conversation(s, 'Team dinner');
    await c.sendReply();
    const early = (await finished(s, [c.reply.messageId], 'the reply ingested')).get(c.reply.messageId)!;
    expect(early.state).toBe('posted');
    await c.sendParent();
    const rows = await finished(s, [c.reply.messageId, c.parent.messageId], 'the parent ingested');
    const parent = rows.get(c.parent.messageId)!;
    expect(parent.state).toBe('posted');
    expect(rows.get(c.reply.messageId)).toMatchObject({ state: 'commented', postId: parent.postId });
    const comments = await s.db.db.select().from(schema.comments).where(eq(schema.comments.postId, parent.postId!));
    expect(comments.map((x) => x.bodyText)).toEqual(['Yes, let us.']);
    expect(await s.db.db.select().from(schema.posts).where(eq(schema.posts.id, early.postId!))).toEqual([]);
    expect(await s.db.db.select({ kind: schema.postMerges.kind }).from(schema.postMerges).where(eq(schema.postMerges.mergedPostId, early.postId!))).toEqual([{ kind: 'adopted' }]);
  });
});

describe('with BLEND_ORPHAN_REPLY_GRACE_MS', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000', BLEND_ORPHAN_REPLY_GRACE_MS: '10000' });
    await s.person(`alice@${s.people.domain}`, { name: 'Alice' });
    await s.person(`bob@${s.people.domain}`, { name: 'Bob' });
  }, 60_000);
  afterAll(async () => s?.stop(), 60_000);

  it('puts a reply whose parent has not come back, and publishes one whose parent never comes as a post after the grace', async () => {
    const c = conversation(s, 'Board games');
    const lone = conversation(s, 'Old conversation');
    await c.sendReply();
    await lone.sendReply();
    // Both replies were taken and put back: stored, tried, still waiting.
    await waitFor(
      async () => {
        const rows = await rowsOf(s, [c.reply.messageId, lone.reply.messageId]);
        return rows.length === 2 && rows.every((r) => r.attempts >= 1);
      },
      'both replies tried',
      30_000,
      100,
    );
    await c.sendParent();
    const rows = await finished(s, [c.reply.messageId, c.parent.messageId, lone.reply.messageId], 'all three ingested');
    const parent = rows.get(c.parent.messageId)!;
    expect(parent.state).toBe('posted');
    expect(rows.get(c.reply.messageId)).toMatchObject({ state: 'commented', postId: parent.postId });
    expect(rows.get(lone.reply.messageId)!.state).toBe('posted');
    // The lone reply waited once, not try after try: its first try (plus one alone, when the
    // poller stored it in a batch with the other) and the one at the end of the grace.
    expect(rows.get(lone.reply.messageId)!.attempts).toBeLessThanOrEqual(3);
  });
});
