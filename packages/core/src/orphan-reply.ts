import type { IngestDecision } from './ingest-decision';

/**
 * Default of `BLEND_ORPHAN_REPLY_GRACE_MS`: no wait. An early reply is published at once and
 * adopted by its parent when that comes (docs/ARCHITECTURE.md "Threads and merges" says why).
 */
export const DEFAULT_ORPHAN_REPLY_GRACE_MS = 0;

/** What decides whether a reply whose parent is unknown waits for it a little. */
export interface OrphanReplyFacts {
  /** The mail names earlier messages (In-Reply-To / References). */
  isReply: boolean;
  /** What `decideIngest` made of it: only a new post waits (it found no thread). */
  action: IngestDecision['action'];
  /** Blend has the parent or one of the earlier messages already: stored, or sent itself. */
  parentSeen: boolean;
  /** When Blend stored the mail, and now, both on the database clock. */
  storedAt: Date;
  now: Date;
  /** `BLEND_ORPHAN_REPLY_GRACE_MS`; 0 disables the wait. */
  graceMs: number;
}

/**
 * How long a reply that would start a post because none of the messages it names is known
 * should wait before it is decided again: the rest of the grace counted from when it was
 * stored, never more than the grace, so a reply to a mail Blend never sees is delayed by the
 * grace at most; 0 to go on now. A mail stored long ago (a backlog) never waits.
 */
export function orphanReplyWait(f: OrphanReplyFacts): number {
  if (f.graceMs <= 0 || !f.isReply || f.action !== 'post' || f.parentSeen) return 0;
  return Math.min(f.graceMs, Math.max(0, f.storedAt.getTime() + f.graceMs - f.now.getTime()));
}
