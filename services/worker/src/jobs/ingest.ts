import {
  classify,
  decideIngest,
  dedupeKey,
  extractVisibleText,
  htmlToPlainText,
  normaliseSubject,
  pickBridgeRoute,
  PermanentError,
  textToSafeHtml,
  threadSubjectKey,
  truncate,
  type IngestDecision,
} from '@blend/core';
import {
  ensureGroup,
  findByDedupeKey,
  findGroup,
  findPersonByEmail,
  findThreadPost,
  finishInbound,
  getInbound,
  hasUnfinishedWithMessageId,
  insertComment,
  insertPost,
  lockDedupeKey,
  lockInbound,
  recordMessageRefs,
  type Database,
} from '@blend/db';
import { parseMail, type MimeLimits } from '@blend/mail';
import type { Logger } from '@blend/config';
import type { IngestJob } from '@blend/queue';

export interface IngestDeps {
  db: Database;
  log: Logger;
  bridgeDomain: string;
  defaultGroup: string;
  mimeLimits?: MimeLimits;
}

export type IngestOutcome = (
  | { state: 'skipped'; reason: 'already_final' }
  | { state: 'posted'; postId: string }
  | { state: 'commented'; postId: string; commentId: string }
  | { state: 'duplicate'; of: string | null }
  | { state: 'withheld' | 'rejected' | 'held'; reason: string }
) & {
  /** Outbox rows written by this ingest, to queue for sending once it has committed. */
  outbound?: string[];
};

const MAX_TITLE = 255;
const MAX_BODY = 100_000;

/**
 * `ingest`: parse -> classify -> convert -> record, for one stored inbound row.
 * Safe to run twice: the row is locked and only a `received` row is converted, and the
 * dedupe key makes a second copy of the same mail a `duplicate`.
 */
export async function ingest(job: IngestJob, deps: IngestDeps): Promise<IngestOutcome> {
  const row = await getInbound(deps.db, job.inboundId);
  if (!row) throw new PermanentError('INBOUND_NOT_FOUND', job.inboundId);
  if (row.state !== 'received') return { state: 'skipped', reason: 'already_final' };
  if (!row.raw) {
    await deps.db.transaction((tx) => finishInbound(tx, row.id, { state: 'rejected', reason: 'missing_source' }));
    return { state: 'rejected', reason: 'missing_source' };
  }

  let parsed;
  try {
    parsed = await parseMail(row.raw, deps.mimeLimits);
  } catch (err) {
    if (err instanceof PermanentError) {
      const reason = err.code === 'MIME_LIMITS' ? 'mime_limits' : 'malformed_mime';
      await deps.db.transaction((tx) => finishInbound(tx, row.id, { state: 'rejected', reason }));
      deps.log.warn({ inboundId: row.id, reason, detail: err.message }, 'inbound rejected');
      return { state: 'rejected', reason };
    }
    throw err;
  }
  const { mail } = parsed;
  const key = dedupeKey(mail, row.raw);
  const classification = classify(mail, { bridgeDomain: deps.bridgeDomain });
  const routed = pickBridgeRoute(mail, deps.bridgeDomain);
  // HTML-only mail (no text/plain part) is converted to text here, not by mailparser.
  const rawText = mail.text?.trim() ? mail.text : mail.html ? htmlToPlainText(mail.html) : '';
  const visible = extractVisibleText(rawText);
  const body = truncate(visible.text, MAX_BODY);
  const title = truncate(normaliseSubject(mail.subject), MAX_TITLE);

  return deps.db.transaction(async (tx): Promise<IngestOutcome> => {
    await lockDedupeKey(tx, key);
    const locked = await lockInbound(tx, row.id);
    if (!locked || locked.state !== 'received') return { state: 'skipped', reason: 'already_final' };
    const ids = { messageId: mail.messageId, dedupeKey: key };

    const earlier = await findByDedupeKey(tx, key);
    if (earlier && earlier.inboundId !== row.id) {
      await finishInbound(tx, row.id, { ...ids, state: 'duplicate', reason: 'duplicate', duplicateOf: earlier.inboundId });
      return { state: 'duplicate', of: earlier.inboundId };
    }

    const person = mail.from ? await findPersonByEmail(tx, mail.from.address) : undefined;
    // A parent that came in the same batch may be converting right now: retry shortly
    // (BullMQ backoff) instead of starting a second thread. This check must come before the
    // thread lookup: if the parent commits in between, the lookup (a new statement under
    // READ COMMITTED) sees its post.
    if (classification.kind === 'reply' && (await hasUnfinishedWithMessageId(tx, classification.parentIds, row.id))) {
      throw new Error('parent message is stored but not converted yet; retrying');
    }
    const parent = classification.kind === 'reply' ? await findThreadPost(tx, classification.parentIds) : undefined;
    const route = routed?.route ?? null;
    const decision: IngestDecision = decideIngest({
      classification,
      route,
      sender: person ? { id: person.id, optIn: person.optIn } : null,
      parentPostId: parent?.postId ?? null,
      groupExists: route?.kind === 'group' ? Boolean(await findGroup(tx, route.slug)) : true,
      title,
      body,
      defaultGroup: deps.defaultGroup,
    });

    switch (decision.action) {
      case 'reject':
      case 'withhold': {
        const state = decision.action === 'reject' ? 'rejected' : 'withheld';
        await finishInbound(tx, row.id, { ...ids, state, reason: decision.reason });
        return { state, reason: decision.reason };
      }
      case 'post': {
        const group = await ensureGroup(tx, decision.groupSlug);
        const post = await insertPost(tx, {
          groupId: group.id,
          authorId: person!.id,
          title: decision.title,
          bodyText: decision.body,
          bodyHtml: textToSafeHtml(decision.body),
          source: 'email',
          dedupeKey: key,
          inboundId: row.id,
          subjectKey: threadSubjectKey(mail.subject),
          createdAt: row.internalDate ?? new Date(),
        });
        // The whole conversation so far maps to this post, so a later reply to any
        // earlier message of it finds the thread.
        const threadIds = [mail.messageId, ...mail.references, ...mail.inReplyTo].filter((v): v is string => Boolean(v));
        await recordMessageRefs(
          tx,
          [...new Set(threadIds)].map((messageId) => ({ messageId, postId: post.id, inboundId: row.id })),
        );
        await finishInbound(tx, row.id, { ...ids, state: 'posted', postId: post.id });
        return { state: 'posted', postId: post.id };
      }
      case 'comment': {
        const comment = await insertComment(tx, {
          postId: decision.postId,
          authorId: person!.id,
          bodyText: decision.body,
          bodyHtml: textToSafeHtml(decision.body),
          source: 'email',
          dedupeKey: key,
          inboundId: row.id,
          createdAt: row.internalDate ?? new Date(),
        });
        if (mail.messageId) {
          await recordMessageRefs(tx, [{ messageId: mail.messageId, postId: decision.postId, commentId: comment.id, inboundId: row.id }]);
        }
        await finishInbound(tx, row.id, { ...ids, state: 'commented', postId: decision.postId, commentId: comment.id });
        return { state: 'commented', postId: decision.postId, commentId: comment.id };
      }
    }
  });
}
