import { isBridgeAddress, type Addressing } from './addressing';
import { isOrgDomain } from './sender-policy';
import type { MailInput } from './types';

/** Who is on a mail besides Blend, as ingest uses it. */
export interface Participants {
  /** From, To and Cc without Blend's addresses, as written: they have the mail already. */
  conversation: string[];
  /** To/Cc addresses outside the organisation's domains, once each (a new thread must be confirmed). */
  external: string[];
  /** Other people of the organisation on To/Cc (not the sender), once each: each hears that the thread is mirrored. */
  organisation: string[];
}

/**
 * Splits a mail's addresses into the conversation, the outsiders and the organisation's other
 * people. With no organisation domains configured every To/Cc address counts as outside and
 * none as the organisation's.
 */
export function splitParticipants(mail: MailInput, addressing: Addressing, orgDomains: string[]): Participants {
  const notBridge = (a: string) => !isBridgeAddress(a, addressing);
  const recipients = [...mail.to, ...mail.cc].map((a) => a.address).filter(notBridge);
  const external = [...new Set(recipients.filter((a) => !isOrgDomain(a.slice(a.lastIndexOf('@') + 1), orgDomains)))];
  const from = mail.from?.address ?? null;
  return {
    conversation: [mail.from, ...mail.to, ...mail.cc].flatMap((a) => (a ? [a.address] : [])).filter(notBridge),
    external,
    organisation: [...new Set(recipients.filter((a) => !external.includes(a) && a !== from))],
  };
}
