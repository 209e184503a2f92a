import { parseImapUrl, type ImapMailbox } from '@blend/core';
import type { AccessTokenSource } from './oauth2';

/** How the poller logs in with an OAuth 2.0 token instead of a password. */
export interface ImapOAuth {
  tokens: AccessTokenSource;
  /** Changes when the token settings change, so a watch restarts only then (never the secrets themselves). */
  fingerprint: string;
}

/** Connection settings for one watched mailbox: its URL's parts, and for OAuth where the token comes from. */
export interface ImapTarget extends ImapMailbox {
  /** Set for OAuth 2.0 logins (SASL XOAUTH2 or OAUTHBEARER): where the access token comes from; `pass` is then empty. */
  oauth?: ImapOAuth;
}

/** The mailbox an IMAP URL names (one parser in core, which the configuration check uses too). */
export { parseImapUrl };

/**
 * Where and as whom to connect, as ImapFlow takes it (logging off: Blend logs itself). With
 * OAuth the access token is fetched (or taken from the cache) now: IMAP has no way to swap the
 * token of an authenticated session, so each new connection logs in with a fresh one
 * (RFC 7628 section 3.2.2: a server may end a session when its token expires).
 * imapflow offers the token with AUTHENTICATE OAUTHBEARER when the server advertises it, else XOAUTH2.
 * @throws OAuth2TokenError when no token can be had (endpoint down or refusing).
 */
export async function imapConnection(target: ImapTarget) {
  const auth = target.oauth ? { user: target.user, accessToken: await target.oauth.tokens.getToken() } : { user: target.user, pass: target.pass };
  return { host: target.host, port: target.port, secure: target.secure, auth, logger: false as const };
}
