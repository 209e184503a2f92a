import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, inArray } from 'drizzle-orm';
import { schema, storeAttachments, storeFetched } from '@blend/db';
import { ingest } from '@blend/worker';
import type { AttachmentPlan } from '@blend/core';
import { whileCounted } from './support/count-transactions';
import { ingestDeps, seedIngestDatabase } from './support/ingest';
import { corpMail } from './support/messages';
import { createTestDatabase, type TestDatabase } from './support/database';

// A published mail's files (storeAttachments): one statement a file, a stored file's content
// written in the statement that writes its row. Against a real Postgres.

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await seedIngestDatabase(t.db);
});
afterAll(async () => t?.drop());

const plan = (filename: string, store: boolean, size: number): AttachmentPlan => ({
  filename,
  declaredType: 'application/pdf',
  size,
  inline: false,
  store,
  omitted: store ? null : 'too_large',
  note: null,
});

describe('storeAttachments', () => {
  it('writes a file in one statement, its content once per SHA-256', async () => {
    const raw = corpMail({ id: 'files-1@corp.test', from: 'alice', subject: 'Files', body: 'Two files.' });
    const [row] = await storeFetched(t.db, 'imap://files', 1, [{ uid: 1, size: raw.length, raw: Buffer.from(raw), internalDate: null }]);
    const outcome = await ingest({ inboundId: row!.id }, ingestDeps(t.db));
    expect(outcome.state).toBe('posted');
    const postId = (outcome as { postId: string }).postId;
    const a = Buffer.from('%PDF-1.4 first file');
    const files = [
      { plan: plan('a.pdf', true, a.length), content: a },
      { plan: plan('a-again.pdf', true, a.length), content: Buffer.from(a) },
      { plan: plan('big.pdf', false, 50_000_000), content: Buffer.alloc(0) },
    ];
    const { counted } = await whileCounted(t.pool, () => t.db.transaction((tx) => storeAttachments(tx, { postId, commentId: null }, files)));
    // Two a stored file before: its content, then its row.
    expect(counted.statements, counted.log.join('\n')).toBe(2 + files.length);
    const rows = await t.db.select().from(schema.attachments).where(eq(schema.attachments.postId, postId)).orderBy(schema.attachments.position);
    expect(rows.map((r) => [r.filename, r.size, r.omitted, r.position, r.sha256 !== null])).toEqual([
      ['a.pdf', a.length, null, 0, true],
      ['a-again.pdf', a.length, null, 1, true],
      ['big.pdf', 50_000_000, 'too_large', 2, false],
    ]);
    const blobs = await t.db.select().from(schema.attachmentBlobs).where(inArray(schema.attachmentBlobs.sha256, rows.flatMap((r) => r.sha256 ?? [])));
    expect(blobs).toHaveLength(1);
    expect(blobs[0]!.content.equals(a)).toBe(true);
    expect(blobs[0]!.size).toBe(a.length);
  });
});
