import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, count, eq } from 'drizzle-orm';
import { explainOutcome, generateReplyToken, hashReplyToken, issueBounceToken } from '@blend/core';
import { addOutbound, findPersonByEmail, saveReplyToken, schema, type PostView } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { PARTNER_DKIM } from './support/dns';
import { asDelivered, sendRaw, swaks, withImap } from './support/mail-server';
import { buildMessage, finalRow, signDkim } from './support/messages';
import { startStack, type Stack } from './support/stack';

// Hostile and unusual mail end to end (Postfix -> Dovecot -> poller -> worker), each with
// its exact final state and reason, nothing published, and the pipeline still moving.
let s: Stack;
let token: string;
let threadPost: PostView;
let bridge: string;

const send = async (raw: string, envelopeFrom: string) => sendRaw(raw, { from: envelopeFrom, to: bridge });
const append = async (raw: string) =>
  withImap(s.mail.imapUrl, async (client) => {
    await client.append(parseImapUrl(s.mail.imapUrl).folder, raw);
  });
const contentCount = async () => {
  const p = await s.db.db.select({ n: count() }).from(schema.posts);
  const c = await s.db.db.select({ n: count() }).from(schema.comments);
  return p[0]!.n + c[0]!.n;
};

beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000' });
  bridge = `status@${s.mail.domain}`;
  token = await s.person('alice@corp.test', { name: 'Alice' });
  await s.person('bob@corp.test', { name: 'Bob' });
  await s.person('pat@partner.test', { name: 'Pat' });
  const first = buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject: 'The thread everyone replies to' });
  await send(first.raw, 'alice@corp.test');
  const row = await finalRow(s.db.db, first.messageId);
  expect(row.state).toBe('posted');
  threadPost = (await s.get<PostView>(`/api/v1/posts/${row.postId}`, token)).body;
});
afterAll(async () => s?.stop());

async function expectRejected(messageId: string, state: string, reason: string) {
  const before = await contentCount();
  const row = await finalRow(s.db.db, messageId);
  expect({ state: row.state, reason: row.reason }).toEqual({ state, reason });
  expect(row.postId === null || state === 'withheld').toBe(true);
  expect(row.commentId).toBeNull();
  expect(await contentCount()).toBe(before);
}

describe('sender authentication', () => {
  it('publishes DKIM-signed mail from a domain whose SPF allows nobody', async () => {
    const m = buildMessage({ from: 'Pat <pat@partner.test>', to: bridge, subject: 'Signed by partner.test' });
    await send(await signDkim(m.raw, PARTNER_DKIM), 'pat@partner.test');
    expect((await finalRow(s.db.db, m.messageId)).state).toBe('posted');
  });

  it('rejects a spoofed From that fails DMARC', async () => {
    const m = buildMessage({ from: 'Pat <pat@partner.test>', to: bridge, subject: 'Urgent: wire the money' });
    await send(m.raw, 'pat@partner.test');
    await expectRejected(m.messageId, 'rejected', 'dmarc_fail');
  });

  it('rejects a DKIM signature broken by a changed body', async () => {
    const m = buildMessage({ from: 'Pat <pat@partner.test>', to: bridge, subject: 'Tampered', body: 'Original words.' });
    const signed = (await signDkim(m.raw, PARTNER_DKIM)).replace('Original words.', 'Changed words.');
    await send(signed, 'pat@partner.test');
    await expectRejected(m.messageId, 'rejected', 'dmarc_fail');
  });

  describe('copies of one mail (one Message-ID)', () => {
    /** Every row of this Message-ID once `n` of them are final, oldest first. */
    const copies = (messageId: string, n: number) =>
      waitFor(async () => {
        const rows = await s.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.messageId, messageId));
        const final = rows.filter((r) => r.state !== 'received').sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || a.uid - b.uid);
        return final.length >= n ? final : undefined;
      }, `${n} final copies of <${messageId}>`);

    it('a copy rejected first (its signature broken by a forwarder) does not shadow the intact copy', async () => {
      const m = buildMessage({ from: 'Pat <pat@partner.test>', to: bridge, subject: 'Through the list first', body: 'Original words.' });
      const signed = await signDkim(m.raw, PARTNER_DKIM);
      await send(signed.replace('Original words.', 'Original words.\r\n[External sender]'), 'pat@partner.test');
      expect((await copies(m.messageId, 1)).map((r) => [r.state, r.reason])).toEqual([['rejected', 'dmarc_fail']]);
      await send(signed, 'pat@partner.test');
      const [first, second] = await copies(m.messageId, 2);
      expect([first!.state, second!.state]).toEqual(['rejected', 'posted']);
      expect(second!.postId).not.toBeNull();
    });

    it('a refused copy after a refused one is its duplicate: one state, one notice', async () => {
      const m = buildMessage({ from: 'Pat <pat@partner.test>', to: bridge, subject: 'Spoofed twice' });
      await send(m.raw, 'pat@partner.test');
      await copies(m.messageId, 1);
      await send(m.raw, 'pat@partner.test');
      const [first, second] = await copies(m.messageId, 2);
      expect([first!.state, second!.state]).toEqual(['rejected', 'duplicate']);
      expect(second!.duplicateOf).toBe(first!.id);
    });

    it('a copy of a published mail with other text is held for IT; the same text is a duplicate', async () => {
      const m = buildMessage({ from: 'Pat <pat@partner.test>', to: bridge, subject: 'Said once', body: 'The agreed text.' });
      await send(await signDkim(m.raw, PARTNER_DKIM), 'pat@partner.test');
      expect((await copies(m.messageId, 1))[0]!.state).toBe('posted');
      await send(await signDkim(m.raw.replace('The agreed text.', 'A different text under the same Message-ID.'), PARTNER_DKIM), 'pat@partner.test');
      // One copy at a time: the MTA may deliver two queued mails in either order.
      await copies(m.messageId, 2);
      await send(await signDkim(m.raw, PARTNER_DKIM), 'pat@partner.test');
      const rows = await copies(m.messageId, 3);
      expect(rows.map((r) => [r.state, r.reason])).toEqual([
        ['posted', null],
        ['held', 'conflicting_copy'],
        ['duplicate', 'duplicate'],
      ]);
      expect(rows[1]!.duplicateOf).toBe(rows[0]!.id);
    });
  });

  it.each([
    ['a look-alike suffix', 'alice@corp.test.evil.test'],
    ['a look-alike name', 'alice@corp-test.test'],
    ['a display name holding a real address', '"alice@corp.test" <mallory@evil.test>'],
  ])('rejects %s as not an organisation domain', async (_label, from) => {
    const m = buildMessage({ from, to: bridge, subject: `Look-alike ${randomBytes(3).toString('hex')}`, messageId: `la-${randomBytes(4).toString('hex')}@evil.test` });
    await send(m.raw, from.replace(/.*</, '').replace('>', ''));
    await expectRejected(m.messageId, 'rejected', 'not_org_domain');
  });
});

describe('reply tokens', () => {
  const issue = async (email: string, expiresAt: Date) => {
    const person = (await findPersonByEmail(s.db.db, email))!;
    const t = generateReplyToken((n) => randomBytes(n));
    await saveReplyToken(s.db.db, { tokenHash: hashReplyToken(t, s.config.BLEND_SECRET), personId: person.id, postId: threadPost.id, expiresAt, maxUses: 20 });
    return t;
  };
  const replyVia = async (t: string, from: string, body: string) => {
    const m = buildMessage({ from, to: `reply+${t}@${s.mail.domain}`, subject: 'Re: The thread everyone replies to', body });
    await sendRaw(m.raw, { from, to: `reply+${t}@${s.mail.domain}` });
    return m.messageId;
  };

  it('accepts a valid token from its person as a comment, even in upper case', async () => {
    const t = await issue('alice@corp.test', new Date(Date.now() + 86_400_000));
    const id = await replyVia(t.toUpperCase(), 'alice@corp.test', 'Replying by token.');
    const row = await finalRow(s.db.db, id);
    expect(row).toMatchObject({ state: 'commented', postId: threadPost.id });
  });

  it.each([
    ['a forged token', async () => `v1${'a'.repeat(26)}`, 'alice@corp.test', 'bad_token'],
    ['an expired token', async () => issue('alice@corp.test', new Date(Date.now() - 1000)), 'alice@corp.test', 'bad_token'],
    ['a token replayed by another sender', async () => issue('alice@corp.test', new Date(Date.now() + 86_400_000)), 'bob@corp.test', 'sender_mismatch'],
  ])('rejects %s', async (_label, make, from, reason) => {
    const id = await replyVia(await make(), from, 'Should never appear.');
    await expectRejected(id, 'rejected', reason);
  });

  it('answers a live token used by the wrong colleague exactly as a dead one', async () => {
    // Otherwise the answer would tell Carol that the address she holds is someone's valid token.
    await s.person('carol@corp.test', { name: 'Carol' });
    const receiptsToCarol = async () =>
      s.db.db.select().from(schema.outboundMessages).where(and(eq(schema.outboundMessages.toAddress, 'carol@corp.test'), eq(schema.outboundMessages.kind, 'receipt')));
    const live = await replyVia(await issue('alice@corp.test', new Date(Date.now() + 86_400_000)), 'carol@corp.test', 'Not mine to use.');
    await expectRejected(live, 'rejected', 'sender_mismatch');
    const [receipt] = await waitFor(async () => {
      const rows = await receiptsToCarol();
      return rows.length > 0 ? rows : undefined;
    }, 'the receipt to Carol');
    expect(receipt!.textBody).toContain(explainOutcome('bad_token').why);
    expect(receipt!.textBody).not.toMatch(/someone else/);
    // A dead token the same day gets the same answer, so no second receipt is written.
    const dead = await replyVia(`v1${'b'.repeat(26)}`, 'carol@corp.test', 'Not mine either.');
    await expectRejected(dead, 'rejected', 'bad_token');
    expect(await receiptsToCarol()).toHaveLength(1);
  });
});

describe('loops, auto-replies and bounces', () => {
  it('rejects an out-of-office reply', async () => {
    const m = buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject: 'Automatic reply: The thread', headers: { 'Auto-Submitted': 'auto-replied' } });
    await send(m.raw, 'alice@corp.test');
    await expectRejected(m.messageId, 'rejected', 'auto_generated');
  });

  it('rejects our own mail looped back', async () => {
    const m = buildMessage({ from: `Blend <status@${s.mail.domain}>`, to: bridge, subject: 'Your digest', headers: { 'Auto-Submitted': 'auto-generated', 'X-Blend-Origin': 'abc' } });
    await send(m.raw, `status@${s.mail.domain}`);
    await expectRejected(m.messageId, 'rejected', 'own_mail');
  });

  /** A DSN as an MTA writes it (RFC 6522 / RFC 3464), saying `to` could not be reached. */
  const dsnFor = (verp: string, to: string) =>
    [
      'From: Mail Delivery System <MAILER-DAEMON@corp.test>',
      `To: ${verp}`,
      'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: <dsn-${randomBytes(4).toString('hex')}@corp.test>`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="B"',
      '',
      '--B',
      'Content-Type: text/plain',
      '',
      'Your message could not be delivered.',
      '--B',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.corp.test',
      '',
      `Final-Recipient: rfc822; ${to}`,
      'Action: failed',
      'Status: 5.1.1',
      'Diagnostic-Code: smtp; 550 5.1.1 user unknown',
      '--B--',
      '',
    ].join('\r\n');
  const outboxRow = async (to: string) =>
    (await addOutbound(s.db.db, { id: crypto.randomUUID(), kind: 'test', toAddress: to, messageId: `o-${randomBytes(4).toString('hex')}@${s.mail.domain}`, subject: 'x', textBody: 'x' }))!;
  const outboundState = async (id: string) => (await s.db.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, id)))[0]!;

  it('does not let forged bounces pause a person: unsigned VERP addresses and plain-text reports change nothing', async () => {
    // The victim's row id is no secret (it is in the Message-ID of every mail Blend sends);
    // an attacker makes the old-style address from it and sends three "failed" notices.
    const victim = 'bob@corp.test';
    const outId = await outboxRow(victim);
    const unsigned = `bounce+${outId.replace(/-/g, '')}@${s.mail.domain}`;
    const signed = `bounce+${issueBounceToken(outId, s.config.BLEND_SECRET)}@${s.mail.domain}`;
    const forged = [
      ...[1, 2, 3].map(() => ({ raw: dsnFor(unsigned, victim), from: '', to: unsigned })),
      // The right address, but no null return path: not a DSN.
      { raw: dsnFor(signed, victim), from: 'attacker@corp.test', to: signed },
      // The right address and return path, but a plain-text "report" anyone can write.
      { raw: `From: MAILER-DAEMON@corp.test\r\nTo: ${signed}\r\nSubject: failure notice\r\nMessage-ID: <p-${randomBytes(4).toString('hex')}@corp.test>\r\n\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 user unknown\r\n`, from: '', to: signed },
    ];
    for (const f of forged) await sendRaw(f.raw, { from: f.from, to: f.to });
    // Each is taken in (and never published) as a bounce; none touches the row or the person.
    for (const f of forged) {
      const row = await finalRow(s.db.db, /^Message-ID: <([^>]+)>/m.exec(f.raw)![1]!);
      expect({ state: row.state, reason: row.reason }).toEqual({ state: 'rejected', reason: 'bounce' });
    }
    expect(await outboundState(outId)).toMatchObject({ state: 'pending', lastError: null });
    expect((await findPersonByEmail(s.db.db, victim))?.mailPausedAt ?? null).toBeNull();
  });

  it('matches a bounce to the mail it is about and marks that mail bounced', async () => {
    const outId = await outboxRow('gone@corp.test');
    const verp = `bounce+${issueBounceToken(outId, s.config.BLEND_SECRET)}@${s.mail.domain}`;
    await sendRaw(dsnFor(verp, 'gone@corp.test'), { from: '', to: verp });
    const row = await waitFor(async () => {
      const rows = await s.db.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, outId!));
      return rows[0]?.state === 'bounced' ? rows[0] : undefined;
    }, 'the outbound row marked bounced');
    expect(row.lastError).toContain('5.1.1');
  });
});

describe('limits', () => {
  it('rejects a 30 MB message without downloading it', async () => {
    const m = buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject: 'Huge', body: 'x'.repeat(30 * 1024 * 1024) });
    await append(asDelivered(m.raw, 'alice@corp.test'));
    const row = await waitFor(async () => {
      const rows = await s.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.reason, 'too_large'));
      return rows[0];
    }, 'the huge message rejected', 60_000);
    expect(row).toMatchObject({ state: 'rejected', raw: null });
    expect(row.size).toBeGreaterThan(30 * 1024 * 1024);
  });

  const bomb = (id: string, body: string, contentType: string) =>
    asDelivered(
      `From: Alice <alice@corp.test>\r\nTo: ${bridge}\r\nSubject: bomb\r\nMessage-ID: <${id}>\r\nMIME-Version: 1.0\r\nContent-Type: ${contentType}\r\n\r\n${body}`,
      'alice@corp.test',
    );
  it('rejects 1,000 MIME parts', async () => {
    const id = `parts-${randomBytes(4).toString('hex')}@corp.test`;
    const parts = Array.from({ length: 1000 }, (_, i) => `--P\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    await append(bomb(id, `${parts}--P--\r\n`, 'multipart/mixed; boundary="P"'));
    await expectRejected(id, 'rejected', 'mime_limits');
  });

  it('rejects 100 levels of nesting', async () => {
    const id = `nest-${randomBytes(4).toString('hex')}@corp.test`;
    let body = 'Content-Type: text/plain\r\n\r\ndeep\r\n';
    for (let i = 99; i >= 0; i--) body = `Content-Type: multipart/mixed; boundary="N${i}"\r\n\r\n--N${i}\r\n${body}--N${i}--\r\n`;
    const inner = body.slice(body.indexOf('\r\n\r\n') + 4);
    await append(bomb(id, inner, 'multipart/mixed; boundary="N0"'));
    await expectRejected(id, 'rejected', 'mime_limits');
  });

  it('rejects a 1 MB header', async () => {
    const id = `hdr-${randomBytes(4).toString('hex')}@corp.test`;
    const raw = asDelivered(`X-Filler: ${'a'.repeat(1024 * 1024)}\r\nFrom: Alice <alice@corp.test>\r\nTo: ${bridge}\r\nSubject: big header\r\nMessage-ID: <${id}>\r\n\r\nbody\r\n`, 'alice@corp.test');
    await append(raw);
    await waitFor(async () => {
      const rows = await s.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.reason, 'mime_limits'));
      return rows.some((r) => r.size > 1024 * 1024);
    }, 'the big header rejected');
  });
});

describe('hostile HTML', () => {
  it('publishes only the sanitised text of script, iframe, handlers, javascript: links and remote images', async () => {
    const html =
      '<p>Visible <b>words</b></p><script>alert(1)</script><iframe src="https://evil.test"></iframe>' +
      '<img src="https://tracker.test/p.gif" onerror="alert(2)"><a href="javascript:alert(3)">click</a>' +
      '<a href="https://ok.test/page" onclick="x()">fine link</a><svg onload="alert(4)"></svg>';
    const m = buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject: 'HTML attack', html });
    await send(m.raw, 'alice@corp.test');
    const row = await finalRow(s.db.db, m.messageId);
    expect(row.state).toBe('posted');
    const post = (await s.get<PostView>(`/api/v1/posts/${row.postId}`, token)).body;
    expect(post.body_text).toContain('Visible words');
    for (const bad of ['<script', '<iframe', 'onerror', 'onclick', 'javascript:', 'tracker.test', '<svg', 'onload', '<img']) {
      expect(post.body_html.toLowerCase()).not.toContain(bad);
    }
    expect(post.body_html).toContain('https://ok.test/page');
  });
});

describe('the pipeline keeps going', () => {
  it('still posts a normal mail after all of the above', async () => {
    await swaks(['--to', bridge, '--from', 'bob@corp.test', '--header', 'Subject: Business as usual', '--body', 'Nothing to see here.']);
    await waitFor(async () => (await s.get<{ items: PostView[] }>('/api/v1/feed', token)).body.items.find((p) => p.title === 'Business as usual'), 'the normal post');
  });
});
