
export interface PersonRef {
  id: string;
  email: string;
  name: string;
}
export interface CommentView {
  id: string;
  author: PersonRef;
  body_text: string;
  body_html: string;
  source: 'email' | 'esn';
  created_at: string;
  /** Retracted by its author: the comment stays as a tombstone without content. */
  deleted?: true;
}
export interface PostView {
  id: string;
  group: { id: string; slug: string; name: string };
  title: string;
  body_text: string;
  body_html: string;
  source: 'email' | 'esn';
  author: PersonRef;
  created_at: string;
  comments: CommentView[];
  /** Replies in this thread from people who have not opted in: counted, never shown. */
  withheld_replies: number;
  /** Retracted or un-mirrored: a tombstone without content. */
  deleted?: true;
}

/** Opaque feed cursor: the (created_at, id) of the last item of a page. */
export interface FeedCursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(c: FeedCursor): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString('base64url');
}

/** @returns the cursor, or null when it is not one we issued. */
export function decodeCursor(s: string): FeedCursor | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || typeof v[1] !== 'string') return null;
    const createdAt = new Date(v[0]);
    if (Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(v[1])) return null;
    return { createdAt, id: v[1] };
  } catch {
    return null;
  }
}

