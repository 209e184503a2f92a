import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { findPersonByEmail, optInHistory, schema, type PostView } from '@blend/db';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// Opt-in and consent end to end, reading the mail Blend sends to people from their own
// mailbox (the stack's people domain).
let s: Stack;
let bridge: string;
let P: string;
let token: string;
const at = (name: string) => `${name}@${P}`;
const send = (raw: string, from: string) => sendRaw(raw, { from, to: bridge });

/** Mails that reached one person, decoded enough for assertions. */
async function mailsTo(address: string) {
  const all = await fetchRawMessages(s.people.imapUrl);
  return all
    .map((m) => m.source.toString('utf8'))
    .filter((raw) => headerValues(raw, 'delivered-to').some((d) => d.toLowerCase() === address));
}
const waitForMail = (address: string, n: number, what: string) =>
  waitFor(async () => {
    const m = await mailsTo(address);
    return m.length >= n ? m : undefined;
  }, what);
const linkIn = (raw: string, path: string) => {
  const flat = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
  const m = new RegExp(`https?://[^\\s]+${path}\\?t=[A-Za-z0-9._%-]+`).exec(flat);
  if (!m) throw new Error(`no ${path} link in mail`);
  return new URL(m[0]);
};
async function follow(url: URL) {
  const t = decodeURIComponent(url.searchParams.get('t')!);
  const page = await s.app.inject({ method: 'GET', url: `${url.pathname}?t=${encodeURIComponent(t)}` });
  expect(page.statusCode).toBe(200);
  expect(page.body).toContain('<form method="post">');
  const done = await s.app.inject({ method: 'POST', url: url.pathname, payload: `t=${encodeURIComponent(t)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  expect(done.statusCode).toBe(200);
  return done.body;
}
const post = async (id: string) => (await s.get<PostView>(`/api/v1/posts/${id}`, token)).body;

let threadId: string;
let threadPost: string;

beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000' });
  bridge = `status@${s.mail.domain}`;
  P = s.people.domain;
  token = await s.person(at('alice'), { name: 'Alice' });
  await s.person(at('dave'), { name: 'Dave' });
  await s.person(at('carol'), { name: 'Carol', optIn: false });
});
afterAll(async () => s?.stop());

describe('consent per thread', () => {
  it('mirrors a thread and tells each colleague on it once, with no header injection from the subject', async () => {
    const m = buildMessage({
      from: `Alice <${at('alice')}>`,
      to: bridge,
      cc: `${at('carol')}, ${at('dave')}`,
      subject: '=?utf-8?q?Plan=0D=0ABcc:_evil@evil.test?=',
      body: 'Here is the plan. Card on file 4111 1111 1111 1111.',
    });
    threadId = m.messageId;
    await send(m.raw, at('alice'));
    const row = await finalRow(s.db.db, m.messageId);
    expect(row.state).toBe('posted');
    threadPost = row.postId!;
    const p = await post(threadPost);
    expect(p.title).toBe('Plan Bcc: evil@evil.test');
    expect(p.body_text).toBe('Here is the plan. Card on file [redacted card].');

    const [notice] = await waitForMail(at('dave'), 1, "dave's thread notice");
    expect(headerValues(notice!, 'bcc')).toEqual([]);
    expect(headerValues(notice!, 'to')).toEqual([at('dave')]);
    expect(headerValues(notice!, 'subject')[0]).not.toMatch(/[\r\n]/);
    expect(headerValues(notice!, 'auto-submitted')[0]).toMatch(/^auto-/);
    expect(headerValues(notice!, 'x-blend-origin')[0]).toMatch(/^[0-9a-f]{32}$/);
    await waitForMail(at('carol'), 1, "carol's thread notice");
  });

  it('withholds a reply-all from someone not opted in, shows only that a reply was withheld, and invites once', async () => {
    for (const text of ['Carol first reply', 'Carol second reply']) {
      const r = buildMessage({ from: `Carol <${at('carol')}>`, to: `${at('alice')}, ${bridge}`, subject: 'Re: Plan', body: text, inReplyTo: threadId });
      await send(r.raw, at('carol'));
      expect(await finalRow(s.db.db, r.messageId)).toMatchObject({ state: 'withheld', reason: 'not_opted_in', commentId: null });
    }
    const p = await post(threadPost);
    expect(p.withheld_replies).toBe(2);
    expect(JSON.stringify(p)).not.toContain('Carol first reply');
    const mails = await waitForMail(at('carol'), 2, "carol's invitation");
    expect(mails.filter((m) => m.includes('/links/opt-in'))).toHaveLength(1);
  });

  it('publishes the withheld replies when the person opts in through the invitation', async () => {
    const invite = (await mailsTo(at('carol'))).find((m) => m.includes('/links/opt-in'))!;
    const page = await follow(linkIn(invite, '/links/opt-in'));
    expect(page).toContain('2 message(s)');
    const carol = (await findPersonByEmail(s.db.db, at('carol')))!;
    expect(carol.optIn).toBe('opted_in');
    expect((await optInHistory(s.db.db, carol.id)).map((e) => [e.state, e.via])).toContainEqual(['opted_in', 'mail']);
    await waitFor(async () => ((await post(threadPost)).comments.length === 2 ? true : undefined), 'the two released comments');
    expect((await post(threadPost)).withheld_replies).toBe(0);
  });

  it('keeps a colleague out of a thread after they use the link in their notice', async () => {
    const notice = (await mailsTo(at('dave')))[0]!;
    // It links to the thread's page, as every other mail does.
    const flat = notice.replace(/=\r?\n/g, '');
    expect(flat).toContain(`/web/posts/${threadPost}`);
    expect(flat).not.toContain('/api/v1/posts/');
    await follow(linkIn(notice, '/links/withhold'));
    const r = buildMessage({ from: `Dave <${at('dave')}>`, to: bridge, subject: 'Re: Plan', body: 'Dave would rather not be mirrored', inReplyTo: threadId });
    await send(r.raw, at('dave'));
    expect(await finalRow(s.db.db, r.messageId)).toMatchObject({ state: 'withheld', reason: 'participant_declined' });
    expect(JSON.stringify(await post(threadPost))).not.toContain('Dave would rather');
  });

  it('holds a new thread with people outside the organisation until the sharer confirms', async () => {
    const m = buildMessage({ from: `Alice <${at('alice')}>`, to: bridge, cc: 'vendor@elsewhere.test', subject: 'Vendor thread', body: 'Sharing with the vendor on Cc.' });
    await send(m.raw, at('alice'));
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'held', reason: 'external_participants' });
    const confirm = await waitFor(async () => (await mailsTo(at('alice'))).find((x) => x.includes('/links/share')), 'the share confirmation');
    expect(confirm).toContain('vendor@elsewhere.test');
    await follow(linkIn(confirm, '/links/share'));
    await waitFor(async () => {
      const rows = await s.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.messageId, m.messageId));
      return rows[0]?.state === 'posted';
    }, 'the confirmed post');
  });
});

describe('compliance', () => {
  it.each([
    ['a confidentiality marker in the subject', { subject: 'Confidential: salaries 2027' }, 'confidential_marker'],
    ['a sensitivity label', { subject: 'Reorg', headers: { msip_labels: 'MSIP_Label_0e1f2a3b-0000-4000-8000-000000000001_Enabled=true; MSIP_Label_0e1f2a3b-0000-4000-8000-000000000001_Name=Restricted' } }, 'sensitivity_label'],
  ])('holds mail with %s', async (_label, extra, reason) => {
    const m = buildMessage({ from: `Alice <${at('alice')}>`, to: bridge, body: 'secret numbers', ...extra });
    await send(m.raw, at('alice'));
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'held', reason, postId: null });
  });
});

describe('opt-in and opt-out by mail', () => {
  it('opts a new person in only after they confirm from their own mailbox', async () => {
    const m = buildMessage({ from: `Erin <${at('erin')}>`, to: bridge, subject: 'opt in' });
    await send(m.raw, at('erin'));
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'command', reason: 'opt_in' });
    expect((await findPersonByEmail(s.db.db, at('erin')))?.optIn ?? 'none').not.toBe('opted_in');
    const [confirm] = await waitForMail(at('erin'), 1, "erin's confirmation");
    await follow(linkIn(confirm!, '/links/opt-in'));
    expect((await findPersonByEmail(s.db.db, at('erin')))!.optIn).toBe('opted_in');
  });

  it('refuses a forged or expired link with the same answer', async () => {
    for (const t of ['forged.token', '']) {
      const res = await s.app.inject({ method: 'POST', url: '/links/opt-in', payload: `t=${t}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain('This link is not valid');
    }
  });

  it('opts out by mail, after which the person is withheld', async () => {
    const m = buildMessage({ from: `Alice <${at('alice')}>`, to: bridge, subject: 'opt out' });
    await send(m.raw, at('alice'));
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'command', reason: 'opt_out' });
    const after = buildMessage({ from: `Alice <${at('alice')}>`, to: bridge, subject: 'After opting out', body: 'Not to be published.' });
    await send(after.raw, at('alice'));
    expect(await finalRow(s.db.db, after.messageId)).toMatchObject({ state: 'withheld', reason: 'opted_out' });
  });
});
