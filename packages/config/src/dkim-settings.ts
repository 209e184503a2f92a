import { addressingFrom, type Config } from './config';

/** What signs Blend's outgoing mail with DKIM (nodemailer's `dkim` option, without its name). */
export interface DkimSettings {
  /** The d= domain: BLEND_DKIM_DOMAIN, else Blend's own mail domain. */
  domainName: string;
  keySelector: string;
  /** PEM text; a secret (docs/SECURITY.md B32). */
  privateKey: string;
}

/** The DKIM signing settings, or undefined when BLEND_DKIM_SELECTOR is not set (mail goes unsigned). */
export function dkimSettings(
  c: Pick<Config, 'BLEND_DKIM_SELECTOR' | 'BLEND_DKIM_PRIVATE_KEY' | 'BLEND_DKIM_DOMAIN' | 'BLEND_ADDRESSING' | 'BLEND_MAIL_ADDRESS' | 'BLEND_MAIL_DOMAIN'>,
): DkimSettings | undefined {
  if (!c.BLEND_DKIM_SELECTOR || !c.BLEND_DKIM_PRIVATE_KEY) return undefined;
  return { domainName: c.BLEND_DKIM_DOMAIN ?? addressingFrom(c).domain, keySelector: c.BLEND_DKIM_SELECTOR, privateKey: c.BLEND_DKIM_PRIVATE_KEY };
}
