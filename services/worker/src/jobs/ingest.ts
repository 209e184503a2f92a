import {
  classify,
  DEFAULT_ATTACHMENT_LIMITS,
  DEFAULT_NOTIFY_COALESCE_MS,
  planAttachments,
  decideIngest,
  dedupeKey,
  detectConfidential,
  hashReplyToken,
  hasReplyMarker,
  isBridgeAddress,
  isOrgDomain,
  isThreadIndexReply,
  judgeActedCopy,
  threadIndexRoot,
  threadSubjectKey,
  type MailInput,
  judgeRate,
  judgeReplyToken,
  parseCommand,
  pickBridgeRoute,
  PermanentError,
  subjectFallbackPeople,
  type Addressing,
  type AttachmentLimits,
  type RateLimits,
  type Redaction,
  type Route,
  type TokenCheck,
} from '@blend/core';
import type { MemoryBudget } from '../memory-budget';
import {
  dbNow,
  countAccepted,
  countAcceptedFrom,
  countAcceptedInThread,
  findByDedupeKey,
  findGroup,
  getGroupById,
  getPostRow,
  memberRole,
  findPersonByEmail,
  findReplyToken,
  findPostBySubject,
  findPostByThreadIndex,
  findThreadPost,
  countAttempt,
  finishInbound,
  getInbound,
  getInboundState,
  hasThreadOptOut,
  hasUnfinishedWithMessageId,
  lockDedupeKey,
  lockInbound,
  ownMailKinds,
  type Database,
  type Tx,
} from '@blend/db';
import { checkSender, warmTemplates, type MimeLimits, type ParsedAttachment, type SenderAuthOptions } from '@blend/mail';
import { ParseLimitError, type ParsePool } from '../parse-pool';
import { parseAndConvert, type ParseResult } from '../parse-task';
import type { FileScanner } from '../clamd';
import type { Logger, Metrics } from '@blend/config';
import type { IngestJob } from '@blend/queue';
import { applyDecision } from './apply-decision';
import { bounceByReturnedMessage, bounceByVerp } from './bounce-target';

/**
 * A reply whose parent is stored but not converted yet (both arrived in one batch). The
 * processor puts the job back for a moment without using up an attempt.
 */
/**
 * Conversions of one mail started before it is failed (`conversion_died`): a mail that kills the
 * worker must not come back for ever. Retries after a transient error and while a parent is
 * pending count too, so this is well above what those need.
 */
export const MAX_CONVERSION_TRIES = 10;

export class ParentPendingError extends Error {
  constructor() {
    super('parent message is stored but not converted yet');
    this.name = 'ParentPendingError';
  }
}

export interface IngestDeps {
  db: Database;
  log: Logger;
  /** Blend's addresses (BLEND_ADDRESSING with BLEND_MAIL_DOMAIN or BLEND_MAIL_ADDRESS). */
  addressing: Addressing;
  defaultGroup: string;
  /** Key of reply-token hashes and signed links. */
  secret: string;
  /** The key before the last rotation, still accepted for tokens it hashed. */
  previousSecret?: string;
  /** Base URL of the API for links in notices. */
  publicUrl: string;
  senderAuth: SenderAuthOptions;
  confidentialMarkers: string[];
  redactions: Redaction[];
  rateLimits: RateLimits;
  /** Withheld mail is released if its author opts in within this many days. */
  withheldRetentionDays: number;
  mimeLimits?: MimeLimits;
  metrics?: Metrics;
  /** Operator-defined legal footers to cut (BLEND_DISCLAIMER_PATTERNS). */
  disclaimerPatterns?: RegExp[];
  /** Scans files before they are stored (BLEND_CLAMD_URL); none: files are not scanned. */
  scanner?: FileScanner;
  /** Which files of a published mail are stored (BLEND_ATTACHMENT_MAX_BYTES…). @defaultValue DEFAULT_ATTACHMENT_LIMITS */
  attachmentLimits?: AttachmentLimits;
  /** Mail caused by published mail: notifications, receipts. Defaults as in the configuration. */
  activity?: Partial<ActivitySettings>;
  /** Bounds the raw mail converted at once in this process (BLEND_INGEST_MEMORY_BYTES); none: unbounded. */
  memoryBudget?: MemoryBudget;
  /** Threads that parse and convert under a time limit (BLEND_PARSE_TIMEOUT_MS); none: in this thread, unbounded. */
  parsePool?: ParsePool;
}

export interface ActivitySettings {
  /** BLEND_NOTIFY_COALESCE_MS */
  coalesceMs: number;
  /** BLEND_UNDO_MINUTES */
  undoMinutes: number;
  /** BLEND_RECEIPTS_FIRST */
  receiptsFirst: number;
}

export const DEFAULT_ACTIVITY: ActivitySettings = { coalesceMs: DEFAULT_NOTIFY_COALESCE_MS, undoMinutes: 60, receiptsFirst: 5 };

export type IngestOutcome = (
  | { state: 'skipped'; reason: 'already_final' }
  | { state: 'posted'; postId: string }
  | { state: 'commented'; postId: string; commentId: string }
  | { state: 'duplicate'; of: string | null }
  | { state: 'withheld' | 'rejected' | 'held' | 'command' | 'failed'; reason: string }
  | { state: 'liked'; postId: string }
) & {
  /** Outbox rows written by this ingest, to queue for sending once it has committed. */
  outbound?: string[];
  /** When the mail reached the mailbox, for the latency metric. */
  deliveredAt?: Date | null;
  /** Share of the body removed as quotes/signatures. */
  trimmedRatio?: number;
};

/**
 * `ingest`: parse -> classify -> authenticate -> decide -> record, for one stored inbound
 * row. Safe to run twice: the row is locked and only a `received` row is converted, and the
 * dedupe key makes a second copy of the same mail a `duplicate`.
 */
export async function ingest(job: IngestJob, deps: IngestDeps): Promise<IngestOutcome> {
  const outcome = await convert(job, deps);
  const m = deps.metrics;
  if (m && outcome.state !== 'skipped') {
    m.inbound.inc({ state: outcome.state, reason: 'reason' in outcome ? outcome.reason : '' });
    if (outcome.deliveredAt && (outcome.state === 'posted' || outcome.state === 'commented')) {
      m.ingestLatency.observe(Math.max(0, (Date.now() - outcome.deliveredAt.getTime()) / 1000));
    }
    if (outcome.trimmedRatio !== undefined) m.trimmedShare.observe(outcome.trimmedRatio);
  }
  return outcome;
}

async function convert(job: IngestJob, deps: IngestDeps): Promise<IngestOutcome> {
  // Receipts are rendered from templates compiled once per process (a no-op once done).
  await warmTemplates();
  // The size decides the share of the memory budget, before the source is read.
  const head = await getInboundState(deps.db, job.inboundId);
  if (!head) throw new PermanentError('INBOUND_NOT_FOUND', job.inboundId);
  if (head.state !== 'received') return { state: 'skipped', reason: 'already_final' };
  const budget = deps.memoryBudget;
  return budget ? budget.run(head.size, () => convertSource(job, deps)) : convertSource(job, deps);
}

async function convertSource(job: IngestJob, deps: IngestDeps): Promise<IngestOutcome> {
  const row = await getInbound(deps.db, job.inboundId);
  if (!row) throw new PermanentError('INBOUND_NOT_FOUND', job.inboundId);
  if (row.state !== 'received') return { state: 'skipped', reason: 'already_final' };
  if (!row.raw) {
    await deps.db.transaction((tx) => finishInbound(tx, row.id, { state: 'rejected', reason: 'missing_source' }));
    return { state: 'rejected', reason: 'missing_source' };
  }

  // A mail that kills the worker while it is converted (out of memory, a parser bug) would come
  // back for ever (stalled job, then the reconciler): each try is counted, committed, first.
  const tries = await countAttempt(deps.db, row.id);
  if (tries > MAX_CONVERSION_TRIES) {
    await deps.db.transaction((tx) => finishInbound(tx, row.id, { state: 'failed', reason: 'conversion_died' }));
    deps.log.error({ inboundId: row.id, tries: tries - 1 }, `inbound failed: ${MAX_CONVERSION_TRIES} conversions were started and none finished (did the worker die each time?); \`blend inbound replay\` tries again`);
    return { state: 'failed', reason: 'conversion_died' };
  }

  // Parse and convert: in a thread that is stopped past BLEND_PARSE_TIMEOUT_MS when the worker
  // has a parse pool (docs/SECURITY.md F9), else here.
  let read: ParseResult;
  try {
    read = deps.parsePool
      ? await deps.parsePool.parse(row.raw)
      : await parseAndConvert(row.raw, {
          redactions: deps.redactions,
          ...(deps.disclaimerPatterns ? { disclaimerPatterns: deps.disclaimerPatterns } : {}),
          ...(deps.mimeLimits ? { mimeLimits: deps.mimeLimits } : {}),
        });
  } catch (err) {
    if (!(err instanceof ParseLimitError)) throw err;
    // Retrying would run away again: failed alone, for IT to look at and replay.
    await deps.db.transaction((tx) => finishInbound(tx, row.id, { state: 'failed', reason: err.reason }));
    deps.log.error({ inboundId: row.id, reason: err.reason, err }, 'inbound failed: parsing was stopped; `blend inbound replay` tries again');
    return { state: 'failed', reason: err.reason };
  }
  if (!read.ok) {
    const reason = read.code === 'MIME_LIMITS' ? 'mime_limits' : 'malformed_mime';
    await deps.db.transaction((tx) => finishInbound(tx, row.id, { state: 'rejected', reason }));
    deps.log.warn({ inboundId: row.id, reason, detail: read.message }, 'inbound rejected');
    return { state: 'rejected', reason };
  }
  const { mail, files: unscanned, attachedMessages, content: rendered } = read;
  const key = dedupeKey(mail, row.raw);
  const classification = classify(mail, { addressing: deps.addressing });
  const routed = pickBridgeRoute(mail, deps.addressing);
  const route = routed?.route ?? null;
  // Authentication may query DNS: done before the transaction, and only for mail that
  // could be published (loops and auto-replies are rejected on headers alone).
  const needsAuth = classification.kind === 'reply' || classification.kind === 'new_thread';
  const { verdict } = needsAuth
    ? await checkSender(row.raw, mail, deps.senderAuth)
    : { verdict: { ok: false as const, reason: 'unauthenticated' as const } };
  // Files of mail that may be published are scanned first, when a scanner is set (B28); a
  // scanner that does not answer fails the job, which is retried: nothing is stored unscanned.
  const files = deps.scanner && needsAuth ? await scanFiles(unscanned, deps.scanner, deps.attachmentLimits ?? DEFAULT_ATTACHMENT_LIMITS) : unscanned;
  const content = attachedMessages.length > 0 ? { ...rendered, forwarded: [...rendered.forwarded, ...attachedMessages] } : rendered;
  const firstLine = content.firstLine;
  const command = route && (route.kind === 'status' || route.kind === 'command') ? parseCommand(mail.subject, firstLine) : null;
  const confidential = detectConfidential(mail, { subjectMarkers: deps.confidentialMarkers });
  const from = mail.from?.address ?? null;

  const trimmedRatio = content.sourceChars > 0 ? content.trimmedChars / content.sourceChars : 0;
  const result = await deps.db.transaction(async (tx): Promise<IngestOutcome> => {
    // Token expiry and rate windows use the database clock, not this worker's (docs/SECURITY.md F23).
    const now = await dbNow(tx);
    await lockDedupeKey(tx, key);
    const locked = await lockInbound(tx, row.id);
    if (!locked || locked.state !== 'received') return { state: 'skipped', reason: 'already_final' };
    const ids = { messageId: mail.messageId, dedupeKey: key, fromAddress: from, subject: mail.subject.slice(0, 300) };

    // Copies of one mail (docs/SECURITY.md B27). A published copy makes this one a duplicate,
    // unless this one says something else: then it is held for IT, not silently dropped. An
    // unpublished copy (rejected through a forwarder that broke DMARC, say) never shadows one
    // that can be published; only a copy that is refused too ends as its duplicate.
    const found = await findByDedupeKey(tx, key);
    const earlier = found && found.inboundId !== row.id ? found : undefined;
    if (earlier?.published) {
      if (earlier.bodyText !== null && !sameShownText(earlier.bodyText, content.bodyText)) {
        await finishInbound(tx, row.id, { ...ids, state: 'held', reason: 'conflicting_copy', duplicateOf: earlier.inboundId });
        return { state: 'held', reason: 'conflicting_copy' };
      }
      await finishInbound(tx, row.id, { ...ids, state: 'duplicate', reason: 'duplicate', duplicateOf: earlier.inboundId });
      return { state: 'duplicate', of: earlier.inboundId };
    }

    const person = from ? await findPersonByEmail(tx, from) : undefined;
    // A parent that came in the same batch may be converting right now: retry shortly
    // (BullMQ backoff) instead of starting a second thread. This check must come before the
    // thread lookup: if the parent commits in between, the lookup (a new statement under
    // READ COMMITTED) sees its post.
    if (classification.kind === 'reply' && (await hasUnfinishedWithMessageId(tx, classification.parentIds, row.id))) {
      throw new ParentPendingError();
    }
    const arrived = row.internalDate ?? row.receivedAt;
    const parent = await findParent(tx, mail, classification, arrived, deps.addressing);
    const NOT_NOTICES = new Set(['mirror', 'notification', 'correction']);
    const repliesToNotice =
      classification.kind === 'reply' && !parent && (await ownMailKinds(tx, mail.inReplyTo.slice(0, 1))).some((k) => !NOT_NOTICES.has(k));

    let token: TokenCheck | null = null;
    let tokenHash: string | null = null;
    if (route?.kind === 'reply') {
      tokenHash = hashReplyToken(route.token, deps.secret);
      let found = await findReplyToken(tx, tokenHash);
      if (!found && deps.previousSecret) {
        tokenHash = hashReplyToken(route.token, deps.previousSecret);
        found = await findReplyToken(tx, tokenHash);
      }
      const judged = judgeReplyToken(
        found && !found.postDeleted ? found.token : null,
        { personId: person?.id ?? null, authenticated: verdict.ok, optedIn: person?.optIn === 'opted_in' },
        now,
      );
      token = judged.ok ? { ok: true, postId: found!.token.postId } : judged;
    }
    const threadPostId = token?.ok ? token.postId : (parent?.postId ?? null);
    // Windows end at this mail's arrival, so a backlog converted late is judged as it came in;
    // a mail released from a rate hold is judged at its release (else it would stay held).
    const arrivedAt = row.releasedAt ?? row.internalDate ?? row.receivedAt;
    const ago = (ms: number) => new Date(arrivedAt.getTime() - ms);
    const L = deps.rateLimits;
    const counted = async (limit: number, count: () => Promise<number>) => (Number.isFinite(limit) ? count() : 0);
    const rate = judgeRate(
      {
        senderLastMinute: from ? await counted(L.senderPerMinute, () => countAcceptedFrom(tx, from, ago(60_000), arrivedAt)) : 0,
        senderLastHour: from ? await counted(L.senderPerHour, () => countAcceptedFrom(tx, from, ago(3_600_000), arrivedAt)) : 0,
        threadLastMinute: threadPostId ? await counted(L.threadPerMinute, () => countAcceptedInThread(tx, threadPostId, ago(60_000), arrivedAt)) : 0,
        orgLastMinute: await counted(L.orgPerMinute, () => countAccepted(tx, ago(60_000), arrivedAt)),
      },
      L,
    );
    const participants = [...mail.to, ...mail.cc].map((a) => a.address).filter((a) => !isBridgeAddress(a, deps.addressing));
    const externalParticipants = [...new Set(participants.filter((a) => !isOrgDomain(a.slice(a.lastIndexOf('@') + 1), deps.senderAuth.orgDomains)))];

    const decision = decideIngest({
      classification,
      route,
      senderVerdict: verdict,
      sender: person ? { id: person.id, optIn: person.optIn } : null,
      command,
      token,
      parentPostId: parent?.postId ?? null,
      threadDeclined: parent && from ? await hasThreadOptOut(tx, parent.postId, from) : false,
      repliesToNotice,
      groupExists: route?.kind === 'group' ? Boolean(await findGroup(tx, route.slug)) : true,
      targetGroup: await targetGroupFacts(tx, route, threadPostId, deps.defaultGroup, person?.id ?? null),
      confidential,
      rate,
      externalParticipants: deps.senderAuth.orgDomains.length > 0 ? externalParticipants : [],
      externalConfirmed: Boolean(locked.confirmedAt),
      title: content.title,
      body: content.bodyText,
      trimConfidence: content.confidence,
      defaultGroup: deps.defaultGroup,
    });
    if (earlier && !earlier.published && earlier.acted) {
      // A copy of a command or a like that was carried out (re-read after a new UIDVALIDITY,
      // or delivered twice): acted on once, never again (docs/SECURITY.md B29).
      if (judgeActedCopy(earlier.acted, decision) === 'conflicting_copy') {
        await finishInbound(tx, row.id, { ...ids, state: 'held', reason: 'conflicting_copy', duplicateOf: earlier.inboundId });
        return { state: 'held', reason: 'conflicting_copy' };
      }
      await finishInbound(tx, row.id, { ...ids, state: 'duplicate', reason: 'duplicate', duplicateOf: earlier.inboundId });
      return { state: 'duplicate', of: earlier.inboundId };
    }
    if (earlier && decision.action === 'reject') {
      // Refused this time too: the same mail ends in one state, with one notice. A copy that is
      // withheld or held can still be published later, so it is kept.
      await finishInbound(tx, row.id, { ...ids, state: 'duplicate', reason: 'duplicate', duplicateOf: earlier.inboundId });
      return { state: 'duplicate', of: earlier.inboundId };
    }
    return applyDecision(tx, decision, {
      deps,
      row: locked,
      mail,
      ids,
      person: person ?? null,
      content,
      verdict,
      externalParticipants,
      orgParticipants: [...new Set(participants.filter((a) => !externalParticipants.includes(a) && a !== from))],
      tokenHash: token?.ok ? tokenHash : null,
      bounce:
        route?.kind === 'bounce'
          ? bounceByVerp(route.token, row.raw!, mail, [deps.secret, ...(deps.previousSecret ? [deps.previousSecret] : [])])
          : await bounceByReturnedMessage(tx, classification, row.raw!, mail),
      files,
      parentIds: classification.kind === 'reply' ? classification.parentIds : [],
      now,
    });
  });
  return { ...result, deliveredAt: row.internalDate ?? row.receivedAt, trimmedRatio };
}

/**
 * The group a mail would land in (its thread's, else the addressed one, else the default group)
 * as far as it limits who may write: private groups take mail from members only, archived ones
 * from nobody (docs/SECURITY.md, private groups).
 */
async function targetGroupFacts(tx: Tx, route: Route | null, threadPostId: string | null, defaultGroup: string, personId: string | null) {
  const post = threadPostId ? await getPostRow(tx, threadPostId) : undefined;
  const group = post ? await getGroupById(tx, post.groupId) : await findGroup(tx, route?.kind === 'group' ? route.slug : defaultGroup);
  if (!group) return null;
  return {
    visibility: group.visibility,
    archived: group.archivedAt !== null,
    senderIsMember: personId ? (await memberRole(tx, group.id, personId)) !== undefined : false,
  };
}

/** Reasons `planAttachments` gives that no scan result can change: such files are never stored. */
const NEVER_STORED = new Set(['empty', 'too_large', 'type_not_allowed']);

/**
 * Each file that could be stored, through the virus scanner; what it finds is kept on the file.
 * A file over the per-mail total is scanned too: an infected file before it frees its room.
 */
async function scanFiles(files: ParsedAttachment[], scanner: FileScanner, limits: AttachmentLimits): Promise<ParsedAttachment[]> {
  const plans = planAttachments(files, limits);
  const out: ParsedAttachment[] = [];
  for (const [i, f] of files.entries()) {
    const plan = plans[i];
    if (!plan || NEVER_STORED.has(plan.omitted ?? '')) out.push(f);
    else {
      const verdict = await scanner(f.content);
      out.push(verdict.clean ? f : { ...f, infected: verdict.signature });
    }
  }
  return out;
}

/** Whether two copies show the same text (line ends and trailing space aside). */
function sameShownText(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').trim();
  return norm(a) === norm(b);
}

/** Days within which a reply whose client dropped the threading headers finds its thread by subject. */
const SUBJECT_FALLBACK_DAYS = 14;

/**
 * The thread a mail belongs to: by References / In-Reply-To first (our own outbound
 * Message-IDs included); then by the root of Outlook's `Thread-Index` on a reply; then, for a
 * subject marked as a reply (`Re:`, `AW:`…), the newest recent thread with the same subject
 * that someone who wrote ties to the mail (never Blend's or a mailing list's address).
 */
async function findParent(
  tx: Tx,
  mail: MailInput,
  classification: ReturnType<typeof classify>,
  arrived: Date,
  addressing: Addressing,
): Promise<{ postId: string; via: 'references' | 'thread_index' | 'subject' } | undefined> {
  if (classification.kind !== 'reply' && classification.kind !== 'new_thread') return undefined;
  if (classification.kind === 'reply') {
    const byIds = await findThreadPost(tx, classification.parentIds);
    if (byIds) return { postId: byIds.postId, via: 'references' };
  }
  const ti = mail.headers['thread-index']?.[0];
  if (ti && isThreadIndexReply(ti)) {
    const root = threadIndexRoot(ti);
    const postId = root ? await findPostByThreadIndex(tx, root) : undefined;
    if (postId) return { postId, via: 'thread_index' };
  }
  if (hasReplyMarker(mail.subject)) {
    const since = new Date(arrived.getTime() - SUBJECT_FALLBACK_DAYS * 86_400_000);
    const postId = await findPostBySubject(tx, threadSubjectKey(mail.subject), subjectFallbackPeople(mail, addressing), since);
    if (postId) return { postId, via: 'subject' };
  }
  return undefined;
}
