import type { Addressing } from './addressing';
import type { MailInput } from './types';

/** RFC 5322 section 2.1.1: no line may exceed 998 characters, so neither can an id. */
export const MESSAGE_ID_MAX = 998;

/** How many ids {@link threadLookupOrder} returns at most. */
export const THREAD_LOOKUP_MAX = 20;

/**
 * Normalises one Message-ID (or In-Reply-To/References entry) to the bare
 * `id-left@id-right` form used as a database key.
 *
 * Angle brackets and surrounding whitespace are removed; anything after the
 * closing `>` (an RFC 5322 comment such as "(added by postmaster)") is ignored.
 * The id-left is kept as is because RFC 5322 section 3.6.4 makes ids opaque and
 * case-sensitive; the id-right after the last `@` is lower-cased because it is
 * conventionally a domain and some MTAs change its case in transit.
 *
 * @returns the id, or `null` when it is empty, contains whitespace, brackets or
 * control characters, or is longer than {@link MESSAGE_ID_MAX}. Quoted id-lefts
 * with spaces (obsolete syntax) are rejected; such mail falls back to a content hash.
 */
export function normaliseMessageId(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  let id = raw.trim();
  if (id.startsWith('<')) {
    const close = id.indexOf('>');
    id = (close === -1 ? id.slice(1) : id.slice(1, close)).trim();
  } else if (id.endsWith('>')) {
    id = id.slice(0, -1).trim();
  }
  if (id === '' || id.length > MESSAGE_ID_MAX || /[\s<>\p{Cc}]/u.test(id)) return null;
  const at = id.lastIndexOf('@');
  return at === -1 ? id : id.slice(0, at + 1) + id.slice(at + 1).toLowerCase();
}

/**
 * Extracts Message-IDs from an In-Reply-To or References header.
 *
 * When the header contains bracketed ids, only those are taken: RFC 5322's
 * obsolete syntax (section 4.5.4) allows phrases such as "Your message of ...
 * <id>" that may hold a plain address, which must not be taken for an id. When
 * there are no brackets at all (seen from broken clients), whitespace- or
 * comma-separated tokens containing `@` are used instead, after removing
 * parenthesised comments.
 *
 * Ids are normalised with {@link normaliseMessageId}, deduplicated and kept in
 * header order. Over `cap`, the first id (the thread root) and the last
 * `cap - 1` (the nearest ancestors) are kept, which is how RFC 5537 section
 * 3.4.4 says a References list should be shortened.
 *
 * @param header - one header value, every value of a repeated header, or nothing
 * @param cap - most ids returned @defaultValue 100 (RELIABILITY B3)
 */
export function parseIdList(header: string | readonly string[] | null | undefined, cap = 100): string[] {
  if (header == null || cap <= 0) return [];
  const text = typeof header === 'string' ? header : header.join(' ');
  const bracketed = [...text.matchAll(/<([^<>]*)>/g)].map((m) => m[1] ?? '');
  const candidates =
    bracketed.length > 0
      ? bracketed
      : text
          .replace(/\([^()]*\)/g, ' ')
          .split(/[\s,]+/)
          .filter((token) => token.includes('@'));

  const ids = new Set<string>();
  for (const candidate of candidates) {
    const id = normaliseMessageId(candidate);
    if (id !== null) ids.add(id);
  }
  const list = [...ids];
  if (list.length <= cap) return list;
  return cap === 1 ? list.slice(0, 1) : [list[0] as string, ...list.slice(list.length - (cap - 1))];
}

/**
 * The Message-IDs to look up, best first, to find the thread a mail belongs to:
 * every In-Reply-To id, then References from newest (last) to oldest, without
 * duplicates and never the mail's own Message-ID, at most
 * {@link THREAD_LOOKUP_MAX}.
 *
 * Why not Discourse's "first 5 references" (RELIABILITY B3)? The nearest
 * ancestors are the ids we most likely stored (our own outbound notification,
 * the last mirrored reply), and a client that trims References keeps the newest.
 * The root, References[0], is still always included, as the last candidate when
 * the list is long, because it is the id a thread is first stored under. The cap
 * keeps the one `WHERE message_id = ANY($1)` query small; the caller picks the
 * first id, in this order, that it knows.
 */
export function threadLookupOrder(mail: MailInput): string[] {
  const own = normaliseMessageId(mail.messageId);
  const references = mail.references.map(normaliseMessageId);
  const ordered = [...mail.inReplyTo.map(normaliseMessageId), ...[...references].reverse()];

  const seen = new Set<string>();
  for (const id of ordered) {
    if (id !== null && id !== own) seen.add(id);
  }
  const list = [...seen];
  if (list.length <= THREAD_LOOKUP_MAX) return list;

  const kept = list.slice(0, THREAD_LOOKUP_MAX);
  const root = references.find((id): id is string => id !== null && id !== own);
  if (root !== undefined && !kept.includes(root)) kept[THREAD_LOOKUP_MAX - 1] = root;
  return kept;
}

/**
 * The Message-ID of an outbox row of ours, without angle brackets: `blend.<row uuid>@<domain>`.
 * The domain is the bridge domain, in plus mode the mailbox's, which staff share: the
 * `blend.` prefix and the UUID let {@link isOwnMessageId} tell our ids from theirs.
 */
export function newMessageId(rowId: string, addressing: Addressing): string {
  return `blend.${rowId}@${addressing.domain}`;
}

const OWN_ID_LEFT = /^blend\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Whether a Message-ID has the shape {@link newMessageId} gives this installation's mail.
 * Only ASCII ids can be ours: {@link normaliseMessageId} lower-cases the domain with
 * `toLowerCase()`, which would fold a look-alike such as U+212A KELVIN SIGN into `k`.
 */
export function isOwnMessageId(messageId: string, addressing: Addressing): boolean {
  if (/[^\x00-\x7f]/.test(messageId)) return false;
  const id = normaliseMessageId(messageId);
  const at = id?.lastIndexOf('@') ?? -1;
  if (id == null || at <= 0) return false;
  return OWN_ID_LEFT.test(id.slice(0, at)) && id.slice(at + 1) === addressing.domain.trim().toLowerCase();
}
