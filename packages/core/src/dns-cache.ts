/**
 * The pure parts of the DNS cache for sender authentication (docs/ARCHITECTURE.md "Logins and
 * sender authentication"): which answers are kept and for how long, a bounded least-recently-used
 * store that is given the time, and which records the checks of one mail will ask for.
 */

/** How the DNS cache is bounded. */
export interface DnsCacheLimits {
  /** Answers kept at most; the least recently used goes first. */
  maxEntries: number;
  /** How long an answer is kept. Node's resolver does not report TXT TTLs, so this is a fixed cap. */
  ttlMs: number;
  /** How long "no such name" or "no record of that type" is kept (RFC 2308 negative caching). */
  negativeTtlMs: number;
}

export const DNS_CACHE_DEFAULTS: DnsCacheLimits = { maxEntries: 5_000, ttlMs: 5 * 60_000, negativeTtlMs: 60_000 };

/** The error codes that are an answer ("no such record"), not a failure to get one. */
const NEGATIVE_CODES = new Set(['ENOTFOUND', 'ENODATA']);

/** The cache key of a lookup: record type and name, case and a trailing dot folded (RFC 4343). */
export function dnsCacheKey(rrtype: string, name: string): string {
  return `${rrtype.toUpperCase()} ${name.toLowerCase().replace(/\.$/, '')}`;
}

/**
 * How long to keep the outcome of a lookup: the TTL cap for an answer, the negative cap for
 * `ENOTFOUND`/`ENODATA`, and 0 (not kept) for every other error, a timeout or SERVFAIL that the
 * next mail should ask again.
 */
export function dnsCacheTtlMs(outcome: { ok: true } | { ok: false; code: string | undefined }, limits: DnsCacheLimits): number {
  if (outcome.ok) return limits.ttlMs;
  return outcome.code !== undefined && NEGATIVE_CODES.has(outcome.code) ? limits.negativeTtlMs : 0;
}

/**
 * A map of at most `maxEntries` values, each with its expiry; the caller passes the time.
 * Reading an entry makes it the most recently used; an expired entry reads as absent and is
 * dropped.
 */
export class ExpiringLru<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    // Map keeps insertion order: re-inserting makes it the newest.
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** A lookup the checks of one mail will make. */
export interface DnsQuestion {
  rrtype: 'TXT';
  name: string;
}

/**
 * The TXT records DKIM, SPF and DMARC will ask for first, so that they can be asked at once
 * instead of one check after the other: each DKIM signature's key record
 * (`s._domainkey.d`, RFC 6376 §3.6.2.1), the SPF record of the MAIL FROM domain or, for the
 * null path, of the HELO name (RFC 7208 §2.4; only when the SMTP client is known), and the
 * DMARC record of the From domain (RFC 7489 §6.6.3). Further lookups (SPF includes, the
 * organisational domain's DMARC record) depend on these answers and are left to the checks.
 */
export function senderDnsQuestions(input: {
  dkimSignatures: readonly string[];
  /** MAIL FROM; `''` is the null path. */
  mailFrom?: string | undefined;
  /** The SMTP client's HELO name, when the client is known (SPF is checked only then). */
  helo?: string | undefined;
  /** The From address. */
  from?: string | null | undefined;
}): DnsQuestion[] {
  const names: string[] = [];
  for (const header of input.dkimSignatures) {
    const tags = dkimTags(header);
    const d = tags.get('d');
    const s = tags.get('s');
    if (d && s) names.push(`${s}._domainkey.${d}`);
  }
  if (input.helo !== undefined) {
    const spfDomain = input.mailFrom ? domainOf(input.mailFrom) : isHostName(input.helo) ? input.helo : undefined;
    if (spfDomain) names.push(spfDomain);
  }
  const fromDomain = input.from ? domainOf(input.from) : undefined;
  if (fromDomain) names.push(`_dmarc.${fromDomain}`);
  const seen = new Set<string>();
  const out: DnsQuestion[] = [];
  for (const raw of names) {
    const name = raw.toLowerCase().replace(/\.$/, '');
    if (!isHostName(name) || seen.has(name)) continue;
    seen.add(name);
    out.push({ rrtype: 'TXT', name });
  }
  return out;
}

/** The tags of a DKIM-Signature tag-list (RFC 6376 §3.2), whitespace removed from the values. */
function dkimTags(header: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const tag = part.slice(0, eq).trim().toLowerCase();
    if (!tags.has(tag)) tags.set(tag, part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  const domain = at < 0 ? '' : address.slice(at + 1).trim();
  return domain === '' ? undefined : domain;
}

/** Letters, digits, hyphens and underscores in dot-separated labels: nothing else is looked up ahead. */
function isHostName(name: string): boolean {
  return name.length <= 253 && /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+[a-z0-9-]{1,63}$/i.test(name);
}
