import type { MailInput } from './types';

/**
 * Subject words that mark a mail as not for publication, in English, German, French,
 * Spanish/Portuguese and Italian. Operators replace the list with their own
 * (BLEND_CONFIDENTIAL_MARKERS); matching is case-insensitive on whole words.
 *
 * @defaultValue `['confidential', 'vertraulich', 'confidentiel', 'confidencial', 'riservato', 'strictly private']`
 */
export const DEFAULT_CONFIDENTIAL_MARKERS: readonly string[] = [
  'confidential',
  'vertraulich',
  'confidentiel',
  'confidencial',
  'riservato',
  'strictly private',
];

export type ConfidentialReason = 'encrypted' | 'sensitivity_label' | 'confidential_marker';

/** Why a mail is held. `detail` is safe to store and log: it never holds body text. */
export interface ConfidentialFinding {
  reason: ConfidentialReason;
  detail: string;
}

export interface ConfidentialOptions {
  /** Whole-word subject markers, e.g. {@link DEFAULT_CONFIDENTIAL_MARKERS}. Empty entries are ignored. */
  subjectMarkers: readonly string[];
  /**
   * One more Content-Type value to check besides the `content-type` headers, e.g. the
   * top-level type as the MIME parser saw it when the header is missing or odd.
   */
  contentType?: string;
}

/**
 * S/MIME `smime-type`s that do not encrypt (RFC 8551 section 3.2.2): an opaque
 * signature, a certificate bundle, or compression. Every other value, and a missing
 * one (older clients omit the parameter), is treated as encrypted: fail closed.
 */
const SMIME_NOT_ENCRYPTED = new Set(['signed-data', 'certs-only', 'compressed-data']);

/**
 * Outlook's `Sensitivity` (defined by RFC 2156, registered by RFC 4021; also sent as
 * `X-Sensitivity`).
 * `Private` and `Company-Confidential` restrict distribution, so they are held.
 * `Personal` only says the content is about the sender personally; Outlook attaches
 * no restriction to it and people send it to the bridge on purpose, so it passes.
 */
const HELD_SENSITIVITY = new Set(['private', 'company-confidential']);

/**
 * An ASCII-armoured OpenPGP message (RFC 4880 section 6.2) at the start of a line,
 * possibly quoted. `BEGIN PGP SIGNED MESSAGE` (a clear-signed, readable text) is not
 * matched.
 */
const INLINE_PGP = /^[>\t ]*-----BEGIN PGP MESSAGE-----/m;

/** An `MSIP_Label_<guid>_Enabled=true` pair of Microsoft Purview (AIP) `msip_labels`. */
const MSIP_ENABLED = /^MSIP_Label_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_Enabled$/i;

/**
 * Decides whether a mail must be held instead of published (the issue: encrypted or
 * labelled mail is held). Checks, first match wins:
 *
 * 1. `encrypted`:
 *    - a Content-Type of `application/pkcs7-mime` or `application/x-pkcs7-mime`
 *      (S/MIME, RFC 8551) unless its `smime-type` is signed-data, certs-only or
 *      compressed-data; an `application/octet-stream` named `*.p7m` (RFC 8551
 *      section 3.2.1 allows that for enveloped data);
 *    - `multipart/encrypted` with any protocol (RFC 1847; PGP/MIME is
 *      `protocol="application/pgp-encrypted"`, RFC 3156) and `application/pgp-encrypted`;
 *    - an inline `-----BEGIN PGP MESSAGE-----` block in the text or HTML body.
 *
 *    Signed-only mail (`multipart/signed`, clear-signed PGP) is readable and passes.
 *    An opaque signed-data blob could still wrap an encrypted layer (RFC 8551 section
 *    3.7 triple wrapping) that only a CMS parser could see; such mail has no readable
 *    text part, so nothing of it is published anyway.
 * 2. `sensitivity_label`:
 *    - a Microsoft Purview `msip_labels` header with any label `_Enabled=true`. Label
 *      names are tenant-defined and localised ("General" may or may not be public),
 *      so any enabled label holds the mail;
 *    - `Sensitivity` / `X-Sensitivity` of `Private` or `Company-Confidential`.
 * 3. `confidential_marker`: a subject marker as a whole word, case-insensitively,
 *    matched on the decoded `mail.subject` (raw header values may be encoded-words).
 *    "Non-confidential" also matches: holding by mistake is the safer error.
 *
 * Only top-level headers are in `MailInput`; pass the parser's view of the top-level
 * type as `opts.contentType` if the header may be missing.
 *
 * @returns the first reason found, or `null` when the mail may be published.
 */
export function detectConfidential(mail: MailInput, opts: ConfidentialOptions): ConfidentialFinding | null {
  return encrypted(mail, opts.contentType) ?? sensitivityLabel(mail) ?? confidentialMarker(mail.subject, opts.subjectMarkers);
}

function encrypted(mail: MailInput, extraContentType: string | undefined): ConfidentialFinding | null {
  const types = [...header(mail, 'content-type'), ...(extraContentType === undefined ? [] : [extraContentType])];
  for (const value of types) {
    const type = mediaType(value);
    if (type === 'application/pkcs7-mime' || type === 'application/x-pkcs7-mime') {
      const smime = param(value, 'smime-type')?.toLowerCase() ?? '';
      if (!SMIME_NOT_ENCRYPTED.has(smime)) return { reason: 'encrypted', detail: `${type}; smime-type=${smime || 'none'}` };
    }
    if (type === 'application/octet-stream' && /\.p7m$/i.test(param(value, 'name') ?? '')) {
      return { reason: 'encrypted', detail: 'application/octet-stream; name=*.p7m' };
    }
    if (type === 'multipart/encrypted') {
      const protocol = param(value, 'protocol')?.toLowerCase() || 'none';
      return { reason: 'encrypted', detail: `multipart/encrypted; protocol=${protocol}` };
    }
    if (type === 'application/pgp-encrypted') return { reason: 'encrypted', detail: type };
  }
  if (INLINE_PGP.test(mail.text ?? '') || (mail.html ?? '').includes('-----BEGIN PGP MESSAGE-----')) {
    return { reason: 'encrypted', detail: 'inline-pgp' };
  }
  return null;
}

function sensitivityLabel(mail: MailInput): ConfidentialFinding | null {
  for (const value of header(mail, 'msip_labels')) {
    const label = enabledMsipLabel(value);
    if (label !== null) return { reason: 'sensitivity_label', detail: `msip_labels:${label}` };
  }
  for (const name of ['sensitivity', 'x-sensitivity']) {
    for (const value of header(mail, name)) {
      // "Company Confidential" and "company_confidential" are seen in the wild too.
      const v = value.trim().toLowerCase().replace(/[\s_-]+/g, '-');
      if (HELD_SENSITIVITY.has(v)) return { reason: 'sensitivity_label', detail: `${name}:${v}` };
    }
  }
  return null;
}

/**
 * The GUID of the first enabled label in an `msip_labels` value, or null. The value is
 * `;`-separated `MSIP_Label_<guid>_<Property>=<value>` pairs (Enabled, SiteId, Name,
 * SetDate, Method, ContentBits...). The GUID, not the tenant-chosen name, is returned.
 */
function enabledMsipLabel(value: string): string | null {
  for (const pair of value.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    const key = MSIP_ENABLED.exec(pair.slice(0, eq).trim());
    if (key?.[1] && pair.slice(eq + 1).trim().toLowerCase() === 'true') return key[1].toLowerCase();
  }
  return null;
}

function confidentialMarker(subject: string, markers: readonly string[]): ConfidentialFinding | null {
  // NFKC so full-width "ＣＯＮＦＩＤＥＮＴＩＡＬ" matches; whitespace collapsed so a
  // folded or doubly spaced "strictly  private" still matches its marker.
  const text = subject.normalize('NFKC').replace(/\s+/g, ' ');
  for (const marker of markers) {
    const m = marker.normalize('NFKC').trim().replace(/\s+/g, ' ');
    if (m === '') continue;
    // Whole word: no letter, digit or underscore on either side, in any script.
    const re = new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(m)}(?![\\p{L}\\p{N}_])`, 'iu');
    if (re.test(text)) return { reason: 'confidential_marker', detail: `subject:${m.toLowerCase()}` };
  }
  return null;
}

/** The `type/subtype` of a Content-Type value, lower-cased (RFC 2045 section 5.1). */
function mediaType(value: string): string {
  return (value.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * A parameter of a Content-Type value, quoted or not (RFC 2045 section 5.1). RFC 2231
 * continuations are not decoded; the parameters read here are short tokens.
 */
function param(value: string, name: string): string | null {
  const re = new RegExp(`;\\s*${escapeRegExp(name)}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i');
  const m = re.exec(value);
  if (!m) return null;
  return (m[1] ?? m[2] ?? '').trim();
}

function header(mail: MailInput, name: string): string[] {
  return mail.headers[name] ?? [];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
