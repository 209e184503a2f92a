import { bridgeLocalPart, GROUP_SLUG, RESERVED_LOCAL_PARTS, type Addressing, type AddressRole } from './addressing';
import type { MailInput } from './types';

/** What a recipient address asks Blend to do (docs/ARCHITECTURE.md "Addresses"); `foreign` if it is not Blend's. */
export type Route = AddressRole | { kind: 'foreign' };

/** The route a mail came through and the (lower-cased) address that selected it. */
export interface BridgeRoute {
  route: AddressRole;
  address: string;
}

/**
 * Reply and VERP tokens: lower-case base32 or hex, because MTAs and MUAs may
 * change the case of a local part (docs/SECURITY.md 3.1 "Format"). 8–60 characters
 * keeps `reply+<token>` within the 64-octet local-part limit of RFC 5321 4.5.3.1.1.
 */
const TOKEN = /^[a-z0-9]{8,60}$/;

/**
 * Preference when one message names several bridge addresses. A VERP bounce
 * address is only ever used as our envelope sender, so mail to it is a bounce
 * whatever else it names; a reply token is more specific than a status or group
 * address (a reply-all often keeps the original group address in Cc).
 */
const PREFERENCE: Record<BridgeRoute['route']['kind'], number> = {
  bounce: 0,
  reply: 1,
  status: 2,
  command: 3,
  group: 4,
};

/**
 * Maps one recipient address to a {@link Route}.
 *
 * The domain must equal the bridge domain exactly, compared as lower-case ASCII:
 * configure it in its A-label (`xn--`) form. Sub-domains and look-alikes
 * (`example.test.evil.io`, `evil-example.test`, Unicode confusables, a trailing dot)
 * are `foreign` (docs/SECURITY.md B7), and so are quoted local parts.
 *
 * Domain mode (any local part at the domain is Blend's):
 * - `status@` → status; `help@` → command
 * - `reply+TOKEN@` → reply, `bounce+TOKEN@` → bounce (token lower-cased); other sub-addresses → foreign
 * - reserved role names (postmaster, abuse, noreply...) → foreign
 * - any other local part matching `^[a-z0-9][a-z0-9._-]{0,62}$` → group
 *
 * Plus mode (only the mailbox `M` and its sub-addresses are Blend's; the rest of the domain is foreign):
 * - `M@` and `M+status@` → status; `M+help@` → command
 * - `M+reply-TOKEN@` → reply, `M+bounce-TOKEN@` → bounce; any other detail starting `reply-`/`bounce-` → foreign
 * - `M+SLUG@` → group under the same rules as a domain-mode local part
 */
export function routeRecipient(address: string, addressing: Addressing): Route {
  const local = bridgeLocalPart(address, addressing);
  if (local === null) return { kind: 'foreign' };
  if (addressing.mode === 'domain') return routeLocal(local, '+');
  const mailbox = asciiLower(addressing.mailbox.trim());
  if (mailbox === '') return { kind: 'foreign' };
  if (local === mailbox) return { kind: 'status' };
  if (!local.startsWith(`${mailbox}+`)) return { kind: 'foreign' };
  return routeLocal(local.slice(mailbox.length + 1), '-');
}

/**
 * The route of a domain-mode local part or a plus-mode detail; `join` separates
 * `reply`/`bounce` from their token.
 */
function routeLocal(local: string, join: '+' | '-'): Route {
  if (local === 'status') return { kind: 'status' };
  if (local === 'help') return { kind: 'command' };
  for (const tag of ['reply', 'bounce'] as const) {
    if (!local.startsWith(tag + join)) continue;
    const token = local.slice(tag.length + 1);
    return TOKEN.test(token) ? { kind: tag, token } : { kind: 'foreign' };
  }
  // `team+x@` in domain mode, `M+team+x@` in plus mode: no sub-address of ours.
  if (local.includes('+') || RESERVED_LOCAL_PARTS.has(local) || !GROUP_SLUG.test(local)) return { kind: 'foreign' };
  return { kind: 'group', slug: local };
}

/**
 * Finds the bridge address a mail was sent through.
 *
 * Delivered-To/X-Original-To come first because they name the envelope
 * recipient that actually reached our mailbox, which also covers Bcc; To and
 * Cc are used only when no delivery header names a bridge address (e.g. mail
 * fetched from a mailbox whose MTA adds none). Within the first source that has
 * any bridge address, the most specific route wins: bounce > reply > status >
 * command > group, then header order.
 *
 * @returns the chosen route and address, or `null` if no bridge address appears.
 */
export function pickBridgeRoute(mail: MailInput, addressing: Addressing): BridgeRoute | null {
  const sources = [mail.deliveredTo, mail.to.map((a) => a.address), mail.cc.map((a) => a.address)];
  for (const addresses of sources) {
    let best: BridgeRoute | null = null;
    for (const raw of addresses) {
      const route = routeRecipient(raw, addressing);
      if (route.kind === 'foreign') continue;
      if (best === null || PREFERENCE[route.kind] < PREFERENCE[best.route.kind]) {
        best = { route, address: asciiLower(raw.trim()) };
      }
    }
    if (best !== null) return best;
  }
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
