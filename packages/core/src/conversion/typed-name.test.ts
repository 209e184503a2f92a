import { describe, expect, it } from 'vitest';
import { authorNameWords, isTypedName } from './typed-name';

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

  it('takes words from the display name and the local part', () => {
    expect(authorNameWords('Jane Q. Doe', 'jane.doe+lists@corp.test')).toEqual(['jane', 'doe', 'lists']);
    expect(authorNameWords(null, 'mikey@x.test')).toEqual(['mikey']);
  });
});
