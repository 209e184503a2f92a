import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { findPersonByEmail, schema } from '@blend/db';
import { parseMail } from '@blend/mail';
import { waitFor } from './support/database';
import { fetchRawMessages, headerValues, sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// Blend's mail in the recipient's language: the one they chose through the API, else the
// organisation's (French here). Sent through Postfix, read back from Dovecot.
let s: Stack;
let bridge: string;
let P: string;
const tokens: Record<string, string> = {};
const at = (name: string) => `${name}@${P}`;

async function mailsTo(address: string, kind: RegExp) {
  const out: { raw: string; subject: string; text: string; html: string }[] = [];
  for (const m of await fetchRawMessages(s.people.imapUrl)) {
    const raw = m.source.toString('utf8');
    if (!headerValues(raw, 'delivered-to').some((d) => d.toLowerCase() === address)) continue;
    const { mail } = await parseMail(m.source);
    if (kind.test(mail.subject ?? '')) out.push({ raw, subject: mail.subject ?? '', text: mail.text ?? '', html: typeof mail.html === 'string' ? mail.html : '' });
  }
  return out;
}
const waitForMail = (address: string, kind: RegExp, what: string) =>
  waitFor(async () => (await mailsTo(address, kind))[0], what);
const setLanguage = (who: string, language: string | null) =>
  s.app.inject({ method: 'PUT', url: '/api/v1/me/preferences', headers: { authorization: `Bearer ${tokens[who]}` }, payload: { language } });

beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000', BLEND_RECEIPTS_FIRST: '5', BLEND_DEFAULT_LANGUAGE: 'fr', BLEND_DIGEST_TICK_MS: '3600000' });
  bridge = `status@${s.mail.domain}`;
  P = s.people.domain;
  for (const [name, full] of [['dieter', 'Dieter Deutsch'], ['kenji', 'Kenji Sato'], ['claire', 'Claire Defaut'], ['erin', 'Erin Esn']] as const) {
    tokens[name] = await s.person(at(name), { name: full });
  }
});
afterAll(async () => s?.stop());

describe('the language of Blend’s mail', () => {
  it('is chosen with PUT /api/v1/me/preferences: null goes back to the default, an unknown language is refused', async () => {
    expect((await setLanguage('dieter', 'de')).json()).toMatchObject({ language: 'de' });
    expect((await setLanguage('kenji', 'ja')).json()).toMatchObject({ language: 'ja' });
    expect((await setLanguage('claire', 'es')).json()).toMatchObject({ language: 'es' });
    expect((await setLanguage('claire', null)).json()).toMatchObject({ language: null });
    expect((await setLanguage('claire', 'xx')).statusCode).toBe(400);
    const me = await s.app.inject({ method: 'GET', url: '/api/v1/me/preferences', headers: { authorization: `Bearer ${tokens.dieter}` } });
    expect(me.json()).toMatchObject({ language: 'de' });
  });

  it('gives a German reader their next digest in German, with localised times and Content-Language: de', async () => {
    const dieter = (await findPersonByEmail(s.db.db, at('dieter')))!.id;
    const created = (await s.app.inject({ method: 'POST', url: '/api/v1/posts', headers: { authorization: `Bearer ${tokens.erin}` }, payload: { group: 'general', title: 'Umzug', body: 'Wir ziehen am Freitag um.' } })).json() as { id: string };
    await s.db.db.insert(schema.follows).values({ personId: dieter, postId: created.id });
    await s.db.db.update(schema.people).set({ lastDigestAt: new Date(Date.now() - 60_000), digestFrequency: 'daily', timezone: 'Europe/Berlin' }).where(eq(schema.people.id, dieter));
    await s.app.inject({ method: 'POST', url: `/api/v1/posts/${created.id}/comments`, headers: { authorization: `Bearer ${tokens.erin}` }, payload: { body: 'Kisten stehen im Flur.' } });

    expect(await s.digestNow(at('dieter'))).toMatchObject({ sent: 1 });
    const digest = await waitForMail(at('dieter'), /Überblick/, "Dieter's digest");
    expect(headerValues(digest.raw, 'content-language')).toEqual(['de']);
    expect(digest.subject).toMatch(/^Ihr täglicher Blend-Überblick: 1 Unterhaltung, \d+ Neuigkeit(en)?$/);
    expect(digest.text).toContain('Hallo Dieter Deutsch,');
    expect(digest.text).toContain('Kisten stehen im Flur.');
    expect(digest.text).toContain('Auf diese Unterhaltung antworten: reply+');
    expect(digest.text).toContain('Zeiten in Europe/Berlin.');
    expect(digest.text).toContain('Gesendet von Blend');
    // "Mo., 7. Dez., 09:15": German weekday and month abbreviations.
    expect(digest.text).toMatch(/Erin Esn, (Mo|Di|Mi|Do|Fr|Sa|So)\., \d{1,2}\. [A-ZÄ][a-zä]+\.?, \d\d:\d\d:/);
    expect(digest.html).toContain('<html lang="de"');
    expect(digest.html).toContain('Im Feed öffnen');
    expect(digest.text).not.toContain('Reply to this thread');
  });

  it('gives a Japanese sender their publish receipt in Japanese, with Content-Language: ja', async () => {
    const m = buildMessage({ from: `Kenji Sato <${at('kenji')}>`, to: bridge, subject: '会議室の予約', body: '来週の会議室を予約しました。' });
    await sendRaw(m.raw, { from: at('kenji'), to: bridge });
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'posted' });
    const receipt = await waitForMail(at('kenji'), /^公開しました/, "Kenji's receipt");
    expect(receipt.subject).toBe('公開しました: 会議室の予約');
    expect(headerValues(receipt.raw, 'content-language')).toEqual(['ja']);
    expect(receipt.text).toContain('あなたの投稿「会議室の予約」をフィードに公開しました。');
    expect(receipt.text).toContain('来週の会議室を予約しました。');
    expect(receipt.text).toMatch(/取り消す（削除）: https?:\/\/\S+\/links\/undo\?t=/);
    expect(receipt.html).toContain('<html lang="ja"');
  });

  it('writes to a person without a choice in the organisation’s default language, reasons included', async () => {
    const m = buildMessage({ from: `Claire Defaut <${at('claire')}>`, to: `no-such-group@${s.mail.domain}`, subject: 'Perdu', body: 'Bonjour le groupe' });
    await sendRaw(m.raw, { from: at('claire'), to: `no-such-group@${s.mail.domain}` });
    expect(await finalRow(s.db.db, m.messageId)).toMatchObject({ state: 'rejected', reason: 'unknown_group' });
    const receipt = await waitForMail(at('claire'), /^Non publié/, "Claire's not-published receipt");
    expect(receipt.subject).toBe('Non publié : Perdu');
    expect(headerValues(receipt.raw, 'content-language')).toEqual(['fr']);
    expect(receipt.text).toContain('Votre message « Perdu » n’a pas été publié.');
    expect(receipt.text).toContain('Pourquoi : Le groupe auquel ce message était adressé n’existe pas');
  });

  it('has written every outbox row of this file with its Content-Language', async () => {
    const rows = await s.db.db.select({ kind: schema.outboundMessages.kind, headers: schema.outboundMessages.headers }).from(schema.outboundMessages);
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const r of rows) expect([r.kind, r.headers['Content-Language']]).toEqual([r.kind, expect.stringMatching(/^(en|de|fr|es|ja)$/)]);
  });
});
