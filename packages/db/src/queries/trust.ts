import { and, count, eq, gte, inArray, isNull, lte, sql, type SQL } from 'drizzle-orm';
import type { Tx } from '../client';
import { groupMembers, groups, inboundMessages, optInEvents, people, posts, replyTokens, threadOptOuts } from '../schema';
import { preparedQuery, preparedSql } from './raw-statement';

export type OptInVia = 'cli' | 'import' | 'mail' | 'api' | 'admin';

/**
 * Change a person's opt-in state and record who did it and how. Opting out revokes every
 * reply token of that person (docs/SECURITY.md 3.1 "Revocation events").
 */
export async function setOptIn(
  tx: Tx,
  personId: string,
  state: 'opted_in' | 'opted_out' | 'pending',
  via: OptInVia,
  actorId: string | null = null,
): Promise<void> {
  await tx.update(people).set({ optIn: state, optInChangedAt: new Date() }).where(eq(people.id, personId));
  await tx.insert(optInEvents).values({ personId, state, via, actorId });
  if (state === 'opted_out') {
    await tx.update(replyTokens).set({ revokedAt: new Date() }).where(and(eq(replyTokens.personId, personId), isNull(replyTokens.revokedAt)));
  }
}

/** A person's opt-in history, oldest first. */
export async function optInHistory(db: Tx, personId: string) {
  return db.select().from(optInEvents).where(eq(optInEvents.personId, personId)).orderBy(optInEvents.createdAt);
}

/**
 * Put a person's withheld mail (kept because they had not opted in) back in the pipeline,
 * if it arrived within the retention window. Returns the rows to enqueue.
 */
export async function releaseWithheld(tx: Tx, address: string, since: Date): Promise<string[]> {
  const rows = await tx
    .update(inboundMessages)
    .set({ state: 'received', reason: null, processedAt: null })
    .where(
      and(
        eq(inboundMessages.fromAddress, address.toLowerCase()),
        eq(inboundMessages.state, 'withheld'),
        inArray(inboundMessages.reason, ['not_opted_in', 'sender_unknown']),
        gte(inboundMessages.receivedAt, since),
      ),
    )
    .returning({ id: inboundMessages.id });
  return rows.map((r) => r.id);
}

/** Release one held inbound row (the sharer confirmed external participants). */
export async function confirmHeld(tx: Tx, inboundId: string, reason: string): Promise<boolean> {
  const rows = await tx
    .update(inboundMessages)
    .set({ state: 'received', reason: null, processedAt: null, confirmedAt: new Date() })
    .where(and(eq(inboundMessages.id, inboundId), eq(inboundMessages.state, 'held'), eq(inboundMessages.reason, reason)))
    .returning({ id: inboundMessages.id });
  return rows.length > 0;
}

export async function addThreadOptOut(tx: Tx, postId: string, address: string): Promise<void> {
  await tx.insert(threadOptOuts).values({ postId, address: address.toLowerCase() }).onConflictDoNothing();
}

export async function hasThreadOptOut(tx: Tx, postId: string, address: string): Promise<boolean> {
  const rows = await threadOptOutStatement(tx, { postId, address: address.toLowerCase() });
  return rows.length > 0;
}

const threadOptOutStatement = preparedQuery('blend_has_thread_opt_out', (tx) =>
  tx
    .select({ a: threadOptOuts.address })
    .from(threadOptOuts)
    .where(and(eq(threadOptOuts.postId, sql.placeholder('postId')), eq(threadOptOuts.address, sql.placeholder('address'))))
    .limit(1),
);

export interface NewReplyToken {
  tokenHash: string;
  personId: string;
  postId: string;
  outboundId?: string | null;
  expiresAt: Date;
  maxUses: number;
}

/** Store a reply token's hash, bound to one person and one thread. */
export async function saveReplyToken(tx: Tx, row: NewReplyToken): Promise<void> {
  await tx.insert(replyTokens).values(row);
}

/**
 * Store many reply tokens (a batch of digests) in one statement whatever their number: each
 * column is one array parameter, spread into rows by `unnest`.
 */
export async function saveReplyTokens(tx: Tx, rows: NewReplyToken[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(f: (r: NewReplyToken) => T) => sql.param(rows.map(f));
  await tx.execute(sql`
    insert into ${replyTokens} (token_hash, person_id, post_id, outbound_id, expires_at, max_uses)
    select * from unnest(${col((r) => r.tokenHash)}::text[], ${col((r) => r.personId)}::uuid[], ${col((r) => r.postId)}::uuid[],
      ${col((r) => r.outboundId ?? null)}::uuid[], ${col((r) => r.expiresAt.toISOString())}::timestamptz[], ${col((r) => r.maxUses)}::int[])`);
}

export async function findReplyToken(tx: Tx, tokenHash: string) {
  const rows = await tx
    .select({ token: replyTokens, postDeleted: posts.deletedAt })
    .from(replyTokens)
    .innerJoin(posts, eq(posts.id, replyTokens.postId))
    .where(eq(replyTokens.tokenHash, tokenHash))
    .limit(1);
  return rows[0];
}

/** Count one use of a token; false when it was used up meanwhile (two replies at once). */
export async function useReplyToken(tx: Tx, tokenHash: string): Promise<boolean> {
  const rows = await tx
    .update(replyTokens)
    .set({ uses: sql`${replyTokens.uses} + 1` })
    .where(and(eq(replyTokens.tokenHash, tokenHash), sql`${replyTokens.uses} < ${replyTokens.maxUses}`))
    .returning({ uses: replyTokens.uses });
  return rows.length > 0;
}

// Rate windows are measured on ARRIVAL time (when the mail reached the mailbox), not on
// processing time: a backlog processed at once after downtime is not a burst.
const arrived = sql`coalesce(${inboundMessages.internalDate}, ${inboundMessages.receivedAt})`;
const inWindow = (since: Date, until: Date) => and(gte(arrived, since), lte(arrived, until));

/** Accepted messages from one sender that arrived in [since, until], for the per-sender rate limit. */
export async function countAcceptedFrom(tx: Tx, address: string, since: Date, until: Date): Promise<number> {
  const rows = await tx
    .select({ n: count() })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.fromAddress, address.toLowerCase()), inArray(inboundMessages.state, ['posted', 'commented']), inWindow(since, until)));
  return rows[0]?.n ?? 0;
}

/** Accepted messages in one thread (post) that arrived in [since, until]: the per-thread circuit breaker. */
export async function countAcceptedInThread(tx: Tx, postId: string, since: Date, until: Date): Promise<number> {
  const rows = await tx
    .select({ n: count() })
    .from(inboundMessages)
    .where(and(eq(inboundMessages.postId, postId), inArray(inboundMessages.state, ['posted', 'commented']), inWindow(since, until)));
  return rows[0]?.n ?? 0;
}

/** One count of accepted messages: from one sender, in one thread, or organisation-wide, that arrived in [since, until]. */
export interface AcceptedWindow {
  from?: string;
  postId?: string;
  since: Date;
  until: Date;
}

/** Which of a list of windows have a sender and a thread: the statement's text depends on it, so one name per shape. */
const windowShape = (windows: AcceptedWindow[]) => windows.map((w) => `${w.from !== undefined ? 'f' : ''}${w.postId !== undefined ? 'p' : ''}`).join('-');

/** The accepted-mail count of each window, in the order asked, with placeholders `from<i>`, `postId<i>`, `since<i>`, `until<i>` ({@link windowValues}). */
function windowCounts(windows: AcceptedWindow[]): SQL {
  if (windows.length === 0) return sql`'{}'::int[]`;
  const counts = windows.map((w, i) => {
    const v = (k: string) => sql.placeholder(`${k}${i}`);
    return sql`(select count(*) from ${inboundMessages} where ${and(
      w.from !== undefined ? eq(inboundMessages.fromAddress, v('from')) : undefined,
      w.postId !== undefined ? eq(inboundMessages.postId, v('postId')) : undefined,
      inArray(inboundMessages.state, ['posted', 'commented']),
      and(gte(arrived, v('since')), lte(arrived, v('until'))),
    )})::int`;
  });
  return sql`array[${sql.join(counts, sql`, `)}]`;
}

/** The values of {@link windowCounts}'s placeholders, added to `values`. */
function windowValues(windows: AcceptedWindow[], values: Record<string, unknown>): Record<string, unknown> {
  windows.forEach((w, i) => {
    if (w.from !== undefined) values[`from${i}`] = w.from.toLowerCase();
    if (w.postId !== undefined) values[`postId${i}`] = w.postId;
    values[`since${i}`] = w.since;
    values[`until${i}`] = w.until;
  });
  return values;
}

/** What the decide stage of ingest reads once it knows the mail's thread: see {@link decideFacts}. */
export interface DecideFacts {
  /** What limits who may write to the target group (`targetGroupOf`); undefined when there is no such group. */
  targetGroup: { visibility: 'public' | 'private'; archived: boolean; senderIsMember: boolean } | undefined;
  /** The address opted out of the thread (`hasThreadOptOut`). */
  threadDeclined: boolean;
  /** A group with the slug asked exists (`findGroup`). */
  groupExists: boolean;
  /** The accepted-mail counts of the windows asked ({@link windowCounts}). */
  counts: number[];
}

/**
 * In one statement (once per ingested mail, so named, one per shape of the windows): the target
 * group as `targetGroupOf` reads it, whether `optOut.address` opted out of thread
 * `optOut.postId` (false without one), whether a group `groupSlug` exists (true without one),
 * and the accepted-mail counts of `windows`.
 */
export async function decideFacts(
  tx: Tx,
  q: { target: { postId: string | null; slug: string; personId: string | null }; optOut: { postId: string; address: string } | null; groupSlug: string | null; windows: AcceptedWindow[] },
): Promise<DecideFacts> {
  const shape = windowShape(q.windows);
  let statement = decideStatements.get(shape);
  if (!statement) {
    const p = sql.placeholder;
    statement = preparedSql<{ target: { visibility: 'public' | 'private'; archived: boolean; member: boolean } | null; declined: boolean; group_exists: boolean; counts: number[] }>(
      `blend_decide_facts_${shape || 'none'}`,
      () => sql`
        select
          (select json_build_object('visibility', g.visibility, 'archived', g.archived_at is not null,
              'member', exists (select 1 from ${groupMembers} m where m.group_id = g.id and m.person_id = ${p('personId')}::uuid))
            from ${groups} g
            where g.id = coalesce((select tp.group_id from ${posts} tp where tp.id = ${p('postId')}::uuid), (select s.id from ${groups} s where s.slug = ${p('slug')}))) as target,
          exists (select 1 from ${threadOptOuts} o where o.post_id = ${p('optOutPostId')}::uuid and o.address = ${p('optOutAddress')}::text) as declined,
          (${p('groupSlug')}::text is null or exists (select 1 from ${groups} gs where gs.slug = ${p('groupSlug')}::text)) as group_exists,
          ${windowCounts(q.windows)} as counts`,
    );
    decideStatements.set(shape, statement);
  }
  const values = windowValues(q.windows, {
    personId: q.target.personId,
    postId: q.target.postId,
    slug: q.target.slug,
    optOutPostId: q.optOut?.postId ?? null,
    optOutAddress: q.optOut ? q.optOut.address.toLowerCase() : null,
    groupSlug: q.groupSlug,
  });
  const r = (await statement(tx, values)).rows[0]!;
  return {
    targetGroup: r.target ? { visibility: r.target.visibility, archived: r.target.archived, senderIsMember: r.target.member } : undefined,
    threadDeclined: r.declined,
    groupExists: r.group_exists,
    counts: r.counts.map(Number),
  };
}

const decideStatements = new Map<
  string,
  (tx: Tx, values: Record<string, unknown>) => Promise<{ rows: { target: { visibility: 'public' | 'private'; archived: boolean; member: boolean } | null; declined: boolean; group_exists: boolean; counts: number[] }[] }>
>();

/** Accepted messages organisation-wide that arrived in [since, until]. */
export async function countAccepted(tx: Tx, since: Date, until: Date): Promise<number> {
  const rows = await tx
    .select({ n: count() })
    .from(inboundMessages)
    .where(and(inArray(inboundMessages.state, ['posted', 'commented']), inWindow(since, until)));
  return rows[0]?.n ?? 0;
}
