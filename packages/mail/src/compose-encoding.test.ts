import { describe, expect, it } from 'vitest';
import { composeOutbound, textEncodingOf } from './compose';

describe('textEncodingOf', () => {
  it.each([
    ['Hello, the budget is done.', 'quoted-printable'],
    ['Grüße aus München, bis Freitag', 'quoted-printable'],
    ['予算の件、金曜日までにお願いします。', 'base64'],
    ['Привет, бюджет готов', 'base64'],
    ['', 'base64'],
  ])('%j -> %s', (text, encoding) => expect(textEncodingOf(text)).toBe(encoding));

  it('is what composeOutbound gives nodemailer', () => {
    const row = {
      id: '00000000-0000-4000-8000-000000000001',
      kind: 'digest',
      toAddress: 'jane@corp.test',
      subject: 'Digest',
      messageId: 'm1@blend.test',
      references: [],
      textBody: '予算の件、金曜日までにお願いします。',
      htmlBody: '<p>予算の件</p>',
      headers: {},
    } as unknown as Parameters<typeof composeOutbound>[0];
    const addressing = { domain: 'blend.test', localPart: 'status', mode: 'plus' } as unknown as Parameters<typeof composeOutbound>[1]['addressing'];
    expect(composeOutbound(row, { addressing, secret: 'x'.repeat(32) }).textEncoding).toBe('base64');
  });
});
