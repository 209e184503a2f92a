import { and, eq, isNull } from 'drizzle-orm';
import type { Database } from '../client';
import { comments, posts } from '../schema';
import type { EsnPostView } from './esn-post-view';

/**
 * The thread `view` with `trimmed_text` on the post and on each comment: what extraction cut
 * from that mail, but only where `viewerId` wrote the mail, else null. The cut part quotes
 * other people, some of whom may not have opted in (their replies are withheld, README "Trust
 * model"): its author received every word of it already, other readers did not.
 */
export async function withTrimmedText(db: Database, view: EsnPostView, viewerId: string | null): Promise<EsnPostView> {
  const own = new Map<string, string>();
  if (viewerId) {
    const [post] = await db
      .select({ trimmedText: posts.trimmedText })
      .from(posts)
      .where(and(eq(posts.id, view.id), eq(posts.authorId, viewerId), isNull(posts.deletedAt)));
    if (post?.trimmedText) own.set(view.id, post.trimmedText);
    const mine = await db
      .select({ id: comments.id, trimmedText: comments.trimmedText })
      .from(comments)
      .where(and(eq(comments.postId, view.id), eq(comments.authorId, viewerId), isNull(comments.deletedAt)));
    for (const c of mine) if (c.trimmedText) own.set(c.id, c.trimmedText);
  }
  return {
    ...view,
    trimmed_text: own.get(view.id) ?? null,
    comments: view.comments.map((c) => ({ ...c, trimmed_text: own.get(c.id) ?? null })),
  };
}
