import { stripBidiControls, stripControlChars } from './clean-text';

/**
 * Files that come with mail: what is stored, under which name, and how it is served.
 * Pure; the worker stores, the API serves.
 */

export interface AttachmentInput {
  filename: string | null;
  contentType: string;
  size: number;
  inline: boolean;
}

export interface AttachmentLimits {
  /** Largest file stored. @defaultValue 10 MiB */
  maxFileBytes: number;
  /** Most bytes stored per mail, in order of appearance. @defaultValue 25 MiB */
  maxTotalBytes: number;
  /** Most files listed per mail. @defaultValue 50 */
  maxFiles: number;
}

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = { maxFileBytes: 10 * 1024 * 1024, maxTotalBytes: 25 * 1024 * 1024, maxFiles: 50 };

export interface AttachmentPlan {
  filename: string;
  declaredType: string;
  size: number;
  inline: boolean;
  /** Stored (and downloadable) or only listed. */
  store: boolean;
  /** Why it was not stored: `too_large`, `total_too_large`, `empty`. */
  omitted: string | null;
  /** What readers should know about the file (e.g. Outlook's winmail.dat). */
  note: string | null;
}

const TNEF_TYPES = new Set(['application/ms-tnef', 'application/vnd.ms-tnef']);

/** Outlook's rich-text container (`winmail.dat`): other mail programs cannot open it. */
export function isTnef(a: Pick<AttachmentInput, 'filename' | 'contentType'>): boolean {
  return TNEF_TYPES.has(a.contentType.toLowerCase()) || (a.filename ?? '').toLowerCase() === 'winmail.dat';
}

/**
 * A file name safe to show and to put in `Content-Disposition`: no path, no control or
 * bidi characters (which can disguise `exe.pdf` as `fdp.exe`), at most 200 characters.
 */
export function safeFilename(name: string | null, index: number, contentType: string): string {
  const base = stripBidiControls(stripControlChars(name ?? ''))
    .replace(/^.*[\\/]/, '')
    .replace(/[\u0000-\u001f"<>|:*?]/g, '_')
    .replace(/^\.+/, '')
    .trim();
  if (base) return [...base].slice(0, 200).join('');
  const ext = EXTENSIONS[contentType.toLowerCase()] ?? 'bin';
  return `attachment-${index + 1}.${ext}`;
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'application/pdf': 'pdf',
  'text/plain': 'txt',
  'text/calendar': 'ics',
};

/** Which files are stored: in order, each within the per-file and per-mail limits. */
export function planAttachments(list: AttachmentInput[], limits: AttachmentLimits = DEFAULT_ATTACHMENT_LIMITS): AttachmentPlan[] {
  let total = 0;
  return list.slice(0, limits.maxFiles).map((a, i) => {
    const tnef = isTnef(a);
    let omitted: string | null = null;
    if (a.size === 0) omitted = 'empty';
    else if (a.size > limits.maxFileBytes) omitted = 'too_large';
    else if (total + a.size > limits.maxTotalBytes) omitted = 'total_too_large';
    if (!omitted) total += a.size;
    return {
      filename: safeFilename(a.filename, i, a.contentType),
      declaredType: a.contentType.toLowerCase().slice(0, 100),
      size: a.size,
      inline: a.inline && !tnef,
      store: omitted === null,
      omitted,
      note: tnef
        ? 'Outlook rich-text attachment (winmail.dat): kept as a file; most mail programs cannot open it. Ask the sender to send as HTML or plain text.'
        : omitted === 'too_large' || omitted === 'total_too_large'
          ? 'Not stored: larger than the limit for attachments.'
          : null,
    };
  });
}

/** Image types a browser shows without running anything (no SVG: it can carry script). */
const SAFE_INLINE_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export interface ServedAs {
  contentType: string;
  disposition: 'inline' | 'attachment';
}

/**
 * How a stored file is served: safe images inline with their type, PDFs and plain text as
 * downloads with their type, everything else as `application/octet-stream` downloads, so a
 * declared `text/html` or `image/svg+xml` never runs in our origin.
 */
export function servedAs(declaredType: string): ServedAs {
  const t = declaredType.toLowerCase().split(';')[0]!.trim();
  if (SAFE_INLINE_IMAGES.has(t)) return { contentType: t, disposition: 'inline' };
  if (t === 'application/pdf') return { contentType: t, disposition: 'attachment' };
  if (t === 'text/plain') return { contentType: 'text/plain; charset=utf-8', disposition: 'attachment' };
  return { contentType: 'application/octet-stream', disposition: 'attachment' };
}

/** RFC 6266 `Content-Disposition` with an ASCII fallback and the UTF-8 name (RFC 8187). */
export function contentDisposition(disposition: 'inline' | 'attachment', filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
