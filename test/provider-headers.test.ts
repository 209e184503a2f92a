import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { classify, hashReplyToken, isThreadIndexReply, pickBridgeRoute, threadIndexRoot, type Addressing, type BridgeRoute } from '@blend/core';
import { addOutbound, ensureGroup, finishOutbound, getEsnPostView, getInbound, recordMessageRefs, saveReplyToken, schema, storeFetched, upsertPerson } from '@blend/db';
import { parseMail, staticResolver } from '@blend/mail';
import { ingest, type IngestDeps } from '@blend/worker';
import { ingestDeps } from './support/ingest';
import { createTestDatabase, type TestDatabase } from './support/database';

// Header layouts of Exchange Online and Gmail (fixtures written from their documented formats):
// which bridge address a mail came through when the envelope recipient is only in a vendor
// header, and what it threads by. Then the same mail through `ingest` against Postgres.
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures/mail', name));

const DOMAIN: Addressing = { mode: 'domain', domain: 'example.test' };
/** One-mailbox mode: `bridge@corp.test` and its sub-addresses, in the staff's own domain. */
const PLUS: Addressing = { mode: 'plus', mailbox: 'bridge', domain: 'corp.test' };

/** Outlook's conversation (Thread-Index root) of the Exchange fixtures' thread. */
const PARKING = 'AQHdaqiLW54vHHo9Tm+AkaKzxNXm9w==';
const EXO_FIRST = 'AM9PR02MB73305B9E2F1C7A3D4E6F8091A2B3C4D5@am9pr02mb7330.eurprd02.prod.outlook.com';
const TOKEN = 'v1k7m2p4q4w6x3v5n2a7b3c4d5e6';
const BLEND_ID = 'blend.2d4f6a8c-0e1f-4a3b-9c5d-7e9f1a3b5c7d@example.test';

interface Expected {
  addressing: Addressing;
  /** The envelope recipients parseMail read from the delivery headers. */
  deliveredTo: string[];
  route: BridgeRoute | null;
  classification: ReturnType<typeof classify>;
  /** Thread-Index root, and whether it belongs to a reply. */
  threadIndex: { root: string; reply: boolean } | null;
}

describe('provider header layouts: routing and threading inputs', () => {
  it.each<[string, Expected]>([
    [
      // Bcc'd to a catch-all address: no Delivered-To, the address only in Exchange's header.
      'exchange-new-catch-all.eml',
      {
        addressing: DOMAIN,
        deliveredTo: ['team@example.test'],
        route: { route: { kind: 'group', slug: 'team' }, address: 'team@example.test' },
        classification: { kind: 'new_thread' },
        threadIndex: { root: PARKING, reply: false },
      },
    ],
    [
      // Bcc'd to a plus address of the one bridge mailbox (Exchange Online plus addressing).
      'exchange-new-plus-address.eml',
      {
        addressing: PLUS,
        deliveredTo: ['bridge+team@corp.test'],
        route: { route: { kind: 'group', slug: 'team' }, address: 'bridge+team@corp.test' },
        classification: { kind: 'new_thread' },
        threadIndex: { root: 'AQHde+3+oTxef5stT2CBo8Xn+bHT9Q==', reply: false },
      },
    ],
    [
      'exchange-reply-thread-index.eml',
      {
        addressing: DOMAIN,
        deliveredTo: ['team@example.test'],
        route: { route: { kind: 'group', slug: 'team' }, address: 'team@example.test' },
        classification: { kind: 'reply', parentIds: [EXO_FIRST] },
        threadIndex: { root: PARKING, reply: true },
      },
    ],
    [
      // The client dropped In-Reply-To and References: only the Thread-Index ties it to its thread.
      'exchange-reply-thread-index-only.eml',
      {
        addressing: DOMAIN,
        deliveredTo: ['team@example.test'],
        route: { route: { kind: 'group', slug: 'team' }, address: 'team@example.test' },
        classification: { kind: 'new_thread' },
        threadIndex: { root: PARKING, reply: true },
      },
    ],
    [
      // Gmail wrote one Delivered-To per delivery: the catch-all's account on top, the address used below.
      'gmail-reply-two-hops.eml',
      {
        addressing: DOMAIN,
        deliveredTo: ['bridge-inbox@corp.test', `reply+${TOKEN}@example.test`],
        route: { route: { kind: 'reply', token: TOKEN }, address: `reply+${TOKEN}@example.test` },
        classification: { kind: 'reply', parentIds: [BLEND_ID] },
        threadIndex: null,
      },
    ],
    [
      // A DSN to the bare mailbox (the submission server rewrote our VERP envelope sender).
      'exchange-ndr-recipient-not-found.eml',
      { addressing: DOMAIN, deliveredTo: ['bridge@corp.test'], route: null, classification: { kind: 'bounce', reason: 'delivery_status' }, threadIndex: null },
    ],
    [
      'gmail-dsn-no-such-user.eml',
      { addressing: DOMAIN, deliveredTo: ['bridge-inbox@corp.test'], route: null, classification: { kind: 'bounce', reason: 'delivery_status' }, threadIndex: null },
    ],
    [
      'postfix-dsn-unknown-user.eml',
      {
        addressing: DOMAIN,
        deliveredTo: ['status@example.test'],
        route: { route: { kind: 'status' }, address: 'status@example.test' },
        classification: { kind: 'bounce', reason: 'delivery_status' },
        threadIndex: null,
      },
    ],
  ])('%s', async (name, expected) => {
    const { mail } = await parseMail(fixture(name));
    expect(mail.deliveredTo).toEqual(expected.deliveredTo);
    expect(pickBridgeRoute(mail, expected.addressing)).toEqual(expected.route);
    expect(classify(mail, { addressing: expected.addressing })).toEqual(expected.classification);
    const ti = mail.headers['thread-index']?.[0];
    expect(ti ? { root: threadIndexRoot(ti), reply: isThreadIndexReply(ti) } : null).toEqual(expected.threadIndex);
  });

  it('routes the plus-address mail nowhere in domain mode, and the catch-all mail nowhere in plus mode', async () => {
    expect(pickBridgeRoute((await parseMail(fixture('exchange-new-plus-address.eml'))).mail, DOMAIN)).toBeNull();
    expect(pickBridgeRoute((await parseMail(fixture('exchange-new-catch-all.eml'))).mail, PLUS)).toBeNull();
  });

  it('ignores the Exchange header in a mailbox whose server writes Delivered-To (the sender may have written it)', async () => {
    const forged = Buffer.from(
      `Delivered-To: status@example.test\r\nX-MS-Exchange-Organization-OriginalEnvelopeRecipients: bounce+0123456789abcdef0123456789abcdef@example.test\r\n${fixture('exchange-new-plus-address.eml').toString('latin1')}`,
      'latin1',
    );
    const { mail } = await parseMail(forged);
    expect(mail.deliveredTo).toEqual(['status@example.test']);
    expect(pickBridgeRoute(mail, DOMAIN)).toEqual({ route: { kind: 'status' }, address: 'status@example.test' });
  });
});

describe('provider header layouts through ingest', () => {
  let t: TestDatabase;
  let uid = 0;
  let deps: IngestDeps;
  const ingestRaw = async (raw: Buffer, internalDate: Date) => {
    const [row] = await storeFetched(t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate }]);
    const outcome = await ingest({ inboundId: row!.id }, deps);
    return { outcome, row: (await getInbound(t.db, row!.id))! };
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    deps = ingestDeps(t.db, { senderAuth: { mode: 'none', orgDomains: ['corp.test', 'elsewhere.test'] } });
    await ensureGroup(t.db, 'general');
    await ensureGroup(t.db, 'team');
    for (const [email, name] of [
      ['alice@corp.test', 'Alice Example'],
      ['bob@corp.test', 'Bob Builder'],
      ['carol@elsewhere.test', 'Carol Example'],
    ] as const) {
      await upsertPerson(t.db, { email, name, optIn: true });
    }
  });
  afterAll(async () => t?.drop());

  it('joins an Exchange reply without In-Reply-To or References, weeks later, to its thread by the Thread-Index root', async () => {
    const first = await ingestRaw(fixture('exchange-new-catch-all.eml'), new Date('2026-11-02T09:00:04Z'));
    expect(first.row).toMatchObject({ state: 'posted' });
    const [post] = await t.db.select().from(schema.posts).where(eq(schema.posts.id, first.row.postId!));
    expect(post!.threadIndex).toBe(PARKING);
    expect((await getEsnPostView(t.db, post!.id, null))!.group.slug).toBe('team');

    // Three weeks on, outside the subject fallback's 14 days: only the Thread-Index can find the thread.
    const reply = await ingestRaw(fixture('exchange-reply-thread-index-only.eml'), new Date('2026-11-24T10:15:40Z'));
    expect(reply.row).toMatchObject({ state: 'commented', postId: post!.id });
    const view = (await getEsnPostView(t.db, post!.id, null))!;
    expect(view.comments.map((c) => [c.author.email, c.body_text])).toEqual([['bob@corp.test', expect.stringContaining('Is one of the Friday spaces still free?')]]);
    expect(view.comments[0]!.body_text).not.toContain('north garage');
  });

  it('threads a Gmail reply to one of Blend’s mails by its reply address and by References to Blend’s Message-ID', async () => {
    const thread = await ingestRaw(fixture('plain-new-thread.eml'), new Date('2026-11-24T09:00:00Z'));
    expect(thread.row.state).toBe('posted');
    const postId = thread.row.postId!;
    const carol = (await upsertPerson(t.db, { email: 'carol@elsewhere.test' })).person;
    // The notification Blend sent Carol: its Message-ID maps to the thread, its reply address is a token.
    const outboundId = BLEND_ID.slice('blend.'.length, BLEND_ID.indexOf('@'));
    await t.db.transaction(async (tx) => {
      await addOutbound(tx, { id: outboundId, kind: 'notification', toAddress: carol.email, personId: carol.id, postId, messageId: BLEND_ID, subject: 'Re: Quarterly plan is ready', textBody: 'x' });
      await recordMessageRefs(tx, [{ messageId: BLEND_ID, postId }]);
      await saveReplyToken(tx, { tokenHash: hashReplyToken(TOKEN, deps.secret), personId: carol.id, postId, outboundId, expiresAt: new Date(Date.now() + 30 * 86_400_000), maxUses: 20 });
    });

    const reply = await ingestRaw(fixture('gmail-reply-two-hops.eml'), new Date('2026-11-24T10:05:14Z'));
    expect(reply.row).toMatchObject({ state: 'commented', postId });

    // The same reply sent to status@ instead: no token, so only References names the thread.
    const viaStatus = Buffer.from(
      fixture('gmail-reply-two-hops.eml').toString('latin1').replaceAll(`reply+${TOKEN}@example.test`, 'status@example.test').replace('_7Qx@mail.gmail.com', '_8Rz@mail.gmail.com'),
      'latin1',
    );
    const second = await ingestRaw(viaStatus, new Date('2026-11-24T10:06:00Z'));
    expect(second.row).toMatchObject({ state: 'commented', postId });
  });
});

describe('bounces whose envelope lost our VERP address', () => {
  let t: TestDatabase;
  let uid = 0;
  let deps: IngestDeps;
  beforeAll(async () => {
    t = await createTestDatabase();
    deps = ingestDeps(t.db);
    await ensureGroup(t.db, 'general');
  });
  afterAll(async () => t?.drop());

  /** One of our mails, sent: the outbox row a DSN can be about. */
  const sent = async (messageId: string) => {
    const id = messageId.startsWith('blend.') ? messageId.slice('blend.'.length, messageId.indexOf('@')) : randomUUID();
    await addOutbound(t.db, { id, kind: 'notification', toAddress: 'gone@elsewhere.test', messageId, subject: 'Alice commented', textBody: 'x' });
    await finishOutbound(t.db, id, { state: 'sent' });
    return id;
  };
  const outboxRow = async (id: string) => (await t.db.select().from(schema.outboundMessages).where(eq(schema.outboundMessages.id, id)))[0]!;
  const ingestRaw = async (raw: Buffer) => {
    const [row] = await storeFetched(t.db, 'imap://test', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: new Date('2026-11-24T12:00:10Z') }]);
    return ingest({ inboundId: row!.id }, deps);
  };

  it.each([
    ['postfix-dsn-unknown-user.eml', 'blend.6f1c2a4e-8b3d-4c5e-9a7f-0d1e2f3a4b5c@example.test', /^Status: 5\.1\.1 smtp; 550 5\.1\.1 <gone@elsewhere\.test>: Recipient address rejected/],
    ['exchange-ndr-recipient-not-found.eml', 'blend.0b7d9f1a-3c5e-4f7a-8b9c-1d3e5f7a9b1c@example.test', /^Status: 5\.1\.10 smtp;550 5\.1\.10 RESOLVER\.ADR\.RecipientNotFound/],
    ['gmail-dsn-no-such-user.eml', 'blend.3e5a7c9e-1f2a-4b4c-8d6e-0f2a4c6e8a0b@example.test', /^Status: 5\.1\.1 smtp; 550 5\.1\.1/],
  ])('%s marks the mail it returns bounced', async (name, messageId, detail) => {
    const id = await sent(messageId);
    expect(await ingestRaw(fixture(name))).toMatchObject({ state: 'rejected', reason: 'bounce' });
    const row = await outboxRow(id);
    expect(row.state).toBe('bounced');
    expect(row.lastError).toMatch(detail);
  });

  it('keeps a delayed mail sent, noting the delay', async () => {
    const id = await sent(`blend.${randomUUID()}@example.test`);
    const delay = fixture('postfix-dsn-unknown-user.eml')
      .toString('latin1')
      .replace('blend.6f1c2a4e-8b3d-4c5e-9a7f-0d1e2f3a4b5c@example.test', (await outboxRow(id)).messageId)
      .replace('Action: failed\r\nStatus: 5.1.1', 'Action: delayed\r\nStatus: 4.4.1')
      .replace('Message-Id: <20261124120007.5C2D81A0042@mx.corp.test>', 'Message-Id: <20261124160007.6D3E92B1153@mx.corp.test>');
    expect(await ingestRaw(Buffer.from(delay, 'latin1'))).toMatchObject({ state: 'rejected', reason: 'bounce' });
    expect(await outboxRow(id)).toMatchObject({ state: 'sent', lastError: expect.stringMatching(/^Status: 4\.4\.1 /) });
  });

  it('leaves the mail alone for a read receipt that returns its headers', async () => {
    const id = await sent(`blend.${randomUUID()}@example.test`);
    const messageId = (await outboxRow(id)).messageId;
    const mdn = [
      'From: Dora <dora@elsewhere.test>',
      'To: status@example.test',
      'Subject: Read: Alice commented',
      'Message-ID: <mdn-1@elsewhere.test>',
      'Content-Type: multipart/report; report-type=disposition-notification; boundary="m1"',
      '',
      '--m1',
      'Content-Type: text/plain',
      '',
      'Your message was displayed.',
      '--m1',
      'Content-Type: message/disposition-notification',
      '',
      'Final-Recipient: rfc822; dora@elsewhere.test',
      `Original-Message-ID: <${messageId}>`,
      'Disposition: manual-action/MDN-sent-manually; displayed',
      '',
      '--m1',
      'Content-Type: text/rfc822-headers',
      '',
      `Message-ID: <${messageId}>`,
      'Subject: Alice commented',
      '',
      '--m1--',
      '',
    ].join('\r\n');
    expect(await ingestRaw(Buffer.from(mdn))).toMatchObject({ state: 'rejected', reason: 'bounce' });
    expect(await outboxRow(id)).toMatchObject({ state: 'sent', lastError: null });
  });
});

describe('Exchange Online sender authentication through ingest (BLEND_SENDER_AUTH=exchange-online)', () => {
  let t: TestDatabase;
  let uid = 0;
  let deps: IngestDeps;
  const ingestRaw = async (raw: Buffer) => {
    const [row] = await storeFetched(t.db, 'imap://exo', 1, [{ uid: ++uid, size: raw.length, raw, internalDate: new Date('2026-11-02T09:00:04Z') }]);
    await ingest({ inboundId: row!.id }, deps);
    return (await getInbound(t.db, row!.id))!;
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    deps = ingestDeps(t.db, {
      addressing: { mode: 'plus', mailbox: 'bridge', domain: 'corp.test' },
      // corp.test publishes DMARC p=reject and nothing else: unsigned internal mail cannot pass `verify`.
      senderAuth: { mode: 'exchange-online', orgDomains: ['corp.test'], resolver: staticResolver({ '_dmarc.corp.test': { TXT: ['v=DMARC1; p=reject'] } }) },
    });
    await ensureGroup(t.db, 'general');
    await ensureGroup(t.db, 'team');
    await upsertPerson(t.db, { email: 'alice@corp.test', name: 'Alice Example', optIn: true });
  });
  afterAll(async () => t?.drop());

  it("publishes a colleague's unsigned mail that Exchange Online records as an internal submission", async () => {
    expect(await ingestRaw(fixture('exchange-new-plus-address.eml'))).toMatchObject({ state: 'posted' });
  });

  it('rejects the same headers in mail whose newest Received was not written by Exchange Online', async () => {
    const forged = Buffer.concat([
      Buffer.from('Received: from mail.attacker.example (mail.attacker.example [198.51.100.7])\r\n\tby mx.corp.test (Postfix) with ESMTPS id 4Xk2; Mon, 2 Nov 2026 09:00:03 +0000\r\n'),
      Buffer.from(fixture('exchange-new-plus-address.eml').toString('latin1').replace(/^Message-ID:\s*<[^>]+>/im, 'Message-ID: <forged-1@attacker.example>'), 'latin1'),
    ]);
    expect(await ingestRaw(forged)).toMatchObject({ state: 'rejected', reason: 'dmarc_fail' });
  });
});
