import { and, desc, eq, ne } from 'drizzle-orm';
import type { Tx } from '../client';
import { auditLog, chatIdentities, chatInbound, chatThreads, people } from '../schema';
import type { Person } from './people';

/** The chat tools whose accounts can be linked to people. */
export type ChatTool = 'slack' | 'mattermost' | 'rocketchat';

export type ChatIdentity = typeof chatIdentities.$inferSelect;

/**
 * Link a chat account to a person (audited). An account is one person's: linking it again moves it.
 * @returns whether the link is new or moved (false when it was already so).
 */
export async function linkChatIdentity(db: Tx, link: { personId: string; tool: ChatTool; externalId: string; linkedBy: string }): Promise<boolean> {
  const rows = await db
    .insert(chatIdentities)
    .values(link)
    .onConflictDoUpdate({
      target: [chatIdentities.tool, chatIdentities.externalId],
      set: { personId: link.personId, linkedBy: link.linkedBy, createdAt: new Date() },
      setWhere: ne(chatIdentities.personId, link.personId),
    })
    .returning({ id: chatIdentities.id });
  if (rows.length > 0) await db.insert(auditLog).values({ action: 'link_chat_account', actor: link.linkedBy, subject: link.personId, detail: { tool: link.tool, id: link.externalId } });
  return rows.length > 0;
}

/** Remove links of a person: one account, or all of one tool (audited). @returns how many went. */
export async function unlinkChatIdentity(db: Tx, personId: string, tool: ChatTool, externalId: string | undefined, actor: string): Promise<number> {
  const rows = await db
    .delete(chatIdentities)
    .where(and(eq(chatIdentities.personId, personId), eq(chatIdentities.tool, tool), externalId === undefined ? undefined : eq(chatIdentities.externalId, externalId)))
    .returning({ id: chatIdentities.externalId });
  if (rows.length > 0) await db.insert(auditLog).values({ action: 'unlink_chat_account', actor, subject: personId, detail: { tool, ids: rows.map((r) => r.id) } });
  return rows.length;
}

/** Every link, with its person's address, for `blend people links`. */
export async function listChatIdentities(db: Tx, personId?: string): Promise<(ChatIdentity & { email: string })[]> {
  const rows = await db
    .select({ link: chatIdentities, email: people.email })
    .from(chatIdentities)
    .innerJoin(people, eq(people.id, chatIdentities.personId))
    .where(personId ? eq(chatIdentities.personId, personId) : undefined)
    .orderBy(people.email, chatIdentities.tool, chatIdentities.externalId);
  return rows.map((r) => ({ ...r.link, email: r.email }));
}

/** The person a chat account is linked to. */
export async function findLinkedPerson(db: Tx, tool: ChatTool, externalId: string): Promise<Person | undefined> {
  const [row] = await db
    .select({ person: people })
    .from(chatIdentities)
    .innerJoin(people, eq(people.id, chatIdentities.personId))
    .where(and(eq(chatIdentities.tool, tool), eq(chatIdentities.externalId, externalId)))
    .limit(1);
  return row?.person;
}

/** Remember that a chat message mirrors a Blend thread (idempotent: the first record stays). */
export async function recordChatThread(db: Tx, t: { tool: string; space: string; threadId: string; postId: string }): Promise<void> {
  await db.insert(chatThreads).values(t).onConflictDoNothing();
}

/** The Blend thread a chat thread mirrors. */
export async function findChatThread(db: Tx, tool: string, space: string, threadId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ postId: chatThreads.postId })
    .from(chatThreads)
    .where(and(eq(chatThreads.tool, tool), eq(chatThreads.space, space), eq(chatThreads.threadId, threadId)))
    .limit(1);
  return row?.postId;
}

export type ChatInboundRow = typeof chatInbound.$inferSelect;

/**
 * Claim a chat delivery by its tool's event id. @returns the new row, or undefined when the
 * event was claimed before (a retry): the caller answers "duplicate" and does nothing more.
 * Two concurrent copies wait on the unique index, so only one gets a row.
 */
export async function claimChatEvent(
  db: Tx,
  e: { tool: string; eventKey: string; authorRef: string; personId: string | null; postId: string | null; state: 'commented' | 'withheld'; reason: string | null },
): Promise<ChatInboundRow | undefined> {
  const [row] = await db.insert(chatInbound).values(e).onConflictDoNothing().returning();
  return row;
}

/** The comment a claimed event became. */
export async function setChatEventComment(db: Tx, id: string, commentId: string): Promise<void> {
  await db.update(chatInbound).set({ commentId }).where(eq(chatInbound.id, id));
}

/** An event claimed before, to answer a retry with what it became. */
export async function findChatEvent(db: Tx, tool: string, eventKey: string): Promise<ChatInboundRow | undefined> {
  const [row] = await db.select().from(chatInbound).where(and(eq(chatInbound.tool, tool), eq(chatInbound.eventKey, eventKey))).limit(1);
  return row;
}

/** Chat messages that arrived, newest first (IT's view, like `blend inbound list`). */
export async function listChatInbound(db: Tx, limit = 50): Promise<ChatInboundRow[]> {
  return db.select().from(chatInbound).orderBy(desc(chatInbound.receivedAt)).limit(limit);
}
