import type { MailInput, SenderVerdict } from '@blend/core';
import { checkSender, type SenderAuthOptions } from '@blend/mail';
import type { ClassifiedInbound } from './classify';

/**
 * The authenticate stage: whether the From address is proven (DKIM/SPF/DMARC, or the trusted
 * MTA's results; docs/ARCHITECTURE.md "Logins and sender authentication"). It may query DNS,
 * so it runs before the transaction, and only for mail that could be published.
 */
export async function authenticateSender(raw: Buffer, mail: MailInput, classified: ClassifiedInbound, senderAuth: SenderAuthOptions): Promise<SenderVerdict> {
  if (!classified.publishable) return { ok: false, reason: 'unauthenticated' };
  return (await checkSender(raw, mail, senderAuth)).verdict;
}
