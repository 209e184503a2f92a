import type { AuthResult, ParsedAuthResults } from './auth-results';

/**
 * How Blend authenticates senders (`BLEND_SENDER_AUTH`): `verify` checks DKIM, SPF
 * and DMARC itself, `trusted-mta` believes the Authentication-Results of one
 * configured MTA (`BLEND_AUTHSERV_ID`), `exchange-online` is `verify` plus Exchange
 * Online's record of a colleague's authenticated submission (a mailbox in Exchange
 * Online only: see `exchangeInternalSubmission`), `none` is for local trials only.
 */
export type SenderAuthMode = 'verify' | 'trusted-mta' | 'exchange-online' | 'none';

/** A DMARC result (RFC 7489 §11.2), or `unknown` when nobody evaluated DMARC. */
export type DmarcResult = 'pass' | 'fail' | 'none' | 'temperror' | 'permerror' | 'unknown';

/** What an authenticator (mailauth, or a trusted MTA's header) found out about a mail. */
export interface SenderAuthEvidence {
  dmarc: DmarcResult;
  /** The published policy (`reject`, `quarantine`, `none`) when known; informational. */
  dmarcPolicy?: string;
  /** SPF result and the domain it was evaluated for (MAIL FROM, else HELO). */
  spf: { result: string; domain: string | null };
  /** One entry per DKIM signature that names a signing domain (`d=`). */
  dkim: { result: string; domain: string }[];
  /**
   * The RFC5322.From the authenticator evaluated: an addr-spec (verify) or the
   * `header.from` domain of an Authentication-Results header (trusted-mta), in
   * ASCII (A-label) form. `null` when not known.
   */
  headerFrom: string | null;
  source: SenderAuthMode;
  /**
   * The organisation's own mail server recorded that an authenticated member of the
   * organisation submitted the mail (Exchange Online's `AuthAs: Internal`). Set only in
   * mode `exchange-online`.
   */
  internalSubmission?: boolean;
}

/** The decision on a sender; a rejection carries a stable reason code. */
export type SenderVerdict =
  | { ok: true; via: 'dmarc' | 'aligned_spf' | 'aligned_dkim' | 'internal_submission' | 'none' }
  | { ok: false; reason: 'dmarc_fail' | 'unauthenticated' | 'not_org_domain' | 'invalid_from' };

/** Reason codes of {@link SenderVerdict}, for metrics and `rejected:<code>`. */
export type SenderRejectReason = Extract<SenderVerdict, { ok: false }>['reason'];

/** Options for {@link judgeSender}. */
export interface JudgeOptions {
  mode: SenderAuthMode;
  /** `BLEND_ORG_DOMAINS`, in A-label form. */
  orgDomains: string[];
}

/**
 * Decides whether mail claiming to be from `fromAddress` may be treated as that
 * person (docs/ARCHITECTURE.md invariant 6; docs/SECURITY.md 3.1 rule 2, B5, B7, B8). In order:
 *
 * 1. `fromAddress` null or not a plain `local@domain` → `invalid_from`; so is a
 *    local part holding an encoded-word, which RFC 2047 §5 forbids in an addr-spec.
 * 2. `headerFrom` present and naming another address/domain → `invalid_from`: the
 *    identity must be the one DMARC evaluated (B5).
 * 3. From domain not an organisation domain → `not_org_domain`. In mode `none` this
 *    is only checked when `orgDomains` is non-empty; otherwise an empty list matches
 *    nothing (fail closed).
 * 4. Mode `none` → ok via `none`; an internal submission recorded by the organisation's
 *    own server (mode `exchange-online`) → ok via `internal_submission`.
 * 5. DMARC `pass` → ok; DMARC `fail` → `dmarc_fail`, whatever the published `p=`:
 *    Blend's own policy is stricter than the domain owner's.
 * 6. Otherwise (no DMARC record, temperror, permerror, unknown): a DKIM pass whose
 *    `d=` aligns with the From domain, then an SPF pass whose domain aligns → ok.
 *    DKIM is tried first because it covers the From header itself.
 * 7. → `unauthenticated`.
 */
export function judgeSender(e: SenderAuthEvidence, fromAddress: string | null, opts: JudgeOptions): SenderVerdict {
  const from = splitAddress(fromAddress);
  if (from === null) return { ok: false, reason: 'invalid_from' };
  if (e.headerFrom !== null && !headerFromAgrees(e.headerFrom, from)) return { ok: false, reason: 'invalid_from' };
  if ((opts.mode !== 'none' || opts.orgDomains.length > 0) && !isOrgDomain(from.domain, opts.orgDomains)) {
    return { ok: false, reason: 'not_org_domain' };
  }
  if (opts.mode === 'none') return { ok: true, via: 'none' };
  if (e.internalSubmission === true && opts.mode === 'exchange-online') return { ok: true, via: 'internal_submission' };
  if (e.dmarc === 'pass') return { ok: true, via: 'dmarc' };
  if (e.dmarc === 'fail') return { ok: false, reason: 'dmarc_fail' };
  if (e.dkim.some((d) => d.result === 'pass' && aligned(d.domain, from.domain))) return { ok: true, via: 'aligned_dkim' };
  if (e.spf.result === 'pass' && e.spf.domain !== null && aligned(e.spf.domain, from.domain)) {
    return { ok: true, via: 'aligned_spf' };
  }
  return { ok: false, reason: 'unauthenticated' };
}

/**
 * Whether `domain` is one of `orgDomains` or a sub-domain of one, on a dot
 * boundary: `mail.corp.com` matches `corp.com`; `corp.com.evil.io` and
 * `attacker-corp.com` do not (docs/SECURITY.md B7, the CVE-2026-33393 class of bug).
 *
 * Both sides are compared as lower-case ASCII; any non-ASCII character, empty
 * label or trailing dot makes a name match nothing, so callers must pass IDNA
 * A-labels (`xn--...`). A look-alike A-label is simply another domain.
 */
export function isOrgDomain(domain: string, orgDomains: string[]): boolean {
  const d = normaliseDomain(domain);
  if (d === null) return false;
  return orgDomains.some((org) => {
    const o = normaliseDomain(org);
    return o !== null && (d === o || d.endsWith(`.${o}`));
  });
}

/**
 * Turns the Authentication-Results of the trusted MTA (see `trustedResults`) into
 * evidence. `null` (no header from our authserv-id) yields `dmarc: 'unknown'` and
 * no passes, i.e. `unauthenticated`.
 *
 * - `dmarc=` → {@link DmarcResult}; several DMARC results (one per From domain)
 *   count as `fail` if any fails, and a `pass` without `header.from` as `unknown`.
 *   `header.from` becomes `headerFrom`; if they name different domains,
 *   `headerFrom` lists them all and so agrees with no address.
 * - `spf=` with `smtp.mailfrom` (else `smtp.helo`) as its domain.
 * - `dkim=` with `header.d` (else the domain of `header.i`).
 */
export function evidenceFromAuthResults(parsed: ParsedAuthResults | null): SenderAuthEvidence {
  const results = parsed?.results ?? [];
  const dmarcs = results.filter((r) => r.method === 'dmarc');
  const spf = results.find((r) => r.method === 'spf');
  const evidence: SenderAuthEvidence = {
    // A pass that does not name the From domain it evaluated cannot be matched to
    // our From (docs/SECURITY.md B5), so it proves nothing; a fail still counts.
    dmarc: combineDmarc(
      dmarcs.map((r) => (r.props['header.from'] === undefined && r.result === 'pass' ? 'unknown' : toDmarcResult(r.result))),
    ),
    spf: {
      result: spf?.result ?? 'none',
      domain: spf ? domainOf(spf.props['smtp.mailfrom'] ?? spf.props['smtp.helo']) : null,
    },
    dkim: results.filter((r) => r.method === 'dkim').flatMap(dkimEntry),
    headerFrom: null,
    source: 'trusted-mta',
  };
  const froms = new Set(dmarcs.flatMap((r) => r.props['header.from'] ?? []).map((f) => asciiLower(f.trim())));
  if (froms.size > 0) evidence.headerFrom = [...froms].join(',');
  const policy = dmarcs.find((r) => r.props['policy.dmarc'] !== undefined)?.props['policy.dmarc'];
  if (policy !== undefined) evidence.dmarcPolicy = asciiLower(policy);
  return evidence;
}

/** Maps any result keyword to a {@link DmarcResult}; unknown words become `unknown`. */
export function toDmarcResult(result: string): DmarcResult {
  const r = asciiLower(result.trim());
  return r === 'pass' || r === 'fail' || r === 'none' || r === 'temperror' || r === 'permerror' ? r : 'unknown';
}

function combineDmarc(results: DmarcResult[]): DmarcResult {
  if (results.length === 0) return 'unknown';
  if (results.includes('fail')) return 'fail';
  return results.find((r) => r !== 'pass') ?? 'pass';
}

function dkimEntry(r: AuthResult): { result: string; domain: string }[] {
  // header.i is only a fallback when header.d is absent, never when it is invalid.
  const d = r.props['header.d'];
  const domain = d !== undefined ? normaliseDomain(d) : domainOf(r.props['header.i']);
  return domain === null ? [] : [{ result: r.result, domain }];
}

/** `user@corp.test`, `<user@corp.test>`, `@corp.test` or `corp.test` → `corp.test`. */
function domainOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  const v = value.trim().replace(/^<|>$/g, '');
  return normaliseDomain(v.slice(v.lastIndexOf('@') + 1));
}

/** RFC 5322 §3.2.3 atext plus ".", i.e. a dot-atom local part; quoted ones are refused. */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;

/** LDH labels (RFC 5890 §2.3.1) separated by dots, at least two labels, no trailing dot. */
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

function splitAddress(address: string | null): { local: string; domain: string } | null {
  if (address === null) return null;
  const a = address.trim();
  const at = a.lastIndexOf('@');
  const local = a.slice(0, at);
  const domain = normaliseDomain(a.slice(at + 1));
  if (at <= 0 || domain === null || !LOCAL_PART.test(local) || local.length > 64) return null;
  // An encoded-word in the local part (`=?utf-8?q?=40evil.io?=@corp.com`) is
  // decoded by some clients into another address (docs/SECURITY.md B5).
  if (/=\?[^?]*\?[bq]\?/i.test(local)) return null;
  return { local, domain };
}

/**
 * Whether the From the authenticator evaluated is the one we will act on. An
 * addr-spec must be the same address; a bare `header.from` domain must be the From
 * domain or, because some authenticators (mailauth among them) report the
 * organisational domain there, a parent of it on a dot boundary.
 */
function headerFromAgrees(headerFrom: string, from: { local: string; domain: string }): boolean {
  const h = headerFrom.trim();
  const at = h.lastIndexOf('@');
  if (at >= 0) {
    const domain = normaliseDomain(h.slice(at + 1));
    return domain === from.domain && h.slice(0, at).toLowerCase() === from.local.toLowerCase();
  }
  const domain = normaliseDomain(h);
  return domain !== null && (domain === from.domain || from.domain.endsWith(`.${domain}`));
}

/**
 * Relaxed alignment (RFC 7489 §3.1) approximated without the Public Suffix List:
 * equal, or one a sub-domain of the other on a dot boundary. Both names have at
 * least two labels, so a bare TLD never aligns. mailauth's own DMARC evaluation uses
 * the PSL; this fallback only runs when the From domain publishes no DMARC record.
 */
function aligned(a: string, b: string): boolean {
  const x = normaliseDomain(a);
  const y = normaliseDomain(b);
  return x !== null && y !== null && (x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`));
}

function normaliseDomain(domain: string): string | null {
  const d = asciiLower(domain.trim());
  return DOMAIN.test(d) ? d : null;
}

/**
 * Lower-cases ASCII letters only: `toLowerCase()` would fold e.g. U+212A KELVIN SIGN
 * onto "k" and let a look-alike compare equal (docs/SECURITY.md B7).
 */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
