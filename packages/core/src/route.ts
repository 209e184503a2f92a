import type { MailInput } from './types';

/** What a recipient address at the bridge domain asks Blend to do (DESIGN "Addresses"). */
export type Route =
  | { kind: 'status' }
  | { kind: 'group'; slug: string }
  | { kind: 'reply'; token: string }
  | { kind: 'bounce'; token: string }
  | { kind: 'command' }
  | { kind: 'foreign' };

/** The route a mail came through and the (lower-cased) address that selected it. */
export interface BridgeRoute {
  route: Exclude<Route, { kind: 'foreign' }>;
  address: string;
}

/**
 * Reply and VERP tokens: lower-case base32 or hex, because MTAs and MUAs may
 * change the case of a local part (RELIABILITY 3.1 "Format"). 8–60 characters
 * keeps `reply+<token>` within the 64-octet local-part limit of RFC 5321 4.5.3.1.1.
 */
const TOKEN = /^[a-z0-9]{8,60}$/;

/** A group slug: starts alphanumeric, at most 63 characters, nothing that needs quoting. */
const GROUP_SLUG = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * Local parts that are never a group: role mailboxes of RFC 2142 and RFC 5321
 * section 4.5.1, and addresses that by convention receive only machine mail.
 */
const RESERVED = new Set([
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
 * The domain must equal `bridgeDomain` exactly, compared as lower-case ASCII:
 * configure the bridge domain in its A-label (`xn--`) form. Sub-domains and
 * look-alikes (`example.test.evil.io`, `evil-example.test`, Unicode confusables,
 * a trailing dot) are `foreign` (RELIABILITY B7). Quoted local parts and
 * sub-addresses other than `reply+`/`bounce+` are `foreign` too.
 *
 * - `status@` → status; `help@` → command
 * - `reply+TOKEN@` → reply, `bounce+TOKEN@` → bounce (token lower-cased)
 * - reserved role names (postmaster, abuse, noreply...) → foreign
 * - any other local part matching `^[a-z0-9][a-z0-9._-]{0,62}$` → group
 */
export function routeRecipient(address: string, bridgeDomain: string): Route {
  let addr = address.trim();
  if (addr.startsWith('<') && addr.endsWith('>')) addr = addr.slice(1, -1);
  const at = addr.lastIndexOf('@');
  if (at <= 0) return { kind: 'foreign' };
  const domain = asciiLower(addr.slice(at + 1));
  const bridge = asciiLower(bridgeDomain.trim());
  if (bridge === '' || domain !== bridge) return { kind: 'foreign' };

  const local = asciiLower(addr.slice(0, at));
  if (local === 'status') return { kind: 'status' };
  if (local === 'help') return { kind: 'command' };

  const plus = local.indexOf('+');
  if (plus !== -1) {
    const tag = local.slice(0, plus);
    const token = local.slice(plus + 1);
    if ((tag === 'reply' || tag === 'bounce') && TOKEN.test(token)) return { kind: tag, token };
    return { kind: 'foreign' };
  }
  if (RESERVED.has(local) || !GROUP_SLUG.test(local)) return { kind: 'foreign' };
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
export function pickBridgeRoute(mail: MailInput, bridgeDomain: string): BridgeRoute | null {
  const sources = [mail.deliveredTo, mail.to.map((a) => a.address), mail.cc.map((a) => a.address)];
  for (const addresses of sources) {
    let best: BridgeRoute | null = null;
    for (const raw of addresses) {
      const route = routeRecipient(raw, bridgeDomain);
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
