/**
 * The text of the short mails Blend sends about inbound mail (invitations, confirmations,
 * notices). Plain text only, generic wording: nothing in them tells a stranger more than
 * how to opt in (docs/SECURITY.md I3 "any text sent to an untrusted sender is generic").
 */
export interface NoticeText {
  subject: string;
  text: string;
}

const footer = (bridge: string) =>
  `\n\n-- \nBlend mirrors opted-in email conversations into the company feed.\nMail "help" to ${bridge} for the commands.`;

/** To someone whose mail was withheld because they have not opted in. */
export function inviteNotice(p: { bridge: string; optInUrl: string; retentionDays: number }): NoticeText {
  return {
    subject: 'Your message to the company feed was not published',
    text:
      'Your message reached Blend, the bridge between email and the company feed, but it was not\n' +
      'published because you have not opted in to having your mail mirrored.\n\n' +
      `To opt in, open this link and confirm: ${p.optInUrl}\n\n` +
      `If you opt in within ${p.retentionDays} days, the message you sent will be published then.\n` +
      'If you do nothing, nothing of yours is published.' +
      footer(p.bridge),
  };
}

/** Double opt-in: confirm a mailed `opt in` command. */
export function optInConfirmNotice(p: { bridge: string; optInUrl: string }): NoticeText {
  return {
    subject: 'Confirm: mirror my mail into the company feed',
    text:
      'Someone asked Blend to mirror mail from this address into the company feed.\n\n' +
      `If it was you, confirm here: ${p.optInUrl}\n\n` +
      'If it was not you, ignore this mail; nothing changes.' +
      footer(p.bridge),
  };
}

/** Confirm an `unsubscribe` keyword (docs/SECURITY.md B23: a keyword asks for confirmation). */
export function optOutConfirmNotice(p: { bridge: string; optOutUrl: string }): NoticeText {
  return {
    subject: 'Confirm: stop mirroring my mail',
    text: `To stop Blend from mirroring your mail and sending you mail, confirm here: ${p.optOutUrl}` + footer(p.bridge),
  };
}

/** Sent after a mailed `opt out`: what changed. */
export function optedOutNotice(p: { bridge: string }): NoticeText {
  return {
    subject: 'You have opted out of Blend',
    text:
      'From now on, your mail is not mirrored into the company feed. What was published before stays\n' +
      'until you retract it or ask IT to erase it. Mail "opt in" to come back.' +
      footer(p.bridge),
  };
}

/** A new mirrored thread names this person on To/Cc: consent per thread. */
export function threadNotice(p: { bridge: string; sharer: string; title: string; postUrl: string; withholdUrl: string }): NoticeText {
  return {
    subject: `Shared to the company feed: ${p.title}`,
    text:
      `${p.sharer} shared an email conversation you are part of to the company feed:\n` +
      `  ${p.title}\n  ${p.postUrl}\n\n` +
      'Your own replies in this conversation are mirrored only if you have opted in.\n' +
      `To keep your replies in this conversation out of the feed, open: ${p.withholdUrl}` +
      footer(p.bridge),
  };
}

/** The sharer's thread has people outside the organisation on To/Cc: confirm first. */
export function shareConfirmNotice(p: { bridge: string; title: string; outsiders: string[]; confirmUrl: string }): NoticeText {
  const shown = p.outsiders.slice(0, 10).join(', ') + (p.outsiders.length > 10 ? `, and ${p.outsiders.length - 10} more` : '');
  return {
    subject: `Confirm sharing: ${p.title}`,
    text:
      `Your message "${p.title}" has people outside the organisation on To/Cc (${shown}).\n` +
      'It is held until you confirm. Their own words are never mirrored.\n\n' +
      `To publish your message, confirm here: ${p.confirmUrl}` +
      footer(p.bridge),
  };
}

/** Answer to `help`. */
export function helpNotice(p: { bridge: string }): NoticeText {
  return {
    subject: 'Blend commands',
    text:
      `Mail ${p.bridge} with one of these as the subject or the first line:\n\n` +
      '  opt in                    mirror my mail into the company feed (you confirm by link)\n' +
      '  opt out                   stop mirroring my mail\n' +
      '  digest daily|hourly|weekly|off   how often to get a digest of the feed\n' +
      '  help                      this list\n\n' +
      `A new mail to ${p.bridge} from an opted-in person becomes a post; replies to it become comments.`,
  };
}
