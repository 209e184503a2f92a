// Blend's IMAP adapter (packages/mail/src/imap-session.ts) against a real Dovecot: each verb
// the poller and the admin CLI use, on a mail domain of this file's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapFailureKind, type ImapFailure } from '@blend/core';
import { ImapSession, parseImapUrl } from '@blend/mail';
import { createMailDomain, withImap, type MailDomain } from './support/mail-server';
import { buildMessage } from './support/messages';

let mail: MailDomain;
const sessions: ImapSession[] = [];

async function session(url: string): Promise<ImapSession> {
  const s = await ImapSession.create(parseImapUrl(url), { connectTimeoutMs: 10_000 });
  s.onError(() => undefined);
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  mail = await createMailDomain();
  const messages = [1, 2, 3].map((i) => buildMessage({ from: 'Alice <alice@corp.test>', to: `status@${mail.domain}`, subject: `Note ${i}`, body: `Body ${i}` }));
  await withImap(mail.imapUrl, async (client) => {
    for (const m of messages) await client.append('INBOX', m.raw);
  });
});
afterAll(async () => {
  for (const s of sessions) await s.logout();
});

describe('ImapSession', () => {
  it('says a wrong password is a refused login', async () => {
    const s = await session(mail.imapUrl.replace(encodeURIComponent(mail.password), 'wrong-password'));
    const err = await s.connect().then(() => null, (e: unknown) => e as ImapFailure);
    expect(err && imapFailureKind(err)).toBe('auth_failed');
  });

  it('logs in, opens the folder and reads sizes, then sources with their Message-ID', async () => {
    const s = await session(mail.imapUrl);
    await s.connect();
    expect(s.usable).toBe(true);
    const box = await s.openFolder('INBOX');
    expect(box.exists).toBe(3);
    expect(s.uidValidity).toBe(box.uidValidity);

    const sizes = await s.sizesFrom(1);
    expect(sizes.map((m) => m.uid)).toEqual([1, 2, 3]);
    expect(sizes.every((m) => m.size > 0 && m.internalDate instanceof Date)).toBe(true);
    // `N:*` names the newest message even past the last UID; it is left out.
    expect(await s.sizesFrom(4)).toEqual([]);

    const sources = [];
    for await (const m of s.sources([2, 3])) sources.push(m);
    expect(sources.map((m) => m.uid).sort()).toEqual([2, 3]);
    expect(sources[0]!.source.toString()).toContain('Subject: Note');
    expect(sources[0]!.messageId).toMatch(/^<t-[0-9a-f]+@corp\.test>$/);
    expect(await s.searchSince(new Date(Date.now() - 86_400_000))).toEqual([1, 2, 3]);

    // New mail sized and ordered in one FETCH: the listing with each ENVELOPE's ids.
    const arrivals = await s.arrivalsFrom(2);
    expect(arrivals.map((m) => [m.uid, m.size])).toEqual(sizes.slice(1).map((m) => [m.uid, m.size]));
    expect(arrivals[0]!.messageId).toBe(sources.find((m) => m.uid === 2)!.messageId);
    expect(arrivals.every((m) => m.inReplyTo === '')).toBe(true);
  });

  it('flags, moves into a new folder and expunges by UID', async () => {
    const s = await session(mail.imapUrl);
    await s.connect();
    await s.openFolder('INBOX');
    // STORE .SILENT answers with no FETCH of the flags: another connection reads them.
    expect(await s.addFlags([1, 3], ['\\Seen', '$BlendDone'])).toBe(true);
    await withImap(mail.imapUrl, async (client) => {
      await client.mailboxOpen('INBOX', { readOnly: true });
      const flags = new Map<number, string[]>();
      for await (const m of client.fetch('1:*', { uid: true, flags: true }, { uid: true })) flags.set(m.uid, [...(m.flags ?? [])].sort());
      expect(Object.fromEntries(flags)).toEqual({ 1: ['$BlendDone', '\\Seen'], 2: [], 3: ['$BlendDone', '\\Seen'] });
    });
    expect(await s.hasFolder('Done')).toBe(false);
    expect(await s.move([1], 'Done')).toBe(false); // [TRYCREATE]
    await s.createFolder('Done');
    await s.createFolder('Done'); // ALREADYEXISTS is no error
    expect(await s.hasFolder('Done')).toBe(true);
    expect(await s.move([1], 'Done')).toBe(true);
    expect(s.has('UIDPLUS')).toBe(true);
    expect(await s.expunge([2])).toBe(true);
    expect((await s.sizesFrom(1)).map((m) => m.uid)).toEqual([3]);

    const done = await session(mail.imapUrl);
    await done.connect();
    expect((await done.openFolder('Done', { readOnly: true })).exists).toBe(1);
  });
});
