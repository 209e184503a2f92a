import {
  answersNotice,
  decideIngest,
  DEFAULT_ORPHAN_REPLY_GRACE_MS,
  orphanReplyWait,
  hashReplyToken,
  judgeRate,
  judgeReplyToken,
  threadLookups,
  type IngestDecision,
  type IngestFacts,
  type RateCounts,
  type SenderVerdict,
  type ThreadLookup,
  type TokenCheck,
} from '@blend/core';
import {
  anyMessageSeen,
  decideFacts,
  findPersonByEmail,
  findPostBySubject,
  findPostByThreadIndex,
  findReplyToken,
  findThreadPosts,
  ownMailKinds,
  type AcceptedWindow,
  type Person,
  type Tx,
} from '@blend/db';
import type { ClassifiedInbound } from './classify';
import type { IngestDeps } from './deps';
import type { ParsedInbound } from './parse';

/**
 * A reply whose parent is not ingested yet: stored and being ingested (both arrived in one
 * batch), or not come at all within the grace (BLEND_ORPHAN_REPLY_GRACE_MS). The processor
 * puts the job back for `retryInMs` without using up an attempt.
 */
export class ParentPendingError extends Error {
  constructor(
    /** When to try again: shortly for a parent being ingested, at the end of the grace for one not come. */
    readonly retryInMs = 200,
  ) {
    super(retryInMs > 200 ? 'no message the reply names has come yet' : 'parent message is stored but not ingested yet');
    this.name = 'ParentPendingError';
  }

  /** The parent is stored and being ingested (not the grace for one not come): a batch may hold the reply for it. */
  get parentStored(): boolean {
    return this.retryInMs <= 200;
  }
}

/** One stored mail on its way through ingest, as the decide stage needs it. */
export interface DecideInput {
  inboundId: string;
  /** When the mail reached the mailbox (IMAP INTERNALDATE, else when it was stored), and when it left a rate hold. */
  arrival: { internalDate: Date | null; receivedAt: Date; releasedAt: Date | null };
  /** The sharer already confirmed mirroring despite external participants. */
  externalConfirmed: boolean;
  parsed: ParsedInbound;
  classified: ClassifiedInbound;
  verdict: SenderVerdict;
  /** The database clock (docs/SECURITY.md F23). */
  now: Date;
  /** The known person with the From address, when the caller read it already (with the row's lock); else it is read here. */
  person?: Person | null;
  /** A reply's thread facts, read with its earlier copy after the row's lock (`earlierCopyAndReplyFacts`). */
  replyFacts: { parentPending: boolean; postIds: string[] };
}

/** The decision, with what the write stage needs of the facts it was taken on. */
export interface Decided {
  decision: IngestDecision;
  /** The known person with the From address. */
  person: Person | null;
  /** The hash of the reply token the mail was sent to, when it is valid; it is used up when the mail is written. */
  tokenHash: string | null;
  /** Every post the Message-IDs the mail replies to lead to, best candidate first (the write stage merges them). */
  referencedPostIds: string[];
}

/**
 * The decide stage: gather the facts `decideIngest` needs from the database, in the ingest's
 * transaction, and let it decide (docs/ARCHITECTURE.md "Ingest, one mail at a time").
 * @throws ParentPendingError when the mail's parent is still being ingested, or has not come
 *   within the grace.
 */
export async function decide(tx: Tx, m: DecideInput, deps: Pick<IngestDeps, 'addressing' | 'secret' | 'previousSecret' | 'rateLimits' | 'defaultGroup' | 'senderAuth' | 'orphanReplyGraceMs'>): Promise<Decided> {
  const { mail, content } = m.parsed;
  const { classification, route, participants } = m.classified;
  const from = mail.from?.address ?? null;
  const person = m.person !== undefined ? m.person : ((from ? await findPersonByEmail(tx, from) : undefined) ?? null);
  // A parent that came in the same batch may be ingested right now: retry shortly (BullMQ
  // backoff) instead of starting a second thread. The check and the lookup by the parents'
  // Message-IDs are one statement: a parent that committed is seen with its post.
  let referenced: string[] | undefined;
  if (classification.kind === 'reply') {
    const r = m.replyFacts;
    if (r.parentPending) throw new ParentPendingError();
    referenced = r.postIds;
  }
  const { parent, referencedPostIds } = await findThread(tx, threadLookups(mail, classification, m.arrival.internalDate ?? m.arrival.receivedAt, deps.addressing), referenced);
  const answeredKinds = classification.kind === 'reply' && !parent ? await ownMailKinds(tx, mail.inReplyTo.slice(0, 1)) : [];
  const repliesToNotice = answersNotice(answeredKinds);
  const { token, tokenHash } = route?.kind === 'reply' ? await checkReplyToken(tx, route.token, person, m.verdict, m.now, deps) : { token: null, tokenHash: null };
  const threadPostId = token?.ok ? token.postId : (parent?.postId ?? null);
  // The sender's thread opt-out, the addressed group, the target group and the rate windows: one read.
  const windows = rateWindows(m, from, threadPostId, deps.rateLimits);
  const facts = await decideFacts(tx, {
    target: { postId: threadPostId, slug: route?.kind === 'group' ? route.slug : deps.defaultGroup, personId: person?.id ?? null },
    optOut: parent && from ? { postId: parent.postId, address: from } : null,
    groupSlug: route?.kind === 'group' ? route.slug : null,
    windows: windows.map((a) => a.window),
  });

  const decision = decideIngest({
    classification,
    route,
    senderVerdict: m.verdict,
    sender: person ? { id: person.id, optIn: person.optIn } : null,
    command: m.classified.command,
    token,
    parentPostId: parent?.postId ?? null,
    threadDeclined: facts.threadDeclined,
    repliesToNotice,
    groupExists: facts.groupExists,
    targetGroup: facts.targetGroup ?? null,
    confidential: m.classified.confidential,
    rate: judgeWindows(windows, facts.counts, deps.rateLimits),
    externalParticipants: deps.senderAuth.orgDomains.length > 0 ? participants.external : [],
    externalConfirmed: m.externalConfirmed,
    title: content.title,
    body: content.bodyText,
    trimConfidence: content.confidence,
    defaultGroup: deps.defaultGroup,
  });
  await waitForUnseenParent(tx, m, decision, answeredKinds.length > 0, deps.orphanReplyGraceMs ?? DEFAULT_ORPHAN_REPLY_GRACE_MS);
  return { decision, person, tokenHash: token?.ok ? tokenHash : null, referencedPostIds };
}

/**
 * A reply about to start a post because none of the messages it names is known may be early:
 * within the grace it comes back at the grace's end, so a parent delivered a moment later is
 * there first (core `orphanReplyWait`; docs/ARCHITECTURE.md "Threads and merges").
 * @throws ParentPendingError with the rest of the grace.
 */
async function waitForUnseenParent(tx: Tx, m: DecideInput, decision: IngestDecision, answersOwnMail: boolean, graceMs: number): Promise<void> {
  const { classification } = m.classified;
  if (graceMs <= 0 || classification.kind !== 'reply' || decision.action !== 'post') return;
  const parentSeen = answersOwnMail || (await anyMessageSeen(tx, classification.parentIds, m.inboundId));
  const wait = orphanReplyWait({ isReply: true, action: decision.action, parentSeen, storedAt: m.arrival.receivedAt, now: m.now, graceMs });
  if (wait > 0) throw new ParentPendingError(wait);
}

/**
 * The post a mail's thread is mirrored as: the first of the lookups (core `threadLookups`) that
 * finds one; and all posts the References lead to, in their order, read once for the merge too
 * (`referenced`: already read, for a reply's parents, with the check that none is pending).
 */
async function findThread(tx: Tx, lookups: ThreadLookup[], referenced?: string[]): Promise<{ parent: { postId: string; via: ThreadLookup['via'] } | undefined; referencedPostIds: string[] }> {
  let referencedPostIds: string[] = [];
  for (const l of lookups) {
    if (l.via === 'references') referencedPostIds = referenced ?? (await findThreadPosts(tx, l.messageIds));
    const postId =
      l.via === 'references'
        ? referencedPostIds[0]
        : l.via === 'thread_index'
          ? await findPostByThreadIndex(tx, l.root)
          : await findPostBySubject(tx, l.subjectKey, l.people, l.since);
    if (postId) return { parent: { postId, via: l.via }, referencedPostIds };
  }
  return { parent: undefined, referencedPostIds };
}

/** A `reply+TOKEN@` address: its token looked up under the current key, then the previous one, and judged. */
async function checkReplyToken(
  tx: Tx,
  raw: string,
  person: Person | null,
  verdict: SenderVerdict,
  now: Date,
  deps: Pick<IngestDeps, 'secret' | 'previousSecret'>,
): Promise<{ token: TokenCheck; tokenHash: string }> {
  let tokenHash = hashReplyToken(raw, deps.secret);
  let found = await findReplyToken(tx, tokenHash);
  if (!found && deps.previousSecret) {
    tokenHash = hashReplyToken(raw, deps.previousSecret);
    found = await findReplyToken(tx, tokenHash);
  }
  const judged = judgeReplyToken(
    found && !found.postDeleted ? found.token : null,
    { personId: person?.id ?? null, authenticated: verdict.ok, optedIn: person?.optIn === 'opted_in' },
    now,
  );
  return { token: judged.ok ? { ok: true, postId: found!.token.postId } : judged, tokenHash };
}

/**
 * The rate windows (docs/SECURITY.md F27). They end at this mail's arrival, so a backlog
 * ingested late is judged as it came in; a mail released from a rate hold is judged at its
 * release (else it would stay held). A window without a limit is not counted.
 */
function rateWindows(m: DecideInput, from: string | null, threadPostId: string | null, L: IngestDeps['rateLimits']): { key: keyof RateCounts; window: AcceptedWindow }[] {
  const arrivedAt = m.arrival.releasedAt ?? m.arrival.internalDate ?? m.arrival.receivedAt;
  const window = (ms: number, of: { from?: string; postId?: string }) => ({ ...of, since: new Date(arrivedAt.getTime() - ms), until: arrivedAt });
  const asked: { key: keyof RateCounts; window: AcceptedWindow }[] = [];
  const ask = (key: (typeof asked)[number]['key'], limit: number, w: AcceptedWindow | null) => {
    if (w && Number.isFinite(limit)) asked.push({ key, window: w });
  };
  ask('senderLastMinute', L.senderPerMinute, from ? window(60_000, { from }) : null);
  ask('senderLastHour', L.senderPerHour, from ? window(3_600_000, { from }) : null);
  ask('threadLastMinute', L.threadPerMinute, threadPostId ? window(60_000, { postId: threadPostId }) : null);
  ask('orgLastMinute', L.orgPerMinute, window(60_000, {}));
  return asked;
}

/** The rate facts of the windows asked, from their counts (read in one statement with the other facts). */
function judgeWindows(asked: { key: keyof RateCounts; window: AcceptedWindow }[], counts: number[], L: IngestDeps['rateLimits']): IngestFacts['rate'] {
  const facts: RateCounts = { senderLastMinute: 0, senderLastHour: 0, threadLastMinute: 0, orgLastMinute: 0 };
  asked.forEach((a, i) => (facts[a.key] = counts[i]!));
  return judgeRate(facts, L);
}
