import type { Classification } from './classify';
import { isLikeOnly } from './like-reply';
import { titleFromBody } from './post-text';
import type { Command } from './command';
import type { Route } from './route';
import type { SenderVerdict } from './sender-policy';

/** What the sender is to Blend at the moment of conversion. */
export interface SenderInfo {
  id: string;
  optIn: 'pending' | 'opted_in' | 'opted_out';
}

/** The outcome of looking up a `reply+TOKEN@` address, judged by judgeReplyToken. */
export type TokenCheck = { ok: true; postId: string } | { ok: false; reason: 'bad_token' | 'sender_mismatch' | 'unauthenticated' | 'not_opted_in' };

export interface IngestFacts {
  classification: Classification;
  /** The bridge address the mail came through, or null when none of ours was used. */
  route: Route | null;
  /** Sender authentication (DKIM/SPF/DMARC or the trusted MTA's results) and org domain. */
  senderVerdict: SenderVerdict;
  /** The known person with the From address, or null. */
  sender: SenderInfo | null;
  /** A mail command in the subject or first line (`opt in`, `opt out`, `digest …`). */
  command: Command | null;
  /** Set for `reply+TOKEN@` routes. */
  token: TokenCheck | null;
  /** The post this mail's thread is already mirrored as, if any (by Message-IDs, Thread-Index or subject and participants). */
  parentPostId: string | null;
  /** The sender asked not to have their replies mirrored in that thread. */
  threadDeclined: boolean;
  /** The mail answers one of Blend's own notices (a receipt, a digest, an invitation), not a thread. @defaultValue false */
  repliesToNotice?: boolean;
  /** Whether the group named by a group address exists. */
  groupExists: boolean;
  /**
   * The group the mail would land in (the addressed group, the thread's group, or the default
   * group) as far as it limits who may write: a private group takes mail from its members only,
   * an archived one from nobody. Absent: no limit. */
  targetGroup?: { visibility: 'public' | 'private'; archived: boolean; senderIsMember: boolean } | null;
  /** Encrypted mail, a sensitivity label or a confidentiality marker: never published. */
  confidential: { reason: 'encrypted' | 'sensitivity_label' | 'confidential_marker' } | null;
  /** Per-sender / per-thread / organisation rate limits. */
  rate: { ok: true } | { ok: false; reason: 'sender_rate' | 'thread_rate' | 'org_rate' };
  /** To/Cc addresses outside the organisation's domains (a new thread must be confirmed). */
  externalParticipants: string[];
  /** The sharer already confirmed mirroring despite external participants. */
  externalConfirmed: boolean;
  title: string;
  /** The new visible text of the mail. */
  body: string;
  /** How sure the quote trimmer is about what the author wrote; `low` fails closed. @defaultValue 'high' */
  trimConfidence?: 'high' | 'low';
  defaultGroup: string;
}

/** Reason codes of mail that is kept but never published. */
export type RejectReason =
  | 'own_mail'
  | 'bounce'
  | 'auto_generated'
  | 'mailing_list'
  | 'not_addressed_to_bridge'
  | 'dmarc_fail'
  | 'unauthenticated'
  | 'not_org_domain'
  | 'invalid_from'
  | 'bad_token'
  | 'sender_mismatch'
  | 'unknown_command'
  | 'unknown_group'
  | 'empty_body'
  | 'reply_to_notice'
  /** A private group's address (or thread) written to by someone who is not a member. */
  | 'not_group_member'
  /** An archived group is read-only. */
  | 'group_archived';
/** Kept and publishable later (the person opts in). */
export type WithholdReason = 'sender_unknown' | 'not_opted_in' | 'opted_out' | 'participant_declined';
/** Kept until someone acts (a confirmation, an admin). */
export type HoldReason =
  | 'encrypted'
  | 'sensitivity_label'
  | 'confidential_marker'
  | 'external_participants'
  | 'sender_rate'
  | 'thread_rate'
  | 'org_rate'
  | 'unclear_quote'
  /** A second copy of a published mail (same Message-ID) whose text differs: for IT to look at. */
  | 'conflicting_copy';

export type IngestDecision =
  | { action: 'reject'; reason: RejectReason }
  | { action: 'withhold'; reason: WithholdReason; threadPostId: string | null }
  | { action: 'hold'; reason: HoldReason }
  | { action: 'command'; command: Command }
  | { action: 'post'; groupSlug: string; title: string; body: string }
  | { action: 'comment'; postId: string; body: string }
  /** A reply that says only "+1", "like" or 👍: a like on the thread, not a comment. */
  | { action: 'like'; postId: string };

/**
 * Decide what one inbound mail becomes. Pure: the worker loads the facts, calls this, and
 * stores the result in one transaction.
 *
 * Order matters. Loops and auto-replies first, so they are never answered (docs/ARCHITECTURE.md invariant
 * 4); then sender authentication, before the From address is trusted for anything
 * (invariant 6); then reply tokens and commands; then confidentiality and rate limits,
 * before any content is used; opt-in last but before publishing (invariant 5).
 */
export function decideIngest(f: IngestFacts): IngestDecision {
  switch (f.classification.kind) {
    case 'own_mail':
      return { action: 'reject', reason: 'own_mail' };
    case 'bounce':
      return { action: 'reject', reason: 'bounce' };
    case 'auto_generated':
      return { action: 'reject', reason: 'auto_generated' };
    case 'mailing_list':
      // Mirroring is never automatic for list traffic (docs/SECURITY.md B22).
      return { action: 'reject', reason: 'mailing_list' };
    case 'reply':
    case 'new_thread':
      break;
  }
  const route = f.route;
  if (!route || route.kind === 'foreign') return { action: 'reject', reason: 'not_addressed_to_bridge' };
  if (route.kind === 'bounce') return { action: 'reject', reason: 'bounce' };
  if (!f.senderVerdict.ok) return { action: 'reject', reason: f.senderVerdict.reason };

  if (route.kind === 'reply') {
    const t = f.token;
    // One generic answer for every token failure: no oracle (docs/SECURITY.md B18).
    if (!t) return { action: 'reject', reason: 'bad_token' };
    if (!t.ok) {
      if (t.reason === 'not_opted_in') return { action: 'withhold', reason: 'not_opted_in', threadPostId: null };
      return { action: 'reject', reason: t.reason === 'sender_mismatch' ? 'sender_mismatch' : 'bad_token' };
    }
    const closed = groupRefusal(f);
    if (closed) return { action: 'reject', reason: closed };
    if (f.confidential) return { action: 'hold', reason: f.confidential.reason };
    if (!f.rate.ok) return { action: 'hold', reason: f.rate.reason };
    const body = f.body.trim();
    if (!body) return { action: 'reject', reason: 'empty_body' };
    if (f.trimConfidence === 'low') return { action: 'hold', reason: 'unclear_quote' };
    if (isLikeOnly(body)) return { action: 'like', postId: t.postId };
    return { action: 'comment', postId: t.postId, body };
  }

  if (f.command) return { action: 'command', command: f.command };
  if (route.kind === 'command') return { action: 'reject', reason: 'unknown_command' };
  // "Thanks!" to a receipt or a digest is not a post; thread mails carry their own reply address.
  if (f.repliesToNotice && f.classification.kind === 'reply') return { action: 'reject', reason: 'reply_to_notice' };
  if (route.kind === 'group' && !f.groupExists) return { action: 'reject', reason: 'unknown_group' };
  // Before opt-in: mail an outsider sends to a private group is refused, never kept to be
  // published later (docs/SECURITY.md, private groups).
  const closed = groupRefusal(f);
  if (closed) return { action: 'reject', reason: closed };
  if (f.confidential) return { action: 'hold', reason: f.confidential.reason };

  // The caller found the thread by References/In-Reply-To, Outlook's Thread-Index, or the
  // subject-and-participants fallback.
  const parent = f.parentPostId;
  if (!f.sender) return { action: 'withhold', reason: 'sender_unknown', threadPostId: parent };
  if (f.sender.optIn === 'opted_out') return { action: 'withhold', reason: 'opted_out', threadPostId: parent };
  if (f.sender.optIn !== 'opted_in') return { action: 'withhold', reason: 'not_opted_in', threadPostId: parent };
  if (parent && f.threadDeclined) return { action: 'withhold', reason: 'participant_declined', threadPostId: parent };
  if (!f.rate.ok) return { action: 'hold', reason: f.rate.reason };

  const body = f.body.trim();
  // Unsure what is the author's and what is quoted from others: publish nothing (docs/SECURITY.md
  // B12, B21 "fail closed"); IT can release it after a look.
  if (f.trimConfidence === 'low' && body) return { action: 'hold', reason: 'unclear_quote' };
  if (parent) {
    if (!body) return { action: 'reject', reason: 'empty_body' };
    if (isLikeOnly(body)) return { action: 'like', postId: parent };
    return { action: 'comment', postId: parent, body };
  }
  // A new thread, or a reply whose earlier messages were never mirrored: the person is
  // sharing the conversation from here on, so it starts a post.
  const title = f.title.trim();
  if (!body && !title) return { action: 'reject', reason: 'empty_body' };
  if (f.externalParticipants.length > 0 && !f.externalConfirmed) return { action: 'hold', reason: 'external_participants' };
  return {
    action: 'post',
    groupSlug: route.kind === 'group' ? route.slug : f.defaultGroup,
    title: title || titleFromBody(body),
    body,
  };
}

/** Why the target group refuses this sender, if it does: members only, then archived. */
function groupRefusal(f: IngestFacts): 'not_group_member' | 'group_archived' | null {
  const g = f.targetGroup;
  if (!g) return null;
  if (g.visibility === 'private' && !g.senderIsMember) return 'not_group_member';
  if (g.archived) return 'group_archived';
  return null;
}

