import { createHash } from 'node:crypto';
import { openSecret, type OAuthSettings } from '@blend/core';
import type { SmtpLogin } from './compose';
import { parseImapUrl, type ImapOAuth, type ImapTarget } from './imap-url';
import { createTokenSource, oauth2GrantFrom } from './oauth2';

/**
 * An OAuth 2.0 login for `user`: the token source of the grant the settings select, and a
 * fingerprint of the settings (a hash, so a comparison never holds a secret in the clear).
 * @throws the grant error naming the missing setting.
 */
export function oauthLogin(settings: OAuthSettings, user: string): ImapOAuth {
  const fingerprint = createHash('sha256').update(JSON.stringify([user, settings])).digest('hex');
  return { tokens: createTokenSource(oauth2GrantFrom(settings, user)), fingerprint };
}

/** The mailbox of an IMAP URL with its login (BLEND_IMAP_URL with BLEND_IMAP_AUTH). */
export function imapTargetOf(url: string, auth: 'password' | 'oauth2', settings: OAuthSettings): ImapTarget {
  const target = parseImapUrl(url);
  return auth === 'oauth2' ? { ...target, pass: '', oauth: oauthLogin(settings, target.user) } : target;
}

/** The SMTP login of BLEND_SMTP_URL with BLEND_SMTP_AUTH. */
export function smtpLoginOf(url: string, auth: 'password' | 'oauth2' | 'none', settings: OAuthSettings): SmtpLogin {
  if (auth !== 'oauth2') return { kind: auth };
  return { kind: 'oauth2', tokens: oauthLogin(settings, decodeURIComponent(new URL(url).username)).tokens };
}

/** A `watched_mailboxes` row as far as its login goes. */
export interface SealedLogin {
  key: string;
  url: string;
  auth: string;
  passwordSealed: string;
}

/**
 * The mailbox of a `watched_mailboxes` row with its login opened: the password, or a token
 * source for the OAuth settings stored with it.
 * @throws Error saying what to run when the secret cannot be decrypted or the settings are unusable.
 */
export function sealedLoginTarget(row: SealedLogin, secrets: readonly (string | undefined)[]): ImapTarget {
  const target = parseImapUrl(row.url);
  const oauth = row.auth === 'oauth2';
  let plain: string;
  try {
    plain = openSecret(row.passwordSealed, secrets, row.key).plain;
  } catch (err) {
    const fix = oauth ? `blend mailbox set ${row.key} --oauth2` : `blend mailbox set ${row.key} --password-file FILE`;
    throw new Error(`cannot decrypt its ${oauth ? 'OAuth settings' : 'password'} (${(err as Error).message}); run \`${fix}\``);
  }
  if (!oauth) return { ...target, pass: plain };
  try {
    return { ...target, pass: '', oauth: oauthLogin(JSON.parse(plain) as OAuthSettings, target.user) };
  } catch (err) {
    throw new Error(`its OAuth settings are unusable (${(err as Error).message}); run \`blend mailbox set ${row.key} --oauth2\``);
  }
}
