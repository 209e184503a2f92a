import type { FastifyRequest } from 'fastify';
import { DEFAULT_ATTACHMENT_LIMITS, PermanentError, planAttachments, type AttachmentLimits, type AttachmentPlan } from '@blend/core';
import type {} from '@fastify/multipart';
import type { FileScanner } from '@blend/mail';

/**
 * Files attached in the web composer, checked exactly as mail attachments are
 * (docs/SECURITY.md B43): the same size limits (BLEND_ATTACHMENT_MAX_BYTES,
 * BLEND_ATTACHMENTS_MAX_TOTAL_BYTES), the same allowed types (BLEND_ATTACHMENT_TYPES, with the
 * same refusal of runnable names), the same virus scanner (BLEND_CLAMD_URL). Where a mail's
 * unfit file is only listed, an upload with one is refused as a whole, so the writer can fix
 * it; nothing of a refused form is stored.
 */

export interface UploadSettings {
  limits: AttachmentLimits;
  /** Scans each file before it is stored; unset: no scanning. */
  scanner?: FileScanner;
}

/** A checked file, ready for `storeAttachments` in the transaction that writes its post. */
export interface Upload {
  plan: AttachmentPlan;
  content: Buffer;
}

/** A multipart form: its text fields (the last value of each name) and its files, checked. */
export interface ComposerForm {
  fields: Record<string, string>;
  files: Upload[];
}

const mb = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;

/** Fields a composer form has at most; a form with more is not ours. */
const MAX_FIELDS = 20;

/**
 * Read a `multipart/form-data` request. The limits hold while it streams in: a file is cut off
 * at the per-file limit and the request refused (413), as are more files than allowed and a
 * total over the per-post limit; a part is never held in memory beyond them.
 * @param fieldBytes the largest text field.
 * @param verify checks the fields (the CSRF token) before any file is scanned or kept.
 */
export async function readComposerForm(
  req: FastifyRequest,
  settings: UploadSettings | undefined,
  fieldBytes: number,
  verify: (fields: Record<string, string>) => void,
): Promise<ComposerForm> {
  const limits = settings?.limits ?? DEFAULT_ATTACHMENT_LIMITS;
  const fields: Record<string, string> = {};
  const raw: { filename: string; contentType: string; content: Buffer }[] = [];
  let total = 0;
  try {
    const parts = req.parts({ limits: { fileSize: limits.maxFileBytes, files: limits.maxFiles, fields: MAX_FIELDS, fieldSize: fieldBytes, parts: MAX_FIELDS + limits.maxFiles } });
    for await (const part of parts) {
      if (part.type === 'field') {
        fields[part.fieldname] = String(part.value);
        continue;
      }
      const content = await part.toBuffer();
      // A file input left empty is sent as a part without a name or content.
      if (!part.filename && content.length === 0) continue;
      total += content.length;
      if (total > limits.maxTotalBytes) throw new PermanentError('TOO_LARGE', `the files together are larger than ${mb(limits.maxTotalBytes)}, the limit for one post`);
      raw.push({ filename: part.filename, contentType: part.mimetype || 'application/octet-stream', content });
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FST_REQ_FILE_TOO_LARGE') throw new PermanentError('TOO_LARGE', `a file is larger than ${mb(limits.maxFileBytes)}, the limit for attachments`);
    if (code === 'FST_FILES_LIMIT') throw new PermanentError('TOO_LARGE', `at most ${limits.maxFiles} files can be attached to one post`);
    if (code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') throw new PermanentError('VALIDATION', 'the form is not valid');
    if ((err as { statusCode?: number }).statusCode === 413) throw new PermanentError('TOO_LARGE', 'a field of the form is too long');
    throw err;
  }
  verify(fields);
  return { fields, files: await checkUploads(raw, { limits, ...(settings?.scanner ? { scanner: settings.scanner } : {}) }) };
}

/** Plan the files as a mail's would be, scan them, and refuse the form over any file that would not be stored. */
export async function checkUploads(raw: { filename: string; contentType: string; content: Buffer }[], settings: UploadSettings): Promise<Upload[]> {
  const plans = planAttachments(
    raw.map((f) => ({ filename: f.filename, contentType: f.contentType, size: f.content.length, inline: false })),
    settings.limits,
  );
  for (const [i, plan] of plans.entries()) {
    if (plan.omitted === 'too_large' || plan.omitted === 'total_too_large') throw new PermanentError('TOO_LARGE', `${plan.filename}: ${plan.note}`);
    if (plan.omitted) throw new PermanentError('VALIDATION', `${plan.filename}: ${plan.note ?? 'this file cannot be attached'}`);
    const verdict = settings.scanner ? await settings.scanner(raw[i]!.content) : { clean: true as const };
    if (!verdict.clean) throw new PermanentError('VALIDATION', `${plan.filename}: not attached, the virus scanner found ${verdict.signature} in it`);
  }
  return plans.map((plan, i) => ({ plan, content: raw[i]!.content }));
}
