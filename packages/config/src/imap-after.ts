/**
 * What the poller does with an IMAP message once its ingest has committed
 * (`BLEND_IMAP_AFTER`, or per mailbox with `blend mailbox add|set --after`).
 *
 * - `flag`: set `\Seen` and the done keyword; the message stays (the mailbox grows).
 * - `move`: flag, then UID MOVE (RFC 6851) into `folder`, created when missing.
 * - `delete`: flag, then UID EXPUNGE (RFC 4315) of that message only; Postgres keeps the
 *   raw source for `BLEND_RAW_RETENTION_DAYS`.
 */
export type AfterAction = { kind: 'flag' } | { kind: 'move'; folder: string } | { kind: 'delete' };

/** Raised for a value that is not `flag`, `move:FOLDER` or `delete`. */
export class AfterActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AfterActionError';
  }
}

/**
 * Parse `flag`, `move:FOLDER` or `delete`. A folder may hold the server's hierarchy
 * separator (`Blend/Done`), but no wildcard (`*`, `%`, RFC 3501 6.3.8) and no control
 * character.
 * @throws AfterActionError with a message fit for an operator.
 */
export function parseAfterAction(value: string): AfterAction {
  const v = value.trim();
  if (v === 'flag') return { kind: 'flag' };
  if (v === 'delete') return { kind: 'delete' };
  if (v.startsWith('move:')) {
    const folder = v.slice('move:'.length);
    if (folder === '') throw new AfterActionError('move needs a folder, e.g. move:Processed');
    if (/[\u0000-\u001f\u007f*%]/.test(folder)) throw new AfterActionError(`folder ${JSON.stringify(folder)} must not contain *, % or control characters`);
    if (folder.length > 200) throw new AfterActionError('folder names are limited to 200 characters');
    return { kind: 'move', folder };
  }
  throw new AfterActionError(`must be flag, move:FOLDER or delete (got ${JSON.stringify(value)})`);
}

/** The text form of an action, as `parseAfterAction` reads it. */
export function formatAfterAction(a: AfterAction): string {
  return a.kind === 'move' ? `move:${a.folder}` : a.kind;
}

/**
 * Whether two folder names denote the same mailbox: `INBOX` is case-insensitive (RFC 3501
 * 5.1), other names are compared exactly (Dovecot's are case-sensitive).
 */
export function sameFolder(a: string, b: string): boolean {
  return a.toUpperCase() === 'INBOX' || b.toUpperCase() === 'INBOX' ? a.toUpperCase() === b.toUpperCase() : a === b;
}

/**
 * Why `action` cannot be used on a mailbox watching `folder`, or null. Moving mail into
 * the folder being watched would give it a new UID there and read it again, forever.
 */
export function afterActionProblem(action: AfterAction, folder: string): string | null {
  if (action.kind === 'move' && sameFolder(action.folder, folder)) {
    return `cannot move processed mail into ${action.folder}: that is the folder being watched`;
  }
  return null;
}
