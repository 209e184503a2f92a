import { describe, expect, it } from 'vitest';
import { COMMANDS, readCommandLine } from './cli-commands';

describe('readCommandLine', () => {
  it.each([
    [['--help'], { kind: 'help' }],
    [['-h'], { kind: 'help' }],
    [['help'], { kind: 'help' }],
    [['help', 'people', 'add'], { kind: 'help', text: expect.stringMatching(/^usage:\n {2}blend people add EMAIL/) }],
    [['people', 'erase', 'x@y.test', '--help'], { kind: 'help', text: expect.stringMatching(/^usage:\n {2}blend people erase EMAIL --yes/) }],
    [['--version'], { kind: 'version' }],
    [['-V'], { kind: 'version' }],
    [['people', 'add', 'x@y.test', '--opt-in'], { kind: 'run', command: expect.objectContaining({ name: 'people add', db: true }), args: ['x@y.test', '--opt-in'] }],
    [['preview', 'a.eml', 'b.eml'], { kind: 'run', command: expect.objectContaining({ name: 'preview', db: false }), args: ['a.eml', 'b.eml'] }],
    [['digest', '--now'], { kind: 'run', command: expect.objectContaining({ name: 'digest' }), args: ['--now'] }],
    [['db', 'migrate'], { kind: 'run', command: expect.objectContaining({ name: 'db migrate' }), args: [] }],
    [[], { kind: 'usage_error', message: 'no command given' }],
    [['frobnicate', 'now'], { kind: 'usage_error', message: 'unknown command: frobnicate now' }],
    [['people', 'delete', 'x@y.test'], { kind: 'usage_error', message: 'unknown command: people delete', text: expect.stringContaining('blend people erase') }],
    [['people', '--json'], { kind: 'usage_error', message: 'people needs one of the commands below' }],
    [['help', 'frobnicate'], { kind: 'usage_error', message: 'unknown command: frobnicate' }],
    // A typo of a word is never a prefix match: `peop` is not `people`.
    [['peop', 'add'], { kind: 'usage_error', message: 'unknown command: peop add' }],
  ])('%j -> %o', (argv, expected) => {
    expect(readCommandLine(argv)).toMatchObject(expected);
  });

  it('lists every command once', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
  });
});
