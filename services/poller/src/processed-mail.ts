import { afterActionProblem, type AfterAction } from '@blend/config';
import { type Logger } from '@blend/runtime';
import type { ImapSession } from '@blend/mail';

/** How many messages each action was applied to. */
export type FinishCounts = Record<AfterAction['kind'], number>;

/**
 * What happens in IMAP to messages whose ingest has committed, for one mailbox: flag them
 * (\Seen plus the done keyword), then move or expunge them if the mailbox says so. Every
 * step is safe to repeat: STORE, UID MOVE and UID EXPUNGE of a UID that is gone are no
 * error (RFC 3501 6.4.8), so a retry after a crash between the IMAP step and the database
 * update changes nothing.
 */
export class ProcessedMail {
  private folderReady = false;
  private readonly warned = new Set<string>();

  constructor(
    private readonly after: AfterAction,
    /** The folder being watched. */
    private readonly folder: string,
    private readonly doneFlag: string,
    private readonly log: Logger,
  ) {}

  /**
   * Finish these messages of the selected folder.
   * @throws Error when the server refused a step; nothing is recorded, the caller retries.
   */
  async finish(session: ImapSession, rows: { uid: number; hasRaw: boolean }[]): Promise<FinishCounts> {
    const counts: FinishCounts = { flag: 0, move: 0, delete: 0 };
    if (rows.length === 0) return counts;
    const all = rows.map((r) => r.uid);
    // Flags first, so a moved copy carries them too.
    if (!(await session.addFlags(all, ['\\Seen', this.doneFlag]))) throw new Error('STORE of the done flags failed');
    const after = this.usable(session);
    if (after.kind === 'move') {
      await this.moveOut(session, all, after.folder);
      counts.move = rows.length;
    } else if (after.kind === 'delete') {
      // Never expunge the only copy: a message too large to download stays, flagged.
      const stored = rows.filter((r) => r.hasRaw).map((r) => r.uid);
      if (stored.length > 0 && !(await session.expunge(stored))) throw new Error('UID EXPUNGE failed');
      counts.delete = stored.length;
    }
    counts.flag = rows.length - counts.move - counts.delete;
    return counts;
  }

  /**
   * The configured action, or `flag` where the server cannot do it safely: a MOVE without
   * the MOVE extension is COPY + EXPUNGE, and an EXPUNGE without UIDPLUS (RFC 4315 UID
   * EXPUNGE) would remove every message flagged \Deleted, also ones Blend has not read.
   */
  private usable(session: ImapSession): AfterAction {
    const uidplus = session.has('UIDPLUS');
    let problem = afterActionProblem(this.after, this.folder);
    if (!problem && this.after.kind === 'move' && !session.has('MOVE') && !uidplus) problem = 'the server supports neither MOVE nor UIDPLUS';
    if (!problem && this.after.kind === 'delete' && !uidplus) problem = 'the server does not support UIDPLUS (UID EXPUNGE)';
    if (!problem) return this.after;
    if (!this.warned.has(problem)) {
      this.warned.add(problem);
      this.log.error({ after: this.after.kind }, `processed mail is only flagged: ${problem}`);
    }
    return { kind: 'flag' };
  }

  /** UID MOVE (RFC 6851) into `folder`, creating it the first time and when it has vanished (TRYCREATE). */
  private async moveOut(session: ImapSession, uids: number[], folder: string): Promise<void> {
    if (!this.folderReady) {
      await session.createFolder(folder); // ALREADYEXISTS is no error
      this.folderReady = true;
    }
    if (await session.move(uids, folder)) return;
    await session.createFolder(folder);
    if (!(await session.move(uids, folder))) throw new Error(`MOVE to ${folder} failed`);
  }
}
