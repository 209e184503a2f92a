import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@blend/runtime';
import { compileConversion, DEFAULT_CONFIDENTIAL_MARKERS, DEFAULT_RATE_LIMITS } from '@blend/core';
import { ensureGroup, storeFetched, upsertPerson, type Database } from '@blend/db';
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

const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, '..', 'fixtures/mail', name)).toString();

/** The fixtures' two-mail thread under Message-IDs and a subject of its own (`tag`), so tests do not meet each other's posts. */
export function fixtureThread(tag: string): { parent: string; reply: string } {
  const rename = (s: string) => s.replaceAll('plan-1@', `${tag}-1@`).replaceAll('plan-2@', `${tag}-2@`).replaceAll('Quarterly plan', `Plan ${tag}`);
  return { parent: rename(fixture('plain-new-thread.eml')), reply: rename(fixture('plain-reply.eml')) };
}

let lastUid = 0;

/** Store mails in `mailbox` as the poller stores one batch (one transaction, UIDs in arrival order); their row ids in that order. */
export async function storeBatch(db: Database, mailbox: string, mails: { raw: string; messageId?: string }[]): Promise<string[]> {
  const rows = await storeFetched(
    db,
    mailbox,
    1,
    mails.map((m) => ({ uid: ++lastUid, size: Buffer.byteLength(m.raw), raw: Buffer.from(m.raw), internalDate: null, messageId: m.messageId ?? null })),
  );
  return rows.sort((a, b) => a.uid - b.uid).map((r) => r.id);
}
