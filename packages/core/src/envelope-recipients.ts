/**
 * The envelope recipients (RCPT TO) a mail was delivered to, read from the headers that
 * delivering servers write. RFC 5321 keeps the envelope out of the message, so each server
 * that knows it records it in a header of its own:
 *
 * - `X-Original-To` (Postfix) and `X-Gm-Original-To` (a Google Workspace routing rule that
 *   changed the envelope recipient, with "Add X-Gm-Original-To header" ticked): the recipient
 *   as the sender addressed it, before an alias, a catch-all or a routing rule rewrote it.
 * - `Delivered-To`: the address of final delivery (Postfix local/virtual, Dovecot LDA/LMTP,
 *   Gmail). Gmail adds one per delivery, so mail re-delivered by a forward or a routing rule
 *   carries one per hop, newest first.
 * - `X-MS-Exchange-Organization-OriginalEnvelopeRecipients`: Exchange (Online and Server)
 *   writes no Delivered-To; this is where it keeps the original envelope recipients, one or
 *   more addresses separated by `,` or `;`, sometimes as an RFC 2047 encoded-word
 *   (`=?us-ascii?Q?;bridge@example.com?=`) or with an `SMTP:` proxy-address prefix.
 *
 * Why the Exchange header is read only when no Delivered-To is present: Exchange's "header
 * firewall" removes every `X-MS-Exchange-Organization-*` header from mail entering the
 * organisation from an untrusted source (the Internet, a client's submission) and from mail
 * leaving it, so in a mailbox on Exchange the header was written by that organisation. A
 * mailbox elsewhere has no such firewall, and there the sender can write the header. The
 * servers of those mailboxes (Postfix, Dovecot, Gmail) always add Delivered-To and Exchange
 * never does, so a Delivered-To says the header did not come from our own Exchange. (A mail
 * forwarded into Exchange with an earlier hop's Delivered-To is then routed by To/Cc.)
 *
 * The other headers can be forged by a sender too; that gains nothing, since anyone may
 * address a mail to any of the bridge's addresses directly.
 */

const EXCHANGE_HEADER = 'x-ms-exchange-organization-originalenveloperecipients';

/**
 * The envelope recipients named by a mail's delivery headers, lower-cased (ASCII letters
 * only: a look-alike must stay a look-alike), without duplicates. Addresses that name the
 * recipient as the sender wrote it come first (X-Original-To, X-Gm-Original-To, Exchange's
 * header), then Delivered-To: when a catch-all delivers into a mailbox at the same domain,
 * the address used is the original one, not the mailbox's own.
 *
 * @param headers - lower-cased header name -> every raw value (`MailInput.headers`)
 */
export function envelopeRecipients(headers: Readonly<Record<string, readonly string[]>>): string[] {
  const get = (name: string) => headers[name] ?? [];
  const delivered = get('delivered-to');
  const values = [
    ...get('x-original-to'),
    ...get('x-gm-original-to'),
    ...(delivered.length === 0 ? get(EXCHANGE_HEADER) : []),
    ...delivered,
  ];
  const out = new Set<string>();
  for (const value of values) {
    for (const token of decodeEncodedWords(value).split(/[\s,;]+/)) {
      const address = asciiLower(token.replace(/^smtp:/i, '').replace(/^<|>$/g, ''));
      if (/^[^@\s]+@[^@\s]+$/.test(address)) out.add(address);
    }
  }
  return [...out];
}

/**
 * Decodes RFC 2047 encoded-words (`=?charset?B|Q?text?=`). Only what addresses need: UTF-8,
 * and every other charset byte for byte (an address is ASCII, or UTF-8 under SMTPUTF8).
 */
function decodeEncodedWords(value: string): string {
  return value.replace(/=\?([^?\s]+)\?([bq])\?([^?\s]*)\?=/gi, (_all, charset: string, enc: string, text: string) => {
    const bytes =
      enc.toLowerCase() === 'b'
        ? Buffer.from(text, 'base64')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          );
    return bytes.toString(/^utf-?8$/i.test(charset.replace(/\*.*$/, '')) ? 'utf8' : 'latin1');
  });
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
