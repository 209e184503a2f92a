import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addGroupMember, createGroup, findPersonByEmail, updateGroup } from '@blend/db';
import { parseMail } from '@blend/mail';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// A private group's address takes mail from its members only, and an archived group's from
// nobody: through real Postfix and Dovecot, the rest answered with a "not published" receipt
// that never says a private group exists (docs/SECURITY.md, private groups).
let s: Stack;
let P: string;
let board: string;
let attic: string;
const at = (name: string) => `${name}@${P}`;

async function mailsTo(address: string, subject: RegExp) {
  const out: string[] = [];
  for (const m of await fetchRawMessages(s.people.imapUrl)) {
    const raw = m.source.toString('utf8');
    if (!headerValues(raw, 'delivered-to').some((d) => d.toLowerCase() === address)) continue;
    if (subject.test((await parseMail(Buffer.from(raw))).mail.subject)) out.push(raw);
  }
  return out;
}
const text = async (raw: string) => (await parseMail(Buffer.from(raw))).mail.text ?? '';

beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000', BLEND_RECEIPTS_FIRST: '5' });
  P = s.people.domain;
  for (const name of ['mia', 'otto']) await s.person(at(name), { name: name.toUpperCase() });
  const mia = (await findPersonByEmail(s.db.db, at('mia')))!;
  const g = (await createGroup(s.db.db, { slug: 'board', name: 'Board', visibility: 'private', ownerId: null }))!;
  await addGroupMember(s.db.db, g.id, mia.id);
  const old = (await createGroup(s.db.db, { slug: 'attic', name: 'Attic', visibility: 'public', ownerId: null }))!;
  await updateGroup(s.db.db, old.id, { archivedAt: new Date() });
  board = `board@${s.mail.domain}`;
  attic = `attic@${s.mail.domain}`;
});
afterAll(async () => s?.stop());

describe('mail to a private group', () => {
  it('from a member is published in it', async () => {
    const m = buildMessage({ from: `Mia <${at('mia')}>`, to: board, subject: 'Budget 2027', body: 'Numbers attached soon.' });
    await sendRaw(m.raw, { from: at('mia'), to: board });
    const row = await finalRow(s.db.db, m.messageId);
    expect(row).toMatchObject({ state: 'posted' });
  });

  it('from a colleague who is not a member is not published, and the receipt says why without naming the group as private', async () => {
    const m = buildMessage({ from: `Otto <${at('otto')}>`, to: board, subject: 'Can I join?', body: 'Let me in please.' });
    await sendRaw(m.raw, { from: at('otto'), to: board });
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'rejected', reason: 'not_group_member', postId: null });
    const [receipt] = await waitFor(async () => {
      const r = await mailsTo(at('otto'), /^Not published: Can I join\?/);
      return r.length ? r : undefined;
    }, 'the not-published receipt');
    const body = await text(receipt!);
    expect(body).toMatch(/takes mail only from its members/);
    expect(body).toMatch(/does not exist/);
    expect(body).not.toMatch(/private group board|Board/);
  });
});

describe('mail to an archived group', () => {
  it('is not published, with a receipt saying the group is archived', async () => {
    const m = buildMessage({ from: `Mia <${at('mia')}>`, to: attic, subject: 'Old stuff', body: 'Anyone?' });
    await sendRaw(m.raw, { from: at('mia'), to: attic });
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'rejected', reason: 'group_archived' });
    const [receipt] = await waitFor(async () => {
      const r = await mailsTo(at('mia'), /^Not published: Old stuff/);
      return r.length ? r : undefined;
    }, 'the archived receipt');
    expect(await text(receipt!)).toMatch(/archived/);
  });
});
