import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { languagesByEmail, schema, upsertPerson } from '@blend/db';
import { createTestDatabase, type TestDatabase } from './support/database';

// The languages of the people a mail notifies (languagesByEmail), read by one named statement
// for any number of addresses. Against a real Postgres.

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  for (const [email, language] of [
    ['alice@corp.test', 'de'],
    ['bob@corp.test', null],
    ['carol@corp.test', 'fr'],
  ] as const) {
    const { person } = await upsertPerson(t.db, { email, name: email, optIn: true });
    await t.db.update(schema.people).set({ language }).where(eq(schema.people.id, person.id));
  }
});
afterAll(async () => t?.drop());

describe('languagesByEmail', () => {
  it("gives each address's person's language (null: the default), whatever the address's case; addresses of no one are absent", async () => {
    expect(await languagesByEmail(t.db, ['Alice@Corp.TEST', 'nobody@corp.test', 'bob@corp.test'])).toEqual(
      new Map([
        ['alice@corp.test', 'de'],
        ['bob@corp.test', null],
      ]),
    );
    // The same statement with other addresses, one of them twice.
    expect(await languagesByEmail(t.db, ['carol@corp.test', 'CAROL@corp.test'])).toEqual(new Map([['carol@corp.test', 'fr']]));
    expect(await languagesByEmail(t.db, ['nobody@corp.test'])).toEqual(new Map());
    expect(await languagesByEmail(t.db, [])).toEqual(new Map());
  });

  it('is a named statement', async () => {
    const named = await t.db.transaction(async (tx) => {
      await languagesByEmail(tx, ['alice@corp.test']);
      return (await tx.execute<{ name: string }>(sql`select name from pg_prepared_statements where name = 'blend_languages_by_email'`)).rows.length;
    });
    expect(named).toBe(1);
  });
});
