import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// A burst from one sender is quarantined (held), not published and not dropped.
let s: Stack;
beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000', BLEND_RATE_SENDER_PER_MINUTE: '2', WORKER_CONCURRENCY: '1' });
  await s.person('alice@corp.test');
});
afterAll(async () => s?.stop());

describe('rate limits', () => {
  it('holds the third mail a sender sends within a minute', async () => {
    const states: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = buildMessage({ from: 'alice@corp.test', to: `status@${s.mail.domain}`, subject: `Burst ${i}` });
      await sendRaw(m.raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
      const row = await finalRow(s.db.db, m.messageId);
      states.push(`${row.state}${row.reason ? `:${row.reason}` : ''}`);
    }
    expect(states).toEqual(['posted', 'posted', 'held:sender_rate']);
  });
});
