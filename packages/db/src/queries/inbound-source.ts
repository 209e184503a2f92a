import { and, eq, isNotNull } from 'drizzle-orm';
import type { Database } from '../client';
import { auditLog, comments, posts } from '../schema';
import { getInbound } from './inbound';

/** What {@link readInboundSource} found. */
export type InboundSource =
  | { kind: 'unknown' }
  /** The row is there but its raw mail is not: purged by retention, erased, or never downloaded (too large). */
  | { kind: 'purged'; reason: string | null }
  | { kind: 'found'; raw: Buffer; postId: string | null; commentId: string | null };

/**
 * The original message (headers and MIME source, byte for byte) of an inbound row, for an
 * admin. Every read that returns the source writes an audit entry (`view_inbound_source`:
 * who read which mail), since the mail may hold words of people who never opted in.
 */
export async function readInboundSource(db: Database, id: string, actor: string): Promise<InboundSource> {
  return db.transaction(async (tx) => {
    const row = await getInbound(tx, id);
    if (!row) return { kind: 'unknown' };
    if (!row.raw) return { kind: 'purged', reason: row.reason };
    await tx.insert(auditLog).values({
      action: 'view_inbound_source',
      actor,
      subject: id,
      detail: { bytes: row.raw.length, postId: row.postId, commentId: row.commentId },
    });
    return { kind: 'found', raw: row.raw, postId: row.postId, commentId: row.commentId };
  });
}

/**
 * The inbound mail each mirrored part of thread `postId` came from: post or comment id to
 * inbound id (ESN posts and comments have none). For the admin's links to the original.
 */
export async function inboundIdsOfThread(db: Database, postId: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const [post] = await db.select({ id: posts.id, inboundId: posts.inboundId }).from(posts).where(eq(posts.id, postId));
  if (post?.inboundId) out.set(post.id, post.inboundId);
  const list = await db
    .select({ id: comments.id, inboundId: comments.inboundId })
    .from(comments)
    .where(and(eq(comments.postId, postId), isNotNull(comments.inboundId)));
  for (const c of list) if (c.inboundId) out.set(c.id, c.inboundId);
  return out;
}
