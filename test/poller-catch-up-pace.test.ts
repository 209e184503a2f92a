// A catch-up stores only so far ahead of the workers: it downloads its next batch while the
// backlog queue holds fewer than CATCH_UP_AHEAD_MAILS mails waiting for a worker, and meanwhile
// takes new mail ahead at once (docs/ARCHITECTURE.md "Processes and the flow"). Against the real
// Dovecot, Postgres and Redis; no worker runs, so the test takes the queued jobs itself.
import { describe, expect, it } from 'vitest';
import { parseImapUrl } from '@blend/mail';
import type { MailboxPoller } from '@blend/poller';
import { getCheckpoint } from '@blend/db';
import { waitFor } from './support/database';
import { withImap } from './support/mail-server';
import { buildMessage } from './support/messages';
import { debugPoller, pollerStack } from './support/poller';

let poller: MailboxPoller | undefined;
const lines: { msg: string }[] = [];
const stack = pollerStack(() => poller);

const BATCH = 2;
const AHEAD = 4;
const BACKLOG = 12;

describe('a paced catch-up', () => {
  it('waits while the backlog queue is full, takes new mail ahead meanwhile, and stores every mail once as the queue drains', async () => {
    const target = parseImapUrl(stack.s.mail.imapUrl);
    const mail = (subject: string) => buildMessage({ from: 'Alice <alice@corp.test>', to: `status@${stack.s.mail.domain}`, subject, body: `${subject}.` });
    const backlog = Array.from({ length: BACKLOG }, (_, i) => mail(`Backlog ${i}`));
    await withImap(stack.s.mail.imapUrl, async (client) => {
      for (const m of backlog) await client.append(target.folder, m.raw);
    });
    const rows = async () =>
      (await stack.s.db.pool.query<{ uid: number; message_id: string }>('select uid::int, message_id from inbound_messages order by uid')).rows;

    poller = debugPoller(stack.s, stack.queues, lines, { batchSize: BATCH, catchUpAheadMails: AHEAD });
    await poller.start();
    // Two batches of two reach the queue; with four mails waiting there the third is not downloaded.
    await waitFor(async () => ((await rows()).length === AHEAD ? true : undefined), `${AHEAD} rows stored`);
    expect(await stack.queues.ingestBacklog.getWaitingCount()).toBe(AHEAD / BATCH);
    // Well past the pace's interval, still paused: the mail waits in IMAP, the checkpoint where the stores left it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await rows()).length).toBe(AHEAD);
    expect((await getCheckpoint(stack.s.db.db, target.key))?.lastUid).toBe(AHEAD);

    // New mail while the catch-up waits: taken ahead and queued for live mail at once.
    const freshMail = mail('Fresh news');
    await withImap(stack.s.mail.imapUrl, (client) => client.append(target.folder, freshMail.raw));
    const fresh = await waitFor(async () => (await rows()).find((r) => r.message_id === freshMail.messageId), 'the fresh mail taken ahead');
    expect(fresh.uid).toBe(BACKLOG + 1);
    expect((await rows()).length).toBe(AHEAD + 1);
    expect(await stack.queues.ingest.getWaitingCount()).toBe(1);
    expect(lines.some((l) => l.msg === 'new mail taken ahead of the catch-up')).toBe(true);

    // As the workers would take the queued batches, the catch-up goes on until every mail is stored, each once.
    await waitFor(async () => {
      await stack.queues.ingestBacklog.drain();
      const got = await rows();
      return got.length === BACKLOG + 1 ? got : undefined;
    }, 'every mail stored', 30_000, 100);
    const got = await rows();
    expect(got.map((r) => r.uid)).toEqual(Array.from({ length: BACKLOG + 1 }, (_, i) => i + 1));
    expect(got.slice(0, BACKLOG).map((r) => r.message_id)).toEqual(backlog.map((m) => m.messageId));
    await waitFor(async () => ((await getCheckpoint(stack.s.db.db, target.key))?.lastUid === BACKLOG + 1 ? true : undefined), 'the checkpoint past the mail taken ahead');
  });
});
