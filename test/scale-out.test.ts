import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq, inArray } from 'drizzle-orm';
import { schema } from '@blend/db';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage } from './support/messages';
import { run } from './support/process';
import { serviceEnv, startStack, type Stack } from './support/stack';

// Scale-out: two poller processes and two worker processes on one mailbox and one set of
// queues. Every mail becomes exactly one post or comment, and every mail Blend sends about
// them (here: a publish receipt for each) arrives exactly once.
let s: Stack;
let P: string;
const procs: ReturnType<typeof run>[] = [];

beforeAll(async () => {
  s = await startStack({}, { poller: false });
  await s.stopWorker();
  P = s.people.domain;
  await s.person(`alice@${P}`, { name: 'Alice' });
  await s.person(`bob@${P}`, { name: 'Bob' });
  const env = serviceEnv(s, {
    BLEND_ORG_DOMAINS: `corp.test,${P}`,
    // A receipt for every published mail, so there is outbound mail to count.
    BLEND_RECEIPTS_FIRST: '1000',
    BLEND_RATE_SENDER_PER_MINUTE: '0',
    BLEND_RATE_SENDER_PER_HOUR: '0',
    BLEND_RATE_THREAD_PER_MINUTE: '0',
    BLEND_POLL_INTERVAL_MS: '1000',
    LOG_LEVEL: 'warn',
  });
  for (const main of ['services/worker/src/main.ts', 'services/worker/src/main.ts', 'services/poller/src/main.ts', 'services/poller/src/main.ts']) {
    procs.push(run([main], env, { timeoutMs: 300_000 }));
  }
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.done));
  await s?.stop();
}, 60_000);

describe('two pollers and two workers', () => {
  it('turn 20 threads of 3 mails into 20 posts and 40 comments, and send each receipt once', async () => {
    const bridge = `status@${s.mail.domain}`;
    const ids: string[] = [];
    for (let t = 0; t < 20; t++) {
      const root = buildMessage({ from: `Alice <alice@${P}>`, to: bridge, subject: `Scale ${t}`, body: `Thread ${t} starts here.` });
      await sendRaw(root.raw, { from: `alice@${P}`, to: bridge });
      ids.push(root.messageId);
      for (const [i, who] of (['bob', 'alice'] as const).entries()) {
        const reply = buildMessage({ from: `${who} <${who}@${P}>`, to: bridge, subject: `Re: Scale ${t}`, body: `Reply ${i + 1} in thread ${t}.`, inReplyTo: root.messageId });
        await sendRaw(reply.raw, { from: `${who}@${P}`, to: bridge });
        ids.push(reply.messageId);
      }
    }
    const rows = await waitFor(
      async () => {
        const r = await s.db.db.select().from(schema.inboundMessages).where(inArray(schema.inboundMessages.messageId, ids));
        return r.length === ids.length && r.every((x) => x.state !== 'received') ? r : undefined;
      },
      'every mail converted',
      120_000,
      250,
    );
    expect(rows.map((r) => r.state).sort()).toEqual([...Array(40).fill('commented'), ...Array(20).fill('posted')]);
    expect((await s.db.db.select({ n: count() }).from(schema.posts))[0]!.n).toBe(20);
    expect((await s.db.db.select({ n: count() }).from(schema.comments))[0]!.n).toBe(40);
    // Each thread's replies landed on its own post.
    const byPost = new Map<string, number>();
    for (const r of rows) byPost.set(r.postId!, (byPost.get(r.postId!) ?? 0) + 1);
    expect([...byPost.values()].every((n) => n === 3)).toBe(true);

    // 60 receipts, each sent once: one row each, all sent, one copy each in the mailboxes.
    const receipts = await waitFor(
      async () => {
        const r = await s.db.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.kind, 'receipt'));
        return r.length === 60 && r.every((x) => x.state === 'sent') ? r : undefined;
      },
      'every receipt sent',
      120_000,
      250,
    );
    const wanted = new Set(receipts.map((r) => `<${r.messageId}>`));
    const copies = await waitFor(
      async () => {
        const got = (await fetchRawMessages(s.people.imapUrl)).map((m) => headerValues(m.source, 'Message-ID')[0]!).filter((id) => wanted.has(id));
        return got.length >= 60 ? got : undefined;
      },
      'the receipts in the mailboxes',
      60_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(copies).toHaveLength(60);
    expect(new Set(copies).size).toBe(60);
    // Both worker processes and both pollers are still up.
    for (const p of procs) expect(p.child.exitCode).toBeNull();
  });
});
