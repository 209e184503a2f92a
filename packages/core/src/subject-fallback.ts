import { isBridgeAddress, type Addressing } from './addressing';
import type { MailInput } from './types';

/**
 * Who on a mail may tie it to an earlier thread with the same subject (the threading
 * fallback for clients that drop In-Reply-To and References), lower-cased.
 *
 * A shared address proves the two mails belong together only when one side wrote: the new
 * mail's sender took part in the thread, or someone who wrote in the thread is on the new
 * mail. Two mails that were merely both sent to the same address prove nothing: a mailing
 * list's posting address (or a team alias) is on every message of every thread it carries,
 * whoever wrote them. The caller's query applies that rule; this decides which addresses may
 * take part at all: never Blend's own, never the list's.
 */
export interface SubjectFallbackPeople {
  /** The From address, or null when there is none or it may not count. */
  sender: string | null;
  /** From, To and Cc that may count, without duplicates. */
  people: string[];
}

/** @see SubjectFallbackPeople */
export function subjectFallbackPeople(mail: MailInput, addressing: Addressing): SubjectFallbackPeople {
  const lists = mailingListIdentity(mail);
  const counts = (address: string) => !isBridgeAddress(address, addressing) && !isListAddress(address, lists);
  const from = mail.from?.address.toLowerCase() ?? null;
  const all = [mail.from, ...mail.to, ...mail.cc].flatMap((a) => (a ? [a.address.toLowerCase()] : []));
  return { sender: from !== null && counts(from) ? from : null, people: [...new Set(all.filter(counts))] };
}

/** A mailing list as its own headers name it. */
export interface ListIdentity {
  /** Posting addresses from List-Post (RFC 2369 section 3.4), lower-cased. */
  addresses: string[];
  /** List-Id labels (RFC 2919 section 2), lower-cased. */
  labels: string[];
}

/** The list a mail came through, from its List-Post and List-Id headers; empty when none. */
export function mailingListIdentity(mail: MailInput): ListIdentity {
  const addresses: string[] = [];
  for (const value of mail.headers['list-post'] ?? []) {
    // `<mailto:dev@lists.example.org>`, possibly with `?subject=…`; `NO` when posting is closed.
    for (const m of value.matchAll(/<\s*mailto:([^<>?\s]+)[^<>]*>/gi)) {
      const address = decodeMailto(m[1] ?? '');
      if (address.includes('@')) addresses.push(address);
    }
  }
  const labels: string[] = [];
  for (const value of mail.headers['list-id'] ?? []) {
    const label = (/<([^<>]+)>/.exec(value)?.[1] ?? value).trim().toLowerCase();
    if (label) labels.push(label);
  }
  return { addresses, labels };
}

/**
 * Whether `address` is the list's: a List-Post address, or the address a List-Id label is
 * usually made of (`dev@lists.example.org` for `<dev.lists.example.org>`, RFC 2919 section 2
 * suggests the posting address's parts as the label).
 */
export function isListAddress(address: string, list: ListIdentity): boolean {
  const a = address.toLowerCase();
  if (list.addresses.includes(a)) return true;
  const at = a.lastIndexOf('@');
  return at > 0 && list.labels.includes(`${a.slice(0, at)}.${a.slice(at + 1)}`);
}

/** A mailto address with its %-escapes decoded (RFC 6068 section 2: `dev%40lists.example.org`). */
function decodeMailto(raw: string): string {
  return raw.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))).trim().toLowerCase();
}
