import type { NoticeText } from './notices';

/**
 * To the author of a post or comment an admin hid: what, why, and that only they still see it
 * (docs/SECURITY.md B40). Plain text; the reason is the admin's own words, sent to the author only.
 */
export function hiddenItemNotice(p: { kind: 'post' | 'comment'; title: string; reason: string; postUrl: string | null; bridge: string }): NoticeText {
  const what = p.kind === 'post' ? 'Your post' : 'Your comment';
  const on = p.title ? ` ${p.kind === 'post' ? '' : 'on '}“${p.title}”` : '';
  return {
    subject: `${what} was hidden by a moderator`,
    text:
      `${what}${on} was hidden by a moderator of the company feed.\n\n` +
      `Reason: ${p.reason}\n\n` +
      'Other people no longer see it; you still do, marked as hidden' +
      (p.postUrl ? `, at ${p.postUrl}` : '') +
      '.\nMail already sent about it is not recalled. If you think this is a mistake, ask an admin to restore it.' +
      `\n\n-- \nBlend mirrors opted-in email conversations into the company feed.\nMail "help" to ${p.bridge} for the commands.`,
  };
}
