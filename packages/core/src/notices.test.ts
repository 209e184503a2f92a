import { describe, expect, it } from 'vitest';
import { parseCommand } from './command';
import { LANGUAGES } from './i18n';
import { helpNotice, inviteNotice, optedOutNotice } from './notices';

describe('helpNotice', () => {
  it('is unchanged in English', () => {
    expect(helpNotice({ bridge: 'status@b.test' }).text).toBe(
      'Mail status@b.test with one of these as the subject or the first line:\n\n' +
        '  opt in                    mirror my mail into the company feed (you confirm by link)\n' +
        '  opt out                   stop mirroring my mail\n' +
        '  digest daily|hourly|weekly|off   how often to get a digest of the feed\n' +
        '  help                      this list\n\n' +
        'A new mail to status@b.test from an opted-in person becomes a post; replies to it become comments.',
    );
  });

  it.each(LANGUAGES)('%s: every command it lists is understood as that command', (lang) => {
    const notice = helpNotice({ bridge: 'status@b.test', lang });
    expect(notice.language).toBe(lang);
    const rows = notice.text.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s{3,}/)[0]!);
    expect(rows).toHaveLength(4);
    const [optIn, optOut, digest, help] = rows as [string, string, string, string];
    expect(parseCommand(optIn, '')).toEqual({ kind: 'opt_in' });
    expect(parseCommand(optOut, '')).toEqual({ kind: 'opt_out' });
    expect(parseCommand(help, '')).toEqual({ kind: 'help' });
    // "<digest word> <daily>|<hourly>|<weekly>|<off>"; in these languages the word is one token.
    const [first, ...others] = digest.split('|');
    const word = first!.split(' ')[0]!;
    expect([first!, ...others.map((f) => `${word} ${f}`)].map((phrase) => parseCommand(phrase, ''))).toEqual(
      ['daily', 'hourly', 'weekly', 'off'].map((frequency) => ({ kind: 'digest', frequency })),
    );
  });
});

describe('notices in other languages', () => {
  it.each([
    ['en', 'If you opt in within 30 days', 'Mail "help" to status@b.test'],
    ['de', 'innerhalb von 30 Tagen', 'Senden Sie "help" an status@b.test'],
    ['fr', 'dans les 30 jours', 'Envoyez "help" à status@b.test'],
    ['es', 'en un plazo de 30 días', 'Envía "help" a status@b.test'],
    ['ja', '30 日以内に', 'status@b.test に "help" と送る'],
  ] as const)('%s: the invitation counts days in the language and ends with the signature', (lang, days, footer) => {
    const n = inviteNotice({ bridge: 'status@b.test', optInUrl: 'https://b.test/links/opt-in?t=x', retentionDays: 30, lang });
    expect(n.text).toContain(days);
    expect(n.text).toContain('https://b.test/links/opt-in?t=x');
    expect(n.text).toContain(`\n\n-- \n`);
    expect(n.text).toContain(footer);
    expect(optedOutNotice({ bridge: 'status@b.test', lang }).language).toBe(lang);
  });
});
