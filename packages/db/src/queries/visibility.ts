import { and, isNull, type SQL } from 'drizzle-orm';
import { comments, posts } from '../schema';
import { groupVisibleTo } from './groups';

/**
 * Who may read what, in one place: every query that shows posts or comments to a reader (the
 * feed, search) adds these conditions, so a rule added here (private groups, hidden posts)
 * reaches all of them at once.
 */

/**
 * The condition on `posts` for the posts a reader may see in lists: not retracted, un-mirrored,
 * erased or hidden by a moderator (all four set `deleted_at`; a hidden one keeps its text, see
 * docs/ARCHITECTURE.md "Moderation"). Withheld and held mail never became a post.
 *
 * @param viewer the reader's person id as SQL (a placeholder in the prepared statements).
 */
export function postVisibleTo(viewer: SQL | SQL.Aliased | unknown): SQL {
  // A private group's posts only for its members: the rule of groups.ts (docs/SECURITY.md, private groups).
  return and(isNull(posts.deletedAt), groupVisibleTo(posts.groupId, viewer as SQL | string | null))!;
}

/**
 * The condition on `comments` (with `posts` joined as the comment's post) for the comments a
 * reader may see in lists: not retracted or erased, on a post {@link postVisibleTo} the reader.
 */
export function commentVisibleTo(viewer: SQL | SQL.Aliased | unknown): SQL {
  return and(isNull(comments.deletedAt), postVisibleTo(viewer))!;
}
