import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyEdits, applyOneByOne, IN_PLACE_BYTES, prepareBodyParts, type Edit } from './body-parts';
import { judgeCharset } from './body-charset';
import { latin1View, readMimeTree, type Part } from './mime-structure';

const FIXTURES = new URL('../../../test/fixtures/mail/', import.meta.url);
const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith('.eml'));

/** A small random generator, so a failing case can be run again from its seed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const BYTES = [...'\r\n-=;" \tabAB:'].map((c) => c.charCodeAt(0)).concat([0x00, 0xa0, 0xe9, 0xff]);

describe('latin1View', () => {
  const raw = Buffer.from('Content-Type: text/plain\r\n\r\nGr\xfc\xdfe --b\r\n', 'latin1');
  const text = raw.toString('latin1');
  const view = latin1View(raw);

  it.each<[string, (t: ReturnType<typeof latin1View>) => unknown]>([
    ['length', (t) => t.length],
    ['indexOf from the start', (t) => t.indexOf('\r\n\r\n')],
    ['indexOf from an offset', (t) => t.indexOf('\r\n', 5)],
    ['indexOf from a negative offset', (t) => t.indexOf('Content', -3)],
    ['indexOf from past the end', (t) => t.indexOf('b', 1000)],
    ['indexOf of the empty string', (t) => [t.indexOf(''), t.indexOf('', 7), t.indexOf('', 1000)]],
    ['indexOf of a latin1 letter', (t) => t.indexOf('\xfc\xdf')],
    ['indexOf not found', (t) => t.indexOf('--c')],
    ['startsWith', (t) => [t.startsWith('Content'), t.startsWith('\r\n', 24), t.startsWith('\r\n', 25), t.startsWith('b\r\n', raw.length - 3), t.startsWith('b\r\nx', raw.length - 3)]],
    ['startsWith at a negative or missing position', (t) => [t.startsWith('Con', -4), t.startsWith('Con')]],
    ['includes', (t) => [t.includes('\r\n'), t.includes('--b'), t.includes('--c'), t.includes('')]],
    ['slice', (t) => [t.slice(0, 7), t.slice(28), t.slice(-5), t.slice(-5, -2), t.slice(10, 5), t.slice(5, 1000), t.slice()]],
    ['charAt', (t) => [t.charAt(0), t.charAt(30), t.charAt(-1), t.charAt(raw.length), t.charAt(1.5)]],
  ])('%s answers as the string does', (_name, ask) => {
    expect(ask(view)).toEqual(ask(text as never));
  });

  it('answers as the string does on random bytes and random questions', () => {
    const next = random(2026);
    for (let round = 0; round < 300; round++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(next() * 60) }, () => BYTES[Math.floor(next() * BYTES.length)]!));
      const s = bytes.toString('latin1');
      const v = latin1View(bytes);
      for (let q = 0; q < 20; q++) {
        const at = Math.floor(next() * (bytes.length + 10)) - 5;
        const to = Math.floor(next() * (bytes.length + 10)) - 5;
        const word = String.fromCharCode(...Array.from({ length: Math.floor(next() * 4) }, () => BYTES[Math.floor(next() * BYTES.length)]!));
        expect([v.indexOf(word, at), v.startsWith(word, at), v.includes(word), v.slice(at, to), v.charAt(at)], `seed 2026 round ${round}`).toEqual([
          s.indexOf(word, at),
          s.startsWith(word, at),
          s.includes(word),
          s.slice(at, to),
          s.charAt(at),
        ]);
      }
    }
  });
});

describe('the part scan on the bytes', () => {
  const parts = (p: Part): Part[] => [p, ...p.children.flatMap(parts)];

  it.each(fixtures)('reads %s as it reads the message as a string', (name) => {
    const raw = readFileSync(new URL(name, FIXTURES));
    const text = raw.toString('latin1');
    const fromText = readMimeTree(text);
    const fromBytes = readMimeTree(latin1View(raw));
    expect(fromBytes).toEqual(fromText);
    // The charset checks read the body parts through the same interface.
    expect(parts(fromBytes).filter((p) => p.type.startsWith('text/')).map((p) => judgeCharset(latin1View(raw), p))).toEqual(
      parts(fromText).filter((p) => p.type.startsWith('text/')).map((p) => judgeCharset(text, p)),
    );
  });

  it.each([
    ['a small message (scanned as a string)', 'First.'],
    ['a message larger than IN_PLACE_BYTES (scanned in place)', `First.${' padding'.repeat(IN_PLACE_BYTES / 8 + 10)}`],
  ])('marks a second text/plain alternative as it did on the text: %s', (_name, first) => {
    const raw = Buffer.from(
      `Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n${first}\r\n--XX\r\nContent-Type: text/plain\r\n\r\nSecond \xe9.\r\n--XX--\r\n`,
      'latin1',
    );
    const prepared = prepareBodyParts(raw);
    expect(prepared.raw.toString('latin1')).toBe(
      `Content-Type: multipart/alternative; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\n${first}\r\n--XX\r\nContent-Disposition: attachment\r\nx-blend-unused-alternative: 1\r\nContent-Type: text/plain\r\n\r\nSecond \xe9.\r\n--XX--\r\n`,
    );
  });
});

describe('applyEdits', () => {
  const raw = Buffer.from('0123456789\xe9', 'latin1');

  it.each<[string, Edit[]]>([
    ['none', []],
    ['one insertion', [{ at: 3, end: 3, insert: 'ab' }]],
    ['one replacement', [{ at: 2, end: 5, insert: 'x' }]],
    ['two insertions at one offset keep the later one first', [{ at: 4, end: 4, insert: 'A' }, { at: 4, end: 4, insert: 'B' }]],
    ['an insertion then a replacement at its offset', [{ at: 4, end: 4, insert: 'A' }, { at: 4, end: 6, insert: 'R' }]],
    ['a replacement then an insertion at its offset', [{ at: 4, end: 6, insert: 'R' }, { at: 4, end: 4, insert: 'A' }]],
    ['overlapping replacements', [{ at: 2, end: 6, insert: 'P' }, { at: 4, end: 8, insert: 'Q' }]],
    ['edits out of order, at both ends and in latin1', [{ at: 11, end: 11, insert: '\xfc' }, { at: 0, end: 1, insert: 'z' }, { at: 6, end: 7, insert: '' }]],
  ])('%s: as made one after another on the text', (_name, edits) => {
    expect(applyEdits(raw, edits)).toEqual(applyOneByOne(raw.toString('latin1'), edits));
  });

  it('gives what the edits made one by one give, for random edits', () => {
    const next = random(7);
    for (let round = 0; round < 500; round++) {
      const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 30) }, () => BYTES[Math.floor(next() * BYTES.length)]!));
      const edits: Edit[] = Array.from({ length: Math.floor(next() * 5) }, () => {
        const at = Math.floor(next() * (bytes.length + 1));
        const end = next() < 0.5 ? at : Math.min(bytes.length, at + Math.floor(next() * 4));
        return { at, end, insert: 'xy\xe9'.slice(0, Math.floor(next() * 4)) };
      });
      expect(applyEdits(bytes, edits), `seed 7 round ${round}`).toEqual(applyOneByOne(bytes.toString('latin1'), edits));
    }
  });
});
