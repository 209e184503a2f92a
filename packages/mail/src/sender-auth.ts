import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import type { AuthenticateResult, DNSResolver } from 'mailauth';
import addressparser from 'nodemailer/lib/addressparser';
import {
  assertNever,
  evidenceFromAuthResults,
  exchangeInternalSubmission,
  judgeSender,
  senderDnsQuestions,
  toDmarcResult,
  trustedResults,
  type MailInput,
  type SenderAuthEvidence,
  type SenderAuthMode,
  type SenderVerdict,
} from '@blend/core';
import { cachingResolver } from './dns-cache';

/**
 * A DNS lookup as mailauth calls it, shaped like node's `dns.promises.resolve`
 * (which is itself a valid `DnsResolver` and the default):
 *
 * - resolves `TXT` to `string[][]` (each record as its character-strings),
 *   `A`/`AAAA` to `string[]`, `MX` to `{ exchange, priority }[]`, `PTR` to `string[]`;
 * - rejects with an `Error` whose `code` is `ENOTFOUND` (no such name) or
 *   `ENODATA` (no record of that type): mailauth reads both as "no record".
 *   Any other code (`ETIMEOUT`, `ESERVFAIL`, ...) is a temporary error.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

/** Options for {@link checkSender}; the services build them from configuration. */
export interface SenderAuthOptions {
  /** `BLEND_SENDER_AUTH`. */
  mode: SenderAuthMode;
  /**
   * `BLEND_AUTHSERV_ID`: the only authserv-id believed in mode `trusted-mta`.
   * Without it nothing is believed and every sender is `unauthenticated`.
   */
  authservId?: string;
  /**
   * `BLEND_TRUSTED_RECEIVED_BY`: the organisation's MTAs as named in the `by` clause of their
   * `Received` headers (`mx.example.com`, `*.prod.outlook.com`). In `trusted-mta`, only an
   * Authentication-Results above the lowest such header counts (`trustedResults`).
   * @defaultValue `[]` (the topmost header with `authservId` counts)
   */
  trustedReceivedBy?: string[];
  /** `BLEND_ORG_DOMAINS`, as IDNA A-labels. */
  orgDomains: string[];
  /**
   * DNS for mode `verify`; the worker passes a {@link cachingResolver} shared by all mails.
   * @defaultValue node's `dns.promises.resolve`
   */
  resolver?: DnsResolver;
  /**
   * IPs of internal relays between the Internet-facing MTA and the mailbox. Their
   * Received headers are skipped when looking for the SMTP client (see
   * {@link smtpClientFromReceived}). List only hosts that add an honest Received
   * header and never originate mail. @defaultValue `[]`
   */
  trustedRelayIps?: string[];
}

/** The SMTP client recovered from the message, as its receiving MTA recorded it. */
export interface SmtpClient {
  ip: string;
  helo: string;
}

/**
 * Thrown in mode `verify` when a temporary DNS error (temperror) could have changed
 * a rejection into an acceptance. It is not a `PermanentError`, so the ingest job
 * fails and BullMQ retries it with backoff (STYLE "Errors") instead of recording a
 * rejection that a working resolver would not have made.
 */
export class SenderAuthTemporaryError extends Error {
  readonly code = 'SENDER_AUTH_TEMPERROR';
  constructor(message: string) {
    super(message);
    this.name = 'SenderAuthTemporaryError';
  }
}

/**
 * Authenticates the sender of one inbound mail and judges it with `judgeSender`
 * (packages/core). `raw` is the message as stored; `mail` is `parseMail(raw).mail`.
 *
 * - `verify`: mailauth checks DKIM, SPF and DMARC with `resolver`. The bridge reads
 *   mail after delivery, so the SMTP session is recovered from the message:
 *   MAIL FROM from the topmost `Return-Path` (written by the delivery agent; Postfix
 *   drops any the client sent, `message_drop_headers`), client IP and HELO from
 *   {@link smtpClientFromReceived}. Without a usable Received header SPF is `none`;
 *   DKIM and DMARC (through DKIM alignment) still work. An invalid From or a
 *   non-organisation domain is rejected before any DNS query. ARC and BIMI are off.
 * - `trusted-mta`: only the topmost Authentication-Results carrying `authservId`
 *   counts (`trustedResults`), and with `trustedReceivedBy` only one added above the
 *   hop where the mail entered the organisation; without it the sender is `unauthenticated`.
 * - `exchange-online`: a mail Exchange Online records as submitted by an authenticated
 *   member of the tenant (`exchangeInternalSubmission`) is authenticated; any other is
 *   verified as in `verify`. For a mailbox hosted in Exchange Online only.
 * - `none`: no authentication; only the From checks and organisation domains apply.
 *
 * A From header must hold exactly one mailbox (RFC 5322 §3.6.2 requires a Sender
 * otherwise, and DMARC, RFC 7489 §6.6.1, leaves such mail to local policy): more
 * than one is `invalid_from`.
 *
 * @throws SenderAuthTemporaryError in `verify` mode, when the verdict is
 * `dmarc_fail` or `unauthenticated` and some lookup ended in temperror.
 */
export async function checkSender(
  raw: Buffer,
  mail: MailInput,
  opts: SenderAuthOptions,
): Promise<{ verdict: SenderVerdict; evidence: SenderAuthEvidence }> {
  const fromAddress = singleFromAddress(mail);
  const judge = { mode: opts.mode, orgDomains: opts.orgDomains };
  switch (opts.mode) {
    case 'none': {
      const evidence = unauthenticated('none');
      return { verdict: judgeSender(evidence, fromAddress, judge), evidence };
    }
    case 'trusted-mta': {
      const evidence = evidenceFromAuthResults(trustedResults(mail, opts.authservId ?? '', opts.trustedReceivedBy));
      return { verdict: judgeSender(evidence, fromAddress, judge), evidence };
    }
    case 'exchange-online': {
      // A colleague's mail inside the tenant carries no DKIM or SPF to check; Exchange's record
      // of the authenticated submission stands in for them. Anything else is verified.
      if (exchangeInternalSubmission(mail.headers)) {
        const evidence: SenderAuthEvidence = { ...unauthenticated('exchange-online'), internalSubmission: true };
        return { verdict: judgeSender(evidence, fromAddress, judge), evidence };
      }
      return verifySender(raw, mail, opts, fromAddress, judge);
    }
    case 'verify':
      return verifySender(raw, mail, opts, fromAddress, judge);
    default:
      return assertNever(opts.mode);
  }
}

/** Mode `verify`: DKIM, SPF and DMARC checked by mailauth, judged; a temperror that mattered is thrown. */
async function verifySender(
  raw: Buffer,
  mail: MailInput,
  opts: SenderAuthOptions,
  fromAddress: string | null,
  judge: { mode: SenderAuthMode; orgDomains: string[] },
): Promise<{ verdict: SenderVerdict; evidence: SenderAuthEvidence }> {
  // Judging "nothing known" with mode none applies only the From and
  // organisation-domain rules; fail those without spending DNS queries.
  const early = judgeSender(unauthenticated('verify'), fromAddress, { ...judge, mode: 'none' });
  if (!early.ok) return { verdict: early, evidence: unauthenticated('verify') };
  const evidence = await verifyEvidence(raw, mail, opts);
  const verdict = judgeSender(evidence, fromAddress, judge);
  if (!verdict.ok && (verdict.reason === 'dmarc_fail' || verdict.reason === 'unauthenticated') && hasTemperror(evidence)) {
    throw new SenderAuthTemporaryError(
      `sender authentication: temporary DNS failure (dmarc=${evidence.dmarc} spf=${evidence.spf.result} ` +
        `dkim=${evidence.dkim.map((d) => d.result).join(',') || 'none'}); retry later`,
    );
  }
  return { verdict, evidence };
}

/**
 * Finds the SMTP client of the message from its Received headers, topmost first
 * (RFC 5321 §4.4: each MTA prepends its own). Skipped: LMTP hops (the local
 * delivery into the mailbox, e.g. Dovecot's `from mx ([127.0.0.1]) by mx with LMTP`)
 * and hops from `trustedRelayIps`. The first other header is the one our receiving
 * MTA added, in Postfix form
 * `from helo.name (rdns [192.0.2.1]) by mx.host (Postfix) with ESMTP id ...`,
 * or with `[IPv6:2001:db8::1]`. If it has no such `from` clause the search stops and
 * returns null: headers further down were written by the sender and prove nothing.
 */
export function smtpClientFromReceived(received: string[], trustedRelayIps: string[] = []): SmtpClient | null {
  const trusted = new Set(trustedRelayIps.map(normaliseIp));
  for (const value of received) {
    const unfolded = value.replace(/\s+/g, ' ');
    // Checked first: over a UNIX socket Dovecot writes no IP (`from mx by mx with LMTP`).
    if (/\bwith LMTP/i.test(stripComments(unfolded))) continue;
    const from = /^ ?from ([^\s(]+) ?\(([^)]*)\)/i.exec(unfolded);
    const ip = from?.[2] !== undefined ? /\[(?:IPv6:)?([0-9a-f:.]+)\]/i.exec(from[2])?.[1] : undefined;
    if (from?.[1] === undefined || ip === undefined || isIP(ip) === 0) return null;
    if (trusted.has(normaliseIp(ip))) continue;
    return { ip: normaliseIp(ip), helo: from[1] };
  }
  return null;
}

/** A resolver's records for {@link staticResolver}; names are matched case-insensitively. */
export type StaticZone = Record<
  string,
  { TXT?: string[]; A?: string[]; AAAA?: string[]; MX?: { exchange: string; priority: number }[] }
>;

/**
 * An in-memory {@link DnsResolver} for tests and local trials: answers from `zone`,
 * and otherwise fails as node's resolver does (`ENOTFOUND` for an unknown name,
 * `ENODATA` for a known name without that record type). It never touches the network.
 */
export function staticResolver(zone: StaticZone): DnsResolver {
  const names = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ''), v]));
  return async (name, rrtype) => {
    const records = names.get(name.toLowerCase().replace(/\.$/, ''));
    const answer = records?.[rrtype as keyof typeof records];
    if (answer === undefined || answer.length === 0) {
      const code = records === undefined ? 'ENOTFOUND' : 'ENODATA';
      throw Object.assign(new Error(`query${rrtype} ${code} ${name}`), { code, hostname: name });
    }
    // TXT records come back as character-strings of at most 255 octets (RFC 1035
    // §3.3.14), as from dns.resolveTxt; a long DKIM key spans several.
    return rrtype === 'TXT' ? (answer as string[]).map((txt) => txt.match(/[\s\S]{1,255}/g) ?? ['']) : answer;
  };
}

async function verifyEvidence(raw: Buffer, mail: MailInput, opts: SenderAuthOptions): Promise<SenderAuthEvidence> {
  const client = smtpClientFromReceived(mail.headers['received'] ?? [], opts.trustedRelayIps);
  const sender = returnPath(mail);
  // mailauth checks DKIM, then SPF, then DMARC, each awaiting its lookups. The first record of
  // each is asked here at once; the checks then find them in flight or answered. Within one
  // mail every name and type is asked once.
  const resolver = cachingResolver(opts.resolver ?? dns.resolve);
  const questions = senderDnsQuestions({
    dkimSignatures: mail.headers['dkim-signature'] ?? [],
    mailFrom: sender,
    helo: client?.helo,
    from: mail.from?.address,
  });
  for (const q of questions) {
    // The outcome, an error included, is what the check asking the same record gets.
    resolver(q.name, q.rrtype).catch(() => undefined);
  }
  // Loaded on the first mail checked: a process that never verifies (the poller, mode `none`
  // or `trusted-mta`) does not pay for loading mailauth and its DNS, DKIM and BIMI modules.
  const { authenticate } = await import('mailauth');
  const res: AuthenticateResult = await authenticate(raw, {
    ...(client ? { ip: client.ip, helo: client.helo } : {}),
    // Without a sender, SPF checks postmaster@HELO (RFC 7208 §2.4), as for `<>`.
    ...(sender !== undefined ? { sender } : {}),
    // Only named in the comments of mailauth's own headers, which we discard.
    mta: 'blend',
    // mailauth's declaration omits MX answers and errors; the runtime contract is
    // the one documented on DnsResolver.
    resolver: resolver as DNSResolver,
    disableArc: true,
    disableBimi: true,
  });
  const evidence: SenderAuthEvidence = {
    dmarc: res.dmarc === false ? 'unknown' : toDmarcResult(res.dmarc.status.result),
    spf:
      client !== null && res.spf !== false
        ? { result: res.spf.status.result, domain: res.spf.domain || null }
        : { result: 'none', domain: null },
    // A result without a signing domain (an unparsable signature) names nobody to align with.
    dkim: res.dkim.results.flatMap((r) =>
      r.signingDomain ? [{ result: r.status.result, domain: r.signingDomain.toLowerCase() }] : [],
    ),
    // The addr-spec(s) mailauth took from the raw From header; several are joined
    // so that they agree with no single address.
    headerFrom: res.dkim.headerFrom.length > 0 ? res.dkim.headerFrom.map(asciiAddress).join(',') : null,
    source: 'verify',
  };
  if (res.dmarc !== false && res.dmarc.policy) evidence.dmarcPolicy = res.dmarc.policy;
  return evidence;
}

function unauthenticated(source: SenderAuthMode): SenderAuthEvidence {
  return { dmarc: 'unknown', spf: { result: 'none', domain: null }, dkim: [], headerFrom: null, source };
}

function hasTemperror(e: SenderAuthEvidence): boolean {
  const temp = (r: string): boolean => r === 'temperror' || r === 'temperr';
  return temp(e.dmarc) || temp(e.spf.result) || e.dkim.some((d) => temp(d.result));
}

/** The canonical From address, or null unless exactly one From header names exactly one mailbox. */
function singleFromAddress(mail: MailInput): string | null {
  const values = mail.headers['from'] ?? [];
  if (values.length !== 1 || values[0] === undefined || mail.from === null) return null;
  return addressparser(values[0], { flatten: true }).length === 1 ? mail.from.address : null;
}

/** MAIL FROM as the delivery agent recorded it: `''` for the null path `<>`. */
function returnPath(mail: MailInput): string | undefined {
  const value = mail.headers['return-path']?.[0];
  return value === undefined ? undefined : value.trim().replace(/^<([^>]*)>$/, '$1').trim();
}

/** `local@Bücher.test` → `local@xn--bcher-kva.test`; an invalid domain becomes empty. */
function asciiAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : `${address.slice(0, at)}@${domainToASCII(address.slice(at + 1))}`;
}

function normaliseIp(ip: string): string {
  const v = ip.trim().toLowerCase().replace(/^ipv6:/, '');
  // IPv4-mapped IPv6 (RFC 4291 §2.5.5.2) is the IPv4 client itself.
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(v) ? v.slice(7) : v;
}

/** Removes RFC 5322 comments (nested, with quoted-pairs) so words inside them never match. */
function stripComments(value: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && depth > 0) i++;
    else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}
