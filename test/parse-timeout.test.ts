import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { createLogger, processMetrics } from '@blend/runtime';
import { issueApiToken, schema, upsertPerson } from '@blend/db';
import { startWorkerService, type RunningService } from '@blend/worker';
import { waitFor } from './support/database';
import { testResolver } from './support/dns';
import { asDelivered, parseImapUrl, withImap } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { startStack, type Stack } from './support/stack';

// A mail whose parsing runs away is stopped at BLEND_PARSE_TIMEOUT_MS and fails alone; the mails
// of its batch and those after it go through (docs/SECURITY.md F9). The runaway is a test-only
// thread module: Blend's own parse task, except for mails marked `X-Test-Runaway: spin`, which
// loop for ever without yielding, as a pathological parse would.
let s: Stack | undefined;
let worker: RunningService | undefined;
afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  await s?.stop();
  s = undefined;
}, 120_000);

const threadModule = new URL('./support/runaway-parse-thread.mjs', import.meta.url);

describe('parse time limit', () => {
  it('a runaway mail ends failed: parse_timeout for IT; the rest of its batch and later mail are posted', async () => {
    s = await startStack({ BLEND_PARSE_TIMEOUT_MS: '3000', BLEND_POLL_INTERVAL_MS: '1000', BLEND_RATE_SENDER_PER_MINUTE: '0', BLEND_RATE_ORG_PER_MINUTE: '0' }, { poller: false });
    const stack = s;
    // The stack's worker, again, but with the test thread module.
    await s.stopWorker();
    worker = await startWorkerService(s.config, createLogger('test', s.config.LOG_LEVEL), { resolver: testResolver([s.people.domain]), parseThreadModule: threadModule });
    await s.person('alice@corp.test');
    const { person: root } = await upsertPerson(s.db.db, { email: 'root@corp.test', name: 'root', isAdmin: true, optIn: true });
    const rootToken = await issueApiToken(s.db.db, root.id, 'test');
    const { mailbox: folder } = parseImapUrl(s.mail.imapUrl);
    const tag = randomBytes(3).toString('hex');
    const mail = (name: string, headers: Record<string, string> = {}) =>
      buildMessage({ from: 'alice@corp.test', to: `status@${stack.mail.domain}`, subject: `${name} ${tag}`, body: `${name} text`, messageId: `${name}-${tag}@corp.test`, headers });
    const before = mail('before');
    const runaway = mail('runaway', { 'X-Test-Runaway': 'spin' });
    const after = mail('after');
    // One APPEND session, so the poller stores the three in one batch.
    await withImap(s.mail.imapUrl, async (c) => {
      for (const m of [before, runaway, after]) await c.append(folder, asDelivered(m.raw, 'alice@corp.test'));
    });
    await s.startPoller();

    const stopped = await finalRow(s.db.db, runaway.messageId, 45_000);
    expect(stopped).toMatchObject({ state: 'failed', reason: 'parse_timeout' });
    expect((await finalRow(s.db.db, before.messageId)).state).toBe('posted');
    expect((await finalRow(s.db.db, after.messageId)).state).toBe('posted');

    // The pool goes on: a mail sent afterwards is posted too.
    const later = mail('later');
    await withImap(s.mail.imapUrl, (c) => c.append(folder, asDelivered(later.raw, 'alice@corp.test')).then(() => undefined));
    expect((await finalRow(s.db.db, later.messageId, 30_000)).state).toBe('posted');

    // IT sees it as failed mail, with its reason, and can replay it.
    const res = await s.app.inject({ method: 'GET', url: '/api/v1/admin/inbound?state=failed', headers: { authorization: `Bearer ${rootToken}` } });
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: { message_id: string | null; reason: string | null }[] }).items).toEqual([
      expect.objectContaining({ message_id: runaway.messageId, reason: 'parse_timeout' }),
    ]);
    expect(await processMetrics().registry.getSingleMetricAsString('blend_inbound_messages_total')).toMatch(/state="failed",reason="parse_timeout"\} [1-9]/);
    // Never flagged as done in IMAP: its copy stays for the replay.
    const [row] = await s.db.db.select({ marked: schema.inboundMessages.imapMarkedAt }).from(schema.inboundMessages).where(eq(schema.inboundMessages.messageId, runaway.messageId));
    expect(row!.marked).toBeNull();
    await waitFor(async () => (await stack.db.db.select().from(schema.posts)).length === 3, 'three posts');
  }, 120_000);
});
