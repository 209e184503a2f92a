import { describe, expect, it } from 'vitest';
import { compileConversion } from './conversion-settings';
import { renderMailContent } from './render-content';
import type { MailInput } from './types';

const l = (...lines: string[]) => lines.join('\n');

function mail(text: string): MailInput {
  return {
    messageId: 'm1@corp.test', inReplyTo: [], references: [], subject: 'Plan',
    from: { address: 'bob@corp.test', name: 'Bob' }, to: [], cc: [],
    deliveredTo: [], date: null, headers: {}, text, html: null,
  };
}

const FOOTER = 'ACME-INTERNAL: this message is meant for its addressees only.';
const TEXT = l('Ship on Friday. Card 4111 1111 1111 1111.', '', FOOTER);

describe('compileConversion', () => {
  it.each<[string, Parameters<typeof compileConversion>[0], string]>([
    ['built-in redactions, no custom footer', { redact: 'card,iban' }, l('Ship on Friday. Card [redacted card].', '', FOOTER)],
    ['a custom footer is cut', { redact: 'card', disclaimerPatterns: 'regex:/^ACME-INTERNAL:/' }, 'Ship on Friday. Card [redacted card].'],
    ['no redaction', { redact: '', disclaimerPatterns: 'regex:/^ACME-INTERNAL:/' }, 'Ship on Friday. Card 4111 1111 1111 1111.'],
    ['blank footer setting: only the built-in ones', { redact: 'card', disclaimerPatterns: ' ' }, l('Ship on Friday. Card [redacted card].', '', FOOTER)],
  ])('%s', (_name, settings, body) => {
    expect(renderMailContent(mail(TEXT), compileConversion(settings)).bodyText).toBe(body);
  });

  it('names the bad entry', () => {
    expect(() => compileConversion({ redact: 'card', disclaimerPatterns: 'footer' })).toThrow(/entry 1 \("footer"\)/);
  });
});
