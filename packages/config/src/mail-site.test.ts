import { describe, expect, it } from 'vitest';
import { mailSiteFrom } from './mail-site';

const base = { BLEND_SECRET: 's'.repeat(64), BLEND_DEFAULT_LANGUAGE: 'de', PORT: 3000 } as const;

describe('mailSiteFrom', () => {
  it.each([
    [
      'domain mode, the public URL without its slash',
      { ...base, BLEND_ADDRESSING: 'domain', BLEND_MAIL_DOMAIN: 'blend.example.com', BLEND_PUBLIC_URL: 'https://blend.example.com/' },
      { addressing: { mode: 'domain', domain: 'blend.example.com' }, publicUrl: 'https://blend.example.com', secret: base.BLEND_SECRET, defaultLanguage: 'de' },
    ],
    [
      'plus mode, no public URL: the local API',
      { ...base, BLEND_ADDRESSING: 'plus', BLEND_MAIL_ADDRESS: 'bridge@example.com' },
      { addressing: { mode: 'plus', mailbox: 'bridge', domain: 'example.com' }, publicUrl: 'http://127.0.0.1:3000', secret: base.BLEND_SECRET, defaultLanguage: 'de' },
    ],
  ] as const)('%s', (_name, config, expected) => {
    expect(mailSiteFrom(config as Parameters<typeof mailSiteFrom>[0])).toEqual(expected);
  });
});
