import { createLogger } from '@blend/runtime';
import { compileConversion, DEFAULT_CONFIDENTIAL_MARKERS, DEFAULT_RATE_LIMITS } from '@blend/core';
import type { Database } from '@blend/db';
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
