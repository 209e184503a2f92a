import { judgeActedCopy, judgePublishedCopy, type IngestDecision } from '@blend/core';
import { finishInbound, type EarlierCopy, type Tx } from '@blend/db';
import type { IngestOutcome } from './outcome';

/** What the inbound row records about the mail whatever it becomes. */
export interface InboundIds {
  messageId: string | null;
  dedupeKey: string;
  fromAddress: string | null;
  subject: string;
}

/** A mail that ends because of an earlier copy of it: a duplicate of it, or held for IT because it says something else. */
export interface CopyEnd {
  state: 'duplicate' | 'held';
  duplicateOf: string | null;
}

const end = (earlier: EarlierCopy, outcome: 'duplicate' | 'conflicting_copy'): CopyEnd => ({
  state: outcome === 'duplicate' ? 'duplicate' : 'held',
  duplicateOf: earlier.inboundId,
});

/**
 * Before deciding (docs/SECURITY.md B27): a published copy makes this one its duplicate, unless
 * this one says something else. An unpublished copy (rejected through a forwarder that broke
 * DMARC, say) never shadows one that can be published: it is judged after the decision.
 */
export function copyBeforeDecision(earlier: EarlierCopy | undefined, text: string): CopyEnd | null {
  return earlier?.published ? end(earlier, judgePublishedCopy(earlier.bodyText, text)) : null;
}

/**
 * After deciding: a copy of a command or a like that was carried out (re-read after a new
 * UIDVALIDITY, or delivered twice) acts once, never again (docs/SECURITY.md B29); a copy refused
 * this time too ends as the earlier one's duplicate, so the same mail ends in one state with one
 * notice. A copy that is withheld or held can still be published later, so it goes on.
 */
export function copyAfterDecision(earlier: EarlierCopy | undefined, decision: IngestDecision): CopyEnd | null {
  if (!earlier || earlier.published) return null;
  if (earlier.acted) return end(earlier, judgeActedCopy(earlier.acted, decision));
  return decision.action === 'reject' ? end(earlier, 'duplicate') : null;
}

/** Record that the mail ended as a copy. */
export async function finishAsCopy(tx: Tx, inboundId: string, ids: InboundIds, c: CopyEnd): Promise<IngestOutcome> {
  if (c.state === 'held') {
    await finishInbound(tx, inboundId, { ...ids, state: 'held', reason: 'conflicting_copy', duplicateOf: c.duplicateOf });
    return { state: 'held', reason: 'conflicting_copy' };
  }
  await finishInbound(tx, inboundId, { ...ids, state: 'duplicate', reason: 'duplicate', duplicateOf: c.duplicateOf });
  return { state: 'duplicate', of: c.duplicateOf };
}
