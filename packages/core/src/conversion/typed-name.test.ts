import { describe, expect, it } from 'vitest';
import { authorNameWords, isLoneName, isSenderNameLine, isSignOffShaped, isTypedName } from './typed-name';

describe('isTypedName', () => {
  const martin = authorNameWords('Martin Edenhofer', 'me@example.com');
  const mikey = authorNameWords('Michael Neuling', 'mikey@neuling.example');
  it.each<[string, readonly string[], boolean]>([
    ['-Martin', [], true],
    ['~Danielle', [], true],
    ['-- Jan', [], true],
    ['— Anna Berg', [], true],
    ['Martin', martin, true],
    ['Mikey', mikey, true],
    ['-aneesh', authorNameWords('Aneesh Kumar', 'aneesh@x.example'), true],
    ['Justin P. Mattock', authorNameWords('Justin P. Mattock', 'justinmattock@x.example'), true],
    ['Alex.', authorNameWords('Alex Deucher', 'alexdeucher@x.example'), true],
    // not names
    ['Martin', [], false],
    ['Thanks!', martin, false],
    ['-1 from me', [], false],
    ['- fix the build', [], false],
    ['See you on Monday, Martin', martin, false],
    ['Martin will do it.', martin, false],
    ['--', [], false],
    ['- Jake out', authorNameWords('Jake the Dog', 'jake@x.example'), false],
    ['Alex.', authorNameWords('Bounine, Alexandre', 'alexandre.bounine@x.example'), true],
    ['John & Marc', authorNameWords('Marc Smith', 'marc.smith@x.example'), true],
    ['Mfg eike', authorNameWords('Eike Schmidt', 'eike@x.example'), false],
    ['& Marc', authorNameWords('Marc Smith', 'marc.smith@x.example'), false],
    ['Al', authorNameWords('Alexandre Bounine', 'ab@x.example'), false],
  ])('%s (%j) -> %s', (line, words, expected) => {
    expect(isTypedName(line, words)).toBe(expected);
  });

  it('matches a name whose header lost a letter to an undeclared charset', () => {
    const words = authorNameWords('Wilhelmsen H\uFFFDvard', 'hw@x.example');
    expect(isTypedName('Håvard', words)).toBe(true);
    expect(isTypedName('Harald', words)).toBe(false);
  });

  it('does not take a phrase with lower-case words of the sender for a name', () => {
    // From "Mail Delivery System": the bounce's "The mail system" is its text, not a signature.
    expect(isTypedName('The mail system', authorNameWords('Mail Delivery System', 'mailer-daemon@x.example'))).toBe(false);
    expect(isTypedName('eike', authorNameWords('', 'eike.ehringer@x.example'))).toBe(true);
  });

  it('takes words from the display name and the local part', () => {
    expect(authorNameWords('Jane Q. Doe', 'jane.doe+lists@corp.test')).toEqual(['jane', 'doe', 'lists']);
    expect(authorNameWords(null, 'mikey@x.test')).toEqual(['mikey']);
  });
});

describe('isLoneName', () => {
  it.each<[string, boolean]>([
    ['Christoph', true],
    ['Håvard', true],
    ['Darthvader', true],
    ['Anne-Marie', true],
    // not a lone name
    ['FYI', false],
    ['Done', false],
    ['Erledigt', false],
    ['Thanks', false],
    ['Cheers', false],
    ['Enjoy!', false],
    ['Al', false],
    ['Christoph Meier', false],
    ['ok', false],
    ['Deployed', false],
    ['Testing', false],
    ['Finally', false],
  ])('%s -> %s', (line, expected) => {
    expect(isLoneName(line)).toBe(expected);
  });
});

describe('isSenderNameLine and isSignOffShaped', () => {
  const org = authorNameWords('Rannsóknastofa í kvenna- og kynjafræðum', 'rikk@hi.is');
  it.each<[string, boolean]>([
    ['Rannsóknastofa í kvenna- og kynjafræðum', true],
    ['Rannsóknastofa', false],
    ['Rannsóknastofa og Þjóðminjasafn', false],
  ])('isSenderNameLine(%s) -> %s', (line, expected) => {
    expect(isSenderNameLine(line, org)).toBe(expected);
  });

  it.each<[string, boolean]>([
    ['Mahalo,', true],
    ['Take care,', true],
    ['Bis bald,', true],
    ['Thanks.', false],
    ['I checked the logs, the tests,', false],
    ['Yes, but,', false],
  ])('isSignOffShaped(%s) -> %s', (line, expected) => {
    expect(isSignOffShaped(line)).toBe(expected);
  });
});
