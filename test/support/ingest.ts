import { createLogger } from '@blend/runtime';
import { compileConversion, DEFAULT_CONFIDENTIAL_MARKERS, DEFAULT_RATE_LIMITS } from '@blend/core';
import { ensureGroup, upsertPerson, type Database } from '@blend/db';
import type { IngestDeps } from '@blend/worker';

/**
 * Dependencies of the ingest stage for tests that call it directly: no sender authentication
 * (test/trust.test.ts covers that), default rules and limits, silent log; `overrides` win.
 */
export function ingestDeps(db: Database, overrides: Partial<IngestDeps> = {}): IngestDeps {
  return {
    db,
    log: createLogger('test', 'silent'),
    addressing: { mode: 'domain', domain: 'example.test' },
    defaultGroup: 'general',
    secret: 's'.repeat(32),
    publicUrl: 'http://blend.test',
    senderAuth: { mode: 'none', orgDomains: ['corp.test'] },
    confidentialMarkers: [...DEFAULT_CONFIDENTIAL_MARKERS],
    conversion: compileConversion({ redact: 'card,iban' }),
    rateLimits: DEFAULT_RATE_LIMITS,
    withheldRetentionDays: 14,
    ...overrides,
  };
}

/** The default group and the two opted-in people most ingest tests' mail comes from and goes to. */
export async function seedIngestDatabase(db: Database): Promise<void> {
  await ensureGroup(db, 'general');
  await upsertPerson(db, { email: 'alice@corp.test', name: 'Alice Example', optIn: true });
  await upsertPerson(db, { email: 'bob@corp.test', name: 'Bob', optIn: true });
}
