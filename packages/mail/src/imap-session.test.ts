import { describe, expect, it } from 'vitest';
import { headerMessageId, uidSet } from './imap-session';

describe('uidSet', () => {
  it.each([
    [[7], '7'],
    [[3, 1, 2], '1:3'],
    [[1, 2, 3, 5, 8, 9, 9], '1:3,5,8:9'],
    [[10, 4, 11, 6], '4,6,10:11'],
  ])('%j -> %s (exactly these UIDs)', (uids, set) => {
    expect(uidSet(uids)).toBe(set);
  });
});

describe('headerMessageId', () => {
  const mail = (header: string, body = 'Hi.\r\n') => Buffer.from(`${header}\r\n\r\n${body}`);
  it.each([
    ['From: a@corp.test\r\nMessage-ID: <x1@corp.test>\r\nSubject: s', '<x1@corp.test>'],
    ['message-id:<x2@corp.test>', '<x2@corp.test>'],
    ['Message-Id : <x3@corp.test> (a comment)', '<x3@corp.test> (a comment)'],
    ['Subject: s\r\nMessage-ID:\r\n <x4@corp.test>\r\nTo: b@corp.test', '<x4@corp.test>'],
    ['Message-ID: <x5@corp.test>\r\nMessage-ID: <other@corp.test>', '<x5@corp.test>'],
    ['Resent-Message-ID: <r@corp.test>\r\nSubject: s', ''],
    ['Subject: s', ''],
  ])('%j -> %j', (header, id) => {
    expect(headerMessageId(mail(header))).toBe(id);
  });

  it('reads the header only, not a field in the body or an attached message', () => {
    expect(headerMessageId(mail('Subject: s', 'Message-ID: <body@corp.test>\r\n'))).toBe('');
    expect(headerMessageId(Buffer.from('Subject: s\n\nMessage-ID: <body@corp.test>\n'))).toBe('');
  });

  it('reads a header with bare line feeds, a header without a body, and UTF-8', () => {
    expect(headerMessageId(Buffer.from('Subject: s\nMessage-ID: <lf@corp.test>\n\nHi.\n'))).toBe('<lf@corp.test>');
    expect(headerMessageId(Buffer.from('Message-ID: <only@corp.test>'))).toBe('<only@corp.test>');
    expect(headerMessageId(mail('Message-ID: <é@corp.test>'))).toBe('<é@corp.test>');
  });
});
