// New mail overtakes a backlog (docs/ARCHITECTURE.md "Processes and the flow"): a sync that
// finds more than one batch waiting is a catch-up, its jobs go to the ingest-backlog queue, and
// mail announced by an EXISTS while it runs is stored between two of its batches and ingested
// from the live queue. A reply to a mail the catch-up has not stored yet waits for it, and is
// queued behind it on the backlog queue.
//
// The catch-up is held at a known point without timing: the test locks the mailbox's checkpoint
// row, so the poller's first batch waits in Postgres, and delivers the new mail meanwhile. The
// new mail is stored and queued while that batch still waits: it waits for no insert of the
// backlog's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { parseImapUrl } from '@blend/mail';
import { createProducerRedis, createQueues, ingestJobId, type Queues } from '@blend/queue';
import { waitFor } from './support/database';
import { withImap } from './support/mail-server';
import { buildMessage } from './support/messages';
import { startStack, type Stack } from './support/stack';

const BATCH = 5;
const BACKLOG = 100;
let s: Stack;
let queues: Queues;
let redis: ReturnType<typeof createProducerRedis>;

beforeAll(async () => {
  s = await startStack({
    BLEND_IMAP_BATCH_SIZE: String(BATCH),
    BLEND_POLL_INTERVAL_MS: '60000',
    BLEND_SENDER_AUTH: 'none',
    // One sender writes the whole backlog: no rate holds (and no notices about them).
    BLEND_RATE_SENDER_PER_MINUTE: '0',
    BLEND_RATE_SENDER_PER_HOUR: '0',
  }, { poller: false });
  await s.person('alice@corp.test', { name: 'Alice' });
  redis = createProducerRedis(s.config.REDIS_URL);
  queues = createQueues(redis, s.config.BLEND_QUEUE_PREFIX);
});
afterAll(async () => {
  await queues?.close();
  redis?.disconnect();
  await s?.stop();
});

type Row = {
  id: string;
  uid: number;
  message_id: string;
  state: string;
  post_id: string | null;
  comment_id: string | null;
  received: string;
  processed: string | null;
};

describe('a catch-up of several batches', () => {
  it('stores and ingests mail that arrives meanwhile before it finishes, keeps a reply after its parent, and loses or doubles nothing', async () => {
    const bridge = `status@${s.mail.domain}`;
    const mail = (subject: string, headers: Record<string, string> = {}) => buildMessage({ from: 'Alice <alice@corp.test>', to: bridge, subject, body: `${subject}.`, headers });
    // The last mail of the backlog is the parent of a reply that arrives during the catch-up.
    const backlog = Array.from({ length: BACKLOG }, (_, i) => mail(`Backlog ${i}`));
    const parent = backlog.at(-1)!;
    const freshMail = mail('Fresh news');
    const replyMail = mail(`Re: Backlog ${BACKLOG - 1}`, { 'In-Reply-To': `<${parent.messageId}>`, References: `<${parent.messageId}>` });
    const target = parseImapUrl(s.mail.imapUrl);
    const uidValidity = await withImap(s.mail.imapUrl, async (client) => {
      for (const m of backlog) await client.append(target.folder, m.raw);
      const status = await client.status(target.folder, { uidValidity: true });
      return Number(status && status.uidValidity);
    });

    // Hold the catch-up's first store on the checkpoint row.
    await s.db.db.execute(sql`insert into mailbox_checkpoints (mailbox, uid_validity, last_uid) values (${target.key}, ${uidValidity}, 0)`);
    const lock = await s.db.pool.connect();
    let starting: Promise<void> | undefined;
    try {
      await lock.query('begin');
      await lock.query('select 1 from mailbox_checkpoints where mailbox = $1 for update', [target.key]);
      starting = s.startPoller();
      await waitFor(async () => {
        const r = await s.db.pool.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        return r.rows[0].n > 0;
      }, 'the first batch to wait for the checkpoint row');
      // Listed before this mail came: the sync is a catch-up, and its jobs are queued on the backlog queue.
      await withImap(s.mail.imapUrl, async (client) => {
        await client.append(target.folder, freshMail.raw);
        await client.append(target.folder, replyMail.raw);
      });
      // The first batch cannot commit while the checkpoint row is locked; the fresh mail is
      // stored and queued on the live queue all the same. The reply to the backlog's last mail
      // waits for its parent.
      const early = await waitFor(async () => {
        const r = await s.db.db.execute<{ id: string; message_id: string }>(sql`select id, message_id from inbound_messages`);
        return r.rows.length > 0 ? r.rows : undefined;
      }, 'the fresh mail stored while the catch-up\'s first batch waits');
      expect(early.map((r) => r.message_id)).toEqual([freshMail.messageId]);
      await waitFor(() => queues.ingest.getJob(ingestJobId(early[0]!.id)), 'the fresh mail queued on the live queue');
      const waitingBatch = await s.db.pool.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
      expect(waitingBatch.rows[0].n).toBeGreaterThan(0);
    } finally {
      await lock.query('commit');
      lock.release();
    }
    await starting;

    const rows = await waitFor(async () => {
      const r = await s.db.db.execute<Row>(
        sql`select id, uid::int, message_id, state, post_id, comment_id, received_at::text as received, processed_at::text as processed from inbound_messages order by uid`,
      );
      return r.rows.length === BACKLOG + 2 && r.rows.every((x) => x.state !== 'received') ? r.rows : undefined;
    }, 'every mail stored and ingested', 60_000);

    // Nothing lost, nothing twice: one row per UID, each a post of its own but the reply.
    expect(new Set(rows.map((r) => r.uid)).size).toBe(BACKLOG + 2);
    expect(rows.map((r) => r.state)).toEqual([...Array(BACKLOG + 1).fill('posted'), 'commented']);
    expect(new Set(rows.filter((r) => r.state === 'posted').map((r) => r.post_id)).size).toBe(BACKLOG + 1);

    const fresh = rows.find((r) => r.message_id === freshMail.messageId)!;
    const reply = rows.find((r) => r.message_id === replyMail.messageId)!;
    const parentRow = rows[BACKLOG - 1]!;
    const backlogRows = rows.slice(0, BACKLOG);
    const last = (xs: (string | null)[]) => xs.reduce((a, b) => (b! > a! ? b : a))!;
    // The fresh mail has a higher UID than the whole backlog, yet was stored before the
    // catch-up's last batch and ingested before its last mail.
    expect(fresh.uid).toBeGreaterThan(parentRow.uid);
    expect(fresh.received < last(backlogRows.map((r) => r.received))).toBe(true);
    expect(fresh.processed! < last(backlogRows.map((r) => r.processed))).toBe(true);
    // The reply to the backlog's last mail waited for the catch-up, and became a comment under it.
    expect(reply.received >= parentRow.received).toBe(true);
    expect(reply.post_id).toBe(parentRow.post_id);
    expect(reply.comment_id).not.toBeNull();

    // The backlog went through ingest-backlog, the fresh mail through the live queue.
    expect(await queues.ingest.getJob(ingestJobId(fresh.id))).toBeDefined();
    // The held-back reply followed its parent there rather than wait for it on the live queue.
    expect(await queues.ingestBacklog.getJob(ingestJobId(reply.id))).toBeDefined();
    expect((await queues.ingestBacklog.getJobCounts('completed')).completed).toBeGreaterThan(0);
    // The checkpoint has moved over everything, the mail taken ahead included.
    await waitFor(async () => {
      const r = await s.db.db.execute<{ last: number }>(sql`select last_uid::int as last from mailbox_checkpoints where mailbox = ${target.key}`);
      return r.rows[0]!.last === rows.at(-1)!.uid;
    }, 'the checkpoint at the newest UID');

    const metrics = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/blend_queue_depth\{queue="ingest-backlog",state="waiting"\} \d+/);
  });
});
