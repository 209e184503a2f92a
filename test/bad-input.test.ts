import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { asDelivered, withImap } from './support/mail-server';
import { startStack, type Stack } from './support/stack';

// Bad mail through the whole pipeline: each ends in a defined state with a reason, the
// messages after it are still processed, and nothing is lost.
const fixture = (name: string) => asDelivered(readFileSync(path.join(import.meta.dirname, 'fixtures/mail', name), 'utf8'), 'alice@corp.test');

let s: Stack;
beforeAll(async () => {
  s = await startStack({ BLEND_MAX_MESSAGE_BYTES: '20000', BLEND_POLL_INTERVAL_MS: '1000' });
  await s.person('alice@corp.test');
});
afterAll(async () => s?.stop());

describe('bad input', () => {
  it('gives every bad message a final state and keeps going', async () => {
    const cases: [string, string, string | null][] = [
      ['plain-no-message-id.eml', 'posted', null],
      ['plain-empty-body.eml', 'rejected', 'empty_body'],
      ['plain-bad-date.eml', 'posted', null],
      ['outlook-auto-reply.eml', 'rejected', 'auto_generated'],
      ['plain-unknown-sender.eml', 'rejected', 'not_org_domain'],
      ['plain-not-opted-in.eml', 'withheld', 'sender_unknown'],
    ];
    const huge = fixture('plain-new-thread.eml').replace('plan-1@', 'huge-1@') + 'x'.repeat(30_000) + '\r\n';
    const last = fixture('plain-new-thread.eml').replace('plan-1@', 'last-1@').replace('Quarterly plan is ready', 'After the bad ones');
    const { folder } = parseImapUrl(s.mail.imapUrl);
    await withImap(s.mail.imapUrl, async (client) => {
      for (const [name] of cases) await client.append(folder, fixture(name).replaceAll('example.test', s.mail.domain));
      await client.append(folder, fixture('malformed-unterminated-multipart.eml').replaceAll('example.test', s.mail.domain));
      await client.append(folder, huge.replaceAll('example.test', s.mail.domain));
      await client.append(folder, last.replaceAll('example.test', s.mail.domain));
    });
    const total = cases.length + 3;
    const rows = await waitFor(async () => {
      // The invitation sent to carol@corp.test bounces (nobody receives mail there); that
      // bounce comes back into the mailbox as a row of its own, which is not counted here.
      const r = (await s.db.db.select().from(schema.inboundMessages)).filter((x) => x.reason !== 'bounce');
      return r.length === total && r.every((x) => x.state !== 'received') ? r.sort((a, b) => a.uid - b.uid) : undefined;
    }, 'every message in a final state', 30_000);

    cases.forEach(([name, state, reason], i) => {
      expect({ name, state: rows[i]!.state, reason: rows[i]!.reason }).toEqual({ name, state, reason });
    });
    const malformed = rows[cases.length]!;
    expect(['posted', 'rejected']).toContain(malformed.state);
    const tooLarge = rows[cases.length + 1]!;
    expect(tooLarge).toMatchObject({ state: 'rejected', reason: 'too_large', raw: null });
    expect(tooLarge.size).toBeGreaterThan(20_000);
    expect(rows[cases.length + 2]!.state).toBe('posted');
  });
});
