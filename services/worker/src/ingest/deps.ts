import { DEFAULT_NOTIFY_COALESCE_MS, type Addressing, type AttachmentLimits, type Language, type ConversionOptions, type RateLimits } from '@blend/core';
import type { Database } from '@blend/db';
import type { MimeLimits, SenderAuthOptions } from '@blend/mail';
import type { Logger, Metrics } from '@blend/runtime';
import type { FileScanner } from '@blend/mail';
import type { MemoryBudget } from '../memory-budget';
import type { ParseLane, ParsePool } from '../parse-pool';

/** What every stage of ingest may use: the database, the log and the settings, passed in, never module state. */
export interface IngestDeps {
  db: Database;
  log: Logger;
  /** Blend's addresses (BLEND_ADDRESSING with BLEND_MAIL_DOMAIN or BLEND_MAIL_ADDRESS). */
  addressing: Addressing;
  defaultGroup: string;
  /** Key of reply-token hashes and signed links. */
  secret: string;
  /** The key before the last rotation, still accepted for tokens it hashed. */
  previousSecret?: string;
  /** Base URL of the API for links in notices. */
  publicUrl: string;
  /** Language of mail to people who have not chosen one, and to strangers (BLEND_DEFAULT_LANGUAGE). @defaultValue 'en' */
  defaultLanguage?: Language;
  senderAuth: SenderAuthOptions;
  confidentialMarkers: string[];
  /** How mail is converted (BLEND_REDACT, BLEND_DISCLAIMER_PATTERNS), from `conversionOptions(config)` as for `blend preview` and reprocess. */
  conversion: ConversionOptions;
  rateLimits: RateLimits;
  /** Withheld mail is released if its author opts in within this many days. */
  withheldRetentionDays: number;
  mimeLimits?: MimeLimits;
  metrics?: Metrics;
  /** Scans files before they are stored (BLEND_CLAMD_URL); none: files are not scanned. */
  scanner?: FileScanner;
  /** Which files of a published mail are stored (BLEND_ATTACHMENT_MAX_BYTES…). @defaultValue DEFAULT_ATTACHMENT_LIMITS */
  attachmentLimits?: AttachmentLimits;
  /** Mail caused by published mail: notifications, receipts. Defaults as in the configuration. */
  activity?: Partial<ActivitySettings>;
  /** Bounds the raw mail ingested at once in this process (BLEND_INGEST_MEMORY_BYTES); none: unbounded. */
  memoryBudget?: MemoryBudget;
  /** Threads that parse and convert under a time limit (BLEND_PARSE_TIMEOUT_MS); none: in this thread, unbounded. */
  parsePool?: ParsePool;
  /** Which of the parse pool's lanes this processor's mails take: `backlog` for the ingest-backlog queue. @defaultValue live */
  parseLane?: ParseLane;
  /** The place of this batch's mails in the backlog lane's line ({@link ParsePool.nextOrder}). @defaultValue 0 */
  parseOrder?: number;
  /** How long a reply whose parent Blend has not seen waits for it before it starts a post (BLEND_ORPHAN_REPLY_GRACE_MS). @defaultValue DEFAULT_ORPHAN_REPLY_GRACE_MS */
  orphanReplyGraceMs?: number;
  /** How long a batch, once committed, waits for the parents in other batches of the replies it held back. @defaultValue HELD_REPLY_WAIT_MS */
  heldReplyWaitMs?: number;
}

export interface ActivitySettings {
  /** BLEND_NOTIFY_COALESCE_MS */
  coalesceMs: number;
  /** BLEND_UNDO_MINUTES */
  undoMinutes: number;
  /** BLEND_RECEIPTS_FIRST */
  receiptsFirst: number;
}

export const DEFAULT_ACTIVITY: ActivitySettings = { coalesceMs: DEFAULT_NOTIFY_COALESCE_MS, undoMinutes: 60, receiptsFirst: 5 };

/** The activity settings in force: the configured ones over the defaults. */
export const activitySettings = (deps: Pick<IngestDeps, 'activity'>): ActivitySettings => ({ ...DEFAULT_ACTIVITY, ...deps.activity });
