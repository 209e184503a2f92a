import type { Addressing, Language } from '@blend/core';
import { addressingFrom, publicUrl, type Config } from './config';

/** What the mail Blend writes takes from the configuration (the `MailSite` of `@blend/outbound`). */
export interface MailSiteSettings {
  addressing: Addressing;
  /** BLEND_PUBLIC_URL without a trailing slash, for the links in mail. */
  publicUrl: string;
  /** BLEND_SECRET: signs links and reply tokens. */
  secret: string;
  /** BLEND_DEFAULT_LANGUAGE: mail to people who have not chosen a language. */
  defaultLanguage: Language;
}

/** The one way the worker and the CLI turn the configuration into the settings mail is written with. */
export function mailSiteFrom(
  c: Pick<Config, 'BLEND_ADDRESSING' | 'BLEND_MAIL_ADDRESS' | 'BLEND_MAIL_DOMAIN' | 'BLEND_PUBLIC_URL' | 'PORT' | 'BLEND_SECRET' | 'BLEND_DEFAULT_LANGUAGE'>,
): MailSiteSettings {
  return { addressing: addressingFrom(c), publicUrl: publicUrl(c), secret: c.BLEND_SECRET, defaultLanguage: c.BLEND_DEFAULT_LANGUAGE };
}
