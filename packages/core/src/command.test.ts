import { describe, expect, it } from 'vitest';
import { parseCommand, type Command } from './command';

const optIn: Command = { kind: 'opt_in' };
const optOut: Command = { kind: 'opt_out' };
const help: Command = { kind: 'help' };
const unsubscribe: Command = { kind: 'unsubscribe' };
const digest = (frequency: 'hourly' | 'daily' | 'weekly' | 'off'): Command => ({ kind: 'digest', frequency });

describe('parseCommand: subject', () => {
  it.each<[string, Command | null]>([
    // opt in / out, spellings and case
    ['opt in', optIn],
    ['Opt In', optIn],
    ['OPT IN', optIn],
    ['opt-in', optIn],
    ['Opt-In', optIn],
    ['optin', optIn],
    ['opt_in', optIn],
    ['  opt   in  ', optIn],
    ['opt out', optOut],
    ['Opt-Out', optOut],
    ['OPTOUT', optOut],
    // surrounding punctuation and markers
    ['Opt out.', optOut],
    ['opt out!!!', optOut],
    ['"opt in"', optIn],
    ['«opt in»', optIn],
    ['*opt out*', optOut],
    ['opt in 👍', optIn],
    ['Re: opt out', optOut],
    ['RE: Fwd: Opt-Out!', optOut],
    ['AW: opt in', optIn],
    ['[EXT] opt out', optOut],
    ['Re: [EXT] opt in', optIn],
    // full-width letters from a CJK input method
    ['ｏｐｔ ｉｎ', optIn],
    // digest
    ['digest daily', digest('daily')],
    ['Digest Hourly', digest('hourly')],
    ['digest weekly', digest('weekly')],
    ['digest off', digest('off')],
    ['digest none', digest('off')],
    ['digest never', digest('off')],
    ['digest: weekly', digest('weekly')],
    ['digest = daily', digest('daily')],
    ['digest-daily', digest('daily')],
    ['Digests daily.', digest('daily')],
    ['Re: digest weekly', digest('weekly')],
    // help and unsubscribe
    ['help', help],
    ['HELP!', help],
    ['?help?', help],
    ['commands', help],
    ['unsubscribe', unsubscribe],
    ['Unsubscribe.', unsubscribe],
    ['unsub', unsubscribe],
    ['STOP', unsubscribe],
    ['stop.', unsubscribe],

    // not commands: the command must be the whole subject
    ['Why we opt out of the survey', null],
    ['opt out of the survey', null],
    ['Opt In please', null],
    ['please opt in', null],
    ['opt in / opt out', null],
    ['Opting out', null],
    ['opt', null],
    ['opt inn', null],
    ['opt  - in', null],
    ['op tin', null],
    ['digest', null],
    ['digest monthly', null],
    ['digest immediately', null],
    ['the daily digest', null],
    ['daily digest', null],
    ['digest daily weekly', null],
    ['Help wanted: on-call rota', null],
    ['help me', null],
    ['Stop the presses', null],
    ['Non-stop delivery', null],
    ['unsubscribe me from everything', null],
    ['Quarterly numbers', null],
    ['', null],
    ['Re:', null],
    ['!!!', null],
    [`opt in${' '.repeat(10_000)}x`, null],
    [`opt out${'!'.repeat(150)}`, optOut],
    [`opt out${'!'.repeat(160)}`, null],
    ['x'.repeat(10_000), null],
  ])('%j -> %o', (subject, expected) => {
    expect(parseCommand(subject, '')).toEqual(expected);
  });
});

describe('parseCommand: first line', () => {
  it.each<[string, string, Command | null]>([
    ['command in the first line', 'opt in', optIn],
    ['first line with punctuation', 'Opt out.', optOut],
    ['digest in the body', 'digest: weekly', digest('weekly')],
    ['first non-empty line of several', '\n  \nopt out\nThanks, Jane', optOut],
    ['command followed by a signature', 'help\n-- \nJane Doe', help],
    ['greeting first: not a command', 'Hi,\nopt out', null],
    ['sentence: not a command', 'I would like to opt out of this.', null],
    ['command later in the line', 'Please stop', null],
    ['quoted line is not special', '> opt out', optOut],
    ['empty', '', null],
    ['blank lines only', '\n \n\t\n', null],
  ])('%s', (_name, firstLine, expected) => {
    expect(parseCommand('', firstLine)).toEqual(expected);
  });
});

describe('parseCommand: subject and first line together', () => {
  it.each<[string, string, string, Command | null]>([
    ['subject wins over the first line', 'opt in', 'opt out', optIn],
    ['first line used when the subject is a sentence', 'Digest settings', 'digest hourly', digest('hourly')],
    ['first line used when the subject is a reply to one', 'Re: Your Blend digest', 'digest off', digest('off')],
    ['a normal post', 'Why we opt out of the survey', 'Team, here is why.', null],
    ['a post whose body starts with a sentence about opting out', 'Survey', 'opt out of the survey?', null],
  ])('%s', (_name, subject, firstLine, expected) => {
    expect(parseCommand(subject, firstLine)).toEqual(expected);
  });
});
