import { compileConversion, type ConversionOptions, type ConversionSettings } from '@blend/core';
import type { Config } from './config';

/** The settings that decide how mail is converted. */
export const CONVERSION_KEYS = ['BLEND_REDACT', 'BLEND_DISCLAIMER_PATTERNS'] as const satisfies readonly (keyof Config)[];

type ConversionConfig = Pick<Config, (typeof CONVERSION_KEYS)[number]>;

/** The conversion settings of a configuration, as text (for a parse thread). */
export function conversionSettings(c: ConversionConfig): ConversionSettings {
  return { redact: c.BLEND_REDACT, ...(c.BLEND_DISCLAIMER_PATTERNS ? { disclaimerPatterns: c.BLEND_DISCLAIMER_PATTERNS } : {}) };
}

/**
 * How mail is converted under a configuration: the one source of conversion options for
 * ingest, `blend preview` and `blend inbound reprocess`, so they cut and redact alike.
 */
export function conversionOptions(c: ConversionConfig): ConversionOptions {
  return compileConversion(conversionSettings(c));
}
