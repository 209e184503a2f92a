import {
  assertNever,
  bridgeAddress,
  DEFAULT_ATTACHMENT_LIMITS,
  helpNotice,
  planAttachments,
  postLink,
  threadIndexRoot,
  inviteNotice,
  languageOf,
  optInConfirmNotice,
  optOutConfirmNotice,
  optedOutNotice,
  shareConfirmNotice,
  signLink,
  LINK_LIFETIME_DAYS,
  textToSafeHtml,
  threadNotice,
  threadLookupOrder,
  threadSubjectKey,
  translator,
  type BounceEvidence,
  type IngestDecision,
  type MailInput,
  type Participants,
  type RenderedContent,
  type SenderVerdict,
} from '@blend/core';
import {
  addLike,
  claimMessageRef,
  emitCommentEvent,
  emitPostEvent,
  emitReactionEvent,
  addThreadParticipants,
  ensureGroup,
  finishInbound,
  insertMailComment,
  insertMailPost,
  findPersonByEmail,
  languagesByEmail,
  outboundIdByMessageId,
  recordBounce,
  recordMentions,
  insertTags,
  setOptIn,
  storeAttachments,
  upsertPerson,
  useReplyToken,
  type LockedInbound,
  type Person,
  type Tx,
} from '@blend/db';
import { recordActivity } from '@blend/outbound';
import type { ParsedAttachment } from '@blend/mail';
import { isoWeek, queueMail } from '../outbox';
import type { InboundIds } from './copies';
import { activitySettings, type IngestDeps } from './deps';
import { adoptEarlyReplies, joinLateParent, mergeLinkedThreads } from './merge-threads';
import type { IngestOutcome } from './outcome';
import { notPublishedReceipt, publishReceipt, receiptCount, RECEIPT_REJECTS } from './receipts';

export interface ApplyContext {
  deps: IngestDeps;
  row: LockedInbound;
  mail: MailInput;
  ids: InboundIds;
  person: Person | null;
  /** The rendered content (HTML, tags, mentions, forwarded messages). */
  content: RenderedContent;
  verdict: SenderVerdict;
  /** Who is on the mail besides Blend (core `splitParticipants`). */
  participants: Participants;
  tokenHash: string | null;
  /** Set when the mail is a bounce of one of our mails, found by its VERP address or the Message-ID it returns. */
  bounce: BounceEvidence | null;
  /** The posts the Message-IDs the mail replies to lead to, best candidate first (the decide stage read them); other threads among them are merged. */
  referencedPostIds?: string[];
  /** The mail's files, stored with the post or comment it becomes. */
  files?: ParsedAttachment[];
  now: Date;
}

/**
 * The write stage: store what `decideIngest` decided, with the mails it causes, in the ingest's
 * transaction (docs/ARCHITECTURE.md "Ingest, one mail at a time").
 */
export async function applyDecision(tx: Tx, decision: IngestDecision, c: ApplyContext): Promise<IngestOutcome> {
  const { deps, row, mail, ids } = c;
  const bridge = bridgeAddress(deps.addressing, { kind: 'status' });
  // Notices to the sender are in their language; to a stranger, in the organisation's.
  const lang = languageOf(c.person, deps.defaultLanguage);
  // Links carry when they were made: a newer choice of their person voids them (link-standing.ts).
  const iat = Math.floor(c.now.getTime() / 1000);
  const exp = iat + LINK_LIFETIME_DAYS * 86_400;
  const link = (path: string, token: string) => `${deps.publicUrl}${path}?t=${encodeURIComponent(token)}`;
  const outbound: string[] = [];
  const mailTo = async (m: Parameters<typeof queueMail>[2]) => {
    const id = await queueMail(tx, deps.addressing, m);
    if (id) outbound.push(id);
  };
  const from = ids.fromAddress;

  switch (decision.action) {
    case 'reject': {
      await finishInbound(tx, row.id, { ...ids, state: 'rejected', reason: decision.reason });
      if (decision.reason === 'bounce' && c.bounce) {
        // A DSN for one of our mails, found by the VERP token in its envelope address or by
        // the Message-ID of the message it returns (core `readBounce`).
        const b = c.bounce;
        const outboundId = b.via === 'verp' ? b.outboundId : await outboundIdByMessageId(tx, b.originalMessageId);
        if (outboundId) {
          const paused = await recordBounce(tx, outboundId, b.hard, b.detail);
          deps.metrics?.bounces.inc({ kind: b.hard ? 'hard' : 'soft' });
          if (paused) deps.log.warn({ outboundId }, 'address paused after repeated hard bounces');
        }
      }
      if (RECEIPT_REJECTS.has(decision.reason)) await notPublishedReceipt(tx, c, 'rejected', decision.reason, outbound);
      return { state: 'rejected', reason: decision.reason, outbound };
    }
    case 'hold': {
      await finishInbound(tx, row.id, { ...ids, state: 'held', reason: decision.reason });
      if (decision.reason === 'external_participants' && from && c.person) {
        const token = signLink({ purpose: 'share_confirm', subject: row.id, exp, iat }, deps.secret);
        await mailTo({
          kind: 'share_confirm',
          to: from,
          personId: c.person.id,
          notice: shareConfirmNotice({ bridge, title: ids.subject || translator(lang, 'mail')('common.noSubject'), outsiders: c.participants.external, confirmUrl: link('/links/share', token), lang }),
          dedupeKey: `share-confirm:${row.id}`,
          inReplyTo: mail.messageId,
        });
      } else {
        await notPublishedReceipt(tx, c, 'held', decision.reason, outbound);
      }
      return { state: 'held', reason: decision.reason, outbound };
    }
    case 'withhold': {
      await finishInbound(tx, row.id, { ...ids, state: 'withheld', reason: decision.reason, postId: decision.threadPostId });
      // One invitation per address per week, only to an authenticated sender (docs/SECURITY.md I4):
      // a spoofed From never makes Blend mail the real owner of the address.
      if (from && c.verdict.ok && (decision.reason === 'sender_unknown' || decision.reason === 'not_opted_in')) {
        const token = signLink({ purpose: 'opt_in', subject: from, exp, iat }, deps.secret);
        await mailTo({
          kind: 'opt_in_invite',
          to: from,
          personId: c.person?.id ?? null,
          notice: inviteNotice({ bridge, optInUrl: link('/links/opt-in', token), retentionDays: deps.withheldRetentionDays, lang }),
          dedupeKey: `invite:${from}:${isoWeek(c.now)}`,
          inReplyTo: mail.messageId,
        });
      }
      return { state: 'withheld', reason: decision.reason, outbound };
    }
    case 'command': {
      const cmd = decision.command;
      await finishInbound(tx, row.id, { ...ids, state: 'command', reason: cmd.kind });
      if (!from) return { state: 'command', reason: cmd.kind };
      const day = c.now.toISOString().slice(0, 10);
      switch (cmd.kind) {
        case 'opt_in': {
          // Double opt-in: the confirmation goes to the address itself, so a forged mail
          // cannot opt someone in.
          if (c.person?.optIn === 'opted_in') break;
          const token = signLink({ purpose: 'opt_in', subject: from, exp, iat }, deps.secret);
          await mailTo({ kind: 'opt_in_confirm', to: from, personId: c.person?.id ?? null, notice: optInConfirmNotice({ bridge, optInUrl: link('/links/opt-in', token), lang }), dedupeKey: `optin-confirm:${from}:${day}`, inReplyTo: mail.messageId });
          break;
        }
        case 'opt_out': {
          if (!c.person || c.person.optIn === 'opted_out') break;
          await setOptIn(tx, c.person.id, 'opted_out', 'mail', c.person.id);
          await mailTo({ kind: 'opted_out', to: from, personId: c.person.id, notice: optedOutNotice({ bridge, lang }), dedupeKey: `opted-out:${from}:${day}`, inReplyTo: mail.messageId });
          break;
        }
        case 'unsubscribe': {
          const token = signLink({ purpose: 'unsubscribe', subject: from, exp, iat }, deps.secret);
          await mailTo({ kind: 'opt_out_confirm', to: from, personId: c.person?.id ?? null, notice: optOutConfirmNotice({ bridge, optOutUrl: link('/links/opt-out', token), lang }), dedupeKey: `optout-confirm:${from}:${day}`, inReplyTo: mail.messageId });
          break;
        }
        case 'digest': {
          if (c.person) await upsertPerson(tx, { email: from, digestFrequency: cmd.frequency });
          break;
        }
        case 'help': {
          await mailTo({ kind: 'help', to: from, personId: c.person?.id ?? null, notice: helpNotice({ bridge, lang }), dedupeKey: `help:${from}:${day}`, inReplyTo: mail.messageId });
          break;
        }
        default:
          assertNever(cmd);
      }
      return { state: 'command', reason: cmd.kind, outbound };
    }
    case 'post': {
      const author = c.person!;
      const group = await ensureGroup(tx, decision.groupSlug);
      // The whole conversation so far maps to this post, in the statement that writes it, so a
      // later reply to any earlier message of it finds the thread.
      const threadIds = [mail.messageId, ...mail.references, ...mail.inReplyTo].filter((v): v is string => Boolean(v));
      const post = await insertMailPost(
        tx,
        {
          groupId: group.id,
          authorId: author.id,
          title: decision.title,
          ...publishedText(c, decision.body),
          subjectKey: threadSubjectKey(mail.subject),
          ...(threadIndexOf(mail) ? { threadIndex: threadIndexOf(mail) } : {}),
          ...(c.content.forwarded.length ? { forwarded: await forwardedByOptedIn(tx, c.content.forwarded) } : {}),
        },
        threadIds,
      );
      const recorded = post.recorded;
      await insertTags(tx, post.id, c.content.tags);
      await storeFiles(tx, c, { postId: post.id, commentId: null });
      const mentioned = await recordMentions(tx, post.id, null, c.content.mentionedEmails);
      // The conversation's people join the thread in the statement that reads the activity's
      // facts; the sender's published mails are counted there for the receipt.
      const thread = await recordActivity(
        tx,
        { kind: 'post', postId: post.id, commentId: null, authorId: author.id, source: 'email', at: c.now, mentionedIds: mentioned, alreadyHaveEmails: c.participants.conversation, joinEmails: c.participants.conversation, countPublished: receiptCount(tx, c) },
        activitySettings(deps).coalesceMs,
      );
      await emitPostEvent(tx, 'post.created', post.id, { publicUrl: deps.publicUrl, at: post.createdAt });
      // Replies that came in before this mail (and so became posts of their own) join it now:
      // they mapped its Message-ID first (docs/ARCHITECTURE.md "Threads and merges").
      if (mail.messageId && !recorded.has(mail.messageId)) {
        await adoptEarlyReplies(tx, deps, { postId: post.id, messageId: mail.messageId, inboundId: row.id, now: c.now });
        await claimMessageRef(tx, { messageId: mail.messageId, postId: post.id, commentId: null, inboundId: row.id });
      }
      await finishInbound(tx, row.id, { ...ids, state: 'posted', postId: post.id });
      // Consent per thread: everyone of the organisation on To/Cc hears once that the
      // conversation is mirrored, with a link to keep their own replies out of it.
      const notified = c.participants.organisation.slice(0, 50);
      const languages = await languagesByEmail(tx, notified);
      for (const address of notified) {
        const token = signLink({ purpose: 'thread_withhold', subject: address, scope: post.id, exp: exp + 76 * 86_400, iat }, deps.secret);
        await mailTo({
          kind: 'thread_notice',
          to: address,
          postId: post.id,
          notice: threadNotice({
            bridge,
            sharer: author.name || author.email,
            title: decision.title,
            postUrl: postLink(deps.publicUrl, post.id),
            withholdUrl: link('/links/withhold', token),
            lang: languageOf({ language: languages.get(address.toLowerCase()) ?? null }, deps.defaultLanguage),
          }),
          dedupeKey: `thread-notice:${post.id}:${address}`,
          inReplyTo: mail.messageId,
        });
      }
      await publishReceipt(tx, c, { postId: post.id, commentId: null, title: decision.title, text: decision.body }, outbound, thread);
      // A reply that found no thread, whose parent committed while it was written: it joins
      // the parent's thread after all (docs/ARCHITECTURE.md "Threads and merges").
      // Only a parent id mapped before this mail's could lead there.
      const parentIds = threadLookupOrder(mail);
      const joined = parentIds.some((id) => !recorded.has(id)) ? await joinLateParent(tx, deps, { postId: post.id, parentIds, inboundId: row.id, now: c.now }) : undefined;
      if (joined) return { state: 'commented', postId: joined.postId, commentId: joined.commentId, outbound };
      return { state: 'posted', postId: post.id, outbound };
    }
    case 'comment': {
      // The token's last use may have gone to a reply processed at the same moment.
      if (c.tokenHash && !(await useReplyToken(tx, c.tokenHash))) {
        await finishInbound(tx, row.id, { ...ids, state: 'rejected', reason: 'bad_token' });
        return { state: 'rejected', reason: 'bad_token' };
      }
      // A reply whose References also name messages of other threads proves they are one
      // conversation: the later ones join the earliest first, and the reply goes there.
      const postId = await mergeLinkedThreads(tx, deps, { targetPostId: decision.postId, referencedPostIds: c.referencedPostIds ?? [], senderId: c.person!.id, inboundId: row.id, now: c.now });
      // Its Message-ID maps to it in the statement that writes it.
      const comment = await insertMailComment(tx, { postId, authorId: c.person!.id, ...publishedText(c, decision.body) }, mail.messageId ? [mail.messageId] : []);
      await storeFiles(tx, c, { postId, commentId: comment.id });
      const mentioned = await recordMentions(tx, postId, comment.id, c.content.mentionedEmails);
      // Replies to this mail that came in before it (they mapped its Message-ID first) join
      // the thread it joined.
      if (mail.messageId && !comment.recorded.has(mail.messageId)) {
        await adoptEarlyReplies(tx, deps, { postId, messageId: mail.messageId, inboundId: row.id, now: c.now });
        await claimMessageRef(tx, { messageId: mail.messageId, postId, commentId: comment.id, inboundId: row.id });
      }
      // The thread's title and the sender's published mails come along for the receipt.
      const thread = await recordActivity(
        tx,
        { kind: 'comment', postId, commentId: comment.id, authorId: c.person!.id, source: 'email', at: c.now, mentionedIds: mentioned, alreadyHaveEmails: c.participants.conversation, joinEmails: c.participants.conversation, countPublished: receiptCount(tx, c) },
        activitySettings(deps).coalesceMs,
      );
      await emitCommentEvent(tx, 'comment.created', comment.id, { publicUrl: deps.publicUrl, at: comment.createdAt });
      await finishInbound(tx, row.id, { ...ids, state: 'commented', postId, commentId: comment.id });
      await publishReceipt(tx, c, { postId, commentId: comment.id, text: decision.body }, outbound, thread);
      return { state: 'commented', postId, commentId: comment.id, outbound };
    }
    case 'like': {
      if (c.tokenHash && !(await useReplyToken(tx, c.tokenHash))) {
        await finishInbound(tx, row.id, { ...ids, state: 'rejected', reason: 'bad_token' });
        return { state: 'rejected', reason: 'bad_token' };
      }
      if (await addLike(tx, decision.postId, c.person!.id)) await emitReactionEvent(tx, 'reaction.created', decision.postId, c.person!.id, 'email', { publicUrl: deps.publicUrl, at: c.now });
      await addThreadParticipants(tx, decision.postId, c.participants.conversation);
      await finishInbound(tx, row.id, { ...ids, state: 'liked', reason: 'like', postId: decision.postId });
      return { state: 'liked', postId: decision.postId };
    }
    default:
      return assertNever(decision);
  }
}

/**
 * Forwarded messages are kept with the post only when their original author has opted in
 * (their words are theirs to share); others are replaced by an attribution-free note.
 */
async function forwardedByOptedIn(tx: Tx, list: RenderedContent['forwarded']): Promise<RenderedContent['forwarded']> {
  const out: RenderedContent['forwarded'] = [];
  for (const f of list) {
    const address = /<([^<>\s]+@[^<>\s]+)>/.exec(f.from)?.[1] ?? (/\S+@\S+/.exec(f.from)?.[0] ?? '');
    const author = address ? await findPersonByEmail(tx, address.toLowerCase()) : undefined;
    out.push(author?.optIn === 'opted_in' ? f : { from: '', date: null, subject: '', text: '(a forwarded message whose author has not opted in is not shown)' });
  }
  return out;
}

/** Store the files of a published mail, within the attachment limits. */
async function storeFiles(tx: Tx, c: ApplyContext, target: { postId: string; commentId: string | null }): Promise<void> {
  const files = c.files ?? [];
  if (files.length === 0) return;
  const plans = planAttachments(files, c.deps.attachmentLimits ?? DEFAULT_ATTACHMENT_LIMITS);
  await storeAttachments(tx, target, plans.map((plan, i) => ({ plan, content: files[i]!.content })));
}

/** The Outlook Thread-Index of the first mail of a thread, when it carries a valid one. */
function threadIndexOf(mail: MailInput): string | null {
  const v = mail.headers['thread-index']?.[0];
  return v ? threadIndexRoot(v) : null;
}

/** What a published mail's post or comment says, and where it came from. */
function publishedText(c: ApplyContext, body: string) {
  return {
    bodyText: body,
    bodyHtml: c.content.bodyHtml || textToSafeHtml(body),
    trimmedText: c.content.trimmedText,
    source: 'email' as const,
    dedupeKey: c.ids.dedupeKey,
    inboundId: c.row.id,
    createdAt: arrivalTime(c.row.internalDate, c.now),
  };
}

/**
 * When a mail's content appears in the feed. A mail ingested promptly appears when it is
 * ingested: its IMAP arrival time has whole seconds only, and a reply ingested right after
 * an ESN comment must not sort before it. A backlog (mail ingested later) keeps its arrival time.
 */
function arrivalTime(internalDate: Date | null, now: Date): Date {
  if (!internalDate || now.getTime() - internalDate.getTime() < 60_000) return now;
  return internalDate;
}
