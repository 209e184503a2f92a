import { receivedByHost } from './received-path';
/**
 * Exchange Online's own word that a member of the organisation submitted a mail.
 *
 * Mail between colleagues of one Microsoft 365 tenant never crosses the Internet: Exchange does
 * not DKIM-sign it and no SPF check applies, so `verify` finds nothing to prove the sender. What
 * Exchange does record, for every message it accepts, is how the submitter authenticated:
 * `X-MS-Exchange-Organization-AuthAs: Internal` (an authenticated mailbox of the tenant),
 * `Anonymous` (from the Internet) or `Partner` (a partner connector), with `AuthSource` naming
 * the server that accepted it. Exchange's header firewall removes every
 * `X-MS-Exchange-Organization-*` header a message arrives with from outside the organisation,
 * so in a mailbox hosted by Exchange Online these headers are Exchange's own.
 *
 * That last condition is the whole basis of trust: in a mailbox on any other server anyone can
 * write these headers. So Blend believes them only in `BLEND_SENDER_AUTH=exchange-online` (which
 * IT chooses for a mailbox in Exchange Online), and only when the newest `Received` header (the
 * one the mailbox's own server wrote last) was written by an Exchange Online host.
 */

/** Domains of Exchange Online's servers: worldwide, 21Vianet (China) and the US government clouds. */
const EXCHANGE_ONLINE_HOST = /\.(?:outlook\.com|outlook\.cn|office365\.us)$/i;

/**
 * Whether Exchange Online says an authenticated member of the organisation submitted this mail:
 * exactly one `X-MS-Exchange-Organization-AuthAs: Internal`, an `AuthSource` that is an Exchange
 * Online server, and a newest `Received` header written by one. Anything else (no header, two
 * of them, `Anonymous`, a mailbox on another server) is false: the caller then authenticates
 * the mail as in `verify`.
 * @param headers - header values by lower-case name, newest first (as `MailInput.headers`).
 */
export function exchangeInternalSubmission(headers: Record<string, string[]>): boolean {
  const authAs = headers['x-ms-exchange-organization-authas'] ?? [];
  const source = headers['x-ms-exchange-organization-authsource'] ?? [];
  if (authAs.length !== 1 || authAs[0]!.trim().toLowerCase() !== 'internal') return false;
  if (source.length !== 1 || !EXCHANGE_ONLINE_HOST.test(source[0]!.trim().replace(/\.$/, ''))) return false;
  const newest = headers['received']?.[0];
  const by = newest === undefined ? null : receivedByHost(newest);
  return by !== null && EXCHANGE_ONLINE_HOST.test(by);
}
