// After its first sync the poller lists the mailbox from the checkpoint it left, without reading
// it first; the read runs beside the sync and a store moves the checkpoint only if it still stands
// where the poller listed from (docs/ARCHITECTURE.md "Processes and the flow"). Against the real
// Dovecot and Postgres: a rewind by IT (with new mail, and with none) and a checkpoint that fell
// back with its rows (a store lost with a Postgres crash) are honoured, nothing is skipped or
// doubled.
import { describe, expect, it } from 'vitest';
import { parseImapUrl } from '@blend/mail';
import type { MailboxPoller } from '@blend/poller';
import { getCheckpoint, rewindCheckpoint } from '@blend/db';
import { waitFor } from './support/database';
import { withImap } from './support/mail-server';
import { buildMessage } from './support/messages';
import { debugPoller, pollerStack } from './support/poller';

let poller: MailboxPoller | undefined;
const lines: { msg: string }[] = [];
const stack = pollerStack(() => poller);

describe('a sync from the checkpoint the poller left', () => {
  it('honours a rewind by IT and a checkpoint that fell back, storing every UID once', async () => {
    const target = parseImapUrl(stack.s.mail.imapUrl);
    const deliver = (subject: string) =>
      withImap(stack.s.mail.imapUrl, (client) =>
        client.append(target.folder, buildMessage({ from: 'Alice <alice@corp.test>', to: `status@${stack.s.mail.domain}`, subject, body: `${subject}.` }).raw),
      );
    const uids = async () => (await stack.s.db.pool.query<{ uid: number }>('select uid::int from inbound_messages order by uid')).rows.map((r) => r.uid);
    const checkpointAt = (lastUid: number, rewinds: number) =>
      waitFor(async () => {
        const cp = await getCheckpoint(stack.s.db.db, target.key);
        return cp?.lastUid === lastUid && cp.rewinds === rewinds ? cp : undefined;
      }, `the checkpoint at ${lastUid} after ${rewinds} rewinds`);
    const relisted = () => lines.filter((l) => l.msg === 'checkpoint moved since this poller left it; listing again from it').length;

    await deliver('One');
    poller = debugPoller(stack.s, stack.queues, lines);
    await poller.start();
    const { uidValidity } = await checkpointAt(1, 0);
    // New mail on the fast path: listed from the checkpoint the poller left.
    await deliver('Two');
    await checkpointAt(2, 0);
    expect(relisted()).toBe(0);

    // IT rewinds the checkpoint (`blend mailbox backfill`), then mail comes: the store of the
    // new mail, listed from UID 3, must not move the rewound checkpoint; the sync starts again
    // from UID 1 and the checkpoint ends at the new mail under the rewind's count.
    await rewindCheckpoint(stack.s.db.db, target.key, uidValidity, 0);
    await deliver('Three');
    await checkpointAt(3, 1);
    expect(await uids()).toEqual([1, 2, 3]);
    expect(relisted()).toBeGreaterThan(0);

    // A checkpoint that fell back with its rows, as a Postgres crash may leave a store whose
    // commit was not flushed: the poller lists the lost UIDs again rather than pass them.
    await stack.s.db.pool.query('delete from inbound_messages where uid > 1');
    await stack.s.db.pool.query('update mailbox_checkpoints set last_uid = 1 where mailbox = $1', [target.key]);
    await deliver('Four');
    await checkpointAt(4, 1);
    expect(await uids()).toEqual([1, 2, 3, 4]);

    // A rewind with no new mail: a periodic sync lists nothing from the old checkpoint, the read
    // beside it sees the rewind, and a sync from the rewound checkpoint follows.
    await rewindCheckpoint(stack.s.db.db, target.key, uidValidity, 0);
    await poller.sync();
    await checkpointAt(4, 2);
    expect(await uids()).toEqual([1, 2, 3, 4]);
  });
});
