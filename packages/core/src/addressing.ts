/**
 * The addresses Blend receives and sends mail with. Two layouts (BLEND_ADDRESSING):
 *
 * - `domain`: a catch-all domain of its own. `status@D`, `help@D`, `GROUP@D`,
 *   `reply+TOKEN@D`, `bounce+TOKEN@D`.
 * - `plus`: one ordinary mailbox `M@D` in a domain shared with staff, every address a
 *   sub-address of it: `M+status@D`, `M+help@D`, `M+GROUP@D`, `M+reply-TOKEN@D`,
 *   `M+bounce-TOKEN@D`; the bare `M@D` counts as `status`. Exactly one `+`, because
 *   Exchange Online, Gmail and Postfix (`recipient_delimiter = +`) all deliver `M+anything`
 *   to `M` by splitting at the first `+`; the kind and its token are joined with `-`, which
 *   all three keep in the detail.
 */

/** Where Blend's addresses live. Both strings are lower-case ASCII, the domain in A-label form. */
export type Addressing =
  | { mode: 'domain'; domain: string }
  | {
      mode: 'plus';
      /** The mailbox's local part, e.g. `bridge` of `bridge@example.com`; see {@link mailboxProblem}. */
      mailbox: string;
      domain: string;
    };

/** What one of Blend's addresses asks for (docs/ARCHITECTURE.md "Addresses"). */
export type AddressRole =
  | { kind: 'status' }
  | { kind: 'group'; slug: string }
  | { kind: 'reply'; token: string }
  | { kind: 'bounce'; token: string }
  | { kind: 'command' };

/**
 * RFC 5321 section 4.5.3.1.1: a local part is at most 64 octets. The longest sub-address is
 * the VERP one, `+bounce-` and a bounce token of 32 characters (bounce-token.ts): 40 octets
 * of the 64.
 */
export const MAILBOX_MAX_CHARS = 64 - '+bounce-'.length - 32;

/** A group slug: starts alphanumeric, at most 63 characters, nothing that needs quoting. */
export const GROUP_SLUG = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Local parts that are never a group: role mailboxes of RFC 2142 and RFC 5321
 * section 4.5.1, and addresses that by convention receive only machine mail.
 */
export const RESERVED_LOCAL_PARTS: ReadonlySet<string> = new Set([
  'postmaster',
  'abuse',
  'hostmaster',
  'webmaster',
  'mailer-daemon',
  'noreply',
  'no-reply',
  'bounce',
  'bounces',
]);

/**
 * The address of Blend's for `role`. Tokens and slugs are used as given: issue them
 * lower-case (reply tokens and hex ids are; {@link groupSlugProblem} checks slugs).
 */
export function bridgeAddress(addressing: Addressing, role: AddressRole): string {
  const detail = roleDetail(role, addressing.mode);
  return addressing.mode === 'domain' ? `${detail}@${addressing.domain}` : `${addressing.mailbox}+${detail}@${addressing.domain}`;
}

function roleDetail(role: AddressRole, mode: Addressing['mode']): string {
  // In a catch-all domain the token is a sub-address of `reply`/`bounce`; inside a
  // sub-address a second `+` would not survive, so `-` joins them there.
  const join = mode === 'domain' ? '+' : '-';
  switch (role.kind) {
    case 'status':
      return 'status';
    case 'command':
      return 'help';
    case 'group':
      return role.slug;
    case 'reply':
    case 'bounce':
      return `${role.kind}${join}${role.token}`;
  }
}

/**
 * The From address of Blend's mail: `status@D`, or in plus mode the bare mailbox, which is
 * the address a hosted mailbox may send as (Exchange Online refuses a plus address as From
 * unless sending from aliases is enabled) and which still routes as `status` when answered.
 */
export function senderAddress(addressing: Addressing): string {
  return addressing.mode === 'domain' ? bridgeAddress(addressing, { kind: 'status' }) : `${addressing.mailbox}@${addressing.domain}`;
}

/**
 * Whether `address` is one of Blend's own: in domain mode any address at the bridge domain,
 * in plus mode only the mailbox and its sub-addresses (the rest of the domain is staff).
 * Used to leave Blend out of a mail's participants and to recognise its own mail.
 * Look-alikes are not ours: the domain must match exactly, and a quoted local part never does.
 */
export function isBridgeAddress(address: string, addressing: Addressing): boolean {
  const local = bridgeLocalPart(address, addressing);
  if (local === null) return false;
  if (addressing.mode === 'domain') return true;
  const mailbox = asciiLower(addressing.mailbox.trim());
  return local === mailbox || local.startsWith(`${mailbox}+`);
}

/**
 * The lower-cased local part of an address at the bridge domain, or null for any other
 * domain, a malformed address or a quoted local part. Angle brackets and surrounding
 * space are ignored.
 *
 * The domain must equal the configured one exactly, compared as lower-case ASCII: sub-domains
 * and look-alikes (`example.test.evil.io`, `evil-example.test`, Unicode confusables, a
 * trailing dot) are other domains (docs/SECURITY.md B7).
 */
export function bridgeLocalPart(address: string, addressing: Addressing): string | null {
  let addr = address.trim();
  if (addr.startsWith('<') && addr.endsWith('>')) addr = addr.slice(1, -1);
  const at = addr.lastIndexOf('@');
  if (at <= 0) return null;
  const ours = asciiLower(addressing.domain.trim());
  if (ours === '' || asciiLower(addr.slice(at + 1)) !== ours) return null;
  const local = asciiLower(addr.slice(0, at));
  // A quoted local part may hold anything, `@` included: never one of ours.
  if (local.includes('"') || local.includes('@')) return null;
  return local;
}

/**
 * Why `local` cannot be the mailbox of plus mode, or null when it can: 1 to
 * {@link MAILBOX_MAX_CHARS} lower-case letters, digits, `.`, `_` or `-`, starting and ending
 * with a letter or digit, and no `+` (that starts the sub-address).
 */
export function mailboxProblem(local: string): string | null {
  if (local.length > MAILBOX_MAX_CHARS) {
    return `the local part "${local}" has ${local.length} characters; at most ${MAILBOX_MAX_CHARS} leave room for "+bounce-" and a 32-character id within the 64-octet local part of RFC 5321`;
  }
  if (local.includes('+')) return `the local part "${local}" must not contain "+": Blend adds the sub-address after it`;
  if (!/^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$/.test(local)) {
    return `the local part "${local}" must be lower-case letters, digits, ".", "_" or "-", starting and ending with a letter or digit`;
  }
  return null;
}

/**
 * Why `slug` cannot name a group, or null when it can. Besides the slug syntax and the role
 * names, `status` and `help` are Blend's own addresses, and `reply-`/`bounce-` start the reply
 * and bounce sub-addresses of plus mode (reserved in both modes, so that a group keeps its
 * address when an installation changes mode).
 */
export function groupSlugProblem(slug: string): string | null {
  if (!GROUP_SLUG.test(slug)) return 'must be 1-63 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit';
  if (RESERVED_LOCAL_PARTS.has(slug)) return `"${slug}" is a reserved role address`;
  if (slug === 'status' || slug === 'help') return `"${slug}" is one of Blend's own addresses`;
  if (/^(?:reply|bounce)-/.test(slug)) return 'must not start with "reply-" or "bounce-" (the reply and bounce addresses of BLEND_ADDRESSING=plus)';
  return null;
}

/**
 * Lower-cases ASCII letters only. `toLowerCase()` would also fold non-ASCII
 * letters (e.g. U+212A KELVIN SIGN to "k"), letting a look-alike domain or
 * local part compare equal to ours.
 */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
