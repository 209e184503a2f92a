import type { Tx } from '../client';
import { auditLog } from '../schema';

/** Append one entry to the audit log (retention never purges it). */
export async function addAuditEntry(db: Tx, entry: { action: string; actor: string; subject: string; detail: Record<string, unknown> }): Promise<void> {
  await db.insert(auditLog).values(entry);
}
