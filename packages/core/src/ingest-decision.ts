import type { Classification } from './classify';
import type { Route } from './route';

/** What the sender is to Blend at the moment of conversion. */
export interface SenderInfo {
  id: string;
  optIn: 'pending' | 'opted_in' | 'opted_out';
}

export interface IngestFacts {
  classification: Classification;
  /** The bridge address the mail came through, or null when none of ours was used. */
  route: Route | null;
  /** The known person with the From address, or null. */
  sender: SenderInfo | null;
  /** The post this mail's thread is already mirrored as, if any. */
  parentPostId: string | null;
  /** Whether the group named by a group address exists. */
  groupExists: boolean;
  title: string;
  /** The new visible text of the mail. */
  body: string;
  defaultGroup: string;
}

/** Reason codes of mail that is kept but not published. */
export type RejectReason =
  | 'own_mail'
  | 'bounce'
  | 'auto_generated'
  | 'mailing_list'
  | 'not_addressed_to_bridge'
  | 'bad_token'
  | 'unknown_command'
  | 'unknown_group'
  | 'empty_body';
export type WithholdReason = 'sender_unknown' | 'not_opted_in' | 'opted_out';

export type IngestDecision =
  | { action: 'reject'; reason: RejectReason }
  | { action: 'withhold'; reason: WithholdReason }
  | { action: 'post'; groupSlug: string; title: string; body: string }
  | { action: 'comment'; postId: string; body: string };

/**
 * Decide what one inbound mail becomes. Pure: the worker loads the facts, calls this,
 * and stores the result in one transaction.
 *
 * Order matters: loop and auto-reply checks come first so that our own mail and
 * out-of-office replies are never answered or published (DESIGN invariant 4); opt-in
 * comes before any content is used (invariant 5).
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
      // Mirroring is never automatic for list traffic (RELIABILITY B22).
      return { action: 'reject', reason: 'mailing_list' };
    case 'reply':
    case 'new_thread':
      break;
  }
  const route = f.route;
  if (!route || route.kind === 'foreign') return { action: 'reject', reason: 'not_addressed_to_bridge' };
  if (route.kind === 'bounce') return { action: 'reject', reason: 'bounce' };
  // Reply tokens are verified by their own stage; a token nobody issued is a bad token.
  if (route.kind === 'reply') return { action: 'reject', reason: 'bad_token' };
  if (route.kind === 'command') return { action: 'reject', reason: 'unknown_command' };
  if (route.kind === 'group' && !f.groupExists) return { action: 'reject', reason: 'unknown_group' };

  if (!f.sender) return { action: 'withhold', reason: 'sender_unknown' };
  if (f.sender.optIn === 'opted_out') return { action: 'withhold', reason: 'opted_out' };
  if (f.sender.optIn !== 'opted_in') return { action: 'withhold', reason: 'not_opted_in' };

  const body = f.body.trim();
  if (f.classification.kind === 'reply' && f.parentPostId) {
    if (!body) return { action: 'reject', reason: 'empty_body' };
    return { action: 'comment', postId: f.parentPostId, body };
  }
  // A new thread, or a reply whose earlier messages were never mirrored: the person is
  // sharing the conversation from here on, so it starts a post.
  const title = f.title.trim();
  if (!body && !title) return { action: 'reject', reason: 'empty_body' };
  return {
    action: 'post',
    groupSlug: route.kind === 'group' ? route.slug : f.defaultGroup,
    title: title || firstLine(body),
    body,
  };
}

function firstLine(body: string): string {
  const line = body.split('\n').find((l) => l.trim()) ?? '';
  return line.length > 80 ? `${line.slice(0, 79)}…` : line.trim();
}
