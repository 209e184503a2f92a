import { describe, expect, it } from 'vitest';
import { withoutUuencodedFiles } from './body-parts';
import { parseMail } from './parse';

const HEAD = 'From: Ann <ann@corp.test>\r\nTo: status@example.test\r\nSubject: Build notes\r\nMessage-ID: <b1@corp.test>\r\nMIME-Version: 1.0\r\n';
const mime = (type: string, ...parts: string[]) =>
  Buffer.from(`${HEAD}Content-Type: ${type}; boundary="XX"\r\n\r\n${parts.map((p) => `--XX\r\n${p}\r\n`).join('')}--XX--\r\n`);

describe('which parts are the body', () => {
  it.each<[string, Buffer, { text: string; files: Array<string | null>; doubt?: string | null }]>([
    [
      'a named text part without Content-Disposition is a file, not body',
      mime('multipart/mixed', 'Content-Type: text/plain\r\n\r\nThe build fails, log attached.', 'Content-Type: text/plain; name="build.log"\r\n\r\nerror: missing semicolon'),
      { text: 'The build fails, log attached.', files: ['build.log'] },
    ],
    [
      'an inline text part named with RFC 2231 continuations is a file too',
      mime('multipart/mixed', 'Content-Type: text/plain\r\n\r\nNotes attached.', 'Content-Type: text/plain\r\nContent-Disposition: inline;\r\n filename*0=notes;\r\n filename*1=.txt\r\n\r\nline one'),
      { text: 'Notes attached.', files: ['notes.txt'] },
    ],
    [
      'the first text part stays the body even when it carries a name',
      mime('multipart/mixed', 'Content-Type: text/plain; name="body.txt"\r\n\r\nHello from a named body.'),
      { text: 'Hello from a named body.', files: [] },
    ],
    [
      'an unnamed second inline text part is still body (mailers split long text)',
      mime('multipart/mixed', 'Content-Type: text/plain\r\n\r\nFirst half.', 'Content-Type: text/plain\r\n\r\nSecond half.'),
      { text: 'First half.\nSecond half.', files: [] },
    ],
    [
      'a second text/plain alternative is neither body nor file',
      mime('multipart/alternative', 'Content-Type: text/plain\r\n\r\nSee you at nine.', 'Content-Type: text/plain\r\n\r\n<div>See you at nine.</div>'),
      { text: 'See you at nine.', files: [] },
    ],
    [
      'a delivery-status part is a file, not text',
      mime('multipart/report; report-type=delivery-status', 'Content-Type: text/plain\r\n\r\nYour message could not be delivered.', 'Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.corp.test\r\n\r\nFinal-Recipient: rfc822; x@corp.test\r\nAction: failed\r\nStatus: 5.1.1'),
      { text: 'Your message could not be delivered.', files: [null] },
    ],
    [
      'a multipart without boundaries is read as text, with a doubt',
      Buffer.from(`${HEAD}Content-Type: multipart/alternative; boundary=0011aabb\r\n\r\nThis is the answer.\r\n\r\nOn Tue, Bob wrote:\r\n> question\r\n`),
      { text: 'This is the answer.\n\nOn Tue, Bob wrote:\n> question', files: [], doubt: 'no_mime_parts' },
    ],
  ])('%s', async (_name, raw, expected) => {
    const { mail, attachments } = await parseMail(raw);
    expect(mail.text?.trim()).toBe(expected.text);
    expect(attachments.map((a) => a.filename)).toEqual(expected.files);
    expect(mail.doubt ?? null).toBe(expected.doubt ?? null);
  });

  it('keeps the declared Content-Type header when it reads a multipart without boundaries as text', async () => {
    const { mail } = await parseMail(Buffer.from(`${HEAD}Content-Type: multipart/alternative; boundary=0011aabb\r\n\r\nHi.\r\n`));
    expect(mail.headers['content-type']).toEqual(['multipart/alternative; boundary=0011aabb']);
  });
});

describe('withoutUuencodedFiles', () => {
  const file = ['begin 644 photo.jpg', 'M_]C_X``02D9)1@`!`0$`2`!(``#_VP!#``,"`@,"`@,#`P,$`P,$!0@%!00$', '`', 'end'];
  it.each<[string, string, string]>([
    [
      'a uuencoded file and the lines that announce it',
      ['Photo from the trip.', '', '(See attached file: photo.jpg)', '', '(UUEncoded file named: photo.jpg follows)', '(Its format is: JPEG File Interchange )', '', ...file, ''].join('\n'),
      'Photo from the trip.\n\n\n\n',
    ],
    ['no file: unchanged', 'Text that says begin 644 in the middle.\nend', 'Text that says begin 644 in the middle.\nend'],
    ['a note about another file stays', ['(See attached file: other.pdf)', ...file].join('\n'), '(See attached file: other.pdf)'],
  ])('%s', (_name, input, expected) => {
    expect(withoutUuencodedFiles(input)).toBe(expected);
  });
});
