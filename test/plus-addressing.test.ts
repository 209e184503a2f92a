import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGroup, schema, type PostView } from '@blend/db';
import { parseMail } from '@blend/mail';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// One-mailbox mode (BLEND_ADDRESSING=plus) end to end: the bridge domain has no catch-all,
// only the mailbox bridge@D (Postfix and Dovecot LMTP with `recipient_delimiter = +`), and
// every address Blend uses is a sub-address of it. People read their mail from the stack's
// people domain over IMAP.
let s: Stack;
let D: string;
let P: string;
const tokens: Record<string, string> = {};
const at = (name: string) => `${name}@${P}`;
const bridge = (detail?: string) => (detail ? `bridge+${detail}@${D}` : `bridge@${D}`);

/** Mails delivered to one address of the people domain, optionally only those whose subject matches. */
async function mailsTo(address: string, subject?: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const m of await fetchRawMessages(s.people.imapUrl)) {
    const raw = m.source.toString('utf8');
    if (!headerValues(raw, 'delivered-to').some((d) => d.toLowerCase() === address)) continue;
    if (!subject || subject.test((await parseMail(m.source)).mail.subject)) out.push(raw);
  }
  return out;
}
const ids = (v: string | undefined) => (v ?? '').match(/<[^<>]+>/g)?.map((x) => x.slice(1, -1)) ?? [];
const post = async (id: string) => (await s.get<PostView>(`/api/v1/posts/${id}`, tokens.erin!)).body;

beforeAll(async () => {
  s = await startStack({
    BLEND_ADDRESSING: 'plus',
    BLEND_POLL_INTERVAL_MS: '1000',
    BLEND_NOTIFY_COALESCE_MS: '1500',
    BLEND_NOTIFY_SWEEP_MS: '200',
    BLEND_DIGEST_TICK_MS: '3600000',
  });
  D = s.mail.domain;
  P = s.people.domain;
  for (const [name, full] of [['alice', 'Alice Mail'], ['bob', 'Bob Mail'], ['erin', 'Erin Esn']] as const) {
    tokens[name] = await s.person(at(name), { name: full });
  }
  // No quiet hours: the mirrored comment goes out at once.
  await s.db.db.update(schema.people).set({ quietStart: '00:00', quietEnd: '00:00' });
});
afterAll(async () => s?.stop());

describe('one mailbox, no catch-all', () => {
  it('is configured from BLEND_MAIL_ADDRESS alone', () => {
    expect(s.config).toMatchObject({ BLEND_ADDRESSING: 'plus', BLEND_MAIL_ADDRESS: bridge() });
    expect(s.config.BLEND_MAIL_DOMAIN).toBeUndefined();
  });

  it('refuses mail to another local part of the domain: it bounces and never reaches the mailbox', async () => {
    const m = buildMessage({ from: `Alice Mail <${at('alice')}>`, to: `someone-else@${D}`, subject: 'Not for the bridge' });
    await sendRaw(m.raw, { from: at('alice'), to: `someone-else@${D}` });
    // Postfix accepts *.test, Dovecot's LMTP refuses the unknown user, Postfix bounces to Alice.
    const [dsn] = await waitFor(async () => {
      const found = (await mailsTo(at('alice'))).filter((raw) => /someone-else@/i.test(raw) && /^from:.*mailer-daemon/im.test(raw));
      return found.length > 0 ? found : undefined;
    }, 'the bounce for someone-else@');
    expect(dsn).toMatch(/5\.1\.1|user doesn't exist|unknown user/i);
    const inBridge = (await fetchRawMessages(s.mail.imapUrl)).map((x) => x.source.toString('utf8'));
    expect(inBridge.some((raw) => raw.includes(m.messageId))).toBe(false);
  });
});

let threadPost: string;
let rootId: string;

describe('the loop on one mailbox', () => {
  it('turns mail to bridge+status@ into a post', async () => {
    const m = buildMessage({ from: `Alice Mail <${at('alice')}>`, to: at('bob'), cc: bridge('status'), subject: 'Plus roadmap', body: 'The roadmap, by plus address.' });
    rootId = m.messageId;
    await sendRaw(m.raw, { from: at('alice'), to: [at('bob'), bridge('status')] });
    const row = await finalRow(s.db.db, m.messageId);
    expect(row).toMatchObject({ state: 'posted' });
    threadPost = row.postId!;
    expect(await post(threadPost)).toMatchObject({ title: 'Plus roadmap', body_text: 'The roadmap, by plus address.', group: { slug: 'general' }, author: { email: at('alice') } });
  });

  it('mails an ESN comment to the participants with a reply address that is a sub-address of the mailbox', async () => {
    const res = await s.app.inject({ method: 'POST', url: `/api/v1/posts/${threadPost}/comments`, headers: { authorization: `Bearer ${tokens.erin}` }, payload: { body: 'Plus comment from the ESN' } });
    expect(res.statusCode).toBe(201);
    for (const who of ['alice', 'bob']) {
      const [mirror] = await waitFor(async () => {
        const m = await mailsTo(at(who), /^Re: Plus roadmap/);
        return m.length > 0 ? m : undefined;
      }, `the mirrored comment for ${who}`);
      expect(headerValues(mirror!, 'from')[0]).toMatch(new RegExp(`"?Erin Esn via Blend"? <bridge@${D}>`));
      expect(headerValues(mirror!, 'reply-to')[0]).toMatch(new RegExp(`^<?bridge\\+reply-v1[a-z2-7]{26}@${D}>?$`));
      // The VERP envelope sender, as Dovecot recorded it.
      expect(headerValues(mirror!, 'return-path')[0]).toMatch(new RegExp(`^<bridge\\+bounce-[a-z2-7]{32}@${D}>$`));
      expect(ids(headerValues(mirror!, 'message-id')[0])[0]).toMatch(new RegExp(`^blend\\.[0-9a-f-]{36}@${D}$`));
      expect(ids(headerValues(mirror!, 'in-reply-to')[0])).toEqual([rootId]);
      expect(headerValues(mirror!, 'list-unsubscribe')[0]).toContain(`mailto:bridge+status@${D}?`);
    }
  });

  it('takes a reply to that address as a comment', async () => {
    const [mirror] = await mailsTo(at('bob'), /^Re: Plus roadmap/);
    const replyTo = headerValues(mirror!, 'reply-to')[0]!.replace(/^.*<|>.*$/g, '');
    const r = buildMessage({
      from: `Bob Mail <${at('bob')}>`,
      to: replyTo,
      subject: 'Re: Plus roadmap',
      inReplyTo: ids(headerValues(mirror!, 'message-id')[0])[0]!,
      body: `Agreed, by mail.\n\nOn Wed, 25 Nov 2026 at 10:00, Erin Esn via Blend <${bridge()}> wrote:\n> Plus comment from the ESN`,
    });
    await sendRaw(r.raw, { from: at('bob'), to: replyTo });
    expect(await finalRow(s.db.db, r.messageId)).toMatchObject({ state: 'commented', postId: threadPost });
    expect((await post(threadPost)).comments.map((c) => [c.author.email, c.body_text])).toEqual([
      [at('erin'), 'Plus comment from the ESN'],
      [at('bob'), 'Agreed, by mail.'],
    ]);
  });

  it('posts mail to bridge+GROUP@ into the group, whose address the API shows as that sub-address', async () => {
    await ensureGroup(s.db.db, 'sales', 'Sales');
    const groups = await s.get<{ items: { slug: string; address: string }[] }>('/api/v1/groups', tokens.erin!);
    expect(groups.body.items.find((g) => g.slug === 'sales')).toMatchObject({ address: bridge('sales') });
    const m = buildMessage({ from: `Alice Mail <${at('alice')}>`, to: bridge('Sales'), subject: 'Plus quarter', body: 'Sales numbers by plus address.' });
    await sendRaw(m.raw, { from: at('alice'), to: bridge('Sales') });
    const row = await finalRow(s.db.db, m.messageId);
    expect(row).toMatchObject({ state: 'posted' });
    expect(await post(row.postId!)).toMatchObject({ title: 'Plus quarter', group: { slug: 'sales' } });
  });

  it('treats mail to the bare mailbox as status@', async () => {
    const m = buildMessage({ from: `Alice Mail <${at('alice')}>`, to: bridge(), subject: 'Plus bare', body: 'Straight to the mailbox.' });
    await sendRaw(m.raw, { from: at('alice'), to: bridge() });
    const row = await finalRow(s.db.db, m.messageId);
    expect(row).toMatchObject({ state: 'posted' });
    expect(await post(row.postId!)).toMatchObject({ title: 'Plus bare', group: { slug: 'general' } });
  });
});

describe("Blend's own mail", () => {
  it.each([
    ['from the mailbox', { from: 'Blend <bridge@DOMAIN>' }],
    ['from a sub-address of it', { from: 'Blend <bridge+status@DOMAIN>' }],
    ['with our origin header', { from: 'Alice Mail <alice@PEOPLE>', headers: { 'X-Blend-Origin': '0123456789abcdef0123456789abcdef' } }],
  ])('is rejected as own_mail when %s', async (_what, spec) => {
    const from = spec.from.replace('DOMAIN', D).replace('PEOPLE', P);
    const m = buildMessage({ from, to: bridge('status'), subject: 'Looping back', ...('headers' in spec ? { headers: spec.headers } : {}), messageId: `loop-${Date.now()}-${Math.random().toString(16).slice(2)}@${P}` });
    await sendRaw(m.raw, { from: at('alice'), to: bridge('status') });
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'rejected', reason: 'own_mail' });
  });

  it('is not any other mail from the domain (staff share it)', async () => {
    const m = buildMessage({ from: `Carol Staff <carol@${D}>`, to: bridge('status'), subject: 'From a colleague' });
    await sendRaw(m.raw, { from: `carol@${D}`, to: bridge('status') });
    // Judged as a person's mail: past the loop check, refused by sender policy (the test
    // domain is not one of the organisation's).
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'rejected', reason: 'not_org_domain' });
  });
});
