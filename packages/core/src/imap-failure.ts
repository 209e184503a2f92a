/**
 * What a failed IMAP login or command says about the mailbox: the server asks us to slow
 * down, it refused the credentials, or something passing (network, server restart) happened.
 * The difference matters to IT: a refused login needs a new password or token, a throttled
 * one only needs the poller to wait.
 */

/** The fields imapflow leaves on the error of a failed connect or command. */
export interface ImapFailure {
  /** imapflow: set on a tagged NO/BAD to LOGIN or AUTHENTICATE, throttled answers included. */
  authenticationFailed?: boolean;
  /** `NO`, `BAD` or `BYE`. */
  responseStatus?: string;
  /** The bracketed response code (RFC 5530), upper-case without brackets: `THROTTLED`. */
  serverResponseCode?: string;
  /** The server's human-readable text, without tag, status and response code. */
  responseText?: string;
  /** imapflow's code (`ETHROTTLE`, `NoConnection`…) or Node's (`ECONNREFUSED`…). */
  code?: string;
  /** imapflow keeps a BYE's text here when the server hung up. */
  reason?: string;
}

export type ImapFailureKind = 'throttled' | 'auth_failed' | 'transient';

/**
 * Response codes that mean "not now", whatever the command:
 * - `THROTTLED`: Exchange Online, when the client's IMAP budget is used up (LOGIN included).
 * - `UNAVAILABLE` (RFC 5530: a subsystem is down): Exchange Online answers a login with it
 *   under load, Dovecot when its auth process is busy ("Temporary authentication failure").
 * - `LIMIT` (RFC 5530: an implementation limit): Yahoo and others on too many connections.
 * - `OVERQUOTA` (RFC 5530): over a quota; at login Gmail's bandwidth limit, not the password.
 */
const NOT_NOW_CODES = new Set(['THROTTLED', 'UNAVAILABLE', 'LIMIT', 'OVERQUOTA']);

/**
 * RFC 5530 codes about the credentials, which only a person can fix: wrong (`AUTHENTICATIONFAILED`),
 * not allowed for this mailbox (`AUTHORIZATIONFAILED`), expired password or token (`EXPIRED`),
 * a login only over TLS (`PRIVACYREQUIRED`), or "ask your admin" (`CONTACTADMIN`).
 */
const CREDENTIAL_CODES = new Set(['AUTHENTICATIONFAILED', 'AUTHORIZATIONFAILED', 'EXPIRED', 'PRIVACYREQUIRED', 'CONTACTADMIN']);

/**
 * Texts of throttling answers without a code of their own: Gmail's `NO [ALERT] Too many
 * simultaneous connections. (Failure)` and "Account exceeded command or bandwidth limits",
 * Exchange Online's `BAD Request is throttled. Suggested Backoff Time: … milliseconds` (imapflow
 * tags it `ETHROTTLE` only when a backoff time is given), Dovecot's `BYE Maximum number of
 * connections from user+IP exceeded`.
 */
const NOT_NOW_TEXT = /too many (?:simultaneous |concurrent )?connections|maximum number of connections|throttl|bandwidth limit|rate limit|try again later/i;

/**
 * Sorts an imapflow error into what the poller does next: `throttled` (wait longer, not a
 * login problem), `auth_failed` (the login was refused: the credentials need fixing) or
 * `transient` (reconnect with the usual backoff).
 *
 * Throttling is checked first because imapflow marks any NO to LOGIN `authenticationFailed`,
 * Exchange's `NO [THROTTLED]` included.
 */
export function imapFailureKind(err: ImapFailure): ImapFailureKind {
  const code = err.serverResponseCode?.trim().toUpperCase() ?? '';
  const text = [err.responseText, err.reason].filter(Boolean).join(' ');
  if (err.code === 'ETHROTTLE' || NOT_NOW_CODES.has(code) || NOT_NOW_TEXT.test(text)) return 'throttled';
  if (err.authenticationFailed || CREDENTIAL_CODES.has(code)) return 'auth_failed';
  return 'transient';
}

/**
 * The server's own words about a failure: its response text, or the text of its BYE when it
 * hung up. imapflow's `message` is a bare "Command failed", which says nothing to IT.
 */
export function imapServerText(err: ImapFailure): string | null {
  return err.responseText ?? err.reason ?? null;
}

/**
 * One line for a person about a failed IMAP connect or command: a throttled login says to
 * wait, a refused one what to check (the password, or with OAuth the app's access to the
 * mailbox), anything else the server's words, else the error's code or message.
 */
export function explainImapFailure(err: ImapFailure & { message: string }, login: 'password' | 'oauth2'): string {
  const text = imapServerText(err);
  const said = text ? ` (${text})` : '';
  switch (imapFailureKind(err)) {
    case 'throttled':
      return `the server is throttling this mailbox for now${said}: try again later`;
    case 'auth_failed':
      return `the login was refused${said}: check ${login === 'oauth2' ? "the user and the app's access to the mailbox" : 'the user and the password'}`;
    case 'transient':
      return text ?? err.code ?? err.message;
  }
}
