import { describe, expect, it } from 'vitest';
import { parseSearchQuery, SEARCH_QUERY_MAX } from './search-query';

describe('parseSearchQuery', () => {
  it.each([
    ['roadmap', 'roadmap'],
    ['  rote   Häuser ', 'rote Häuser'],
    ['line\nbreak\ttab', 'line break tab'],
    ['"exact phrase" -not', '"exact phrase" -not'],
    ['会議', '会議'],
    ['Q3', 'Q3'],
    ['x'.repeat(SEARCH_QUERY_MAX), 'x'.repeat(SEARCH_QUERY_MAX)],
  ])('%j is searched as %j', (raw, q) => {
    expect(parseSearchQuery(raw)).toEqual({ ok: true, q });
  });

  it.each([
    [undefined, 'q is empty'],
    ['', 'q is empty'],
    ['   \n ', 'q is empty'],
    ['x'.repeat(SEARCH_QUERY_MAX + 1), 'longer than 200'],
    ['a\u0000b', 'control characters'],
    ['a\u001bb', 'control characters'],
    ['a\ue000b', 'control characters'],
    ['!!! ***', 'no letters or digits'],
  ])('%j is refused: %s', (raw, message) => {
    const r = parseSearchQuery(raw);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toContain(message);
  });
});
