import { describe, expect, it } from 'vitest';
import {
  createMailDomain,
  fetchRawMessages,
  headerValues,
  sendRaw,
  swaks,
  waitForMailboxCount,
} from './support/mail-server';

describe('local mail servers (scripts/services.sh up)', () => {
  it('delivers status@ and reply+TOKEN@ of a fresh domain into its bridge INBOX with Delivered-To', async () => {
    const mail = await createMailDomain();
    expect(mail.domain).toMatch(/^t-[0-9a-f]+\.test$/);
    expect(mail.smtpUrl).toBe('smtp://127.0.0.1:2525');

    const status = `status@${mail.domain}`;
    const reply = `reply+tok123@${mail.domain}`;
    const from = `alice@${mail.domain}`;
    await swaks(['--from', from, '--to', status, '--header', 'Subject: to-status']);
    await swaks(['--from', from, '--to', reply, '--header', 'Subject: to-reply']);

    expect(await waitForMailboxCount(mail.imapUrl, 2, 15_000)).toBe(2);
    const messages = await fetchRawMessages(mail.imapUrl);
    const bySubject = new Map(messages.map((m) => [headerValues(m.source, 'Subject')[0], m.source]));

    const toStatus = bySubject.get('to-status');
    const toReply = bySubject.get('to-reply');
    expect(toStatus).toBeDefined();
    expect(toReply).toBeDefined();
    expect(headerValues(toStatus ?? '', 'Delivered-To')).toEqual([status]);
    expect(headerValues(toReply ?? '', 'Delivered-To')).toEqual([reply]);
  });

  it('keeps domains isolated and passes raw messages through unchanged', async () => {
    const [a, b] = await Promise.all([createMailDomain(), createMailDomain()]);
    const raw = [
      `From: Bob <bob@${a.domain}>`,
      `To: group@${a.domain}`,
      'Subject: raw',
      'Message-ID: <raw-1@blend.test>',
      '',
      '.leading dot line',
      'body',
      '',
    ].join('\r\n');
    await sendRaw(raw, { from: `bob@${a.domain}`, to: `group@${a.domain}` });

    expect(await waitForMailboxCount(a.imapUrl, 1, 15_000)).toBe(1);
    const [msg] = await fetchRawMessages(a.imapUrl);
    const text = msg?.source.toString('utf8') ?? '';
    expect(headerValues(text, 'Delivered-To')).toEqual([`group@${a.domain}`]);
    expect(text).toContain('Message-ID: <raw-1@blend.test>');
    expect(text).toContain('\r\n.leading dot line\r\nbody');
    expect(await fetchRawMessages(b.imapUrl)).toEqual([]);
  });
});
