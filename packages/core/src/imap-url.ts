/** A mailbox named by an IMAP URL: where it is, as whom to log in, and its stable key. */
export interface ImapMailbox {
  host: string;
  port: number;
  /** `imaps://`: TLS from the first byte (port 993); `imap://` may still upgrade with STARTTLS. */
  secure: boolean;
  user: string;
  /** The password in the URL; empty when it has none (OAuth logins, `watched_mailboxes` rows). */
  pass: string;
  /** The folder to watch, `INBOX` when the URL names none. */
  folder: string;
  /** Stable name of the mailbox without the password: the key of its checkpoint and lease. */
  key: string;
}

/**
 * Parses `imap://user:pass@host:143/INBOX` (`imaps://` for implicit TLS, port 993). User,
 * password and folder are percent-decoded; a stray `%` that does not start an escape is
 * kept as written (a password such as `50%off` typed into the URL unencoded).
 */
export function parseImapUrl(url: string): ImapMailbox {
  const u = new URL(url);
  const secure = u.protocol === 'imaps:';
  const port = u.port ? Number(u.port) : secure ? 993 : 143;
  const user = decoded(u.username);
  const folder = decoded(u.pathname.replace(/^\//, '')) || 'INBOX';
  return {
    host: u.hostname,
    port,
    secure,
    user,
    pass: decoded(u.password),
    folder,
    key: `${u.protocol}//${encodeURIComponent(user)}@${u.hostname}:${port}/${folder}`,
  };
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch (err) {
    if (err instanceof URIError) return s;
    throw err;
  }
}
