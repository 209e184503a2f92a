/** How one ingest of one stored mail ended. */
export type IngestOutcome = (
  | { state: 'skipped'; reason: 'already_final' }
  | { state: 'posted'; postId: string }
  | { state: 'commented'; postId: string; commentId: string }
  | { state: 'duplicate'; of: string | null }
  | { state: 'withheld' | 'rejected' | 'held' | 'command' | 'failed'; reason: string }
  | { state: 'liked'; postId: string }
) & {
  /** Outbox rows written by this ingest, to queue for sending once it has committed. */
  outbound?: string[];
  /** When the mail reached the mailbox, for the latency metric. */
  deliveredAt?: Date | null;
  /** Share of the body removed as quotes/signatures. */
  trimmedRatio?: number;
};
