import { addressingFrom, dkimTxtRecord, loadConfigSubset } from '@blend/config';
import { createDb, migrateDb, pendingMigrations, type DbHandle } from '@blend/db';
import { UsageError } from './cli-commands';

/** `blend db migrate`: the one command that changes the schema; it needs only DATABASE_URL. */
export async function dbMigrate(): Promise<number> {
  return withDatabase(async (dbh) => {
    const before = await pendingMigrations(dbh.pool);
    await migrateDb(dbh.db, dbh.pool);
    console.log(before.length ? `applied migrations: ${before.join(', ')}` : 'database is up to date');
    return 0;
  });
}

/** `blend db status`: pending migrations, exit code 1 when there are any (for a deploy script). */
export async function dbStatus(): Promise<number> {
  return withDatabase(async (dbh) => {
    const pending = await pendingMigrations(dbh.pool);
    console.log(pending.length ? `pending migrations: ${pending.join(', ')}` : 'database is up to date');
    return pending.length ? 1 : 0;
  });
}

/** A pool of at most two connections to DATABASE_URL for one command, closed afterwards. */
export async function withDatabase(fn: (dbh: DbHandle) => Promise<number>): Promise<number> {
  const cfg = loadConfigSubset(['DATABASE_URL']);
  const dbh = createDb(cfg.DATABASE_URL, { max: 2 });
  try {
    return await fn(dbh);
  } finally {
    await dbh.close();
  }
}

/**
 * Every other command that uses the database checks the schema and never migrates it: a
 * command run from a newer image during a rolling upgrade must not change the schema under
 * the running services, and a typo must not either.
 */
export async function checkSchema(dbh: DbHandle): Promise<void> {
  const pending = await pendingMigrations(dbh.pool);
  if (pending.length > 0) {
    throw new SchemaOutOfDateError(`the database schema is out of date (pending migrations: ${pending.join(', ')}); run \`blend db migrate\` first`);
  }
}

export class SchemaOutOfDateError extends Error {}

/** `blend dkim record`: where and what to publish for BLEND_DKIM_SELECTOR's key. */
export async function dkimRecord(): Promise<number> {
  const c = loadConfigSubset(['BLEND_DKIM_SELECTOR', 'BLEND_DKIM_PRIVATE_KEY', 'BLEND_DKIM_DOMAIN', 'BLEND_ADDRESSING', 'BLEND_MAIL_DOMAIN', 'BLEND_MAIL_ADDRESS']);
  if (!c.BLEND_DKIM_SELECTOR || !c.BLEND_DKIM_PRIVATE_KEY) {
    throw new UsageError('dkim record needs BLEND_DKIM_SELECTOR and BLEND_DKIM_PRIVATE_KEY (or BLEND_DKIM_PRIVATE_KEY_FILE)');
  }
  const domain = c.BLEND_DKIM_DOMAIN ?? addressingFrom(c).domain;
  // A TXT character-string holds at most 255 octets (RFC 1035 section 3.3.14): a 2048-bit key
  // is written as several, which resolvers join again (RFC 6376 section 3.6.2.2).
  const strings = dkimTxtRecord(c.BLEND_DKIM_PRIVATE_KEY).match(/.{1,255}/g)!.map((s) => `"${s}"`);
  console.log(`${c.BLEND_DKIM_SELECTOR}._domainkey.${domain}. IN TXT ${strings.join(' ')}`);
  return 0;
}
