import { describe, expect, it } from 'vitest';
import { parseMail, withoutLeadingBlankLines } from './parse';

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
