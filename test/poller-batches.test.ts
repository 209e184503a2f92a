// The poller bounds each fetch batch by bytes as well as by count (docs/SECURITY.md B2): a
// backlog of large mails is downloaded and stored a few at a time, never fifty at once.
// Each batch is stored in one transaction, so the rows of one batch share their received_at
// (now(), the transaction's start).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { withImap } from './support/mail-server';
import { buildMessage } from './support/messages';
import { startStack, type Stack } from './support/stack';

const BUDGET = 256 * 1024;
let s: Stack;

beforeAll(async () => {
  s = await startStack({ BLEND_IMAP_BATCH_SIZE: '50', BLEND_IMAP_BATCH_BYTES: String(BUDGET), BLEND_POLL_INTERVAL_MS: '1000' }, { poller: false });
  await s.person('alice@corp.test', { name: 'Alice' });
});
afterAll(async () => s?.stop());

describe('IMAP fetch batches', () => {
  it('stores a backlog of large mails in batches within the byte budget, losing none', async () => {
    // Ten mails of about 100 KB and five small ones, waiting before the poller starts.
    const bridge = `status@${s.mail.domain}`;
    const big = 'Status line of a long report. '.repeat(3_400);
    const mails = [
      ...Array.from({ length: 10 }, (_, i) => buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject: `Report ${i}`, body: big })),
      ...Array.from({ length: 5 }, (_, i) => buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject: `Note ${i}`, body: 'Short.' })),
    ];
    await withImap(s.mail.imapUrl, async (client) => {
      for (const m of mails) await client.append(parseImapUrl(s.mail.imapUrl).folder, m.raw);
    });
    await s.startPoller();

    const batches = await waitFor(async () => {
      const res = await s.db.db.execute<{ tx: string; n: number; bytes: number }>(
        sql`select received_at::text as tx, count(*)::int as n, sum(size)::int as bytes from inbound_messages group by received_at`,
      );
      return res.rows.reduce((a, r) => a + r.n, 0) === mails.length ? res.rows : undefined;
    }, 'every mail stored');
    // More than one batch, each within the budget (a single larger mail may go alone).
    expect(batches.length).toBeGreaterThanOrEqual(5);
    for (const b of batches) expect(b.n === 1 || b.bytes <= BUDGET, `batch of ${b.n} mails, ${b.bytes} bytes`).toBe(true);
  });
});
