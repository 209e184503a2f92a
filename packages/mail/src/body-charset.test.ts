import { describe, expect, it } from 'vitest';
import { judgeCharset, transferDecode, type CharsetVerdict } from './body-charset';
import { readMimeTree } from './mime-structure';
import { parseMail } from './parse';

const RUSSIAN = 'Привет, как дела? Увидимся завтра в десять.';
const KOI8 = Buffer.from('f0d2c9d7c5d42c20cbc1cb20c4c5ccc13f20f5d7c9c4c9cdd3d120dac1d7d4d2c120d720c4c5d3d1d4d82e', 'hex');
const CP1251 = Buffer.from('cff0e8e2e5f22c20eae0ea20e4e5ebe03f20d3e2e8e4e8ecf1ff20e7e0e2f2f0e020e220e4e5f1fff2fc2e', 'hex');
const LATIN1 = Buffer.from('4772fcdf6520617573204dfc6e6368656e', 'hex');

const HEAD = 'From: Ann <ann@corp.test>\nTo: status@example.test\nSubject: Hi\nMessage-ID: <c1@corp.test>\n';
/** A one-part mail: `type` null leaves the Content-Type header out. */
const mail = (type: string | null, body: Buffer, encoding = '8bit') =>
  Buffer.concat([Buffer.from(`${HEAD}${type === null ? '' : `Content-Type: ${type}\n`}Content-Transfer-Encoding: ${encoding}\n\n`), body, Buffer.from('\n')]);

describe('judgeCharset', () => {
  it.each<[string, Buffer, CharsetVerdict]>([
    ['UTF-8 bytes under a Big5 label are UTF-8', mail('text/plain; charset=Big5', Buffer.from('您好！ 你今天好吗？')), { kind: 'utf8', declared: 'big5' }],
    ['UTF-8 bytes under a Latin-1 label are UTF-8', mail('text/plain; charset="iso-8859-1"', Buffer.from('Grüße aus München')), { kind: 'utf8', declared: 'iso-8859-1' }],
    ['Latin-1 bytes under their label stay', mail('text/plain; charset=iso-8859-1', LATIN1), { kind: 'as_declared' }],
    ['UTF-8 under its label stays', mail('text/plain; charset=utf-8', Buffer.from(RUSSIAN)), { kind: 'as_declared' }],
    ['plain ASCII needs no label', mail(null, Buffer.from('Just ASCII.')), { kind: 'as_declared' }],
    ['one bad byte in UTF-8 is not a reason to guess', mail('text/plain; charset=utf-8', Buffer.concat([Buffer.from(RUSSIAN), Buffer.from([0xaa])])), { kind: 'as_declared' }],
    ['no label, KOI8-R bytes: guessed', mail(null, KOI8), { kind: 'guessed', charset: 'KOI8-R' }],
    ['a UTF-8 label on windows-1251 bytes: guessed', mail('text/plain; charset=utf-8', CP1251), { kind: 'guessed', charset: 'windows-1251' }],
    ['base64 is decoded before the check', mail('text/plain; charset=Big5', Buffer.from(Buffer.from('您好！').toString('base64')), 'base64'), { kind: 'utf8', declared: 'big5' }],
    ['quoted-printable UTF-8 under a Latin-1 label is UTF-8', mail('text/plain; charset=iso-8859-1', Buffer.from('Gr=C3=BC=C3=9Fe =E2=82=AC5'), 'quoted-printable'), { kind: 'utf8', declared: 'iso-8859-1' }],
    ['quoted-printable ASCII under any label stays', mail('text/plain; charset=windows-1252', Buffer.from('a =3D b, soft=\nbreak'), 'quoted-printable'), { kind: 'as_declared' }],
    ['U+FFFD written in UTF-8 under a Latin-1 label counts as a bad character', mail('text/plain; charset=iso-8859-1', Buffer.from('caf\uFFFD ok')), { kind: 'as_declared' }],
    ['U+FFFD written in UTF-8 with no label is guessed', mail(null, Buffer.from('\uFFFD\uFFFD')), { kind: 'guessed', charset: 'Shift_JIS' }],
  ])('%s', (_name, raw, expected) => {
    const text = raw.toString('latin1');
    expect(judgeCharset(text, readMimeTree(text))).toEqual(expected);
  });
});

describe('transferDecode', () => {
  it.each<[string, string, string]>([
    ['quoted-printable with a soft break', 'Gr=C3=BC=\n=C3=9Fe', 'quoted-printable'],
    ['base64 over lines', 'R3LD\nvMOfZQ==', 'base64'],
  ])('%s', (_name, body, encoding) => {
    expect(transferDecode(body, encoding).toString('utf8')).toBe('Grüße');
  });

  // What two replacements gave: soft breaks out, then each `=XX` as its byte, left to right.
  const byReplacing = (body: string) =>
    Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
  it.each<string>([
    'no escapes at all',
    '=3D41 is "=41", not "A"',
    '==41 and =4=\r\n1 and ==\n41',
    'lower =c3=bc and upper =C3=BC, =e2=82=ac',
    'trailing =', 'trailing =4', '=G1 =1G =\r =\r\n',
    '\u00e9\u00ff raw high bytes =FF=00',
  ])('quoted-printable %j: as the replacements read it', (body) => {
    expect(transferDecode(body, 'quoted-printable')).toEqual(byReplacing(body));
  });
});

describe('parseMail reads the body in the charset its bytes are in', () => {
  it('a wrong label: the text, and no doubt', async () => {
    const { mail: m } = await parseMail(mail('text/plain; charset=Big5', Buffer.from('您好！ 你今天好吗？')));
    expect(m.text?.trim()).toBe('您好！ 你今天好吗？');
    expect(m.doubt).toBeNull();
    expect(m.headers['content-type']).toEqual(['text/plain; charset=Big5']);
  });

  it('no label and not UTF-8: a guess, said so, and the headers stay the mail\'s', async () => {
    const { mail: m } = await parseMail(mail(null, KOI8));
    expect(m.text?.trim()).toBe(RUSSIAN);
    expect(m.doubt).toBe('charset_guessed');
    expect(m.headers['content-type']).toBeUndefined();
  });

  it('a bad byte leaves no replacement character', async () => {
    const { mail: m } = await parseMail(mail('text/plain; charset=utf-8', Buffer.concat([Buffer.from('Здравствуйте'), Buffer.from([0xaa])])));
    expect(m.text?.trim()).toBe('Здравствуйте');
  });

  it('UTF-7 in a part of a multipart is decoded', async () => {
    const raw = `${HEAD}Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: text/plain; charset=unicode-1-1-utf-7\n\n+ANw-bermittlung fehlgeschlagen.\n--b--\n`;
    const { mail: m } = await parseMail(Buffer.from(raw));
    expect(m.text?.trim()).toBe('Übermittlung fehlgeschlagen.');
  });
});

describe('a subject in raw 8-bit bytes', () => {
  it('is read in the charset guessed for the body', async () => {
    const raw = Buffer.concat([Buffer.from('From: Ann <ann@corp.test>\nTo: status@example.test\nSubject: '), KOI8.subarray(0, 11), Buffer.from('\nMessage-ID: <s1@corp.test>\n\n'), KOI8, Buffer.from('\n')]);
    const { mail: m } = await parseMail(raw);
    expect(m.subject).toBe(RUSSIAN.slice(0, 11));
    expect(m.text?.trim()).toBe(RUSSIAN);
  });

  it('is read in its likeliest charset when the body is ASCII; the body has no doubt', async () => {
    const raw = Buffer.concat([Buffer.from('From: Ann <ann@corp.test>\nSubject: '), CP1251, Buffer.from('\nMessage-ID: <s3@corp.test>\n\nSee subject.\n')]);
    const { mail: m } = await parseMail(raw);
    expect(m.subject).toBe(RUSSIAN);
    expect(m.doubt).toBeNull();
  });

  it('UTF-8 bytes and encoded words are left to the parser', async () => {
    const { mail: m } = await parseMail(Buffer.from(`From: a@corp.test\nSubject: Grüße =?utf-8?q?und_Dank?=\nMessage-ID: <s2@corp.test>\n\nHi\n`));
    expect(m.subject).toBe('Grüße und Dank');
    expect(m.doubt).toBeNull();
  });
});
