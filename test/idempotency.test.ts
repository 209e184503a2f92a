import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { getCheckpoint, schema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { asDelivered, mailboxCount, sendRaw, withImap } from './support/mail-server';
import { startStack, type Stack } from './support/stack';

// Exactly one post per email (docs/ARCHITECTURE.md invariant 2), whatever the delivery or the poller does.
let s: Stack;
beforeAll(async () => {
  s = await startStack({ BLEND_IMAP_BATCH_SIZE: '5', BLEND_POLL_INTERVAL_MS: '1000', BLEND_RATE_SENDER_PER_MINUTE: '0', BLEND_RATE_SENDER_PER_HOUR: '0' });
  await s.person('alice@corp.test');
});
afterAll(async () => s?.stop());

const message = (id: string, subject: string) =>
  [
    'From: Alice <alice@corp.test>',
    `To: status@${s.mail.domain}`,
    `Subject: ${subject}`,
    `Message-ID: <${id}@corp.test>`,
    'Date: Tue, 24 Nov 2026 09:00:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of ${subject}.`,
    '',
  ].join('\r\n');

const postCount = async () => (await s.db.db.select({ n: count() }).from(schema.posts))[0]!.n;
const inboundRows = () => s.db.db.select().from(schema.inboundMessages);

describe('idempotency', () => {
  it('delivers the same message twice and posts it once', async () => {
    const raw = message(`dup-${randomBytes(4).toString('hex')}`, 'Delivered twice');
    await sendRaw(raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
    await sendRaw(raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
    const rows = await waitFor(async () => {
      const r = await inboundRows();
      return r.length === 2 && r.every((x) => x.state !== 'received') ? r : undefined;
    }, 'both copies ingested');
    expect(rows.map((r) => r.state).sort()).toEqual(['duplicate', 'posted']);
    expect(await postCount()).toBe(1);
  });

  it('survives a poller restart in the middle of a mailbox: every message once', async () => {
    await s.stopPoller();
    const before = await postCount();
    const n = 30;
    const { folder } = parseImapUrl(s.mail.imapUrl);
    await withImap(s.mail.imapUrl, async (client) => {
      for (let i = 0; i < n; i++) await client.append(folder, asDelivered(message(`bulk-${i}-${randomBytes(3).toString('hex')}`, `Bulk ${i}`), 'alice@corp.test'));
    });
    await s.startPoller();
    // Stop as soon as the first batches are stored, well before the mailbox is done.
    await waitFor(async () => (await inboundRows()).length >= 2 + 5, 'the first batch stored', 20_000, 10);
    await s.stopPoller();
    const partial = await inboundRows();
    const cp = await getCheckpoint(s.db.db, parseImapUrl(s.mail.imapUrl).key);
    // The cursor never passes a UID that has no row (docs/SECURITY.md I1).
    expect(cp!.lastUid).toBeLessThanOrEqual(Math.max(...partial.map((r) => r.uid)));

    await s.startPoller();
    await waitFor(async () => (await postCount()) === before + n, `${n} more posts`, 30_000);
    const rows = await inboundRows();
    expect(rows).toHaveLength(2 + n);
    expect(new Set(rows.map((r) => r.uid)).size).toBe(rows.length);
    expect(await mailboxCount(s.mail.imapUrl)).toBe(2 + n);
  });

  it('re-reads a mailbox after its checkpoint is lost without posting anything twice', async () => {
    await s.stopPoller();
    const posts = await postCount();
    const rows = (await inboundRows()).length;
    await s.db.db.delete(schema.mailboxCheckpoints).where(eq(schema.mailboxCheckpoints.mailbox, parseImapUrl(s.mail.imapUrl).key));
    await s.startPoller();
    await waitFor(async () => (await getCheckpoint(s.db.db, parseImapUrl(s.mail.imapUrl).key))?.lastUid === 2 + 30, 'checkpoint restored');
    expect(await postCount()).toBe(posts);
    expect((await inboundRows()).length).toBe(rows);
  });
});
