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
 * Whether a normalised id has the `id-left@id-right` shape of a msg-id (RFC 5322 section
 * 3.6.4). Lenient about what real clients put on either side (`CAF=x+Y`, `[192.0.2.1]`, a
 * second `@`), but both sides must be there: a word such as `Your` or `"Mon,` taken from
 * a malformed References header is never an id, and must not join threads.
 */
export function isWellFormedMessageId(id: string): boolean {
  const at = id.lastIndexOf('@');
  return at > 0 && at < id.length - 1;
}

/**
 * Extracts Message-IDs from a References (or In-Reply-To) header.
 *
 * Only bracketed `<id-left@id-right>` tokens are ids: RFC 5322's obsolete syntax (section
 * 4.5.4) allows phrases such as `Your message of "Mon, 3 Jun"` around them, and their words
 * are not ids. A header value without any brackets is taken as one bare id only when the
 * whole value (parenthesised comments aside) is a single `local@domain`, as some old
 * clients write it; a list of bare words is ignored.
 *
 * Ids are normalised with {@link normaliseMessageId}, deduplicated and kept in
 * header order. Over `cap`, the first id (the thread root) and the last
 * `cap - 1` (the nearest ancestors) are kept, which is how RFC 5537 section
 * 3.4.4 says a References list should be shortened.
 *
 * @param header - one header value, every value of a repeated header, or nothing
 * @param cap - most ids returned @defaultValue 100 (docs/SECURITY.md B3)
 */
export function parseIdList(header: string | readonly string[] | null | undefined, cap = 100): string[] {
  if (header == null || cap <= 0) return [];
  const values = typeof header === 'string' ? [header] : header;
  return capIds(unique(values.flatMap((value) => idTokens(value).ids)), cap);
}

/**
 * Extracts the parent ids of an In-Reply-To header, preferred parent first.
 *
 * Several bracketed tokens are read last first: MH and exmh write
 * `Message from Jane Doe <jane@corp.com> of "Mon, 03 Jun 2024" <id@host>`, where the
 * sender's address comes first and the id last. When such phrase text surrounds the
 * brackets (the obsolete form of RFC 5322 section 4.5.4), only the last token is kept, so
 * the address is neither looked up nor recorded as an id of the thread. Without phrase
 * text (several parents, `<a@x> <b@x>`), every id is kept, last first.
 *
 * @param header - one header value, every value of a repeated header, or nothing
 * @param cap - most ids returned @defaultValue 100
 */
export function parseInReplyTo(header: string | readonly string[] | null | undefined, cap = 100): string[] {
  if (header == null || cap <= 0) return [];
  const values = typeof header === 'string' ? [header] : header;
  const ids = values.flatMap((value) => {
    const { ids: found, phrase } = idTokens(value);
    return phrase ? found.slice(-1) : found.reverse();
  });
  return unique(ids).slice(0, cap);
}

/** The well-formed ids of one header value, in header order, and whether words surround them. */
function idTokens(value: string): { ids: string[]; phrase: boolean } {
  const bracketed = [...value.matchAll(/<([^<>]*)>/g)].map((m) => m[1] ?? '');
  const rest = value
    .replace(/<[^<>]*>/g, ' ')
    .replace(/\([^()]*\)/g, ' ')
    .trim();
  // A bare id is accepted only as the whole value: `a@x.com (comment)`, never `of a@x.com`.
  const candidates = bracketed.length > 0 ? bracketed : /^[^\s,<>]+$/.test(rest) ? [rest] : [];
  const ids: string[] = [];
  for (const candidate of candidates) {
    const id = normaliseMessageId(candidate);
    if (id !== null && isWellFormedMessageId(id)) ids.push(id);
  }
  return { ids, phrase: bracketed.length > 0 && /[^\s,]/.test(rest) };
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

function capIds(list: string[], cap: number): string[] {
  if (list.length <= cap) return list;
  return cap === 1 ? list.slice(0, 1) : [list[0] as string, ...list.slice(list.length - (cap - 1))];
}

/**
 * The Message-IDs to look up, best first, to find the thread a mail belongs to:
 * every In-Reply-To id, then References from newest (last) to oldest, without
 * duplicates and never the mail's own Message-ID, at most
 * {@link THREAD_LOOKUP_MAX}.
 *
 * Why not Discourse's "first 5 references" (docs/SECURITY.md B3)? The nearest
 * ancestors are the ids we most likely stored (our own outbound notification,
 * the last mirrored reply), and a client that trims References keeps the newest.
 * The root, References[0], is still always included, as the last candidate when
 * the list is long, because it is the id a thread is first stored under. The cap
 * keeps the one `WHERE message_id = ANY($1)` query small; the caller picks the
 * first id, in this order, that it knows.
 */
export function threadLookupOrder(mail: MailInput): string[] {
  const own = normaliseMessageId(mail.messageId);
  const wellFormed = (raw: string) => {
    const id = normaliseMessageId(raw);
    return id !== null && isWellFormedMessageId(id) ? id : null;
  };
  const references = mail.references.map(wellFormed);
  const ordered = [...mail.inReplyTo.map(wellFormed), ...[...references].reverse()];

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
