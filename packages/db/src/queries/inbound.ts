import { and, asc, eq, getTableColumns, gte, inArray, isNull, lte, ne, sql, type SQL } from 'drizzle-orm';
import type { Database, Tx } from '../client';
import { auditLog, inboundMessages, mailboxCheckpoints, people } from '../schema';
import type { Person } from './people';
import { preparedQuery, preparedSql } from './raw-statement';

export type InboundRow = typeof inboundMessages.$inferSelect;
export type InboundState = InboundRow['state'];

export interface FetchedMessage {
  uid: number;
  size: number;
  /** Null when the message was not downloaded (over the size cap). */
  raw: Buffer | null;
  /** Normalised Message-ID from the IMAP ENVELOPE, if any. */
  messageId?: string | null;
  internalDate: Date | null;
  /** Set when the poller already knows the outcome (e.g. `too_large`). */
  rejectReason?: string;
}

export interface Checkpoint {
  uidValidity: number;
  lastUid: number;
  /** Times the cursor was moved back by IT; see {@link rewindCheckpoint}. */
  rewinds: number;
}

export async function getCheckpoint(db: Tx, mailbox: string): Promise<Checkpoint | undefined> {
  const [row] = await checkpointStatement(db, { mailbox });
  return row;
}

/** {@link getCheckpoint}'s statement: read at each sync of the poller's, so built once and named. */
const checkpointStatement = preparedQuery('blend_checkpoint', (tx) =>
  tx
    .select({ uidValidity: mailboxCheckpoints.uidValidity, lastUid: mailboxCheckpoints.lastUid, rewinds: mailboxCheckpoints.rewinds })
    .from(mailboxCheckpoints)
    .where(eq(mailboxCheckpoints.mailbox, sql.placeholder('mailbox')))
    .limit(1),
);

/**
 * The checkpoint is not where the poller's guarded store expected it (see {@link storeFetched}):
 * the store was rolled back, and the poller reads the checkpoint and lists the mailbox again.
 */
export class CheckpointMovedError extends Error {
  constructor(mailbox: string) {
    super(`the checkpoint of ${mailbox} is not where the poller left it`);
    this.name = 'CheckpointMovedError';
  }
}

/**
 * Store fetched messages and advance the checkpoint in ONE transaction, so the cursor
 * never passes a UID that has no row (docs/SECURITY.md I1). Re-storing a UID is a no-op.
 * `rewinds` is the checkpoint's count the poller read before fetching: if IT moved the
 * cursor back since, the messages are stored but the cursor is left where IT put it (a store
 * without `guard`; a guarded one keeps nothing).
 * `checkpointTo`: `false` stores without moving the cursor (mail taken ahead of a catch-up,
 * above UIDs that have no row yet); a UID moves it at least that far, for a caller that knows
 * every UID up to it has a row (stored now or taken ahead before). By default the cursor goes
 * to the highest UID stored.
 * A store of messages commits without waiting for its WAL flush (`synchronous_commit` off for
 * its transaction alone): a Postgres crash loses its rows and cursor together with everything
 * committed after it, and the poller fetches those UIDs again (docs/ARCHITECTURE.md, "Processes
 * and the flow"; a store of mail taken ahead included, by `guard.passing`).
 * `guard` (the poller's): `from`, the UID the caller listed from, so the cursor must stand at
 * `from - 1` or above under this UIDVALIDITY and rewind count; `passing`, UIDs the cursor moves
 * over that an earlier store (mail taken ahead) was to have written, so each must have a row.
 * Otherwise the store throws {@link CheckpointMovedError} and nothing of it is kept.
 * @returns ids of the rows that still need an ingest job (new or unfinished).
 */
export async function storeFetched(
  db: Database,
  mailbox: string,
  uidValidity: number,
  messages: FetchedMessage[],
  rewinds = 0,
  checkpointTo?: number | false,
  guard?: { from: number; passing?: number[] },
): Promise<{ id: string; uid: number }[]> {
  const cursor = checkpointTo === false ? null : Math.max(checkpointTo ?? 0, ...messages.map((m) => m.uid));
  if (messages.length === 0 && !cursor) return [];
  return db.transaction(async (tx) => {
    const passing = guard?.passing ?? [];
    if (passing.length > 0) {
      const [had] = await tx
        .select({ n: sql<number>`count(*)::int` })
        .from(inboundMessages)
        .where(and(eq(inboundMessages.mailbox, mailbox), eq(inboundMessages.uidValidity, uidValidity), inArray(inboundMessages.uid, passing)));
      if (had!.n < new Set(passing).size) throw new CheckpointMovedError(mailbox);
    }
    // The rows and the ids of those that need a job, in one statement (see storeStatement).
    const stored = messages.length === 0 ? [] : (await storeStatement(messages.length)(tx, storeValues(mailbox, uidValidity, messages))).rows;
    if (cursor) await tx
      .insert(mailboxCheckpoints)
      .values({ mailbox, uidValidity, lastUid: cursor })
      .onConflictDoUpdate({
        target: mailboxCheckpoints.mailbox,
        set: {
          uidValidity,
          // A new UIDVALIDITY restarts the cursor; otherwise it only moves forward.
          lastUid: sql`case when ${mailboxCheckpoints.uidValidity} = ${uidValidity} then greatest(${mailboxCheckpoints.lastUid}, ${cursor}) else ${cursor} end`,
          updatedAt: new Date(),
        },
        setWhere: guard
          ? and(eq(mailboxCheckpoints.rewinds, rewinds), eq(mailboxCheckpoints.uidValidity, uidValidity), gte(mailboxCheckpoints.lastUid, guard.from - 1))
          : eq(mailboxCheckpoints.rewinds, rewinds),
      })
      .returning({ inserted: sql<boolean>`xmax = 0` })
      .then(([row]) => {
        // Not moved (IT rewound it, a new UIDVALIDITY, a lost commit), or written afresh above UIDs with no row.
        if (guard && (!row || (row.inserted && guard.from > 1))) throw new CheckpointMovedError(mailbox);
      });
    return stored.map((r) => ({ id: r.id, uid: Number(r.uid) }));
  });
}

/** The values of {@link storeStatement}'s placeholders for these messages. */
function storeValues(mailbox: string, uidValidity: number, messages: FetchedMessage[]): Record<string, unknown> {
  const values: Record<string, unknown> = { mailbox, uidValidity };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    values[`uid${i}`] = m.uid;
    values[`size${i}`] = m.size;
    values[`raw${i}`] = m.raw;
    values[`messageId${i}`] = m.messageId ?? null;
    values[`internalDate${i}`] = m.internalDate;
    values[`reason${i}`] = m.rejectReason ?? null;
  }
  return values;
}

const storeStatements = new Map<number, ReturnType<typeof prepareStore>>();

/**
 * {@link storeFetched}'s statement for a batch of `n` messages, built once per size and named: the
 * rows inserted (a UID stored before is left as it is), then the ids of the batch's rows still
 * `received`, those inserted now (from the insert's `returning`) and those stored before (the
 * statement's snapshot holds none of the new rows), each read with the relaxed commit. One
 * statement where drizzle built an insert and a select per batch, their text anew each time.
 */
function storeStatement(n: number): ReturnType<typeof prepareStore> {
  let statement = storeStatements.get(n);
  if (!statement) storeStatements.set(n, (statement = prepareStore(n)));
  return statement;
}

const prepareStore = (n: number) =>
  preparedSql<{ id: string; uid: string }>(`blend_store_fetched_${n}`, () => {
    const p = (name: string) => sql.placeholder(name);
    const rows = Array.from(
      { length: n },
      (_, i) => sql`(${p(`uid${i}`)}::bigint, ${p(`size${i}`)}::int, ${p(`raw${i}`)}::bytea, ${p(`messageId${i}`)}::text, ${p(`internalDate${i}`)}::timestamptz, ${p(`reason${i}`)}::text)`,
    );
    return sql`with batch (uid, size, raw, message_id, internal_date, reason) as (values ${sql.join(rows, sql`, `)}),
      added as (
        insert into ${inboundMessages} (mailbox, uid_validity, uid, size, raw, message_id, internal_date, state, reason, processed_at)
        select ${p('mailbox')}::text, ${p('uidValidity')}::bigint, uid, size, raw, message_id, internal_date,
          (case when reason is null then 'received' else 'rejected' end)::inbound_state, reason, case when reason is null then null else now() end
        from batch
        on conflict (mailbox, uid_validity, uid) do nothing
        returning id, uid, state
      )
      select id, uid, ${relaxedCommit} as relaxed from added where state = 'received'
      union all
      select m.id, m.uid, ${relaxedCommit} from ${inboundMessages} m join batch b on m.uid = b.uid
        where m.mailbox = ${p('mailbox')}::text and m.uid_validity = ${p('uidValidity')}::bigint and m.state = 'received'`;
  });

/**
 * Move the cursor back to `lastUid` (IT's `blend mailbox backfill`) in one statement, and
 * count the rewind, so a poller's batch in flight cannot move it forward again.
 */
export async function rewindCheckpoint(db: Tx, mailbox: string, uidValidity: number, lastUid: number): Promise<Checkpoint> {
  const [row] = await db
    .insert(mailboxCheckpoints)
    .values({ mailbox, uidValidity, lastUid, rewinds: 1 })
    .onConflictDoUpdate({ target: mailboxCheckpoints.mailbox, set: { uidValidity, lastUid, rewinds: sql`${mailboxCheckpoints.rewinds} + 1`, updatedAt: new Date() } })
    .returning();
  return { uidValidity: row!.uidValidity, lastUid: row!.lastUid, rewinds: row!.rewinds };
}

/** Record that the mailbox has a new UIDVALIDITY with nothing fetched yet. */
export async function resetCheckpoint(db: Tx, mailbox: string, uidValidity: number): Promise<void> {
  await db
    .insert(mailboxCheckpoints)
    .values({ mailbox, uidValidity, lastUid: 0 })
    .onConflictDoUpdate({ target: mailboxCheckpoints.mailbox, set: { uidValidity, lastUid: 0, updatedAt: new Date() } });
}

/**
 * Rows of a mailbox whose ingest has committed but whose IMAP message has not been flagged,
 * moved or deleted yet. `hasRaw` says whether Postgres holds the source (not for
 * `too_large`), so the poller never expunges the only copy of a message. A `held` row is not
 * done: its message stays in the mailbox, untouched, until the hold ends.
 */
export async function unmarkedDone(db: Tx, mailbox: string, uidValidity: number, limit = 500): Promise<{ id: string; uid: number; hasRaw: boolean }[]> {
  return unmarkedDoneStatement(db, { mailbox, uidValidity, limit });
}

/** {@link unmarkedDone}'s statement: the poller's, every few seconds, so built once and named. */
const unmarkedDoneStatement = preparedQuery('blend_unmarked_done', (tx) =>
  tx
    .select({ id: inboundMessages.id, uid: inboundMessages.uid, hasRaw: sql<boolean>`${inboundMessages.raw} is not null` })
    .from(inboundMessages)
    .where(
      and(
        eq(inboundMessages.mailbox, sql.placeholder('mailbox')),
        eq(inboundMessages.uidValidity, sql.placeholder('uidValidity')),
        ne(inboundMessages.state, 'received'),
        ne(inboundMessages.state, 'failed'),
        ne(inboundMessages.state, 'held'),
        isNull(inboundMessages.imapMarkedAt),
      ),
    )
    .orderBy(asc(inboundMessages.uid))
    .limit(sql.placeholder('limit')),
);

/**
 * Record that these rows were finished in IMAP: one statement with the ids as one array value,
 * built once and named, where drizzle wrote a placeholder per id (up to {@link unmarkedDone}'s 500).
 */
export async function markImapDone(db: Tx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await markImapDoneStatement(db, { ids });
}

const markImapDoneStatement = preparedQuery('blend_mark_imap_done', (tx) =>
  tx
    .update(inboundMessages)
    .set({ imapMarkedAt: sql`statement_timestamp()` })
    .where(sql`${inboundMessages.id} = any(${sql.placeholder('ids')}::uuid[])`),
);

/** Unfinished rows for the reconciler: every `received` row older than `olderThan`. */
export async function unfinishedInbound(db: Tx, olderThan: Date, limit = 1000): Promise<{ id: string }[]> {
  return db
    .select({ id: inboundMessages.id })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.state, 'received'), lte(inboundMessages.receivedAt, olderThan)))
    .orderBy(asc(inboundMessages.receivedAt))
    .limit(limit);
}

/** Lock an inbound row for the rest of the transaction (one ingest at a time per row). */
/** An inbound row without its raw source (which can be megabytes), and whether it still has one. */
export type LockedInbound = Omit<InboundRow, 'raw'> & { hasRaw: boolean };

const { raw: _raw, ...withoutRaw } = getTableColumns(inboundMessages);

/**
 * Lock an inbound row for the rest of the transaction (one ingest at a time per row). The
 * raw source is not read again here: callers that ingest mail already have it.
 */
export async function lockInbound(tx: Tx, id: string): Promise<LockedInbound | undefined> {
  const rows = await lockInboundStatement(tx, { id });
  return rows[0];
}

/**
 * {@link lockInbound} after the transaction lock on a mail's dedupe key (what `lockDedupeKey`
 * takes), in one statement: the key's lock first, then the row's. A row updated by an ingest
 * that held the key's lock comes back as that ingest committed it (a locking read follows the
 * row to its latest version). The statements after it see what committed before the key's lock
 * was granted, as after `lockDedupeKey`.
 * The known person with the mail's From address (`email`) comes along, read (not locked) in
 * the same statement: the decide stage needs it next, and it saves a statement a mail.
 * @returns the database clock as the statement started (as `lockDedupeKey` gives it), the
 *   row, and the sender; nothing is locked when the row is missing.
 */
export async function lockInboundForIngest(tx: Tx, id: string, dedupeKey: string, email: string | null = null): Promise<{ now: Date; row: LockedInbound; person: Person | null } | undefined> {
  const [r] = await lockForIngestStatement(tx, { id, dedupeKey, email: email?.toLowerCase() ?? null });
  if (!r) return undefined;
  const { now, locked: _locked, person, ...row } = r;
  return { now: new Date(String(now)), row, person: person ?? null };
}

const lockForIngestStatement = preparedQuery('blend_lock_inbound_for_ingest', (tx) =>
  tx
    .select({
      now: sql<string>`statement_timestamp()`,
      locked: sql<unknown>`pg_advisory_xact_lock(hashtextextended(${sql.placeholder('dedupeKey')}, 0))`,
      ...withoutRaw,
      hasRaw: sql<boolean>`${inboundMessages.raw} is not null`,
      person: getTableColumns(people),
    })
    .from(inboundMessages)
    .leftJoin(people, eq(people.email, sql.placeholder('email')))
    .where(eq(inboundMessages.id, sql.placeholder('id')))
    .for('update', { of: inboundMessages })
    .limit(1),
);

/** {@link lockInbound}'s statement: once per ingested mail, so built once and named. */
const lockInboundStatement = preparedQuery('blend_lock_inbound', (tx) =>
  tx
    .select({ ...withoutRaw, hasRaw: sql<boolean>`${inboundMessages.raw} is not null` })
    .from(inboundMessages)
    .where(eq(inboundMessages.id, sql.placeholder('id')))
    .for('update')
    .limit(1),
);

/**
 * Raw sources up to this size are read in one statement; larger ones in slices ({@link READ_SLICE_BYTES}). Postgres
 * sends bytea as hex text, which the driver collects and decodes, so one 13 MB message read
 * at once passes through about 60 MB of buffers and strings on its way to a 13 MB Buffer
 * (slices are read as base64 instead: {@link readInSlices}).
 */
export const RAW_SLICE_BYTES = 2 * 1024 * 1024;

/**
 * The bytes {@link readInSlices} reads a statement. The driver collects a row longer than one
 * read from the socket (64 KiB) in a buffer it doubles as the row arrives (128 KiB, 256 KiB, …
 * up to twice the row), and those buffers and the row's text stay until V8 next collects them:
 * in 512 KiB slices (about 700 KB of text a row, buffers up to 1 MiB) reading a 13 MB source
 * left 20-30 MiB behind it, often past the mail's parsing. A slice of 64 KiB is one buffer of
 * 128 KiB and a text small enough for V8's young generation, which die in the next minor
 * collection: about 5-10 MiB, for some 200 statements a 13 MB source instead of 26 (tens of ms
 * on a mail this rare; docs/ARCHITECTURE.md, "Ingest, one mail at a time").
 */
export const READ_SLICE_BYTES = 64 * 1024;

/**
 * A bytea value of `bytes` read slice by slice ({@link READ_SLICE_BYTES}): `slice` is the
 * statement that returns the part from byte `from` (1-based, as SQL's substring) of `count`
 * bytes as `part`. Null when the value was gone before a slice (purged or erased meanwhile).
 * `shared`: the Buffer is over a SharedArrayBuffer, so a worker thread given it reads the same
 * memory instead of a copy (a mail source handed to a parse thread).
 */
export async function readInSlices(db: Tx, bytes: number, slice: (from: number, count: number) => SQL, opts: { shared?: boolean } = {}): Promise<Buffer | null> {
  const out = opts.shared ? Buffer.from(new SharedArrayBuffer(bytes)) : Buffer.allocUnsafe(bytes);
  for (let at = 0; at < bytes; at += READ_SLICE_BYTES) {
    // As base64 text rather than bytea's hex: a third less text through the driver, decoded
    // straight into `out`. (node-postgres reads every column of a row as UTF-8 text, so bytea
    // cannot come as binary.)
    const part = (await db.execute<{ part: string | null }>(sql`select encode(s.part, 'base64') as part from (${slice(at + 1, READ_SLICE_BYTES)}) s`)).rows[0]?.part;
    if (part === null || part === undefined) return null;
    const want = Math.min(READ_SLICE_BYTES, bytes - at);
    if (out.write(part, at, want, 'base64') !== want) return null;
  }
  return out;
}

/**
 * An inbound row with its raw source (null once purged). `shared`: a source of more than one
 * slice is read into shared memory ({@link readInSlices}), for ingest, which hands it to a parse thread.
 */
export async function getInbound(db: Tx, id: string, opts: { shared?: boolean } = {}): Promise<InboundRow | undefined> {
  // A source of up to one slice comes with the row, in the same statement.
  const [head] = await db
    .select({
      ...withoutRaw,
      rawBytes: sql<number | null>`octet_length(${inboundMessages.raw})`.mapWith(Number),
      smallRaw: sql<Buffer | null>`case when octet_length(${inboundMessages.raw}) <= ${RAW_SLICE_BYTES} then ${inboundMessages.raw} end`,
    })
    .from(inboundMessages)
    .where(eq(inboundMessages.id, id));
  if (!head) return undefined;
  const { rawBytes, smallRaw, ...row } = head;
  if (rawBytes === null || Number.isNaN(rawBytes)) return { ...row, raw: null };
  if (rawBytes <= RAW_SLICE_BYTES) return { ...row, raw: smallRaw };
  const raw = await readInSlices(db, rawBytes, (from, count) =>
    sql`select substring(${inboundMessages.raw} from ${from} for ${count}) as part from ${inboundMessages} where ${inboundMessages.id} = ${id}`,
    opts,
  );
  return { ...row, raw };
}

/**
 * Sources up to this size come with {@link startIngestAttempt}, before the worker takes the
 * mail's share of its memory budget: a few concurrent ingests hold at most this much each
 * outside the budget, and a typical mail needs no second read.
 */
export const INLINE_RAW_BYTES = 256 * 1024;

/** A counted ingest attempt: the row's size, the attempts so far, and the row itself when its source was small enough to come along. */
export interface IngestAttempt {
  size: number;
  attempts: number;
  /** The whole row (raw included, null when purged) when the source is at most {@link INLINE_RAW_BYTES}; else read it with {@link getInbound}. */
  row?: InboundRow;
}

/**
 * Read in the `returning` of the statements that count a try: the statement's own transaction
 * then commits without waiting for its WAL to reach the disk (`synchronous_commit` off for that
 * transaction alone). The count survives a crash of the worker, which is what it is for; only a
 * crash of Postgres itself within the WAL writer's delay can lose it, and then the mail is tried
 * once more. The ingest's transaction, which the IMAP flag waits for, still commits
 * synchronously, and its flush carries the count along (docs/ARCHITECTURE.md, "Ingest, one mail
 * at a time").
 */
const relaxedCommit = sql<string>`set_config('synchronous_commit', 'off', true)`;

const startAttemptStatements = new WeakMap<Database, ReturnType<typeof prepareStartAttempt>>();
const prepareStartAttempt = (db: Database) =>
  db
    .update(inboundMessages)
    .set({ attempts: sql`${inboundMessages.attempts} + 1` })
    .where(and(eq(inboundMessages.id, sql.placeholder('id')), eq(inboundMessages.state, 'received')))
    .returning({
      ...withoutRaw,
      rawBytes: sql<number | null>`octet_length(${inboundMessages.raw})`.mapWith(Number),
      smallRaw: sql<Buffer | null>`case when octet_length(${inboundMessages.raw}) <= ${sql.raw(String(INLINE_RAW_BYTES))} then ${inboundMessages.raw} end`,
      relaxed: relaxedCommit,
    })
    .prepare('blend_start_ingest_attempt');
/** Built once per database handle, and a named statement, so each connection parses and plans it once: it runs once per mail. */
function startAttemptStatement(db: Database): ReturnType<typeof prepareStartAttempt> {
  let s = startAttemptStatements.get(db);
  if (!s) startAttemptStatements.set(db, (s = prepareStartAttempt(db)));
  return s;
}

/**
 * Count one more ingest of a `received` row, committed on its own before the mail is parsed
 * (a mail that kills the worker must not come back for ever), and return what the ingest
 * needs next in the same statement.
 * @returns undefined when the row is missing or no longer `received` (nothing counted).
 */
export async function startIngestAttempt(db: Database, id: string): Promise<IngestAttempt | undefined> {
  const [r] = await startAttemptStatement(db).execute({ id });
  if (!r) return undefined;
  const { rawBytes, smallRaw, relaxed: _relaxed, ...row } = r;
  const noRaw = rawBytes === null || Number.isNaN(rawBytes);
  return { size: row.size, attempts: row.attempts, ...(noRaw || rawBytes <= INLINE_RAW_BYTES ? { row: { ...row, raw: noRaw ? null : smallRaw } } : {}) };
}

/** A row of a batch whose ingest was started: the row without its source, and the source's length (null when purged). */
export type ClaimedInbound = Omit<InboundRow, 'raw'> & { rawBytes: number | null };

/**
 * {@link startIngestAttempt} for a batch of rows, in one statement: one more ingest counted
 * for every row of `ids` still `received`, committed before any of them is parsed (a mail
 * that kills the worker must not come back for ever). No source comes along: the batch takes
 * its share of the memory budget first, then reads them with {@link getInboundSources}.
 * @returns the rows counted, in the order they arrived (stored, then mailbox UID); rows
 *   missing or final are left out.
 */
export async function startIngestAttempts(db: Database, ids: string[]): Promise<ClaimedInbound[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .update(inboundMessages)
    .set({ attempts: sql`${inboundMessages.attempts} + 1` })
    .where(and(inArray(inboundMessages.id, ids), eq(inboundMessages.state, 'received')))
    .returning({ ...withoutRaw, rawBytes: sql<number | null>`octet_length(${inboundMessages.raw})`, relaxed: relaxedCommit });
  return rows
    .map(({ relaxed: _relaxed, ...r }) => ({ ...r, rawBytes: r.rawBytes === null ? null : Number(r.rawBytes) }))
    .sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || a.mailbox.localeCompare(b.mailbox) || a.uidValidity - b.uidValidity || a.uid - b.uid);
}

/**
 * The raw sources of these rows, those of up to {@link RAW_SLICE_BYTES} in one statement and
 * larger ones slice by slice into shared memory ({@link getInbound}), which a parse thread reads
 * without a copy. A row whose source is gone maps to null.
 */
export async function getInboundSources(db: Database, rows: Pick<ClaimedInbound, 'id' | 'rawBytes'>[]): Promise<Map<string, Buffer | null>> {
  const out = new Map<string, Buffer | null>(rows.map((r) => [r.id, null]));
  const small = rows.filter((r) => r.rawBytes !== null && r.rawBytes <= RAW_SLICE_BYTES).map((r) => r.id);
  if (small.length > 0) {
    const read = await db.select({ id: inboundMessages.id, raw: inboundMessages.raw }).from(inboundMessages).where(inArray(inboundMessages.id, small));
    for (const r of read) out.set(r.id, r.raw);
  }
  for (const r of rows) {
    if (r.rawBytes !== null && r.rawBytes > RAW_SLICE_BYTES) out.set(r.id, (await getInbound(db, r.id, { shared: true }))?.raw ?? null);
  }
  return out;
}

/** The state and size of an inbound row, without reading its raw source. */
export async function getInboundState(db: Tx, id: string): Promise<Pick<InboundRow, 'state' | 'size'> | undefined> {
  const [row] = await db
    .select({ state: inboundMessages.state, size: inboundMessages.size })
    .from(inboundMessages)
    .where(eq(inboundMessages.id, id));
  return row;
}

/** Move a row to its final state. Only ever called on a locked or not-yet-final row. */
export async function finishInbound(
  tx: Tx,
  id: string,
  outcome: {
    state: Exclude<InboundState, 'received'>;
    reason?: string | null;
    postId?: string | null;
    commentId?: string | null;
    duplicateOf?: string | null;
    messageId?: string | null;
    dedupeKey?: string | null;
    fromAddress?: string | null;
    subject?: string | null;
  },
): Promise<void> {
  const set = { ...outcome, reason: outcome.reason ?? null, processedAt: new Date() };
  // The columns set depend on the outcome: one named statement per set of columns.
  const keys = (Object.keys(set) as (keyof typeof set)[]).filter((k) => set[k] !== undefined).sort();
  const shape = keys.join(',');
  let statement = finishStatements.get(shape);
  if (!statement) {
    statement = preparedQuery(`blend_finish_inbound_${finishStatements.size}`, (t) =>
      t
        .update(inboundMessages)
        .set(Object.fromEntries(keys.map((k) => [k, sql.placeholder(k)])))
        .where(eq(inboundMessages.id, sql.placeholder('id'))),
    );
    finishStatements.set(shape, statement);
  }
  await statement(tx, { ...set, id });
}

const finishStatements = new Map<string, (tx: Tx, values: Record<string, unknown>) => Promise<unknown>>();

/**
 * Take back the counted try of rows whose ingest ended waiting for a parent: that try finished
 * (it decided to wait), and only tries that never finish may end a mail as `conversion_died`.
 */
export async function uncountIngestAttempts(db: Tx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .update(inboundMessages)
    .set({ attempts: sql`greatest(${inboundMessages.attempts} - 1, 0)` })
    .where(and(inArray(inboundMessages.id, ids), eq(inboundMessages.state, 'received')));
}

export async function countAttempt(db: Tx, id: string): Promise<number> {
  const rows = await db
    .update(inboundMessages)
    .set({ attempts: sql`${inboundMessages.attempts} + 1` })
    .where(eq(inboundMessages.id, id))
    .returning({ attempts: inboundMessages.attempts });
  return rows[0]?.attempts ?? 0;
}

/** Inbound mail for IT, newest first: no bodies, only what identifies each message. */
export async function listInboundRows(db: Tx, opts: { state?: InboundState; limit: number }) {
  const rows = await db
    .select({
      id: inboundMessages.id,
      mailbox: inboundMessages.mailbox,
      uid: inboundMessages.uid,
      messageId: inboundMessages.messageId,
      sender: inboundMessages.fromAddress,
      subject: inboundMessages.subject,
      state: inboundMessages.state,
      reason: inboundMessages.reason,
      postId: inboundMessages.postId,
      commentId: inboundMessages.commentId,
      size: inboundMessages.size,
      receivedAt: inboundMessages.receivedAt,
      processedAt: inboundMessages.processedAt,
    })
    .from(inboundMessages)
    .where(opts.state ? eq(inboundMessages.state, opts.state) : undefined)
    .orderBy(sql`${inboundMessages.receivedAt} desc, ${inboundMessages.uid} desc`)
    .limit(opts.limit);
  return rows.map((r) => ({
    id: r.id,
    mailbox: r.mailbox,
    uid: r.uid,
    message_id: r.messageId,
    sender: r.sender,
    subject: r.subject,
    state: r.state,
    reason: r.reason,
    post_id: r.postId,
    comment_id: r.commentId,
    size: r.size,
    received_at: r.receivedAt.toISOString(),
    processed_at: r.processedAt?.toISOString() ?? null,
  }));
}

/**
 * Put a finished row back to work (IT's replay): any state but `received` and
 * `duplicate`. Needs the raw source (not purged by retention).
 * @returns the previous state, or null when the row cannot be replayed.
 */
export async function resetForReplay(tx: Tx, id: string): Promise<InboundState | null> {
  const row = await lockInbound(tx, id);
  if (!row || row.state === 'received' || row.state === 'duplicate' || row.state === 'posted' || row.state === 'commented' || row.state === 'liked' || !row.hasRaw) return null;
  await tx
    .update(inboundMessages)
    .set({ state: 'received', reason: null, processedAt: null, attempts: 0 })
    .where(eq(inboundMessages.id, id));
  return row.state;
}

/**
 * Put a failed, withheld, held or rejected message back in the pipeline and record who did
 * it in the audit log (CLI and admin page alike).
 * @returns the state it was in, or null when it cannot be replayed.
 */
export async function replayInbound(tx: Tx, id: string, actor: string): Promise<InboundState | null> {
  const was = await resetForReplay(tx, id);
  if (was) await tx.insert(auditLog).values({ action: 'replay_inbound', actor, subject: id, detail: { previousState: was } });
  return was;
}


/** Holds that end by themselves: a rate limit's window passes. */
export const RATE_HOLD_REASONS = ['sender_rate', 'thread_rate', 'org_rate'] as const;

/**
 * Sends mail held for a rate limit at least `olderThan` ago back to the pipeline, marked
 * `released_at`, so that ingest judges its rate now instead of at its arrival (which would
 * hold it again for ever). A window still full holds it once more, until a later run.
 * @returns the released rows' ids, to queue.
 */
export async function releaseRateHolds(db: Tx, olderThan: Date, limit = 500): Promise<string[]> {
  const rows = await db.execute<{ id: string }>(sql`
    update ${inboundMessages} set state = 'received', reason = null, processed_at = null, released_at = now()
    where id in (
      select id from ${inboundMessages}
      where state = 'held' and reason in (${sql.join(RATE_HOLD_REASONS.map((r) => sql`${r}`), sql`, `)}) and processed_at < ${olderThan}
      order by received_at limit ${limit}
      for update skip locked)
    returning id`);
  return rows.rows.map((r) => r.id);
}

/** Held mail at a glance, for IT: how many, and the age in seconds of the oldest (by arrival). */
export async function heldSummary(db: Tx): Promise<{ count: number; oldestAgeSeconds: number }> {
  const r = await db.execute<{ n: number; age: number | null }>(
    sql`select count(*)::int as n, extract(epoch from now() - min(received_at))::float as age from ${inboundMessages} where state = 'held'`,
  );
  return { count: Number(r.rows[0]?.n ?? 0), oldestAgeSeconds: Number(r.rows[0]?.age ?? 0) };
}
