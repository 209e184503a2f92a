import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { checkMimeLimits, DEFAULT_MIME_LIMITS, mimeCounts, parseMail, parserInput, PARSER_SLICE_BYTES, withoutLeadingBlankLines } from './parse';

const MAIL = 'From: Jane <jane@x.test>\r\nSubject: Hello\r\nMessage-ID: <m1@x.test>\r\n\r\nBody text\r\n';

describe('withoutLeadingBlankLines', () => {
  it.each<[string, string, string]>([
    ['one empty line before the header', `\r\n${MAIL}`, MAIL],
    ['LF only', `\n\nFrom: a@x.test\n\nB\n`, 'From: a@x.test\n\nB\n'],
    ['nothing to strip', MAIL, MAIL],
    ['a body-only message stays as it is', '\r\nJust text\r\n', '\r\nJust text\r\n'],
  ])('%s', (_name, input, expected) => {
    expect(withoutLeadingBlankLines(Buffer.from(input)).toString()).toBe(expected);
  });

  it('parseMail reads the header of a message stored with a blank line first', async () => {
    const { mail } = await parseMail(Buffer.from(`\r\n${MAIL}`));
    expect(mail.subject).toBe('Hello');
    expect(mail.text?.trim()).toBe('Body text');
  });
});

/** What checkMimeLimits counted before it read the bytes: the message as latin1 text and two expressions. */
function countsOfText(raw: Buffer): { parts: number; boundaries: number } {
  const text = raw.toString('latin1');
  return { parts: text.match(/^content-type:/gim)?.length ?? 0, boundaries: new Set(text.match(/boundary\s*=\s*"?[^";\r\n]+/gi) ?? []).size };
}

describe('mimeCounts', () => {
  const multipart = (boundary: string, inner = 'Content-Type: text/plain\r\n\r\nhi\r\n') =>
    `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n--${boundary}\r\n${inner}--${boundary}--\r\n`;
  it.each<[string, string | Buffer, number, number]>([
    ['a plain mail', MAIL, 0, 0],
    ['one part', 'Content-Type: text/plain\r\n\r\nhi\r\n', 1, 0],
    ['a header in any case, at the start or after CR or LF only', 'CONTENT-TYPE: a\r\ncontent-type: b\rContent-Type: c\n x content-type: d\r\n', 3, 0],
    ['not a header without its colon, or with a space before it', 'Content-Type : a\r\nContent-Typo: b\r\nContent-Type\r\n', 0, 0],
    ['a multipart with one part', multipart('abc'), 2, 1],
    ['the same boundary twice counts once', multipart('abc') + multipart('abc'), 4, 1],
    ['boundaries differing in case or spacing count apart', `boundary=abc\r\nBOUNDARY=abc\r\nboundary = abc\r\n`, 0, 3],
    ['nested multiparts', multipart('outer', multipart('inner')), 3, 2],
    ['unquoted, ended by a semicolon', 'Content-Type: multipart/mixed; boundary=xyz; charset=utf-8\r\n\r\n', 1, 1],
    ['an empty quoted value takes the spaces before it', 'boundary= ""\r\nboundary=\t"\r\n', 0, 2],
    ['no value at all', 'boundary=;boundary=";boundary\r\nboundary=\r\n', 0, 0],
    ['spaces and a line break reach the next line for a value', 'boundary=\r\nboundary="x"\r\n', 0, 1],
    ['spaces around the equals sign, a line break among them', 'boundary \t=\r\n "q"\r\n', 0, 1],
    ['a no-break space (latin1 0xA0) counts as a space', Buffer.from([...Buffer.from('boundary'), 0xa0, 0x3d, 0xa0, 0x78, 0x0d, 0x0a]), 0, 1],
    ['matches do not overlap: a boundary inside a value is part of it', 'boundary=boundary=x\r\nboundary=x\r\n', 0, 2],
    ['a word ending in boundary matches too, as the expression does', 'xboundary=a\r\nboundary=a\r\n', 0, 1],
    ['a truncated mail', 'Content-Type: multipart/mixed; bound', 1, 0],
    ['eight-bit bytes around the words', Buffer.from([0xe3, ...Buffer.from('boundary="\u00e9t\u00e9"\r\n', 'latin1'), 0xc3, 0x0a, ...Buffer.from('Content-Type: x')]), 1, 1],
    ['the value runs to the end of its line', 'boundary=a b\tc\r\nboundary=a b\tc; d\r\n', 0, 1],
  ])('%s', (_name, input, parts, boundaries) => {
    const raw = Buffer.isBuffer(input) ? input : Buffer.from(input, 'latin1');
    expect(mimeCounts(raw)).toEqual({ parts, boundaries });
    expect(mimeCounts(raw)).toEqual(countsOfText(raw));
  });

  it('counts as the expressions do on random bytes drawn from the characters that matter', () => {
    const alphabet = ['b', 'B', 'boundary', 'BoUnDaRy', 'content-type:', 'Content-Type:', '=', '"', ';', ' ', '\t', '\r', '\n', '\xa0', 'x', 'é', '-', '\x0b'];
    let s = 7;
    const rand = (n: number) => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) % n;
    for (let i = 0; i < 2_000; i++) {
      const raw = Buffer.from(Array.from({ length: 1 + rand(40) }, () => alphabet[rand(alphabet.length)]).join(''), 'latin1');
      expect(mimeCounts(raw), JSON.stringify(raw.toString('latin1'))).toEqual(countsOfText(raw));
    }
  });

  it('checkMimeLimits fails a mail past its part or multipart limits with the counts', () => {
    const many = Buffer.from(Array.from({ length: 4 }, (_, i) => multipart(`b${i}`)).join(''));
    expect(() => checkMimeLimits(many, { ...DEFAULT_MIME_LIMITS, maxParts: 7 })).toThrow('message has 8 MIME parts (limit 7)');
    expect(() => checkMimeLimits(many, { ...DEFAULT_MIME_LIMITS, maxMultiparts: 3 })).toThrow('message has 4 nested or sibling multiparts (limit 3)');
    expect(() => checkMimeLimits(many, { ...DEFAULT_MIME_LIMITS, maxParts: 8, maxMultiparts: 4 })).not.toThrow();
  });
});

describe('parserInput', () => {
  const FIXTURES = new URL('../../../test/fixtures/mail/', import.meta.url);
  /** Deterministic bytes that do not repeat. */
  const bytes = (n: number, seed: string) => {
    const out = Buffer.alloc(n);
    for (let at = 0, i = 0; at < n; i++) at += createHash('sha256').update(`${seed}:${i}`).digest().copy(out, at);
    return out;
  };
  const wrap = (b64: string, width: number) => b64.replace(new RegExp(`.{1,${width}}`, 'g'), '$&\r\n');
  /** A mail larger than a slice: QP text with lines across slice edges, a base64 file in odd-width lines, an inline image. */
  const large = (fileBytes: number) =>
    Buffer.from(
      [
        'From: Ann <ann@corp.test>\r\nTo: x@example.test\r\nSubject: Figures\r\nMessage-ID: <big@corp.test>\r\nMIME-Version: 1.0\r\n',
        'Content-Type: multipart/mixed; boundary="B1"\r\n\r\n--B1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
        `${'Gr=C3=BC=C3=9Fe aus M=C3=BCnchen, '.repeat(3000)}=\r\nend of text\r\n`,
        '--B1\r\nContent-Type: application/pdf; name="figures.pdf"\r\nContent-Disposition: attachment; filename="figures.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
        wrap(bytes(fileBytes, 'pdf').toString('base64'), 73),
        '--B1\r\nContent-Type: image/png\r\nContent-ID: <img1>\r\nContent-Disposition: inline\r\nContent-Transfer-Encoding: base64\r\n\r\n',
        wrap(bytes(70_001, 'png').toString('base64'), 76),
        '--B1--\r\n',
      ].join(''),
      'latin1',
    );
  const read = async (input: Parameters<typeof simpleParser>[0]) => {
    const m = await simpleParser(input, { skipTextToHtml: true, skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true, keepDeliveryStatus: true });
    return {
      headerLines: m.headerLines,
      text: m.text,
      html: m.html,
      attachments: m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, checksum: a.checksum, content: a.content, cid: a.cid })),
    };
  };

  it('hands a source of up to one slice over as it is', () => {
    const raw = Buffer.alloc(PARSER_SLICE_BYTES, 0x61);
    expect(parserInput(raw)).toBe(raw);
  });

  it.each([
    ['a file of a few slices', 3 * PARSER_SLICE_BYTES + 7],
    ['a file of one byte over a slice', PARSER_SLICE_BYTES + 1],
    ['a file of 1 MB', 1_000_000],
  ])('parses a larger mail in slices as it parses it whole: %s', async (_name, fileBytes) => {
    const raw = large(fileBytes);
    expect(raw.length).toBeGreaterThan(PARSER_SLICE_BYTES);
    const whole = await read(raw);
    expect(whole.attachments.map((a) => a.size)).toEqual([fileBytes, 70_001]);
    expect(await read(parserInput(raw))).toEqual(whole);
  });

  it.each(readdirSync(FIXTURES).filter((f) => f.endsWith('.eml')))('parses %s in slices as it parses it whole', async (name) => {
    const raw = readFileSync(new URL(name, FIXTURES));
    // Slices of the fixture's own size or smaller, so that even small fixtures are cut.
    const sliced = (function* () {
      for (let at = 0; at < raw.length; at += 100) yield raw.subarray(at, at + 100);
    })();
    expect(await read(Readable.from(sliced, { objectMode: false }))).toEqual(await read(raw));
  });
});
