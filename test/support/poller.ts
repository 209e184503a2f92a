import { Writable } from 'node:stream';
import { parseImapUrl } from '@blend/mail';
import { MailboxPoller } from '@blend/poller';
import type { Queues } from '@blend/queue';
import { createLogger, processMetrics } from '@blend/runtime';
import type { Stack } from './stack';

/**
 * A poller of the stack's mailbox in the test's own process, with periodic syncs and IDLE
 * restarts out of the test's time, its log at debug level parsed line by line into `lines`
 * (a test reads its `stored batch` lines, say). Started by the caller.
 */
export function debugPoller<L extends { msg: string }>(s: Stack, queues: Queues, lines: L[]): MailboxPoller {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as L);
      done();
    },
  });
  return new MailboxPoller({
    target: parseImapUrl(s.mail.imapUrl),
    db: s.db.db,
    ingestQueue: queues.ingest,
    backlogQueue: queues.ingestBacklog,
    log: createLogger('test', 'debug', sink),
    metrics: processMetrics(),
    pollIntervalMs: 600_000,
    idleRestartMs: 600_000,
    maxMessageBytes: 1_000_000,
    doneFlag: '$BlendDone',
  });
}
