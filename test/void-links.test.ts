import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { signLink, verifyLink, type LinkClaims } from '@blend/core';
import { erasePerson, findPersonByEmail, optInHistory, schema, setOptIn, tombstonePost, turnDigestsOff } from '@blend/db';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// Signed links whose purpose is void (docs/SECURITY.md B34): each purpose of the links in
// Blend's mails, used after what it was for changed. The opt-in and share links come from the
// mails Blend really sent; the others are made as Blend makes them. A void link changes
// nothing and answers with a page that says so and what to do instead.

let s: Stack;
let bridge: string;
let P: string;
const at = (name: string) => `${name}@${P}`;
const send = (raw: string, from: string) => sendRaw(raw, { from, to: bridge });
const form = { 'content-type': 'application/x-www-form-urlencoded' };

async function mailsTo(address: string): Promise<string[]> {
  const all = await fetchRawMessages(s.people.imapUrl);
  return all.map((m) => m.source.toString('utf8')).filter((raw) => headerValues(raw, 'delivered-to').some((d) => d.toLowerCase() === address));
}
/** The tokens of the `path` links in the mails to `address`. */
async function linkTokens(address: string, path: string): Promise<string[]> {
  return (await mailsTo(address)).flatMap((raw) => {
    const flat = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
    return [...flat.matchAll(new RegExp(`https?://[^\\s]+${path}\\?t=([A-Za-z0-9._%-]+)`, 'g'))].map((m) => decodeURIComponent(m[1]!));
  });
}
/** A `path` link to `address` other than those in `seen`, waiting for its mail. */
const newLinkToken = (address: string, path: string, seen: string[] = []) =>
  waitFor(async () => (await linkTokens(address, path)).find((t) => !seen.includes(t)), `a ${path} link to ${address}`);
const show = (path: string, t: string) => s.app.inject({ method: 'GET', url: `${path}?t=${encodeURIComponent(t)}` });
const use = (path: string, t: string) => s.app.inject({ method: 'POST', url: path, payload: `t=${encodeURIComponent(t)}`, headers: form });
/** A link as Blend signs it, made now. */
const mint = (claims: Omit<LinkClaims, 'exp' | 'iat'>) => {
  const iat = Math.floor(Date.now() / 1000);
  return signLink({ ...claims, iat, exp: iat + 3600 }, s.config.BLEND_SECRET);
};
/** Wait until the clock has left the second a link was made in (links know their time to the second). */
const afterIssue = (t: string, purpose: LinkClaims['purpose']) => {
  const iat = verifyLink(t, purpose, s.config.BLEND_SECRET, new Date())!.iat!;
  return waitFor(async () => (Date.now() >= (iat + 1) * 1000 ? true : undefined), 'the next second');
};
/** A void link's page: no form to act, the reason, and the way on. */
function expectVoid(res: { statusCode: number; body: string }, status: number, says: string) {
  expect(res.statusCode).toBe(status);
  expect(res.body).not.toContain('<form');
  expect(res.body).toContain(says);
  expect(res.body).toContain('/web/preferences');
}

beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000' });
  bridge = `status@${s.mail.domain}`;
  P = s.people.domain;
  await s.person(at('alice'), { name: 'Alice' });
  await s.person(at('carol'), { name: 'Carol', optIn: false });
});
afterAll(async () => s?.stop());

describe('opt-in link', () => {
  let invite = '';
  let withheldId = '';

  it('is void once the person opted out after it was sent: nothing is opted in or released', async () => {
    const m = buildMessage({ from: `Carol <${at('carol')}>`, to: bridge, subject: 'Carol writes', body: 'Not yet opted in.' });
    await send(m.raw, at('carol'));
    const row = await finalRow(s.db.db, m.messageId);
    expect(row).toMatchObject({ state: 'withheld', reason: 'not_opted_in' });
    withheldId = row.id;
    invite = await newLinkToken(at('carol'), '/links/opt-in');
    expect((await show('/links/opt-in', invite)).statusCode).toBe(200);

    // Carol says no by mail after the invitation went out.
    await afterIssue(invite, 'opt_in');
    const no = buildMessage({ from: `Carol <${at('carol')}>`, to: bridge, subject: 'opt out' });
    await send(no.raw, at('carol'));
    expect(await finalRow(s.db.db, no.messageId)).toMatchObject({ state: 'command', reason: 'opt_out' });

    expectVoid(await show('/links/opt-in', invite), 410, 'You opted out after this link was sent');
    expectVoid(await use('/links/opt-in', invite), 410, 'You opted out after this link was sent');
    const carol = (await findPersonByEmail(s.db.db, at('carol')))!;
    expect(carol.optIn).toBe('opted_out');
    expect((await optInHistory(s.db.db, carol.id)).map((e) => e.state)).toEqual(['opted_out']);
    const [held] = await s.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.id, withheldId));
    expect(held).toMatchObject({ state: 'withheld' });
  });

  it('works again from a new confirmation after the person asks to opt in, and then says it is done', async () => {
    const yes = buildMessage({ from: `Carol <${at('carol')}>`, to: bridge, subject: 'opt in' });
    await send(yes.raw, at('carol'));
    expect(await finalRow(s.db.db, yes.messageId)).toMatchObject({ state: 'command', reason: 'opt_in' });
    const confirm = await newLinkToken(at('carol'), '/links/opt-in', [invite]);
    const done = await use('/links/opt-in', confirm);
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('You are opted in');
    expect((await findPersonByEmail(s.db.db, at('carol')))!.optIn).toBe('opted_in');
    // Used again, or the old invitation: already the case, nothing changes.
    const again = await use('/links/opt-in', confirm);
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('already opted in');
    expect(again.body).not.toContain('<form');
    expect((await show('/links/opt-in', invite)).body).toContain('already opted in');
  });
});

describe('opt-out link', () => {
  it('stays valid while there is consent to take back, then says there is nothing to change', async () => {
    await s.person(at('olga'), { name: 'Olga' });
    const m = buildMessage({ from: `Olga <${at('olga')}>`, to: bridge, subject: 'unsubscribe' });
    await send(m.raw, at('olga'));
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'command', reason: 'unsubscribe' });
    const t = await newLinkToken(at('olga'), '/links/opt-out');
    expect((await use('/links/opt-out', t)).body).toContain('You are opted out.');
    const done = await use('/links/opt-out', t);
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('You are not opted in');
    const olga = (await findPersonByEmail(s.db.db, at('olga')))!;
    expect((await optInHistory(s.db.db, olga.id)).filter((e) => e.state === 'opted_out')).toHaveLength(1);
    // Taking consent back stays as easy as giving it: after opting in again, the link still opts out.
    await afterIssue(t, 'unsubscribe');
    await setOptIn(s.db.db, olga.id, 'opted_in', 'api', olga.id);
    expect((await use('/links/opt-out', t)).body).toContain('You are opted out.');
    expect((await findPersonByEmail(s.db.db, at('olga')))!.optIn).toBe('opted_out');
  });
});

describe('share link (external participants)', () => {
  const held = async (subject: string) => {
    const m = buildMessage({ from: `Alice <${at('alice')}>`, to: bridge, cc: 'vendor@elsewhere.test', subject, body: `${subject}: sharing with the vendor on Cc.` });
    await send(m.raw, at('alice'));
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'held', reason: 'external_participants' });
    const t = await waitFor(async () => {
      for (const raw of (await mailsTo(at('alice'))).reverse()) {
        if (!raw.includes(subject)) continue;
        const flat = raw.replace(/=\r?\n/g, '').replace(/=3D/g, '=');
        const found = /https?:\/\/[^\s]+\/links\/share\?t=([A-Za-z0-9._%-]+)/.exec(flat);
        if (found) return decodeURIComponent(found[1]!);
      }
      return undefined;
    }, `the share confirmation for ${subject}`);
    return { id: m.messageId, t };
  };
  const stateOf = async (messageId: string) => (await s.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.messageId, messageId)))[0]!;

  it('says the message is already confirmed when it was published', async () => {
    const h = await held('Vendor plan');
    expect((await use('/links/share', h.t)).body).toContain('being published');
    await waitFor(async () => ((await stateOf(h.id)).state === 'posted' ? true : undefined), 'the published post');
    const again = await use('/links/share', h.t);
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('already confirmed');
    expect(again.body).not.toContain('<form');
  });

  it('is void once the message was withdrawn, and once its author opted out', async () => {
    const withdrawn = await held('Vendor withdrawn');
    await s.db.db.update(schema.inboundMessages).set({ state: 'rejected', reason: 'withdrawn' }).where(eq(schema.inboundMessages.messageId, withdrawn.id));
    expectVoid(await show('/links/share', withdrawn.t), 410, 'no longer waiting for you');
    expectVoid(await use('/links/share', withdrawn.t), 410, 'no longer waiting for you');
    expect((await stateOf(withdrawn.id)).state).toBe('rejected');

    const h = await held('Vendor after opt-out');
    await afterIssue(h.t, 'share_confirm');
    const alice = (await findPersonByEmail(s.db.db, at('alice')))!;
    await setOptIn(s.db.db, alice.id, 'opted_out', 'api', alice.id);
    expectVoid(await use('/links/share', h.t), 410, 'You opted out after this link was sent');
    expect(await stateOf(h.id)).toMatchObject({ state: 'held', reason: 'external_participants' });
    await setOptIn(s.db.db, alice.id, 'opted_in', 'api', alice.id);
  });
});

describe('links made for a thread or a published mail', () => {
  let postId = '';
  let alice = '';

  beforeAll(async () => {
    const m = buildMessage({ from: `Alice <${at('alice')}>`, to: bridge, subject: 'Quarterly numbers', body: 'The numbers are in.' });
    await send(m.raw, at('alice'));
    postId = (await finalRow(s.db.db, m.messageId)).postId!;
    alice = (await findPersonByEmail(s.db.db, at('alice')))!.id;
  });

  it('withhold: done once used, void once the conversation was removed', async () => {
    const t = mint({ purpose: 'thread_withhold', subject: at('dave'), scope: postId });
    expect((await show('/links/withhold', t)).body).toContain('<form');
    expect((await use('/links/withhold', t)).body).toContain('will not be mirrored');
    const again = await show('/links/withhold', t);
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('already kept out');

    const other = mint({ purpose: 'thread_withhold', subject: at('erin'), scope: postId });
    const unsubscribe = mint({ purpose: 'list_unsubscribe', subject: alice, scope: `thread:${postId}` });
    const undo = mint({ purpose: 'undo', subject: `post:${postId}`, scope: alice });
    const fix = mint({ purpose: 'fix', subject: `post:${postId}`, scope: alice });
    await tombstonePost(s.db.db, postId, false);
    expectVoid(await use('/links/withhold', other), 410, 'conversation was removed');
    expectVoid(await use('/links/unsubscribe', unsubscribe), 410, 'conversation was removed');
    expectVoid(await use('/links/undo', undo), 410, 'already removed');
    expectVoid(await show('/links/fix', fix), 410, 'can no longer be fixed');
    const saved = await s.app.inject({ method: 'POST', url: '/links/fix', payload: `t=${encodeURIComponent(fix)}&body=${encodeURIComponent('Rewritten after removal')}`, headers: form });
    expectVoid(saved, 410, 'can no longer be fixed');
    const [row] = await s.db.db.select().from(schema.posts).where(eq(schema.posts.id, postId));
    expect(row!.bodyText).toBe('');
    expect((await s.db.db.select().from(schema.threadOptOuts).where(eq(schema.threadOptOuts.address, at('erin'))))).toEqual([]);
  });

  it('unsubscribe: done when digests are already off, void when the person was erased', async () => {
    await s.person(at('uma'), { name: 'Uma' });
    const uma = (await findPersonByEmail(s.db.db, at('uma')))!.id;
    const digest = mint({ purpose: 'list_unsubscribe', subject: uma, scope: 'digest' });
    expect((await use('/links/unsubscribe', digest)).body).toContain('digests are off');
    const again = await use('/links/unsubscribe', digest);
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('already off');
    await turnDigestsOff(s.db.db, uma);
    await s.db.db.transaction((tx) => erasePerson(tx, uma, 'test'));
    expectVoid(await show('/links/unsubscribe', digest), 410, 'your account no longer exists');
  });
});
