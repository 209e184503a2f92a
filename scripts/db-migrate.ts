import { ConfigError, loadConfigSubset } from '@blend/config';
import { createDb, migrateDb, pendingMigrations } from '@blend/db';

// `pnpm db:migrate`: only DATABASE_URL is needed, so an operator can migrate before the
// rest of the configuration exists.
let url: string;
try {
  url = loadConfigSubset(['DATABASE_URL']).DATABASE_URL;
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}
const handle = createDb(url, { max: 2 });
try {
  const before = await pendingMigrations(handle.pool);
  await migrateDb(handle.db, handle.pool);
  console.log(before.length ? `applied migrations: ${before.join(', ')}` : 'database is up to date');
} catch (err) {
  console.error(`migration failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await handle.close();
}
