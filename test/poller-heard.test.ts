// The poller logs, at debug level with each stored batch, when it learned of each mail: the
// first EXISTS on its own connection before the listing that found the mail, or that listing's
// start. The ingest benchmark counts Blend's share of the latency from there (docs/BENCHMARKS.md,
// "Blend's share of the latency"). Against the real Dovecot: a mail waiting before the poller
// starts is heard when the first sync lists it, a mail delivered later when its EXISTS comes,
// each before its row's storing transaction began.
import { describe, expect, it } from 'vitest';
import { parseImapUrl } from '@blend/mail';
import type { MailboxPoller } from '@blend/poller';
import { waitFor } from './support/database';
import { withImap } from './support/mail-server';
import { buildMessage } from './support/messages';
import { debugPoller, pollerStack } from './support/poller';

let poller: MailboxPoller | undefined;
const lines: { msg: string; heard?: Record<string, number> }[] = [];
const stack = pollerStack(() => poller);

const heardOf = (uid: number) => lines.find((l) => l.msg === 'stored batch' && l.heard?.[uid] !== undefined)?.heard?.[uid];

async function storedAt(uid: number): Promise<number> {
  const res = await stack.s.db.pool.query<{ at: number }>('select extract(epoch from received_at)::float8 * 1000 as at from inbound_messages where uid = $1', [uid]);
  return res.rows[0]!.at;
}

describe('when the poller heard of a mail', () => {
  it('is logged with the stored batch: the listing for waiting mail, the EXISTS for new mail, before the store began', async () => {
    const target = parseImapUrl(stack.s.mail.imapUrl);
    const mail = (subject: string) => buildMessage({ from: 'Alice <alice@corp.test>', to: `status@${stack.s.mail.domain}`, subject, body: `${subject}.` }).raw;
    await withImap(stack.s.mail.imapUrl, (client) => client.append(target.folder, mail('Waiting')));
    const started = Date.now();
    poller = debugPoller(stack.s, stack.queues, lines);
    await poller.start();
    const waiting = await waitFor(async () => heardOf(1), 'the waiting mail stored');
    expect(waiting).toBeGreaterThanOrEqual(started);
    expect(waiting).toBeLessThanOrEqual(await storedAt(1));

    // Delivered while the poller IDLEs: no periodic sync runs in the test's time, so only the
    // EXISTS can bring it, and it is heard no earlier than the APPEND and before its store.
    const before = Date.now();
    await withImap(stack.s.mail.imapUrl, (client) => client.append(target.folder, mail('New')));
    const fresh = await waitFor(async () => heardOf(2), 'the new mail stored', 10_000);
    expect(fresh).toBeGreaterThanOrEqual(before);
    expect(fresh).toBeLessThanOrEqual(await storedAt(2));
    expect(fresh).toBeGreaterThan(waiting);
  });
});
