/**
 * Where a message entered the organisation, read from its `Received` headers.
 *
 * Every MTA prepends a `Received` header naming itself in the `by` clause (RFC 5321 section 4.4),
 * so the headers above the lowest one written by one of the organisation's own MTAs were added
 * inside the organisation, and everything from that header down came from outside and may be
 * forged. This is the idea of SpamAssassin's trusted networks, keyed on host names because
 * those are what the headers of Exchange Online, Google Workspace and Postfix record reliably
 * (docs/SECURITY.md, B8).
 */

/** The host of a `Received` header's `by` clause, lower-cased, without a trailing dot. */
export function receivedByHost(value: string): string | null {
  const m = /(?:^|\s)by\s+([a-z0-9._-]+)/i.exec(value.replace(/\([^)]*\)/g, ' '));
  return m?.[1]?.toLowerCase().replace(/\.$/, '') ?? null;
}

/**
 * A `BLEND_TRUSTED_RECEIVED_BY` entry, checked: a host name, or `*.` and a domain of at least
 * two labels (`*.prod.outlook.com`). Returns a problem to report, or null.
 */
export function receivedByPatternProblem(pattern: string): string | null {
  const host = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  if (!new RegExp(`^${label}(?:\\.${label})*$`, 'i').test(host) || host.length > 253) {
    return `"${pattern}" is not a host name or a *.domain pattern`;
  }
  if (pattern.startsWith('*.') && !host.includes('.')) return `"${pattern}" is too wide: name a domain with at least two labels`;
  return null;
}

/** Whether `host` is named by `pattern`: equal, or for `*.domain` any host below that domain. */
export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.toLowerCase().replace(/\.$/, '');
  return p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : h === p;
}

/**
 * The client a `Received` header names in its `from` clause, as the receiving MTA recorded it:
 * the verified reverse-DNS name (`from helo (name [192.0.2.1])`, Postfix and Gmail), or, when
 * the comment holds only an address (`from helo (192.0.2.1)`, Exchange), the HELO name. Null
 * when the MTA could not verify the name (`unknown [192.0.2.1]`) or there is no `from` clause:
 * a HELO next to an unverified address is whatever the client chose to say.
 */
export function receivedFromHost(value: string): string | null {
  const m = /^\s*from\s+([^\s(]+)\s*(?:\(([^)]*)\))?/i.exec(value);
  if (!m) return null;
  const helo = m[1]!.toLowerCase().replace(/\.$/, '');
  const comment = (m[2] ?? '').trim();
  const named = /^([a-z0-9._-]+)\s+\[/i.exec(comment);
  if (named) return named[1]!.toLowerCase() === 'unknown' ? null : named[1]!.toLowerCase().replace(/\.$/, '');
  return helo;
}

/**
 * The index in `fields` (every header field, topmost first, as `MailInput.headerFields`) of the
 * `Received` header where the message entered the organisation, or -1.
 *
 * The walk starts at the topmost `Received` header, which must have been written by one of
 * `trusted` (else the message never passed the organisation's MTAs as far as Blend can tell),
 * and goes down while each next header was also written by a trusted host *and* the header
 * above it names a trusted host as its client: each internal hop received the mail from the
 * hop below it. The last header reached is the entry, the lowest trusted one that is joined to
 * the top. A `Received` header naming the organisation's MTA further down, under a hop whose
 * client was outside, came with the message and does not move the entry.
 */
export function organisationEntry(fields: ReadonlyArray<readonly [string, string]>, trusted: readonly string[]): number {
  const isTrusted = (host: string | null): boolean => host !== null && trusted.some((p) => hostMatches(host, p));
  let entry = -1;
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i]!;
    if (name !== 'received') continue;
    if (!isTrusted(receivedByHost(value))) break;
    if (entry >= 0 && !isTrusted(receivedFromHost(fields[entry]![1]))) break;
    entry = i;
  }
  return entry;
}
