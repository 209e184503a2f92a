/** Connection settings for one watched mailbox, taken from `BLEND_IMAP_URL`. */
export interface ImapTarget {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  pass: string;
  folder: string;
  /** Stable name of the mailbox without the password: the key of its checkpoint. */
  key: string;
}

/** Parse `imap://user:pass@host:143/INBOX` (`imaps://` for implicit TLS, port 993). */
export function parseImapUrl(url: string): ImapTarget {
  const u = new URL(url);
  const secure = u.protocol === 'imaps:';
  const port = u.port ? Number(u.port) : secure ? 993 : 143;
  const user = decodeURIComponent(u.username);
  const folder = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'INBOX';
  return {
    host: u.hostname,
    port,
    secure,
    user,
    pass: decodeURIComponent(u.password),
    folder,
    key: `${u.protocol}//${encodeURIComponent(user)}@${u.hostname}:${port}/${folder}`,
  };
}

/** Where and as whom to connect, as ImapFlow takes it (logging off: Blend logs itself). */
export function imapConnection(target: ImapTarget) {
  return { host: target.host, port: target.port, secure: target.secure, auth: { user: target.user, pass: target.pass }, logger: false as const };
}
