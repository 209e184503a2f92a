import { describe, expect, it } from 'vitest';
import { parseImapUrl } from './imap-url';

describe('parseImapUrl', () => {
  it.each<[string, string, ReturnType<typeof parseImapUrl>]>([
    [
      'plain IMAP with a password, default folder',
      'imap://bridge%40example.test:s%3Acret@127.0.0.1',
      { host: '127.0.0.1', port: 143, secure: false, user: 'bridge@example.test', pass: 's:cret', folder: 'INBOX', key: 'imap://bridge%40example.test@127.0.0.1:143/INBOX' },
    ],
    [
      'implicit TLS on 993, no password (OAuth)',
      'imaps://bridge%40example.com@imap.example.com/Blend',
      { host: 'imap.example.com', port: 993, secure: true, user: 'bridge@example.com', pass: '', folder: 'Blend', key: 'imaps://bridge%40example.com@imap.example.com:993/Blend' },
    ],
    [
      'explicit port and an encoded folder',
      'imap://u:p@mail.test:1143/Team%20Mail',
      { host: 'mail.test', port: 1143, secure: false, user: 'u', pass: 'p', folder: 'Team Mail', key: 'imap://u@mail.test:1143/Team Mail' },
    ],
    [
      'a stray % is kept as written',
      'imap://u:50%off@mail.test/INBOX',
      { host: 'mail.test', port: 143, secure: false, user: 'u', pass: '50%off', folder: 'INBOX', key: 'imap://u@mail.test:143/INBOX' },
    ],
  ])('%s', (_name, url, expected) => {
    expect(parseImapUrl(url)).toEqual(expected);
  });

  it('gives the same key with or without the password', () => {
    expect(parseImapUrl('imap://u:secret@h/INBOX').key).toBe(parseImapUrl('imap://u@h/INBOX').key);
  });
});
