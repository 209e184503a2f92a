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
