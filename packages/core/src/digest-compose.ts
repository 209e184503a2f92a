/** One thing that happened in a thread the reader follows, as the digest job loads it. */
export interface ActivityItem {
  kind: 'post' | 'comment';
  postId: string;
  commentId: string | null;
  threadTitle: string;
  groupName: string;
  /** May be '' (an address we have no name for); the digest then shows `authorEmail`. */
  authorName: string;
  authorEmail: string;
  source: 'email' | 'esn';
  /** Plain body text. */
  text: string;
  at: Date;
  mentionsMe: boolean;
}

export interface DigestThread {
  postId: string;
  title: string;
  groupName: string;
  /** Oldest first: the newest `maxItemsPerThread` items of the thread. */
  items: ActivityItem[];
  /** Older items of this thread left out. */
  omittedItems: number;
  latestAt: Date;
  /** Any item of the thread, shown or not, mentions the reader. */
  mentionsMe: boolean;
}

export interface DigestModel {
  /** Newest `latestAt` first. */
  threads: DigestThread[];
  omittedThreads: number;
  /** All items left out, including those of omitted threads. */
  omittedItems: number;
  /** Distinct items, shown or not. */
  totalItems: number;
}

/** Limits for {@link composeDigest}. */
export interface ComposeDigestOptions {
  /** @defaultValue 20 */
  maxThreads?: number;
  /** @defaultValue 5 */
  maxItemsPerThread?: number;
  /** Longer texts are cut at a word boundary and end in '…'. @defaultValue 600 */
  excerptChars?: number;
}

/**
 * Cuts `text` to at most `max` code points, at a word boundary when one is near, and marks
 * the cut with '…'. Line breaks are kept (they carry meaning in short mails); runs of blank
 * lines and trailing spaces are squeezed so an excerpt does not waste its budget on them.
 */
export function excerpt(text: string, max: number): string {
  const clean = text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  // Only the first max code points matter: walk to them rather than split the whole text.
  let headEnd = 0;
  let at = 0;
  for (let n = 0; n < max; n++) {
    if (at >= clean.length) return clean;
    if (n === max - 1) headEnd = at;
    at += clean.codePointAt(at)! > 0xffff ? 2 : 1;
  }
  if (at >= clean.length) return clean;
  if (max === 1) return '…';
  const head = clean.slice(0, headEnd);
  // Cut at the last space when it is near the end (the last fifth, at least 20 characters);
  // a long URL or a language without spaces is cut mid-word rather than losing most of
  // the excerpt. If the cut already falls between words, keep the whole head.
  const atBoundary = /\s/.test(String.fromCodePoint(clean.codePointAt(headEnd)!));
  const space = head.search(/\s\S*$/);
  const near = space > 0 && space >= head.length - Math.max(20, head.length * 0.2);
  const cut = atBoundary || !near ? head : head.slice(0, space);
  return `${cut.trimEnd()}…`;
}

const itemKey = (i: ActivityItem) => `${i.kind}\u0000${i.postId}\u0000${i.commentId ?? ''}`;

/**
 * Groups activity into a digest: one entry per thread (post), newest activity first, the
 * newest `maxItemsPerThread` items of each in reading order. Duplicates (same kind, post
 * and comment) collapse to the first seen, keeping the mention if either copy had it.
 * Threads that mention the reader are flagged, not promoted: the order is strictly by time.
 */
export function composeDigest(items: ActivityItem[], opts: ComposeDigestOptions = {}): DigestModel {
  const maxThreads = opts.maxThreads ?? 20;
  const maxItems = opts.maxItemsPerThread ?? 5;
  const excerptChars = opts.excerptChars ?? 600;
  for (const [name, v] of [['maxThreads', maxThreads], ['maxItemsPerThread', maxItems], ['excerptChars', excerptChars]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`composeDigest: ${name} must be a positive integer, got ${v}`);
  }

  const seen = new Map<string, ActivityItem>();
  const byPost = new Map<string, ActivityItem[]>();
  for (const item of items) {
    const key = itemKey(item);
    const first = seen.get(key);
    if (first) {
      if (item.mentionsMe && !first.mentionsMe) {
        const merged = { ...first, mentionsMe: true };
        seen.set(key, merged);
        const list = byPost.get(item.postId)!;
        list[list.indexOf(first)] = merged;
      }
      continue;
    }
    seen.set(key, item);
    const list = byPost.get(item.postId);
    if (list) list.push(item);
    else byPost.set(item.postId, [item]);
  }

  const all: DigestThread[] = [];
  for (const [postId, list] of byPost) {
    // Array.prototype.sort is stable, so equal times keep their input order.
    const sorted = [...list].sort((a, b) => a.at.getTime() - b.at.getTime());
    const shown = sorted.slice(-maxItems);
    const newest = sorted[sorted.length - 1]!;
    all.push({
      postId,
      // The newest item carries the current title and group (a post can be renamed or moved).
      title: newest.threadTitle,
      groupName: newest.groupName,
      items: shown.map((i) => ({ ...i, text: excerpt(i.text, excerptChars) })),
      omittedItems: sorted.length - shown.length,
      latestAt: newest.at,
      mentionsMe: sorted.some((i) => i.mentionsMe),
    });
  }
  all.sort((a, b) => b.latestAt.getTime() - a.latestAt.getTime());

  const threads = all.slice(0, maxThreads);
  const dropped = all.slice(maxThreads);
  const omittedItems =
    threads.reduce((n, t) => n + t.omittedItems, 0) + dropped.reduce((n, t) => n + t.items.length + t.omittedItems, 0);
  return { threads, omittedThreads: dropped.length, omittedItems, totalItems: seen.size };
}
