import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostView } from '@blend/db';
import { waitFor } from './support/database';
import { swaks, withImap } from './support/mail-server';
import { startStack, type Stack } from './support/stack';

// The first loop end to end: swaks -> Postfix -> Dovecot (LMTP) -> poller (IDLE) ->
// Postgres -> BullMQ -> worker -> API. The periodic sync is set to 10 minutes, so only
// IDLE can pick the mail up within the test's time.
let s: Stack;
let token: string;
beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '600000' });
  token = await s.person('alice@corp.test', { name: 'Alice Example' });
  await s.person('bob@corp.test', { name: 'Bob' });
});
afterAll(async () => s?.stop());

type Feed = { items: PostView[]; next_cursor: string | null };

describe('email -> post loop', () => {
  it('turns a mail to status@ into a post and a reply into a comment on it', async () => {
    const mid = `<e2e-${randomBytes(6).toString('hex')}@corp.test>`;
    await swaks([
      '--to', `status@${s.mail.domain}`,
      '--from', 'alice@corp.test',
      '--header', 'Subject: [team] Launch update',
      '--header', `Message-Id: ${mid}`, // swaks matches its own header names case-sensitively
      '--body', 'We launch on Thursday.\n\nSent from my iPhone',
    ]);
    const post = await waitFor(async () => {
      const res = await s.get<Feed>('/api/v1/feed', token);
      return res.body.items.find((p) => p.title === 'Launch update');
    }, 'the post in the feed');
    expect(post).toMatchObject({
      source: 'email',
      body_text: 'We launch on Thursday.',
      author: { email: 'alice@corp.test', name: 'Alice Example' },
      group: { slug: 'general' },
      comments: [],
    });

    await swaks([
      '--to', `status@${s.mail.domain}`,
      '--header', 'To: Alice Example <alice@corp.test>',
      '--header', `Cc: status@${s.mail.domain}`,
      '--from', 'bob@corp.test',
      '--header', 'Subject: Re: [team] Launch update',
      '--header', `In-Reply-To: ${mid}`,
      '--header', `References: ${mid}`,
      '--body', 'Great news, congratulations!\n\nOn Tue, 24 Nov 2026 at 09:00, Alice wrote:\n> We launch on Thursday.',
    ]);
    const thread = await waitFor(async () => {
      const res = await s.get<PostView>(`/api/v1/posts/${post.id}`, token);
      return res.body.comments.length > 0 ? res.body : undefined;
    }, 'the comment on the post');
    expect(thread.comments).toHaveLength(1);
    expect(thread.comments[0]).toMatchObject({
      source: 'email',
      body_text: 'Great news, congratulations!',
      author: { email: 'bob@corp.test' },
    });

    // Both messages are flagged in IMAP, and only after their ingest committed.
    await waitFor(
      () =>
        withImap(s.mail.imapUrl, async (client) => {
          await client.mailboxOpen('INBOX', { readOnly: true });
          const flagged: number[] = [];
          for await (const m of client.fetch('1:*', { uid: true, flags: true })) {
            if (m.flags?.has(s.config.BLEND_IMAP_DONE_FLAG)) flagged.push(m.uid);
          }
          return flagged.length === 2;
        }),
      'both messages flagged as done',
    );
  });
});
