import { DEFAULT_ATTACHMENT_LIMITS, planAttachments, type AttachmentLimits } from '@blend/core';
import type { ParsedAttachment } from '@blend/mail';
import type { FileScanner } from '@blend/mail';
import type { ClassifiedInbound } from './classify';

/** Reasons `planAttachments` gives that no scan result can change: such files are never stored. */
const NEVER_STORED = new Set(['empty', 'too_large', 'type_not_allowed']);

/**
 * The files of mail that may be published, through the virus scanner when one is set (B28);
 * what it finds is kept on the file. A file over the per-mail total is scanned too: an infected
 * file before it frees its room. A scanner that does not answer throws, so the job is retried
 * and nothing is stored unscanned.
 */
export async function scanFiles(
  files: ParsedAttachment[],
  classified: ClassifiedInbound,
  scanner: FileScanner | undefined,
  limits: AttachmentLimits = DEFAULT_ATTACHMENT_LIMITS,
): Promise<ParsedAttachment[]> {
  if (!scanner || !classified.publishable) return files;
  const plans = planAttachments(files, limits);
  const out: ParsedAttachment[] = [];
  for (const [i, f] of files.entries()) {
    const plan = plans[i];
    if (!plan || NEVER_STORED.has(plan.omitted ?? '')) out.push(f);
    else {
      const verdict = await scanner(f.content);
      out.push(verdict.clean ? f : { ...f, infected: verdict.signature });
    }
  }
  return out;
}
