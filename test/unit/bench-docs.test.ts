import { describe, expect, it } from 'vitest';
import { replaceDocsSection } from '../../scripts/bench/harness';

const B = (n: string, by = n) => `<!-- bench:${n} begin: written by \`pnpm bench ${by}\` -->`;
const E = (n: string) => `<!-- bench:${n} end -->`;
const section = (n: string, body: string, by = n) => `${B(n, by)}\n${body}\n${E(n)}\n`;
const header = (text: string) => text.slice(0, text.indexOf('<!--'));

describe('replaceDocsSection (docs/BENCHMARKS.md written by the benchmarks)', () => {
  const file = `# Benchmarks\n\nold header\n\n${section('ingest', 'ingest run 1')}\nprose on ingest\n\n${section('api', 'api run 1')}\nprose on the feed\n\n${section('search', 'search run 1', 'api')}\nprose on search, kept\n\n${section('soak', 'soak run 1')}\nthe tail\n`;

  const cases: { what: string; name: 'ingest' | 'digest' | 'api' | 'search' | 'soak' | 'conversion'; body: string; has: string[]; order: string[] }[] = [
    { what: 'a section in the middle keeps the prose after each section', name: 'search', body: 'search run 2', has: ['prose on ingest', 'prose on the feed', 'prose on search, kept', 'the tail', 'search run 2', 'api run 1'], order: ['ingest run 1', 'prose on ingest', 'api run 1', 'prose on the feed', 'search run 2', 'prose on search, kept', 'soak run 1', 'the tail'] },
    { what: 'the first section', name: 'ingest', body: 'ingest run 2', has: ['prose on ingest', 'the tail'], order: ['ingest run 2', 'prose on ingest', 'api run 1'] },
    { what: 'the last section keeps the tail', name: 'soak', body: 'soak run 2', has: ['prose on search, kept', 'the tail'], order: ['search run 1', 'prose on search, kept', 'soak run 2', 'the tail'] },
    { what: 'a new section goes where its order says, before the prose of the next one is untouched', name: 'digest', body: 'digest run 1', has: ['prose on ingest', 'prose on the feed'], order: ['ingest run 1', 'prose on ingest', 'digest run 1', 'api run 1', 'prose on the feed'] },
    { what: 'a new last section goes after the tail of the one before', name: 'conversion', body: 'conversion run 1', has: ['the tail'], order: ['soak run 1', 'the tail', 'conversion run 1'] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const out = replaceDocsSection(file, c.name, c.body);
      for (const h of c.has) expect(out).toContain(h);
      const at = c.order.map((t) => out.indexOf(t));
      expect(at.every((i) => i >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
      expect(out.split(B(c.name, c.name === 'search' ? 'api' : c.name)).length).toBe(2);
    });
  }

  it('writing a section with its own body again changes nothing', () => {
    const once = replaceDocsSection(file, 'api', 'api run 1');
    expect(replaceDocsSection(once, 'api', 'api run 1')).toBe(once);
    expect(replaceDocsSection(once, 'search', 'search run 1')).toBe(once);
  });

  it('the header is the harness’s own; a file without markers becomes the ingest section', () => {
    expect(header(replaceDocsSection(file, 'api', 'x'))).not.toContain('old header');
    const out = replaceDocsSection('# Benchmarks\n\nan early ingest report\n', 'digest', 'digest run 1');
    expect(out.indexOf('an early ingest report')).toBeLessThan(out.indexOf('digest run 1'));
    expect(out).toContain(E('ingest'));
    expect(replaceDocsSection('', 'api', 'api run 1')).toContain(section('api', 'api run 1'));
  });
});
