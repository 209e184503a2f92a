import type { IngestDecision } from './ingest-decision';

/**
 * An earlier copy of a mail whose effect was an action rather than a post: a mailed command
 * (the inbound row's state `command`, its reason the command's kind) or a like (`liked`).
 */
export interface ActedCopy {
  state: 'command' | 'liked';
  /** The command's kind (`opt_out`, `digest`…), or `like`. */
  reason: string | null;
}

/** What a later copy of an acted-on mail becomes: never a second action (docs/SECURITY.md B29). */
export type ActedCopyOutcome = 'duplicate' | 'conflicting_copy';

/**
 * Judge a copy of a mail that was already acted on once, for instance re-read after the
 * mailbox got a new UIDVALIDITY (RFC 3501 2.3.1.1) or delivered twice. Acting again would undo
 * what the person did since (an opt-out re-applied after a later opt-in, a like taken back
 * in the web UI and given again), so a copy is acted on at most once per dedupe key.
 *
 * - The same action again, or a decision that acts on nothing (a refusal, a hold, a withhold:
 *   the situation changed, the mail did not): `duplicate` of the earlier copy.
 * - Another action, or something to publish, under the same Message-ID: the copy says something
 *   else, so it is held for IT as `conflicting_copy`, as for a published copy (B27).
 */
export function judgeActedCopy(earlier: ActedCopy, decision: IngestDecision): ActedCopyOutcome {
  switch (decision.action) {
    case 'reject':
    case 'withhold':
    case 'hold':
      return 'duplicate';
    case 'command':
      return earlier.state === 'command' && earlier.reason === decision.command.kind ? 'duplicate' : 'conflicting_copy';
    case 'like':
      return earlier.state === 'liked' ? 'duplicate' : 'conflicting_copy';
    case 'post':
    case 'comment':
      return 'conflicting_copy';
  }
}

/**
 * Judge a copy of a mail that was already published (docs/SECURITY.md B27): a copy that shows
 * the same text (line ends and trailing space aside) is its `duplicate`; one that says something
 * else under the same dedupe key is held for IT as `conflicting_copy`, not silently dropped.
 * @param earlierText - the published copy's text; null when it is no longer kept.
 */
export function judgePublishedCopy(earlierText: string | null, text: string): ActedCopyOutcome {
  if (earlierText === null) return 'duplicate';
  const norm = (s: string) => s.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').trim();
  return norm(earlierText) === norm(text) ? 'duplicate' : 'conflicting_copy';
}
