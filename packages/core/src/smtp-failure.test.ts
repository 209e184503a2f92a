import { describe, expect, it } from 'vitest';
import { isPermanentSmtpFailure, type SmtpFailure } from './smtp-failure';

/** A server's answer as nodemailer reports it: the reply code parsed from the reply line. */
const reply = (line: string, code = 'EENVELOPE'): SmtpFailure => ({ code, response: line, responseCode: Number(line.slice(0, 3)) });

describe('isPermanentSmtpFailure', () => {
  it.each<[string, SmtpFailure, boolean]>([
    // About the recipient or the mail: final.
    ['no such user', reply('550 5.1.1 <gone@corp.test>: Recipient address rejected: User unknown'), true],
    ['Exchange: recipient not found', reply('550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'), true],
    ['Gmail: message blocked', reply('550 5.7.1 This message violates example.com email policy. - gcdp <sessionid> - gsmtp', 'EMESSAGE'), true],
    ['message too large', reply('552 5.3.4 Message size exceeds fixed maximum message size', 'EMESSAGE'), true],
    ['recipient mailbox full', reply('552 5.2.2 The email account that you tried to reach is over quota.'), true],
    // Temporary, throttling included: retried.
    ['greylisting', reply('451 4.7.1 Please try again later'), false],
    ['Exchange sender thread limit', reply('432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded'), false],
    ['Exchange temporary problem', reply('421 4.7.0 Temporary System Problem.  Try again later.'), false],
    ['Gmail unusual rate', reply('421 4.7.28 Gmail has detected an unusual rate of mail originating from your SPF domain.'), false],
    ['Gmail too many logins', reply('454 4.7.0 Too many login attempts, please try again later.', 'EAUTH'), false],
    ['bad sequence', reply('503 5.5.1 Bad sequence of commands'), false],
    ['timeout, no reply', { code: 'ETIMEDOUT' }, false],
    ['connection refused', { code: 'ESOCKET' }, false],
    ['no code at all', {}, false],
    // Blend's own account: retried until IT fixes it or the limit resets.
    ['nodemailer EAUTH without a reply (no credentials)', { code: 'EAUTH' }, false],
    ['Gmail bad credentials', reply('535-5.7.8 Username and Password not accepted. For more information, go to\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp', 'EAUTH'), false],
    ['Exchange authentication unsuccessful', reply('535 5.7.3 Authentication unsuccessful [AM0PR02CA0001.eurprd02.prod.outlook.com]', 'EAUTH'), false],
    ['Exchange SMTP AUTH disabled', reply('535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.', 'EAUTH'), false],
    ['Exchange not authenticated (at MAIL FROM)', reply('530 5.7.57 Client not authenticated to send mail. [BN1P110CA0052.NAMP110.PROD.OUTLOOK.COM]'), false],
    ['Gmail authentication required', reply('530 5.7.0 Authentication Required.'), false],
    ['Gmail app password required', reply('534-5.7.9 Application-specific password required.', 'EAUTH'), false],
    ['Gmail web login required', reply('534-5.7.14 <https://accounts.google.com/signin/continue> Please log in via your web browser', 'EAUTH'), false],
    ['encryption required', reply('538 5.7.11 Encryption required for requested authentication mechanism', 'EAUTH'), false],
    ['Exchange send-as denied', reply('550 5.7.60 SMTP; Client does not have permissions to send as this sender'), false],
    ['Gmail daily sending limit', reply('550 5.4.5 Daily user sending limit exceeded. For more information, go to https://support.google.com/a/answer/166852'), false],
    ['Exchange submission quota', reply('554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception'), false],
  ])('%s -> permanent: %s', (_what, failure, permanent) => {
    expect(isPermanentSmtpFailure(failure)).toBe(permanent);
  });
});
