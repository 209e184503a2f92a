import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, count, eq, inArray } from 'drizzle-orm';
import { processMetrics } from '@blend/runtime';
import { getCheckpoint, mailboxStatuses, schema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { asDelivered, createMailDomain, sendRaw, withImap, type MailDomain } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { run } from './support/process';
import { startStack, type Stack } from './support/stack';

// What happens to processed mail in IMAP: BLEND_IMAP_AFTER=move:FOLDER for the
// main mailbox, `--after delete` for a mailbox added with the CLI. A message leaves the
// INBOX only after its ingest has committed (docs/SECURITY.md I1), and the INBOX stays empty.
const FOLDER = 'Blend/Processed';
let s: Stack;
const { inboundMessages: inbound } = schema;

/** Messages in one folder of a mailbox, with their flags. */
const folder = (imapUrl: string, name: string) =>
  withImap(imapUrl, async (client) => {
    if (!(await client.list()).some((f) => f.path === name)) return null;
    const lock = await client.getMailboxLock(name, { readOnly: true });
    try {
      const out: { uid: number; flags: string[]; subject: string }[] = [];
      if (client.mailbox && client.mailbox.exists > 0) {
        for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true })) out.push({ uid: m.uid, flags: [...(m.flags ?? [])], subject: m.envelope?.subject ?? '' });
      }
      return out;
    } finally {
      lock.release();
    }
  });
const inbox = async (imapUrl: string) => (await folder(imapUrl, 'INBOX')) ?? [];

async function sendTo(subject: string, body?: string): Promise<string> {
  const m = buildMessage({ from: 'Alice <alice@corp.test>', to: `status@${s.mail.domain}`, subject, body });
  await sendRaw(m.raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
  return m.messageId;
}

const rowsOf = (ids: string[]) => s.db.db.select().from(inbound).where(inArray(inbound.messageId, ids));
const processed = async (mailbox: string, action: string) =>
  (await processMetrics().imapProcessed.get()).values.find((v) => v.labels.mailbox === mailbox && v.labels.action === action)?.value ?? 0;

function blend(args: string[]) {
  return run(['services/cli/src/cli.ts', ...args], {
    DATABASE_URL: s.config.DATABASE_URL,
    BLEND_SECRET: s.config.BLEND_SECRET,
    BLEND_IMAP_URL: s.config.BLEND_IMAP_URL,
    BLEND_IMAP_AFTER: s.config.BLEND_IMAP_AFTER,
    REDIS_URL: s.config.REDIS_URL,
    BLEND_QUEUE_PREFIX: s.config.BLEND_QUEUE_PREFIX,
  }, { timeoutMs: 90_000 });
}

beforeAll(async () => {
  s = await startStack({
    BLEND_IMAP_AFTER: `move:${FOLDER}`,
    BLEND_POLL_INTERVAL_MS: '1000',
    BLEND_MAILBOX_REFRESH_MS: '1000',
    BLEND_MAX_MESSAGE_BYTES: '20000',
    BLEND_RATE_SENDER_PER_MINUTE: '0',
    BLEND_RATE_SENDER_PER_HOUR: '0',
    BLEND_RATE_THREAD_PER_MINUTE: '0',
  });
  await s.person('alice@corp.test', { name: 'Alice' });
}, 60_000);
afterAll(async () => s?.stop(), 60_000);

describe('move:FOLDER', () => {
  const key = () => parseImapUrl(s.mail.imapUrl).key;

  it('moves a mail into the folder (created for it) only once its ingest has committed; a failed one stays', async () => {
    await s.stopWorker();
    const ids = [await sendTo('Move one'), await sendTo('Move two'), await sendTo('Move three')];
    await waitFor(async () => (await rowsOf(ids)).length === 3, 'three mails stored', 20_000);
    // The poller finishes what has committed after every sync; nothing has.
    await s.poller().markDone();
    expect((await inbox(s.mail.imapUrl)).map((m) => m.subject).sort()).toEqual(['Move one', 'Move three', 'Move two']);
    expect(await folder(s.mail.imapUrl, FOLDER)).toBeNull();

    // One mail's ingest gave up (what ~9 minutes of failed retries leave behind).
    const [failed] = await s.db.db.update(inbound).set({ state: 'failed', reason: 'failed: test' }).where(eq(inbound.messageId, ids[2]!)).returning();
    await s.startWorker();
    for (const id of ids.slice(0, 2)) expect((await finalRow(s.db.db, id)).state).toBe('posted');
    const moved = await waitFor(async () => {
      const f = await folder(s.mail.imapUrl, FOLDER);
      return f && f.length === 2 ? f : undefined;
    }, 'two mails moved', 20_000, 200);
    expect(moved.map((m) => m.subject).sort()).toEqual(['Move one', 'Move two']);
    for (const m of moved) expect(m.flags).toEqual(expect.arrayContaining(['\\Seen', '$BlendDone']));
    expect((await inbox(s.mail.imapUrl)).map((m) => m.subject)).toEqual(['Move three']);
    expect((await rowsOf([ids[2]!]))[0]!.imapMarkedAt).toBeNull();

    // Replayed and published, it follows.
    const replay = blend(['inbound', 'replay', failed!.id]);
    expect((await replay.done).code).toBe(0);
    expect((await finalRow(s.db.db, ids[2]!)).state).toBe('posted');
    await waitFor(async () => (await inbox(s.mail.imapUrl)).length === 0, 'the INBOX empty', 20_000, 200);
    expect((await folder(s.mail.imapUrl, FOLDER))!.length).toBe(3);
    expect((await rowsOf(ids)).every((r) => r.imapMarkedAt !== null)).toBe(true);
    expect(await processed(key(), 'move')).toBe(3);
  }, 90_000);

  it('resumes at the checkpoint after a restart with the INBOX emptied: nothing read twice or skipped', async () => {
    await s.stopPoller();
    const ids = [await sendTo('While stopped 1'), await sendTo('While stopped 2')];
    await waitFor(async () => (await inbox(s.mail.imapUrl)).length === 2, 'the mail delivered');
    await s.startPoller();
    for (const id of ids) expect((await finalRow(s.db.db, id)).state).toBe('posted');
    await waitFor(async () => (await inbox(s.mail.imapUrl)).length === 0, 'the INBOX empty', 20_000, 200);
    const rows = await s.db.db.select().from(inbound);
    expect(rows).toHaveLength(5);
    expect(new Set(rows.map((r) => r.uid)).size).toBe(5);
    const uidNext = await withImap(s.mail.imapUrl, async (c) => {
      const st = await c.status('INBOX', { uidNext: true });
      if (!st) throw new Error('STATUS INBOX failed');
      return st.uidNext;
    });
    expect((await getCheckpoint(s.db.db, key()))?.lastUid).toBe(Number(uidNext) - 1);
  }, 60_000);

  it('backfill moves processed mail back from the folder; it is read again as duplicates and moved out again', async () => {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const p = blend(['mailbox', 'backfill', '--since', yesterday]);
    expect((await p.done).code).toBe(0);
    expect(p.out()).toContain(`moved 5 processed message(s) from ${FOLDER} back to INBOX`);
    await waitFor(async () => {
      const dup = await s.db.db.select({ n: count() }).from(inbound).where(eq(inbound.state, 'duplicate'));
      return dup[0]!.n === 5;
    }, 'five duplicates', 30_000, 200);
    await waitFor(async () => (await inbox(s.mail.imapUrl)).length === 0 && (await folder(s.mail.imapUrl, FOLDER))!.length === 5, 'moved out again', 20_000, 200);
    expect((await s.db.db.select({ n: count() }).from(schema.posts))[0]!.n).toBe(5);
  }, 60_000);
});

describe('--after delete, for a mailbox added with the CLI', () => {
  let other: MailDomain;
  const key = () => parseImapUrl(other.imapUrl).key;
  const deliver = async (subject: string, body?: string) => {
    const m = buildMessage({ from: 'Alice <alice@corp.test>', to: `status@${s.mail.domain}`, subject, body });
    await withImap(other.imapUrl, (c) => c.append('INBOX', asDelivered(m.raw, 'alice@corp.test')));
    return m.messageId;
  };

  it('expunges a mail once its ingest has committed, and keeps one that was too large to store', async () => {
    other = await createMailDomain();
    const file = path.join(tmpdir(), `blend-pw-${randomBytes(4).toString('hex')}`);
    writeFileSync(file, other.password, { mode: 0o600 });
    const url = new URL(other.imapUrl);
    url.password = '';
    const add = blend(['mailbox', 'add', url.toString(), '--password-file', file, '--after', 'delete']);
    expect((await add.done).code).toBe(0);
    await waitFor(async () => (await mailboxStatuses(s.db.db)).get(key())?.state === 'connected', 'the mailbox watched', 20_000, 200);

    await s.stopWorker();
    const ids = [await deliver('Delete one'), await deliver('Delete two'), await deliver('Too large', 'x'.repeat(30_000))];
    // The too-large mail is final at once (never downloaded) and gets finished; the others wait.
    await waitFor(async () => {
      const r = await s.db.db.select().from(inbound).where(and(eq(inbound.mailbox, key()), eq(inbound.reason, 'too_large')));
      return r[0]?.imapMarkedAt ? r : undefined;
    }, 'the too-large mail finished', 20_000, 200);
    expect((await inbox(other.imapUrl)).length).toBe(3);

    await s.startWorker();
    for (const id of ids.slice(0, 2)) expect((await finalRow(s.db.db, id)).state).toBe('posted');
    const left = await waitFor(async () => {
      const m = await inbox(other.imapUrl);
      return m.length === 1 ? m : undefined;
    }, 'the stored mails expunged', 20_000, 200);
    expect(left[0]).toMatchObject({ subject: 'Too large', flags: expect.arrayContaining(['$BlendDone']) });
    const rows = await s.db.db.select().from(inbound).where(eq(inbound.mailbox, key()));
    expect(rows.filter((r) => r.state === 'posted').every((r) => r.raw !== null && r.imapMarkedAt !== null)).toBe(true);
    expect(await processed(key(), 'delete')).toBe(2);
    expect(await processed(key(), 'flag')).toBe(1);
  }, 90_000);
});
