import { compileAll } from './engine';

/**
 * The mails Blend sends back to people (issue "Back to email"): digests, notifications,
 * mirrored comments, corrections and sender receipts.
 *
 * Usage: `await warmTemplates()` once at startup (it compiles MJML, which takes a while);
 * after that every render function is synchronous and takes microseconds. Calling a render
 * function before warmTemplates() has resolved throws.
 */
export async function warmTemplates(): Promise<void> {
  await compileAll();
}

export { renderDigestMail, type DigestMailInput, type DigestMailThread } from './digest-mail';
export { renderMirrorMail, type MirrorMailInput } from './mirror-mail';
export { renderNotificationMail, type NotificationItem, type NotificationMailInput } from './notification-mail';
export { renderReceiptMail, type NotPublishedReceipt, type PublishedReceipt, type ReceiptMailInput } from './receipt-mail';
export { renderCorrectionMail, type CorrectionMailInput } from './correction-mail';
export type { RenderedMail } from './engine';
export { convertTemplates } from './engine';
