import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS_FOLDER } from './migrate';

interface Entry {
  idx: number;
  when: number;
  tag: string;
}

const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8')) as { entries: Entry[] };

/**
 * drizzle applies a migration only when its `when` is later than the newest one a database
 * has applied. A journal whose times do not rise with its numbers would make an upgraded
 * database skip a migration for ever while a fresh one has it (docs/ARCHITECTURE.md).
 */
describe('the migrations journal', () => {
  it('lists the migrations in number order, each tag starting with its number', () => {
    const idx = journal.entries.map((e) => e.idx);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
    for (const e of journal.entries) expect(e.tag.startsWith(String(e.idx).padStart(4, '0') + '_'), e.tag).toBe(true);
  });

  it('gives every migration a later time than the one before it', () => {
    const late = journal.entries.filter((e, i) => i > 0 && e.when <= journal.entries[i - 1]!.when).map((e) => e.tag);
    expect(late).toEqual([]);
  });

  it('has an entry for every SQL file, and a file for every entry', () => {
    const files = readdirSync(MIGRATIONS_FOLDER)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => f.slice(0, -'.sql'.length))
      .sort();
    expect(journal.entries.map((e) => e.tag).sort()).toEqual(files);
  });
});
