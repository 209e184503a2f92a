import type { Addressing } from './addressing';
import type { Classification } from './classify';
import { hasReplyMarker, threadSubjectKey } from './subject';
import { subjectFallbackPeople, type SubjectFallbackPeople } from './subject-fallback';
import { isThreadIndexReply, threadIndexRoot } from './thread-index';
import type { MailInput } from './types';

/** Days within which a reply whose client dropped the threading headers finds its thread by subject. */
export const SUBJECT_FALLBACK_DAYS = 14;

/** One way to find the post a mail's thread is mirrored as; the caller runs it against the database. */
export type ThreadLookup =
  /** In-Reply-To / References, best candidate first: any of them in `message_refs`. */
  | { via: 'references'; messageIds: string[] }
  /** The root of Outlook's `Thread-Index`: the post whose first mail carried it. */
  | { via: 'thread_index'; root: string }
  /** The newest post since `since` with this subject key that one of `people` wrote in or was on. */
  | { via: 'subject'; subjectKey: string; people: SubjectFallbackPeople; since: Date };

/**
 * How to find the thread a mail belongs to, in the order the lookups are tried; the first that
 * finds a post wins (docs/ARCHITECTURE.md "Threads and merges"):
 *
 * 1. a reply's References / In-Reply-To (our own outbound Message-IDs included);
 * 2. the root of Outlook's `Thread-Index`, when the header marks a reply;
 * 3. for a subject marked as a reply (`Re:`, `AW:`…), the newest thread of the last
 *    {@link SUBJECT_FALLBACK_DAYS} days before `arrived` with the same subject that someone who
 *    wrote ties to the mail (never Blend's or a mailing list's address).
 *
 * Only a reply or a new thread has a thread; everything else gets no lookups.
 * @param arrived - when the mail reached the mailbox: a backlog is threaded as it came in.
 */
export function threadLookups(mail: MailInput, classification: Classification, arrived: Date, addressing: Addressing): ThreadLookup[] {
  if (classification.kind !== 'reply' && classification.kind !== 'new_thread') return [];
  const out: ThreadLookup[] = [];
  if (classification.kind === 'reply') out.push({ via: 'references', messageIds: classification.parentIds });
  const ti = mail.headers['thread-index']?.[0];
  const root = ti && isThreadIndexReply(ti) ? threadIndexRoot(ti) : null;
  if (root) out.push({ via: 'thread_index', root });
  if (hasReplyMarker(mail.subject)) {
    out.push({
      via: 'subject',
      subjectKey: threadSubjectKey(mail.subject),
      people: subjectFallbackPeople(mail, addressing),
      since: new Date(arrived.getTime() - SUBJECT_FALLBACK_DAYS * 86_400_000),
    });
  }
  return out;
}

/** Blend's own mails that are part of a thread's mail conversation: a reply to one is a comment. */
const THREAD_MAIL_KINDS = new Set(['mirror', 'notification', 'correction']);

/**
 * Whether a reply that found no thread answers one of Blend's notices (a receipt, a digest, an
 * invitation) rather than a conversation: the mail it answers is Blend's own and of a kind that
 * is not thread mail.
 * @param answeredKinds - the kinds of Blend's outbound mails among those the reply names first.
 */
export function answersNotice(answeredKinds: readonly string[]): boolean {
  return answeredKinds.some((k) => !THREAD_MAIL_KINDS.has(k));
}
