import { assertNever } from './errors';

/** A person's consent as the link pages need it. */
export interface ConsentFacts {
  optIn: 'pending' | 'opted_in' | 'opted_out';
  optInChangedAt: Date | null;
}

/**
 * What the API found, at the moment a link is used, about what the link acts on. One variant
 * per purpose; `null` where the row no longer exists.
 */
export type LinkFacts =
  | { purpose: 'opt_in' | 'unsubscribe'; person: ConsentFacts | null }
  /** The held mail (`state`, `reason`) and its author's consent now. */
  | { purpose: 'share_confirm'; message: { state: string; reason: string | null } | null; author: ConsentFacts | null }
  /** The conversation is still in the feed; the address already keeps its replies out of it. */
  | { purpose: 'thread_withhold'; postLive: boolean; alreadyWithheld: boolean }
  /** The person and the thread (for a thread link) still exist; that mail is already off. */
  | { purpose: 'list_unsubscribe'; personExists: boolean; targetLive: boolean; alreadyOff: boolean }
  /** The post or comment is still there and still the link's person's. */
  | { purpose: 'undo' | 'fix'; targetLive: boolean };

/**
 * Why a link that verifies is no longer used for anything:
 * - `done`: what it asks for is already the case (nothing changes, and the page says so);
 * - `superseded`: the person chose otherwise after the link was sent;
 * - `gone`: what it acts on was published, withdrawn, removed or erased.
 */
export type LinkVoid = 'done' | 'superseded' | 'gone';

export type LinkStanding = { valid: true } | { valid: false; why: LinkVoid };

const VALID: LinkStanding = { valid: true };

/**
 * A link's issue time is known to the second (`iat`), a change to the millisecond: a change
 * within the second the link was made counts as before it, so a link mailed in answer to a
 * choice is never voided by that choice.
 */
const changedAfter = (changedAt: Date, issuedAt: Date) => changedAt.getTime() >= issuedAt.getTime() + 1000;
const no = (why: LinkVoid): LinkStanding => ({ valid: false, why });

/**
 * Whether a signed link still serves its purpose (docs/SECURITY.md B34). A link that gives
 * something (consent to publish: opt in, share a held mail) is void once the person made a
 * newer choice than the link, or once there is nothing left to give. A link that takes
 * something back (opt out, keep replies out, unsubscribe, undo) stays valid for as long as
 * there is something to take back, even after a later opposite choice: withdrawing must stay
 * as easy as agreeing, a mail client's one-click unsubscribe uses whichever mail is open, and
 * acting on it can only publish or send less. Editing (fix) needs the text to still be there.
 */
export function linkStanding(facts: LinkFacts, issuedAt: Date): LinkStanding {
  switch (facts.purpose) {
    case 'opt_in': {
      const p = facts.person;
      if (!p) return VALID;
      if (p.optIn === 'opted_in') return no('done');
      if (p.optInChangedAt && changedAfter(p.optInChangedAt, issuedAt)) return no('superseded');
      return VALID;
    }
    case 'unsubscribe': {
      const p = facts.person;
      if (!p || p.optIn === 'opted_out') return no('done');
      return VALID;
    }
    case 'share_confirm': {
      const m = facts.message;
      if (!m) return no('gone');
      if (m.state === 'held' && m.reason === 'external_participants') {
        return facts.author?.optIn === 'opted_in' ? VALID : no('superseded');
      }
      // Confirmed already: waiting for the pipeline, or published.
      if (m.state === 'received' || m.state === 'posted' || m.state === 'commented' || m.state === 'duplicate') return no('done');
      return no('gone');
    }
    case 'thread_withhold':
      if (!facts.postLive) return no('gone');
      return facts.alreadyWithheld ? no('done') : VALID;
    case 'list_unsubscribe':
      if (!facts.personExists || !facts.targetLive) return no('gone');
      return facts.alreadyOff ? no('done') : VALID;
    case 'undo':
    case 'fix':
      return facts.targetLive ? VALID : no('gone');
    default:
      return assertNever(facts);
  }
}
