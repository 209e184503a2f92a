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
  /** What the virus scanner found in it (BLEND_CLAMD_URL), if anything. */
  infected?: string | null;
}

export interface AttachmentLimits {
  /** Largest file stored. @defaultValue 10 MiB */
  maxFileBytes: number;
  /** Most bytes stored per mail, in order of appearance. @defaultValue 25 MiB */
  maxTotalBytes: number;
  /** Most files listed per mail. @defaultValue 50 */
  maxFiles: number;
  /**
   * Media types stored (`type/subtype`, or `type/*`); others are only listed. A file sent as
   * `application/octet-stream` counts as the type its extension names.
   * @defaultValue DEFAULT_ATTACHMENT_TYPES
   */
  allowedTypes?: readonly string[];
}

/**
 * Files people share at work that a reader's computer opens without running anything of the
 * sender's: pictures, PDFs, text, calendar entries, office documents, audio and video.
 * Executables, scripts, archives (which can hide them) and web pages are not stored
 * (docs/SECURITY.md B28).
 */
export const DEFAULT_ATTACHMENT_TYPES: readonly string[] = [
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/heic',
  'image/heif',
  'image/bmp',
  'image/tiff',
  'application/pdf',
  'text/plain',
  'text/csv',
  'text/calendar',
  'application/msword',
  'application/vnd.ms-excel',
  'application/vnd.ms-powerpoint',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'application/ms-tnef',
  'application/vnd.ms-tnef',
  'audio/*',
  'video/*',
];

export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = { maxFileBytes: 10 * 1024 * 1024, maxTotalBytes: 25 * 1024 * 1024, maxFiles: 50 };

/** The media type a file extension stands for, for files declared as `application/octet-stream`. */
const TYPE_OF_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  pdf: 'application/pdf',
  txt: 'text/plain',
  csv: 'text/csv',
  ics: 'text/calendar',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  mp3: 'audio/mpeg',
  mp4: 'video/mp4',
};

/** Extensions that run or install something when opened: never stored, whatever type is declared. */
const RUNNABLE_EXTENSION = /\.(?:exe|com|scr|pif|bat|cmd|js|jse|mjs|vbs|vbe|wsf|wsh|ps1|psm1|msi|msp|jar|hta|lnk|dll|cpl|reg|iso|img|vhd|vhdx|app|sh|apk|html?|svg|xhtml|docm|xlsm|pptm)$/i;

/** Whether a file of this declared type and name is stored under `allowed`. */
export function attachmentTypeAllowed(contentType: string, filename: string | null, allowed: readonly string[] = DEFAULT_ATTACHMENT_TYPES): boolean {
  if (RUNNABLE_EXTENSION.test(filename ?? '')) return false;
  let type = contentType.toLowerCase().split(';')[0]!.trim();
  if (type === 'application/octet-stream') type = TYPE_OF_EXTENSION[/\.([a-z0-9]+)$/i.exec(filename ?? '')?.[1]?.toLowerCase() ?? ''] ?? type;
  return allowed.some((a) => {
    const pattern = a.toLowerCase().trim();
    return pattern.endsWith('/*') ? type.startsWith(pattern.slice(0, -1)) : type === pattern;
  });
}

export interface AttachmentPlan {
  filename: string;
  declaredType: string;
  size: number;
  inline: boolean;
  /** Stored (and downloadable) or only listed. */
  store: boolean;
  /** Why it was not stored: `too_large`, `total_too_large`, `empty`, `type_not_allowed`, `infected`. */
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
    else if (a.infected) omitted = 'infected';
    else if (!tnef && !attachmentTypeAllowed(a.contentType, a.filename, limits.allowedTypes)) omitted = 'type_not_allowed';
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
          : omitted === 'infected'
            ? `Not stored: the virus scanner found ${[...a.infected!].slice(0, 100).join('')} in it.`
            : omitted === 'type_not_allowed'
            ? 'Not stored: files of this kind are not accepted (they could run something on a reader\'s computer). Share it another way.'
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
