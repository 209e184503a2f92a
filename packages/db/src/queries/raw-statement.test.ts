import { describe, expect, it } from 'vitest';
import { Column, sql } from 'drizzle-orm';
import * as drizzleUtils from 'drizzle-orm/utils';
import { comments, groups, people, posts } from '../schema';
import { rowMapper, type SelectedField } from './raw-statement';

// drizzle's own row mapping, which rowMapper must give row for row (not in its type declarations).
const { mapResultRow, orderSelectedFields } = drizzleUtils as unknown as {
  mapResultRow(fields: SelectedField[], row: unknown[], joins?: Record<string, boolean>): Record<string, unknown>;
  orderSelectedFields(fields: Record<string, unknown>): SelectedField[];
};

/** A value of each field as node-postgres gives it under drizzle (timestamps as text). */
function rawOf(field: unknown): unknown {
  if (!(field instanceof Column)) return '3';
  switch (field.dataType) {
    case 'date':
      return '2026-12-08 00:22:15.123+00';
    case 'number':
      return 7;
    case 'boolean':
      return true;
    case 'json':
      return { a: [1, '2'] };
    case 'array':
      return ['x'];
    default:
      return `${field.name} value`;
  }
}

const postSelect = orderSelectedFields({
  post: posts,
  group: { slug: groups.slug, name: groups.name },
  author: { id: people.id, email: people.email, name: people.name },
  count: sql<number>`count(*)`.mapWith(Number),
  label: sql<string>`'x'`,
});
const mixedSelect = orderSelectedFields({
  c: { id: comments.id, title: posts.title, bodyText: comments.bodyText },
  deep: { a: { id: people.id } },
  person: { email: people.email, name: people.name },
});

/** A row of `fields` with every value, then those at `nulls` (by path) null. */
const rowOf = (fields: SelectedField[], nulls: string[] = []) => fields.map((f) => (nulls.some((n) => f.path.join('.') === n || f.path.join('.').startsWith(`${n}.`)) ? null : rawOf(f.field)));

const cases: { name: string; fields: SelectedField[]; joins?: Record<string, boolean>; nulls?: string[]; nulled: string[] }[] = [
  { name: 'every value there', fields: postSelect, joins: { posts: true, groups: true, people: false }, nulled: [] },
  { name: 'a left join that found nothing', fields: postSelect, joins: { posts: true, groups: true, people: false }, nulls: ['author'], nulled: ['author'] },
  { name: "a left join's first column null, the others not", fields: postSelect, joins: { posts: true, groups: true, people: false }, nulls: ['author.id'], nulled: ['author'] },
  { name: "a left join's later column null", fields: postSelect, joins: { posts: true, groups: true, people: false }, nulls: ['author.email'], nulled: [] },
  { name: 'an inner join with null columns', fields: postSelect, joins: { posts: true, groups: true, people: true }, nulls: ['group'], nulled: [] },
  { name: 'no joins map', fields: postSelect, nulls: ['author', 'count', 'label'], nulled: [] },
  { name: 'SQL fields null', fields: postSelect, joins: { posts: true, groups: true, people: false }, nulls: ['count', 'label', 'post.editedAt'], nulled: [] },
  { name: "an object of two tables' columns, null", fields: mixedSelect, joins: { comments: true, posts: false, people: false }, nulls: ['c', 'deep', 'person'], nulled: ['person'] },
  { name: 'an object of two tables, its first column null', fields: mixedSelect, joins: { comments: false, posts: false, people: false }, nulls: ['c.id'], nulled: [] },
  { name: 'a left join of a table that is also inner joined', fields: mixedSelect, joins: { comments: true, posts: false, people: true }, nulls: ['person'], nulled: [] },
];

describe('rowMapper', () => {
  it.each(cases)('maps a row as drizzle does: $name', ({ fields, joins, nulls, nulled }) => {
    const row = rowOf(fields, nulls);
    const mapped = rowMapper(fields, joins)(row);
    const theirs = mapResultRow(fields, row, joins);
    expect(mapped).toStrictEqual(theirs);
    // The same keys in the same order, at every depth.
    expect(JSON.stringify(mapped)).toBe(JSON.stringify(theirs));
    expect(Object.keys(mapped).filter((k) => mapped[k] === null && !fields.some((f) => f.path.length === 1 && f.path[0] === k))).toEqual(nulled);
  });

  it('decodes each column as its column does', () => {
    const mapped = rowMapper(postSelect, { posts: true, groups: true, people: false })(rowOf(postSelect)) as { post: { createdAt: unknown }; count: unknown };
    expect(mapped.post.createdAt).toEqual(new Date('2026-12-08T00:22:15.123Z'));
    expect(mapped.count).toBe(3);
  });
});
