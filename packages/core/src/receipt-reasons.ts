import type { HoldReason, RejectReason, WithholdReason } from './ingest-decision';

/**
 * Why an inbound mail was not published, as stored on the inbound row: the decision's
 * reasons (without those never answered: loops, bounces, auto-replies, list traffic) and
 * the reasons the worker finds before deciding.
 */
export type ReceiptReasonCode =
  | Exclude<RejectReason, 'own_mail' | 'bounce' | 'auto_generated' | 'mailing_list' | 'not_addressed_to_bridge' | 'reply_to_notice'>
  | WithholdReason
  | HoldReason
  | 'mime_limits'
  | 'malformed_mime'
  | 'too_large'
  | 'missing_source';

export interface OutcomeExplanation {
  /** What happened and why, in one or two sentences. */
  why: string;
  /** What the sender can do about it. */
  whatToDo: string;
}

/**
 * Plain English for an office worker: no protocol names where a plain word does, and every
 * text says whether anything was published. A receipt only goes to an authenticated sender
 * (docs/SECURITY.md I3), so naming the reason is safe.
 */
const REASONS: Record<ReceiptReasonCode, OutcomeExplanation> = {
  dmarc_fail: {
    why: 'Your mail server could not prove that this mail really came from your address, so Blend published nothing.',
    whatToDo: 'Send it again from your usual work mail program. If that keeps happening, ask IT to check the mail settings.',
  },
  unauthenticated: {
    why: 'Blend could not confirm that this mail was sent by you, so it published nothing.',
    whatToDo: 'Send it again from your work mailbox. If that keeps happening, ask IT to check the mail settings.',
  },
  not_org_domain: {
    why: 'Only mail from company addresses can be published, and this one came from another address.',
    whatToDo: 'Send it again from your company mailbox.',
  },
  invalid_from: {
    why: 'The sender address of this mail was missing or not readable, so Blend published nothing.',
    whatToDo: 'Send it again from your usual mail program. If that keeps happening, ask IT for help.',
  },
  bad_token: {
    why: 'The reply address you wrote to is no longer valid or was changed, so Blend did not know which thread it belongs to.',
    whatToDo: 'Reply to a newer Blend mail for that thread, or open the thread in the feed and comment there.',
  },
  // Told as `bad_token`: saying "made for someone else" would confirm that a reply address the
  // sender holds is live (docs/SECURITY.md 3.1). IT still sees `sender_mismatch` on the row.
  sender_mismatch: {
    why: 'The reply address you wrote to is no longer valid or was changed, so Blend did not know which thread it belongs to.',
    whatToDo: 'Reply to a newer Blend mail for that thread, or open the thread in the feed and comment there.',
  },
  unknown_command: {
    why: 'Blend did not recognise the command in this mail.',
    whatToDo: 'Send a mail with the single word "help" to get the list of commands.',
  },
  unknown_group: {
    why: 'The group this mail was addressed to does not exist, or takes mail only from its members, so Blend published nothing.',
    whatToDo: 'Check the address, or pick the group in the feed to find its mail address. For a private group, ask its owner or IT to add you.',
  },
  // Told exactly as `unknown_group`: an outsider is never told that a private group exists
  // (docs/SECURITY.md, private groups). IT still sees `not_group_member` on the row.
  not_group_member: {
    why: 'The group this mail was addressed to does not exist, or takes mail only from its members, so Blend published nothing.',
    whatToDo: 'Check the address, or pick the group in the feed to find its mail address. For a private group, ask its owner or IT to add you.',
  },
  group_archived: {
    why: 'This group has been archived: it can still be read, but nothing new is published in it.',
    whatToDo: 'Post in another group, or ask the group\'s owner or IT to bring it back.',
  },
  empty_body: {
    why: 'After removing the quoted conversation and signature, there was no text left to publish.',
    whatToDo: 'Reply again and write your text above the quoted mail.',
  },
  mime_limits: {
    why: 'This mail has too many parts or attachments for Blend to process, so it published nothing.',
    whatToDo: 'Send it again with fewer attachments, or share large files as links.',
  },
  malformed_mime: {
    why: 'This mail was damaged or in a format Blend could not read, so it published nothing.',
    whatToDo: 'Send it again from your usual mail program. If that keeps happening, ask IT to release it.',
  },
  too_large: {
    why: 'This mail is larger than Blend accepts, so it published nothing.',
    whatToDo: 'Send it again without large attachments; share big files as links instead.',
  },
  missing_source: {
    why: 'Blend could no longer find the original of this mail on the mail server, so it published nothing.',
    whatToDo: 'Send it again. If it was important, ask IT to look into it.',
  },
  sender_unknown: {
    why: 'Blend does not know your address yet, so it kept your mail without publishing it.',
    whatToDo: 'Follow the opt-in link Blend sends you; your mail is published once you confirm.',
  },
  not_opted_in: {
    why: 'You have not agreed to have your mail shown in the company feed, so Blend kept it without publishing it.',
    whatToDo: 'Opt in from the link in the invitation mail; your kept mail is then published.',
  },
  opted_out: {
    why: 'You opted out of Blend, so your mail is no longer published.',
    whatToDo: 'To publish again, send a mail with the words "opt in" to Blend.',
  },
  participant_declined: {
    why: 'Someone in this conversation asked not to have it shown in the feed, so Blend did not publish it.',
    whatToDo: 'Nothing to do. Talk to the people in the conversation if you think it should be shared.',
  },
  encrypted: {
    why: 'This mail is encrypted, and Blend never publishes encrypted mail.',
    whatToDo: 'Send the part you want to share again without encryption, or post it in the feed.',
  },
  sensitivity_label: {
    why: 'This mail carries a confidential sensitivity label, so Blend held it back.',
    whatToDo: 'If it may be shared, send it again with a lower label. Otherwise nothing is needed.',
  },
  confidential_marker: {
    why: 'This mail is marked confidential or private, so Blend held it back.',
    whatToDo: 'If it may be shared, send it again without the marker. Otherwise nothing is needed.',
  },
  external_participants: {
    why: 'People outside the company are part of this conversation, so Blend held it back until someone confirms it may be shared.',
    whatToDo: 'Use the confirmation link Blend sent you, or ask IT to release it.',
  },
  sender_rate: {
    why: 'You sent many mails to Blend in a short time, so it held this one back for now.',
    whatToDo: 'Wait a few minutes; held mail is published once the limit resets. Ask IT if you need a higher limit.',
  },
  thread_rate: {
    why: 'This thread got many replies in a short time, so Blend held this one back for now.',
    whatToDo: 'Wait a few minutes; held mail is published once things calm down.',
  },
  org_rate: {
    why: 'Blend is receiving an unusual amount of mail right now, so it held this one back for now.',
    whatToDo: 'Nothing to do; it is published once the load drops. Ask IT if it is urgent.',
  },
  unclear_quote: {
    why: 'Blend could not tell your new text apart from the quoted conversation, so it published nothing.',
    whatToDo: 'Reply again with your text above the quoted mail, or ask IT to release it.',
  },
  conflicting_copy: {
    why: 'Blend already published a mail with the same identity but different text, so it kept this copy back for IT.',
    whatToDo: 'If you meant to send something new, send it as a new mail. Ask IT if this copy should replace the published one.',
  },
};

/**
 * Explains an inbound outcome code for a sender receipt. An unknown code (a new reason
 * added without a text) still gives a useful answer that names the code for IT.
 */
export function explainOutcome(code: string): OutcomeExplanation {
  if (Object.hasOwn(REASONS, code)) return REASONS[code as ReceiptReasonCode];
  // Codes are ours, but keep the text clean even if something odd is stored.
  const named = code.replace(/[^\w.-]/g, '').slice(0, 64) || 'unknown';
  return {
    why: `Blend did not publish this mail (reason: ${named}).`,
    whatToDo: `Ask IT for help and mention the reason "${named}".`,
  };
}
