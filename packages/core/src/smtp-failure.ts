/**
 * Whether an outbox row's SMTP failure is final. Only an answer about this mail or its
 * recipient is: a failure of Blend's own account (its login, its sending rights, its quota)
 * hits every row alike and goes away once IT fixes the account or the quota resets, so the
 * row stays pending and is retried.
 */

/** What nodemailer leaves on a failed send's error. */
export interface SmtpFailure {
  /** nodemailer's code: `EAUTH` (the login was refused or impossible), `EENVELOPE`, `ETIMEDOUT`… */
  code?: string;
  /** The SMTP reply code, when the server answered. */
  responseCode?: number;
  /** The server's reply line(s), e.g. `535 5.7.8 Username and Password not accepted.` */
  response?: string;
}

/**
 * Reply codes about Blend's own login (RFC 4954 section 6): authentication required (530;
 * Exchange Online's `530 5.7.57 Client not authenticated to send mail`, "Must issue a STARTTLS
 * command first"), mechanism too weak (534; Gmail's `534 5.7.9 Application-specific password
 * required`, `534 5.7.14 Please log in via your web browser`), credentials invalid (535;
 * Gmail's `535 5.7.8`, Exchange's `535 5.7.3 Authentication unsuccessful` and `535 5.7.139
 * … SmtpClientAuthentication is disabled for the Tenant`), encryption required (538).
 */
const OWN_LOGIN_REPLIES = new Set([530, 534, 535, 538]);

/**
 * Enhanced status codes (RFC 3463) of Blend's own account whatever the reply code:
 * Exchange Online's 5.7.57 (not authenticated), 5.7.139 (SMTP AUTH disabled for the tenant
 * or basic authentication off) and 5.7.60 (no permission to send as the From address); and
 * X.4.5, mail system congestion, which Gmail uses for its sending limit
 * (`550 5.4.5 Daily user sending limit exceeded`).
 */
const OWN_ACCOUNT_STATUS = new Set(['5.7.57', '5.7.139', '5.7.60', '5.4.5']);

/** Exchange Online's sending limits answer with a generic 5.2.x and this text. */
const SENDING_LIMIT_TEXT = /submission ?quota|sending (?:limit|quota) exceeded/i;

/**
 * True when the send must not be retried: a 5xx reply about this mail or its recipient.
 * Transient, so retried with backoff: 4xx (greylisting, Exchange's `432 4.3.2 STOREDRV.ClientSubmit;
 * sender thread limit exceeded`, `421 4.7.0 Temporary System Problem`, Gmail's `421 4.7.28 … unusual
 * rate`, `454 4.7.0 Too many login attempts`), 503 (bad sequence: our session, not the mail),
 * timeouts and connection errors without a reply, and every failure of Blend's own account
 * (nodemailer's `EAUTH`, {@link OWN_LOGIN_REPLIES}, {@link OWN_ACCOUNT_STATUS}, sending limits).
 */
export function isPermanentSmtpFailure(f: SmtpFailure): boolean {
  if (f.code === 'EAUTH') return false;
  const reply = f.responseCode;
  if (typeof reply !== 'number' || reply < 500 || reply >= 600 || reply === 503) return false;
  if (OWN_LOGIN_REPLIES.has(reply)) return false;
  const text = f.response ?? '';
  const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1];
  if (status !== undefined && OWN_ACCOUNT_STATUS.has(status)) return false;
  return !SENDING_LIMIT_TEXT.test(text);
}
