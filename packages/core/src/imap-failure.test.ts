import { describe, expect, it } from 'vitest';
import { explainImapFailure, imapFailureKind, type ImapFailure, type ImapFailureKind } from './imap-failure';

/** A tagged NO/BAD to LOGIN as imapflow 2.10 reports it (checked against a scripted server). */
const login = (status: 'NO' | 'BAD', code: string | undefined, text: string): ImapFailure => ({
  authenticationFailed: true,
  responseStatus: status,
  ...(code ? { serverResponseCode: code } : {}),
  responseText: text,
});

describe('imapFailureKind', () => {
  it.each<[string, ImapFailure, ImapFailureKind]>([
    // Exchange Online
    ['Exchange NO [THROTTLED]', login('NO', 'THROTTLED', 'Request is throttled'), 'throttled'],
    ['Exchange NO [UNAVAILABLE]', login('NO', 'UNAVAILABLE', 'Temporary authentication failure'), 'throttled'],
    [
      'Exchange BAD with a backoff time (imapflow ETHROTTLE, no authenticationFailed)',
      { code: 'ETHROTTLE', responseStatus: 'BAD', responseText: 'Request is throttled. Suggested Backoff Time: 92415 milliseconds' },
      'throttled',
    ],
    ['Exchange BAD without a backoff time', login('BAD', undefined, 'Request is throttled.'), 'throttled'],
    ['Exchange NO LOGIN failed.', login('NO', undefined, 'LOGIN failed.'), 'auth_failed'],
    ['Exchange NO AUTHENTICATE failed.', login('NO', undefined, 'AUTHENTICATE failed.'), 'auth_failed'],
    // imapflow's own AuthenticationFailure: Exchange's NAMESPACE "User is authenticated but not connected"
    ['Exchange authenticated but not connected', { authenticationFailed: true }, 'auth_failed'],
    // Gmail
    ['Gmail [ALERT] too many connections', login('NO', 'ALERT', 'Too many simultaneous connections. (Failure)'), 'throttled'],
    ['Gmail bandwidth', login('NO', 'ALERT', 'Account exceeded command or bandwidth limits. (Failure)'), 'throttled'],
    ['Gmail [OVERQUOTA]', login('NO', 'OVERQUOTA', 'Account exceeded command or bandwidth limits.'), 'throttled'],
    ['Gmail [AUTHENTICATIONFAILED]', login('NO', 'AUTHENTICATIONFAILED', 'Invalid credentials (Failure)'), 'auth_failed'],
    ['Gmail [ALERT] web login required', login('NO', 'ALERT', 'Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)'), 'auth_failed'],
    ['Gmail [ALERT] app password required', login('NO', 'ALERT', 'Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)'), 'auth_failed'],
    // RFC 5530 codes
    ['[AUTHORIZATIONFAILED]', login('NO', 'AUTHORIZATIONFAILED', 'No such authorization-ID'), 'auth_failed'],
    ['[EXPIRED]', login('NO', 'EXPIRED', 'That password is too old'), 'auth_failed'],
    ['[PRIVACYREQUIRED]', login('NO', 'PRIVACYREQUIRED', 'Connection offers no privacy'), 'auth_failed'],
    ['[CONTACTADMIN]', login('NO', 'CONTACTADMIN', 'Ask the admin'), 'auth_failed'],
    ['[LIMIT] (Yahoo)', login('NO', 'LIMIT', 'Too many simultaneous connections'), 'throttled'],
    ['code in lower case', login('NO', 'throttled', 'x'), 'throttled'],
    // A command after login (SELECT): no authenticationFailed
    ['SELECT NO [THROTTLED]', { responseStatus: 'NO', serverResponseCode: 'THROTTLED', responseText: 'Request is throttled' }, 'throttled'],
    ['SELECT NO [NONEXISTENT]', { responseStatus: 'NO', serverResponseCode: 'NONEXISTENT', responseText: 'Unknown Mailbox' }, 'transient'],
    // Hang-ups and the network
    ['Dovecot BYE too many connections', { code: 'ClosedAfterConnectText', reason: 'Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)' }, 'throttled'],
    ['BYE on shutdown', { code: 'NoConnection', reason: 'Server shutting down.' }, 'transient'],
    ['connection refused', { code: 'ECONNREFUSED' }, 'transient'],
    ['greeting timeout', { code: 'GREETING_TIMEOUT' }, 'transient'],
    ['nothing known', {}, 'transient'],
  ])('%s -> %s', (_what, err, kind) => {
    expect(imapFailureKind(err)).toBe(kind);
  });
});

describe('explainImapFailure', () => {
  const failed = (f: ImapFailure) => ({ message: 'Command failed', ...f });
  it.each<[string, ImapFailure & { message: string }, 'password' | 'oauth2', string]>([
    ['refused password', failed(login('NO', 'AUTHENTICATIONFAILED', 'Authentication failed.')), 'password', 'the login was refused (Authentication failed.): check the user and the password'],
    ['refused token', failed(login('NO', undefined, 'AUTHENTICATE failed')), 'oauth2', "the login was refused (AUTHENTICATE failed): check the user and the app's access to the mailbox"],
    ['throttled', failed(login('NO', 'THROTTLED', 'Request is throttled')), 'password', 'the server is throttling this mailbox for now (Request is throttled): try again later'],
    ['unknown folder: the server says so', failed({ responseStatus: 'NO', serverResponseCode: 'NONEXISTENT', responseText: 'Mailbox does not exist' }), 'password', 'Mailbox does not exist'],
    ['a hang-up: its BYE text', failed({ code: 'NoConnection', reason: 'Server shutting down.' }), 'password', 'Server shutting down.'],
    ['the network: the code', { message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' }, 'password', 'ECONNREFUSED'],
  ])('%s', (_what, err, auth, line) => {
    expect(explainImapFailure(err, auth)).toBe(line);
  });
});
