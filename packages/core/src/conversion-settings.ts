import { compileRedactions, type Redaction } from './redaction';

/**
 * How mail is converted, as configured (BLEND_REDACT, BLEND_DISCLAIMER_PATTERNS): text, so the
 * settings can be handed to a parse thread and compiled there.
 */
export interface ConversionSettings {
  /** Redaction entries, as in BLEND_REDACT. */
  redact: string;
  /** Extra legal footers to cut, as `regex:/…/flags` entries; none: only the built-in ones. */
  disclaimerPatterns?: string;
}

/** The settings compiled: what {@link renderMailContent} needs besides the mail. */
export interface ConversionOptions {
  redactions: Redaction[];
  disclaimerPatterns?: RegExp[];
}

/**
 * Compiles conversion settings. Ingest, `blend preview` and `blend inbound reprocess` all
 * build their options here, so stored mail converted again is cut and redacted as it was
 * when it arrived.
 *
 * @throws Error naming the bad entry (see {@link compileRedactions}).
 */
export function compileConversion(settings: ConversionSettings): ConversionOptions {
  const disclaimers = settings.disclaimerPatterns ? compileRedactions(settings.disclaimerPatterns).map((r) => r.pattern) : [];
  return {
    redactions: compileRedactions(settings.redact),
    ...(disclaimers.length ? { disclaimerPatterns: disclaimers } : {}),
  };
}
