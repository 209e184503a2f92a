import { eq } from 'drizzle-orm';
import type { Tx } from '../client';
import { groups } from '../schema';

export type Group = typeof groups.$inferSelect;

/** The group with this slug, created on first use (the default group and group addresses). */
export async function ensureGroup(db: Tx, slug: string, name?: string): Promise<Group> {
  await db
    .insert(groups)
    .values({ slug, name: name ?? slug })
    .onConflictDoNothing({ target: groups.slug });
  const g = await db.query.groups.findFirst({ where: eq(groups.slug, slug) });
  if (!g) throw new Error(`group ${slug} vanished after upsert`);
  return g;
}

export async function findGroup(db: Tx, slug: string): Promise<Group | undefined> {
  return db.query.groups.findFirst({ where: eq(groups.slug, slug) });
}
