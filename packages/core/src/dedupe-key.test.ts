import { describe, expect, it } from 'vitest';
import { contentHash, dedupeKey } from './dedupe-key';
import type { MailInput } from './types';

const base: MailInput = {
  messageId: null,
  inReplyTo: [],
  references: [],
  subject: 'Budget 2025',
  from: { address: 'jane@corp.com', name: 'Jane' },
  to: [
    { address: 'status@blend.test', name: '' },
    { address: 'bob@corp.com', name: 'Bob' },
  ],
  cc: [{ address: 'carol@corp.com', name: '' }],
  deliveredTo: ['status@blend.test'],
  date: new Date('2025-01-02T03:04:05Z'),
  headers: { received: ['from a by b'] },
  text: 'Hello\nworld\n',
  html: '<p>Hello world</p>',
};
const mail = (over: Partial<MailInput> = {}): MailInput => ({ ...base, ...over });
const bytes = (s: string) => new TextEncoder().encode(s);

describe('dedupeKey with a Message-ID', () => {
  it.each([
    ['abc@corp.com', 'mid:abc@corp.com'],
    ['<abc@CORP.com>', 'mid:abc@corp.com'],
    ['ABC@corp.com', 'mid:ABC@corp.com'],
  ])('%j -> %j', (messageId, expected) => {
    expect(dedupeKey(mail({ messageId }))).toBe(expected);
  });

  it('ignores the content when a Message-ID is present', () => {
    expect(dedupeKey(mail({ messageId: 'a@b', text: 'other' }))).toBe(dedupeKey(mail({ messageId: 'a@b' })));
  });

  it.each(['', '  ', '<>', 'a b@c'])('falls back to a hash for unusable id %j', (messageId) => {
    expect(dedupeKey(mail({ messageId }))).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('dedupeKey without a Message-ID', () => {
  const key = dedupeKey(mail());

  it('is a sha256 hex key', () => {
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  // Re-delivery differences that must not change the key.
  it.each<[string, Partial<MailInput>]>([
    ['recipient order', { to: [...base.to].reverse() }],
    ['address case', { from: { address: 'Jane@Corp.com', name: 'Jane' } }],
    ['display names', { from: { address: 'jane@corp.com', name: 'J. Doe' }, to: base.to.map((a) => ({ ...a, name: 'x' })) }],
    ['to/cc split', { to: [base.to[0]!], cc: [base.to[1]!, base.cc[0]!] }],
    ['duplicate recipients', { cc: [...base.cc, { address: 'bob@corp.com', name: '' }] }],
    ['subject folding', { subject: 'Budget\r\n 2025' }],
    ['CRLF body', { text: 'Hello\r\nworld\r\n' }],
    ['trailing newlines', { text: 'Hello\nworld\n\n\n' }],
    ['same instant in another zone', { date: new Date('2025-01-02T04:04:05+01:00') }],
    ['hop headers', { headers: { received: ['from c by d'], 'delivered-to': ['x@y'] }, deliveredTo: ['other@blend.test'] }],
  ])('same key despite %s', (_name, over) => {
    expect(dedupeKey(mail(over))).toBe(key);
  });

  // Real differences that must change the key.
  it.each<[string, Partial<MailInput>]>([
    ['sender', { from: { address: 'bob@corp.com', name: 'Jane' } }],
    ['no sender', { from: null }],
    ['date', { date: new Date('2025-01-02T03:04:06Z') }],
    ['no date', { date: null }],
    ['subject', { subject: 'Budget 2026' }],
    ['recipient', { cc: [] }],
    ['text body', { text: 'Hello\nWorld\n' }],
    ['html body', { html: '<p>Hello</p>' }],
    ['text moved to html', { text: null, html: 'Hello\nworld\n' }],
    ['field boundary shift', { subject: 'Budget', text: '2025' }],
  ])('different key for a different %s', (_name, over) => {
    expect(dedupeKey(mail(over))).not.toBe(key);
  });

  it('treats an invalid Date like a missing one', () => {
    expect(dedupeKey(mail({ date: new Date(Number.NaN) }))).toBe(dedupeKey(mail({ date: null })));
  });
});

describe('dedupeKey from the raw source', () => {
  const lf = 'Received: from a\nSubject: Budget 2025\n\nHello\nworld\n';
  const key = dedupeKey(mail(), bytes(lf));

  it.each([
    ['CRLF source', 'Received: from a\r\nSubject: Budget 2025\r\n\r\nHello\r\nworld\r\n'],
    ['bare CR body', 'Received: from a\nSubject: Budget 2025\n\nHello\rworld'],
    ['other hop headers', 'Received: from z\nReceived: from y\nSubject: Budget 2025\n\nHello\nworld'],
    ['trailing whitespace', 'Received: from a\n\nHello\nworld\r\n\r\n \t\n'],
  ])('same key for %s', (_name, raw) => {
    expect(dedupeKey(mail(), bytes(raw))).toBe(key);
  });

  it.each([
    ['changed body', 'Received: from a\n\nHello\nWorld\n'],
    ['extra body line', 'Received: from a\n\nHello\n\nworld\n'],
    ['empty body', 'Received: from a\n\n'],
  ])('different key for %s', (_name, raw) => {
    expect(dedupeKey(mail(), bytes(raw))).not.toBe(key);
  });

  it('hashes the raw body instead of the decoded parts', () => {
    expect(dedupeKey(mail({ text: 'different', html: null }), bytes(lf))).toBe(key);
    expect(dedupeKey(mail(), bytes(lf))).not.toBe(dedupeKey(mail()));
  });

  it.each([
    ['no header lines', '\nHello\nworld\n', '\r\nHello\r\nworld'],
    ['no body at all', 'Subject: x', 'Subject: y\r\n'],
  ])('handles %s', (_name, a, b) => {
    expect(contentHash(mail(), bytes(a))).toBe(contentHash(mail(), bytes(b)));
  });

  it('accepts a Node Buffer (what the database driver returns)', () => {
    expect(dedupeKey(mail(), Buffer.from(lf))).toBe(key);
  });
});
