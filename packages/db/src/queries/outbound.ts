import { randomUUID } from 'node:crypto';
import { and, asc, eq, getTableColumns, lte, sql, type SQL } from 'drizzle-orm';
import { outboundRow, type Addressing, type OutboundMail } from '@blend/core';
import type { Tx } from '../client';
import { messageRefs, outboundMessages, people } from '../schema';
import { preparedQuery, preparedSql } from './raw-statement';

export type OutboundRow = typeof outboundMessages.$inferSelect;
export type NewOutbound = typeof outboundMessages.$inferInsert;

/**
 * Write a mail Blend sends to the outbox, in the caller's transaction: the one way outbound
 * mail is written (docs/ARCHITECTURE.md "Outbound mail"). The row is built by core's
 * `outboundRow`; a `threaded` mail's Message-ID is mapped to its thread, so a reply to it
 * finds the thread again. A `dedupeKey` that was used before makes this a no-op.
 * @param id the row id, when the caller needs it first (a reply token names its row).
 * @returns the row id, or null when the key was already used.
 */
export async function writeOutboundMail(tx: Tx, addressing: Addressing, mail: OutboundMail, id: string = randomUUID()): Promise<string | null> {
  const row = outboundRow(mail, id, addressing);
  const values = { ...row, references: JSON.stringify(row.references), headers: JSON.stringify(row.headers) };
  // A `threaded` mail's row and its Message-ID's place in the thread in one statement: the
  // mapping is written only when the row is (a used dedupe key writes neither).
  const res = mail.threaded && mail.postId ? await writeThreadedStatement(tx, values) : await writeRowStatement(tx, values);
  return res.rows[0]?.id ?? null;
}

/**
 * The insert of one outbox row of {@link writeOutboundMail} (every column `outboundRow` gives,
 * as placeholders; a used `dedupeKey` writes nothing): about one per ingested mail and one per
 * notice, so its statements are built once and named.
 */
const insertOutboundRow = () => sql`
  insert into ${outboundMessages} (id, kind, to_address, person_id, post_id, comment_id, message_id, subject, text_body, html_body,
    from_name, reply_to, in_reply_to, "references", headers, auto_submitted, dedupe_key)
  values (${sql.placeholder('id')}::uuid, ${sql.placeholder('kind')}::text, ${sql.placeholder('toAddress')}::text,
    ${sql.placeholder('personId')}::uuid, ${sql.placeholder('postId')}::uuid, ${sql.placeholder('commentId')}::uuid,
    ${sql.placeholder('messageId')}::text, ${sql.placeholder('subject')}::text, ${sql.placeholder('textBody')}::text, ${sql.placeholder('htmlBody')}::text,
    ${sql.placeholder('fromName')}::text, ${sql.placeholder('replyTo')}::text, ${sql.placeholder('inReplyTo')}::text,
    ${sql.placeholder('references')}::jsonb, ${sql.placeholder('headers')}::jsonb, ${sql.placeholder('autoSubmitted')}::text, ${sql.placeholder('dedupeKey')}::text)
  on conflict (dedupe_key) do nothing`;
const writeRowStatement = preparedSql<{ id: string }>('blend_write_outbound', () => sql`${insertOutboundRow()} returning id`);
const writeThreadedStatement = preparedSql<{ id: string }>(
  'blend_write_outbound_threaded',
  () => sql`
    with written as (${insertOutboundRow()} returning id, message_id, post_id, comment_id)
    , mapped as (
      insert into ${messageRefs} (message_id, post_id, comment_id)
      select message_id, post_id, comment_id from written
      on conflict (message_id) do nothing
    )
    select id from written`,
);

/**
 * {@link writeOutboundMail} for a batch (the digests of a run, the mail of a notification
 * sweep's round), in one statement whatever its size; the Message-IDs of its `threaded` mails
 * mapped to their threads in the same statement, as {@link writeOutboundMail} does.
 * @returns the ids of the rows written (a row whose key was used before is not).
 */
export async function writeOutboundMails(tx: Tx, addressing: Addressing, mails: { id: string; mail: OutboundMail }[]): Promise<string[]> {
  const rows = mails.map((m) => outboundRow(m.mail, m.id, addressing));
  const threaded = mails.filter((m) => m.mail.threaded && m.mail.postId).map((m) => m.id);
  return threaded.length === 0 ? addOutbounds(tx, rows) : addOutbounds(tx, rows, threaded);
}

/**
 * Insert an outbox row as it is (in the caller's transaction); Blend's own mail goes through
 * {@link writeOutboundMail}. A `dedupeKey` that was used
 * before makes this a no-op: "at most one notice per person per week" is a key.
 * @returns the new row's id, or null when the key was already used.
 */
export async function addOutbound(tx: Tx, values: NewOutbound): Promise<string | null> {
  const rows = await insertOutbound(tx, values).returning({ id: outboundMessages.id });
  return rows[0]?.id ?? null;
}

/** The insert of one outbox row; a used `dedupeKey` makes it write nothing. */
const insertOutbound = (tx: Tx, values: NewOutbound) => tx.insert(outboundMessages).values(values).onConflictDoNothing({ target: outboundMessages.dedupeKey });

/**
 * Write many mails to the outbox (a batch of digests) in one statement whatever their number:
 * each column is one array parameter, spread into rows by `unnest`. Rows whose `dedupeKey`
 * was used before are skipped, as with {@link addOutbound}.
 * @returns the ids of the rows written.
 */
export async function addOutbounds(tx: Tx, rows: (NewOutbound & { id: string })[], threadedIds?: string[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const col = <T>(f: (r: NewOutbound & { id: string }) => T) => rows.map(f);
  const statement = threadedIds ? addThreadedOutboundsStatement : addOutboundsStatement;
  const res = await statement(tx, {
    ...(threadedIds ? { threadedIds } : {}),
    id: col((r) => r.id), kind: col((r) => r.kind), toAddress: col((r) => r.toAddress),
    personId: col((r) => r.personId ?? null), postId: col((r) => r.postId ?? null), commentId: col((r) => r.commentId ?? null),
    messageId: col((r) => r.messageId), subject: col((r) => r.subject), textBody: col((r) => r.textBody), htmlBody: col((r) => r.htmlBody ?? null),
    fromName: col((r) => r.fromName ?? null), replyTo: col((r) => r.replyTo ?? null), inReplyTo: col((r) => r.inReplyTo ?? null),
    refs: col((r) => JSON.stringify(r.references ?? [])), headers: col((r) => JSON.stringify(r.headers ?? {})),
    autoSubmitted: col((r) => r.autoSubmitted ?? 'auto-generated'), dedupeKey: col((r) => r.dedupeKey ?? null),
  });
  return res.rows.map((r) => r.id);
}

/** {@link addOutbounds}' statement: the same text whatever the batch's size (one array a column), so built once and named. */
const addOutboundsStatement = preparedSql<{ id: string }>('blend_add_outbounds', () => sql`${insertOutboundRows()} returning id`);

/** {@link addOutbounds} with the Message-IDs of the rows `threadedIds` (those written) mapped to their threads. */
const addThreadedOutboundsStatement = preparedSql<{ id: string }>(
  'blend_add_threaded_outbounds',
  () => sql`
    with written as (${insertOutboundRows()} returning id, message_id, post_id, comment_id)
    , mapped as (
      insert into ${messageRefs} (message_id, post_id, comment_id)
      select message_id, post_id, comment_id from written
      where id = any(${sql.placeholder('threadedIds')}::uuid[]) and post_id is not null
      on conflict (message_id) do nothing
    )
    select id from written`,
);

/** The insert of {@link addOutbounds}: one array parameter a column, spread into rows by `unnest`; a used `dedupeKey` writes nothing. */
const insertOutboundRows = () => {
  const p = (name: string, type: string) => sql`${sql.placeholder(name)}::${sql.raw(type)}[]`;
  return sql`
    insert into ${outboundMessages} (id, kind, to_address, person_id, post_id, comment_id, message_id, subject, text_body, html_body,
      from_name, reply_to, in_reply_to, "references", headers, auto_submitted, dedupe_key)
    select u.id, u.kind, u.to_address, u.person_id, u.post_id, u.comment_id, u.message_id, u.subject, u.text_body, u.html_body,
      u.from_name, u.reply_to, u.in_reply_to, u.refs::jsonb, u.headers::jsonb, u.auto_submitted, u.dedupe_key
    from unnest(${p('id', 'uuid')}, ${p('kind', 'text')}, ${p('toAddress', 'text')},
      ${p('personId', 'uuid')}, ${p('postId', 'uuid')}, ${p('commentId', 'uuid')},
      ${p('messageId', 'text')}, ${p('subject', 'text')}, ${p('textBody', 'text')}, ${p('htmlBody', 'text')},
      ${p('fromName', 'text')}, ${p('replyTo', 'text')}, ${p('inReplyTo', 'text')},
      ${p('refs', 'text')}, ${p('headers', 'text')}, ${p('autoSubmitted', 'text')}, ${p('dedupeKey', 'text')})
      as u(id, kind, to_address, person_id, post_id, comment_id, message_id, subject, text_body, html_body,
        from_name, reply_to, in_reply_to, refs, headers, auto_submitted, dedupe_key)
    on conflict (dedupe_key) do nothing`;
};

export async function getOutbound(db: Tx, id: string): Promise<OutboundRow | undefined> {
  return db.query.outboundMessages.findFirst({ where: eq(outboundMessages.id, id) });
}

export async function finishOutbound(
  db: Tx,
  id: string,
  outcome: { state: 'sent' | 'failed' | 'bounced' | 'cancelled'; error?: string | null },
): Promise<void> {
  await prepared(db, finishStatements, prepareFinish).execute({ id, state: outcome.state, error: outcome.error ?? null });
}

/**
 * A statement run for every mail sent is built once per database handle and prepared by
 * name on each connection: drizzle's query building and Postgres' parse and plan are paid
 * once, not per mail (about 0.2 ms of CPU each in the digest benchmark).
 */
function prepared<T>(db: Tx, cache: WeakMap<Tx, T>, build: (db: Tx) => T): T {
  let statement = cache.get(db);
  if (!statement) {
    statement = build(db);
    cache.set(db, statement);
  }
  return statement;
}

const prepareFinish = (db: Tx) =>
  db
    .update(outboundMessages)
    .set({
      state: sql`${sql.placeholder('state')}::outbound_state`,
      lastError: sql`${sql.placeholder('error')}::text`,
      claimedUntil: null,
      sentAt: sql`case when ${sql.placeholder('state')}::text = 'sent' then now() else ${outboundMessages.sentAt} end`,
    })
    .where(eq(outboundMessages.id, sql.placeholder('id')))
    .prepare('blend_finish_outbound');
const finishStatements = new WeakMap<Tx, ReturnType<typeof prepareFinish>>();

/** An outcome {@link settleOutbounds} writes on a row: `sent`, or `cancelled` with why. */
export interface OutboundSettlement {
  id: string;
  state: 'sent' | 'cancelled';
  error?: string | null;
}

/**
 * Write the outcomes of many rows in one statement (a batch of sends: the mails its SMTP server
 * accepted, `sent`, and those cancelled at send time, with why), so a batch's outcomes cost one
 * statement and one commit whatever its size. Each row's claim is freed, as
 * {@link finishOutbound} frees it.
 */
export async function settleOutbounds(db: Tx, rows: OutboundSettlement[]): Promise<void> {
  if (rows.length === 0) return;
  await settleStatement(db, { ids: rows.map((r) => r.id), states: rows.map((r) => r.state), errors: rows.map((r) => r.error ?? null) });
}

/** {@link settleOutbounds}' statement: one array a column, the same text whatever the batch's size, so built once and named. */
const settleStatement = preparedSql<Record<string, never>>(
  'blend_settle_outbounds',
  () => sql`
    update ${outboundMessages} o
    set state = v.state::outbound_state, last_error = v.error, claimed_until = null,
      sent_at = case when v.state = 'sent' then now() else o.sent_at end
    from unnest(${sql.placeholder('ids')}::uuid[], ${sql.placeholder('states')}::text[], ${sql.placeholder('errors')}::text[]) as v(id, state, error)
    where o.id = v.id`,
);


/**
 * Mail that carries a person's words: a mirrored comment, its correction, an activity
 * notification and the notice that a thread is mirrored. Their content must not leave after
 * it was withdrawn.
 */
export const CONTENT_MAIL_KINDS = ['mirror', 'correction', 'notification', 'thread_notice'] as const;

/** Why a claimed row must not be sent any more (checked in the claim, on the database's state at send time). */
export type OutboundVoidReason = 'retracted' | 'author_opted_out';

/**
 * Claim a pending row for one send attempt (until `now + ms`, on the database clock), and
 * say whether its address is paused after bounces and whether its content was withdrawn
 * since it was written (`voidReason`: the comment or post it carries was retracted, or the
 * comment's author opted out; docs/SECURITY.md F29), and whether it is a mirror whose comment
 * has stored files to carry (`hasFiles`: mail without any skips the files read): one round
 * trip. A second run of the same job (a stalled job taken over while the first still talks to
 * the SMTP server) gets nothing and retries later.
 * @returns the row, or undefined when it is not pending or another attempt holds it.
 */
export async function claimOutbound(
  db: Tx,
  id: string,
  ms: number,
): Promise<ClaimedOutbound | undefined> {
  const rows = await prepared(db, claimStatements, prepareClaim).execute({ id, ms });
  return rows[0];
}

export type ClaimedOutbound = OutboundRow & {
  paused: boolean;
  voidReason: OutboundVoidReason | null;
  hasFiles: boolean;
  /** The bytes of those files together (0 when none), so the sender can weigh the mail before it reads them. */
  filesBytes: number;
};

/**
 * {@link claimOutbound} for many rows in one statement (a batch of sends): the rows of `ids`
 * that are pending and not held by another attempt, in the order of `ids`.
 */
export async function claimOutbounds(db: Tx, ids: string[], ms: number): Promise<ClaimedOutbound[]> {
  if (ids.length === 0) return [];
  const rows = await prepared(db, claimManyStatements, prepareClaimMany).execute({ ids: `{${ids.join(',')}}`, ms });
  const order = new Map(ids.map((id, i) => [id, i]));
  return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

/** The claim of {@link claimOutbound}, of the rows `which` picks. */
const claimStatement = (db: Tx, which: SQL) =>
  db
    .update(outboundMessages)
    .set({ claimedUntil: sql`now() + ${sql.placeholder('ms')}::int * interval '1 millisecond'` })
    .where(
      and(
        which,
        eq(outboundMessages.state, 'pending'),
        sql`(${outboundMessages.claimedUntil} is null or ${outboundMessages.claimedUntil} < now())`,
      ),
    )
    .returning({
      ...getTableColumns(outboundMessages),
      paused: sql<boolean>`exists (select 1 from ${people} where ${people.email} = ${outboundMessages.toAddress} and ${people.mailPausedAt} is not null)`,
      // Written out with table names: in an UPDATE's RETURNING, drizzle leaves columns unqualified.
      // Withdrawn after the row was written: a notice written after the retraction (a mirror's
      // "deleted" correction) is that retraction's own news and goes out.
      voidReason: sql<OutboundVoidReason | null>`case
        when outbound_messages.comment_id is not null
          and not exists (select 1 from comments c where c.id = outbound_messages.comment_id
            and (c.deleted_at is null or c.deleted_at <= outbound_messages.created_at))
          then 'retracted'
        when outbound_messages.post_id is not null
          and outbound_messages.kind in (${sql.raw(CONTENT_MAIL_KINDS.map((k) => `'${k}'`).join(', '))})
          and exists (select 1 from posts p where p.id = outbound_messages.post_id and p.deleted_at > outbound_messages.created_at)
          then 'retracted'
        when exists (select 1 from comments c join people a on a.id = c.author_id
          where c.id = outbound_messages.comment_id and a.opt_in = 'opted_out' and a.opt_in_changed_at > outbound_messages.created_at)
          then 'author_opted_out'
        else null end`,
      // The files `filesForMail` reads for a mirror: a comment's, with their content stored.
      hasFiles: sql<boolean>`(outbound_messages.kind = 'mirror' and exists (select 1 from attachments f
        where f.post_id = outbound_messages.post_id and f.comment_id = outbound_messages.comment_id and f.sha256 is not null))`,
      filesBytes: sql<number>`(case when outbound_messages.kind = 'mirror' then (select coalesce(sum(f.size), 0) from attachments f
        where f.post_id = outbound_messages.post_id and f.comment_id = outbound_messages.comment_id and f.sha256 is not null) else 0 end)`.mapWith(Number),
    });
const prepareClaim = (db: Tx) => claimStatement(db, eq(outboundMessages.id, sql.placeholder('id'))).prepare('blend_claim_outbound');
const claimStatements = new WeakMap<Tx, ReturnType<typeof prepareClaim>>();
const prepareClaimMany = (db: Tx) =>
  claimStatement(db, sql`${outboundMessages.id} = any(${sql.placeholder('ids')}::uuid[])`).prepare('blend_claim_outbounds');
const claimManyStatements = new WeakMap<Tx, ReturnType<typeof prepareClaimMany>>();

/** A row's state only (why a claim found nothing). */
export async function outboundState(db: Tx, id: string): Promise<string | undefined> {
  const rows = await db.select({ state: outboundMessages.state }).from(outboundMessages).where(eq(outboundMessages.id, id)).limit(1);
  return rows[0]?.state;
}

export async function countOutboundAttempt(db: Tx, id: string, error: string): Promise<void> {
  await db
    .update(outboundMessages)
    .set({ attempts: sql`${outboundMessages.attempts} + 1`, lastError: error.slice(0, 500), claimedUntil: null })
    .where(eq(outboundMessages.id, id));
}

/**
 * The outbox row that sent the mail with this Message-ID (normalised, without angle brackets),
 * for a bounce whose envelope address lost our VERP token. `message_id` is unique.
 */
export async function outboundIdByMessageId(db: Tx, messageId: string): Promise<string | undefined> {
  const rows = await outboundIdByMessageIdStatement(db, { messageId });
  return rows[0]?.id;
}

/** {@link outboundIdByMessageId}'s statement, in the ingest transaction of every bounce: built once, named. */
const outboundIdByMessageIdStatement = preparedQuery('blend_outbound_by_message_id', (tx) =>
  tx.select({ id: outboundMessages.id }).from(outboundMessages).where(eq(outboundMessages.messageId, sql.placeholder('messageId'))).limit(1),
);

/** Pending outbox rows older than `olderThan`, for the reconciler. */
export async function pendingOutbound(db: Tx, olderThan: Date, limit = 1000): Promise<{ id: string }[]> {
  return db
    .select({ id: outboundMessages.id })
    .from(outboundMessages)
    .where(and(eq(outboundMessages.state, 'pending'), lte(outboundMessages.createdAt, olderThan)))
    .orderBy(asc(outboundMessages.createdAt))
    .limit(limit);
}

/** Whether mail to this address is paused after repeated hard bounces. */
export async function isMailPaused(db: Tx, address: string): Promise<boolean> {
  const rows = await db
    .select({ paused: people.mailPausedAt })
    .from(people)
    .where(eq(people.email, address.toLowerCase()))
    .limit(1);
  return Boolean(rows[0]?.paused);
}

/**
 * Record a bounce of one of our mails (found by its VERP token). After `pauseAfter` hard
 * bounces to the same address, mail to it is paused (Mailman uses 5; docs/SECURITY.md F20).
 * @returns whether the address is now paused.
 */
export async function recordBounce(tx: Tx, outboundId: string, hard: boolean, detail: string, pauseAfter = 3): Promise<boolean> {
  // A delay notice (4.x.x) only says the MTA is still trying: the row stays as it is (sent),
  // so the mail is not sent a second time.
  const rows = await tx
    .update(outboundMessages)
    .set(hard ? { state: 'bounced', lastError: detail.slice(0, 500) } : { lastError: detail.slice(0, 500) })
    .where(eq(outboundMessages.id, outboundId))
    .returning({ to: outboundMessages.toAddress });
  const to = rows[0]?.to;
  if (!to || !hard) return false;
  const bounced = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(outboundMessages)
    .where(and(eq(outboundMessages.toAddress, to), eq(outboundMessages.state, 'bounced')));
  if ((bounced[0]?.n ?? 0) < pauseAfter) return false;
  await tx.update(people).set({ mailPausedAt: new Date() }).where(and(eq(people.email, to), sql`${people.mailPausedAt} is null`));
  return true;
}
