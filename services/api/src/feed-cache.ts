/**
 * The feed cache: JSON feed pages kept in memory, shared by every reader, forgotten on every
 * change to what a page shows.
 *
 * The feed is the same for everyone except `liked_by_me`, so a page is kept as its JSON cut at
 * each `"liked_by_me":` value; a hit asks Postgres only which of the page's posts the reader
 * liked (one index lookup) and joins the pieces with `true`/`false`. Changes are heard through
 * Postgres NOTIFY (migration 0013's triggers, {@link listenForFeedChanges}), sent when the
 * writing transaction commits, whichever process wrote. While the listening connection is down
 * the cache is off: changes made meanwhile would go unheard.
 *
 * A page read before a change and stored after it must not be kept: {@link FeedCache.begin}
 * hands out the generation a read starts in, and {@link FeedCache.put} drops the page when a
 * change came in since.
 */

import { createHash } from 'node:crypto';

/** A page as kept: its JSON split around the `liked_by_me` values, and its posts in order. */
export interface CachedPage {
  /** A digest of `parts`: with the reader's likes, the page's ETag. */
  tag: string;
  /** `parts.length === postIds.length + 1`; the value for post i goes between parts i and i+1. */
  parts: Buffer[];
  postIds: string[];
  bytes: number;
  storedAt: number;
}

const LIKED = /"liked_by_me":(true|false)/g;
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');

/**
 * Cut serialized page JSON at its `liked_by_me` values, one per post in `postIds` order; null
 * when their count is not the number of posts (the page is then not cached). A string value
 * cannot hold `"liked_by_me":` unescaped (its quotes are written `\"`), so every match is a key.
 */
export function splitPage(json: string, postIds: string[], now: number): CachedPage | null {
  const parts: Buffer[] = [];
  let from = 0;
  for (const m of json.matchAll(LIKED)) {
    const at = m.index + '"liked_by_me":'.length;
    parts.push(Buffer.from(json.slice(from, at)));
    from = at + m[1]!.length;
  }
  if (parts.length !== postIds.length) return null;
  parts.push(Buffer.from(json.slice(from)));
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p);
  return { tag: hash.digest('base64url').slice(0, 22), parts, postIds, bytes: parts.reduce((n, p) => n + p.length, 0), storedAt: now };
}

/** The ETag of the page as `liked` makes it for one reader (a strong tag: the bytes are fixed). */
export function pageEtag(page: CachedPage, liked: ReadonlySet<string>): string {
  const bits = page.postIds.map((id) => (liked.has(id) ? '1' : '0')).join('');
  return `"${page.tag}.${createHash('sha256').update(bits).digest('base64url').slice(0, 8)}"`;
}

/** Whether an If-None-Match header names `etag` (weak comparison, RFC 9110 13.1.2). */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => bare(t) === bare(etag));
}

/** The page's JSON for a reader who liked the posts in `liked`. */
export function joinPage(page: CachedPage, liked: ReadonlySet<string>): Buffer {
  const chunks: Buffer[] = [page.parts[0]!];
  for (let i = 0; i < page.postIds.length; i++) chunks.push(liked.has(page.postIds[i]!) ? TRUE : FALSE, page.parts[i + 1]!);
  return Buffer.concat(chunks);
}

/** The safety net of the API's cache: a page is read again after a minute at most. */
export const FEED_CACHE_MAX_AGE_MS = 60_000;

export interface FeedCacheOptions {
  /** Most bytes of JSON kept; the least recently used pages go first. */
  maxBytes: number;
  /** A page older than this is read again even if no change was heard (a safety net). */
  maxAgeMs: number;
  now?: () => number;
}

export type CacheOutcome = 'hit' | 'miss' | 'off';

export class FeedCache {
  private readonly pages = new Map<string, CachedPage>();
  private bytes = 0;
  private generation = 0;
  private listening = false;
  private readonly now: () => number;

  constructor(private readonly opts: FeedCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Whether changes are heard; the cache serves and keeps pages only while they are. */
  get active(): boolean {
    return this.listening && this.opts.maxBytes > 0;
  }

  /** Listening started or stopped: either way, what is kept may be stale. */
  setListening(listening: boolean): void {
    this.listening = listening;
    this.changed();
  }

  /** Something a page shows changed: forget every page, and pages being read now. */
  changed(): void {
    this.generation++;
    this.pages.clear();
    this.bytes = 0;
  }

  get size(): { pages: number; bytes: number } {
    return { pages: this.pages.size, bytes: this.bytes };
  }

  get(key: string): CachedPage | undefined {
    if (!this.active) return undefined;
    const page = this.pages.get(key);
    if (!page) return undefined;
    if (this.now() - page.storedAt > this.opts.maxAgeMs) {
      this.drop(key, page);
      return undefined;
    }
    // Most recently used last, so that eviction takes the first.
    this.pages.delete(key);
    this.pages.set(key, page);
    return page;
  }

  /** The generation a read starts in, to hand back to {@link put}. */
  begin(): number {
    return this.generation;
  }

  /** Keep a page read since `begin()` returned `generation`, unless a change came in since. */
  put(key: string, generation: number, page: CachedPage): boolean {
    if (!this.active || generation !== this.generation || page.bytes > this.opts.maxBytes) return false;
    const old = this.pages.get(key);
    if (old) this.drop(key, old);
    this.pages.set(key, page);
    this.bytes += page.bytes;
    for (const [k, p] of this.pages) {
      if (this.bytes <= this.opts.maxBytes) break;
      this.drop(k, p);
    }
    return true;
  }

  private drop(key: string, page: CachedPage): void {
    this.pages.delete(key);
    this.bytes -= page.bytes;
  }
}
