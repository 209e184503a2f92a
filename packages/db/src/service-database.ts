import { createDb, type DbHandle, type StatementGate } from './client';
import { ensureSchema } from './migrate';
import { ensureGroup } from './queries/groups';

/**
 * A service's database at start: the pool (an idle client's error goes to `onIdleError`, not
 * the process), the schema migrated when `migrate` is set or else checked to be current
 * (`ensureSchema`), and the default group present for a service that posts into it; with
 * `gate`, each statement of the pool waits for it (`createDb`).
 * @throws Error naming the pending migrations when `migrate` is false and some are pending.
 */
export async function openServiceDatabase(url: string, opts: { migrate: boolean; defaultGroup?: string; onIdleError: (err: Error) => void; gate?: StatementGate }): Promise<DbHandle> {
  const dbh = createDb(url, { onError: opts.onIdleError, ...(opts.gate ? { gate: opts.gate } : {}) });
  await ensureSchema(dbh.db, dbh.pool, opts.migrate);
  if (opts.defaultGroup !== undefined) await ensureGroup(dbh.db, opts.defaultGroup);
  return dbh;
}
