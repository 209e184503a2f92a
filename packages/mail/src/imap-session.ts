import { ImapFlow } from 'imapflow';
import { imapFailureKind, type ImapFailure } from '@blend/core';
import type { ImapTarget } from './imap-url';

/**
 * Blend's one IMAP client: connecting, logging in (password, or an OAuth 2.0 token by SASL
 * XOAUTH2 or OAUTHBEARER) and the few commands Blend uses, on imapflow. The poller, the mailbox
 * check and the backfill of the admin CLI all go through it; nothing else imports imapflow.
 * Every command works on UIDs (RFC 3501 section 2.3.1.1), which stay valid while the folder's
 * UIDVALIDITY does.
 */

/** How a session waits on the server. */
export interface ImapSessionOptions {
  /**
   * Stay in IDLE (RFC 2177) between commands and re-issue it this often, for a session that
   * watches a folder for hours; NAT and firewalls drop idle TCP flows after a few minutes.
   * Omit for a short session that runs its commands and logs out.
   */
  idleRestartMs?: number;
  /** Give up on a TCP connect or the server's greeting after this long. @defaultValue imapflow's (90 s and 16 s) */
  connectTimeoutMs?: number;
  /** Give up on a connection silent this long. @defaultValue imapflow's (5 minutes), or twice `idleRestartMs` when longer */
  socketTimeoutMs?: number;
}

/** A message's size and arrival time, read before its body is downloaded. */
export interface ImapMessageSize {
  uid: number;
  /** RFC822.SIZE in bytes. */
  size: number;
  /** INTERNALDATE, or null when the server sent none or an unreadable one. */
  internalDate: Date | null;
}

/** A message's size and arrival time with the ids of its ENVELOPE, as the server wrote them (empty when there are none). */
export interface ImapArrival extends ImapMessageSize {
  messageId: string;
  inReplyTo: string;
}

/**
 * A UID set (RFC 3501 section 9, sequence-set) naming exactly these UIDs: runs of consecutive
 * UIDs as `a:b`, so a command on hundreds of mails that arrived together stays a short line.
 */
export function uidSet(uids: number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** A message's raw source with the Message-ID of its header. */
export interface ImapMessageSource {
  uid: number;
  source: Buffer;
  /** The value of the header's first Message-ID field ({@link headerMessageId}), not normalised; empty when there is none. */
  messageId: string;
}

/** A header field's name at a line start: `Message-ID:` (RFC 5322 section 3.6.4; any case, the obsolete space before the colon allowed). */
const MESSAGE_ID_FIELD = /^message-id[ \t]*:/im;

/**
 * The value of the first Message-ID field of a message's header (RFC 5322 section 3.6.4), unfolded
 * and trimmed, as the server's ENVELOPE would give it; empty when the header has none. Read from
 * the source already downloaded, so the download's FETCH asks for no ENVELOPE, whose parse (a
 * dozen nested lists, every address and subject decoded) cost more than the rest of a message's
 * FETCH response (docs/ARCHITECTURE.md "Processes and the flow").
 */
export function headerMessageId(source: Buffer): string {
  // The header ends at the first empty line; a field in the body or an attached message is not the message's.
  let end = source.indexOf('\r\n\r\n');
  const bare = source.indexOf('\n\n');
  if (end < 0 || (bare >= 0 && bare < end)) end = bare;
  // One byte a character, so offsets in the text are offsets in the source.
  const header = source.toString('latin1', 0, end < 0 ? source.length : end);
  const m = MESSAGE_ID_FIELD.exec(header);
  if (!m) return '';
  const from = m.index + m[0].length;
  // The field goes on over folded lines: those that begin with a space or a tab.
  let to = from;
  for (;;) {
    const nl = header.indexOf('\n', to);
    if (nl < 0) {
      to = header.length;
      break;
    }
    const next = header.charCodeAt(nl + 1);
    if (next !== 0x20 && next !== 0x09) {
      to = nl;
      break;
    }
    to = nl + 1;
  }
  return source.toString('utf8', from, to).replace(/\r?\n(?=[ \t])/g, '').trim();
}

/** One connection to one mailbox server, logged in as the target's user. */
export class ImapSession {
  private constructor(
    private readonly client: ImapFlow,
    private readonly target: ImapTarget,
    /** The OAuth access token offered at login, so a refused one is never offered again. */
    private readonly accessToken: string | null,
  ) {}

  /**
   * A session for `target`, not yet connected. With OAuth the access token is fetched (or taken
   * from the cache) now: IMAP has no way to swap the token of an authenticated session, so each
   * new connection logs in with a fresh one (RFC 7628 section 3.2.2: a server may end a session
   * when its token expires).
   * @throws OAuth2TokenError when no token can be had (endpoint down or refusing).
   */
  static async create(target: ImapTarget, opts: ImapSessionOptions = {}): Promise<ImapSession> {
    // imapflow offers the token with AUTHENTICATE OAUTHBEARER when the server advertises it, else XOAUTH2.
    const auth = target.oauth ? { user: target.user, accessToken: await target.oauth.tokens.getToken() } : { user: target.user, pass: target.pass };
    // Logging off: Blend logs itself, and imapflow's debug log would hold the credentials.
    const connection = { host: target.host, port: target.port, secure: target.secure, auth, logger: false as const };
    const idle = opts.idleRestartMs;
    const client = new ImapFlow({
      ...connection,
      ...(opts.connectTimeoutMs ? { connectionTimeout: opts.connectTimeoutMs, greetingTimeout: opts.connectTimeoutMs } : {}),
      ...(idle
        ? {
            maxIdleTime: idle,
            // imapflow waits 15 s after the last command before it IDLEs; mail arriving in that
            // gap would wait for the next sync, so go back to IDLE almost at once.
            autoIdleDelay: 200,
            socketTimeout: Math.max(opts.socketTimeoutMs ?? 5 * 60_000, idle * 2),
          }
        : opts.socketTimeoutMs
          ? { socketTimeout: opts.socketTimeoutMs }
          : {}),
    });
    return new ImapSession(client, target, 'accessToken' in auth ? (auth.accessToken ?? null) : null);
  }

  /** New messages arrived in the selected folder (an untagged EXISTS, RFC 3501 section 7.3.1; pushed during IDLE). */
  onExists(listener: () => void): void {
    this.client.on('exists', () => listener());
  }

  /** The connection ended, by either side. imapflow never reconnects: make a new session. */
  onClose(listener: () => void): void {
    this.client.on('close', () => listener());
  }

  /** A connection-level error; a failed command rejects its own promise instead. */
  onError(listener: (err: Error) => void): void {
    this.client.on('error', listener);
  }

  /** Connected, logged in and not closing. */
  get usable(): boolean {
    return this.client.usable;
  }

  /**
   * Connect and log in: LOGIN or AUTHENTICATE PLAIN with a password, AUTHENTICATE OAUTHBEARER
   * (RFC 7628) when the server offers it, else XOAUTH2, with a token.
   * @throws the imapflow error (an {@link ImapFailure}: `imapFailureKind` sorts it). A refused
   * token is invalidated first, so the next session fetches a new one.
   */
  async connect(): Promise<void> {
    try {
      await this.client.connect();
    } catch (err) {
      if (this.accessToken && imapFailureKind(err as ImapFailure) === 'auth_failed') this.target.oauth?.tokens.invalidate(this.accessToken);
      throw err;
    }
  }

  /** Whether the server announced `capability` (CAPABILITY, RFC 3501 section 6.1.1), e.g. `MOVE`, `UIDPLUS`. */
  has(capability: string): boolean {
    return this.client.capabilities.has(capability);
  }

  /**
   * SELECT `folder` (EXAMINE with `readOnly`, RFC 3501 sections 6.3.1–6.3.2).
   * @returns its UIDVALIDITY and how many messages it holds.
   */
  async openFolder(folder: string, opts: { readOnly?: boolean } = {}): Promise<{ uidValidity: number; exists: number }> {
    const box = await this.client.mailboxOpen(folder, opts.readOnly ? { readOnly: true } : undefined);
    return { uidValidity: Number(box.uidValidity), exists: box.exists };
  }

  /** The selected folder's UIDVALIDITY, or null when none is selected. */
  get uidValidity(): number | null {
    const box = this.client.mailbox;
    return box ? Number(box.uidValidity) : null;
  }

  /** Whether LIST (RFC 3501 section 6.3.8) shows `folder`. */
  async hasFolder(folder: string): Promise<boolean> {
    return (await this.client.list()).some((f) => f.path === folder);
  }

  /** CREATE `folder`; one that exists already (`ALREADYEXISTS`, RFC 5530) is no error. */
  async createFolder(folder: string): Promise<void> {
    await this.client.mailboxCreate(folder);
  }

  /**
   * UID FETCH of RFC822.SIZE and INTERNALDATE for every UID from `fromUid` on, in UID order,
   * so sizes can be checked before anything is downloaded.
   */
  async sizesFrom(fromUid: number): Promise<ImapMessageSize[]> {
    return (await this.listFrom(fromUid, false)).map(({ uid, size, internalDate }) => ({ uid, size, internalDate }));
  }

  /**
   * {@link sizesFrom} with each message's ENVELOPE Message-ID and In-Reply-To in the same UID
   * FETCH: a few hundred bytes a message, so new mail can be sized and ordered in one round trip.
   */
  async arrivalsFrom(fromUid: number): Promise<ImapArrival[]> {
    return this.listFrom(fromUid, true);
  }

  private async listFrom(fromUid: number, envelope: boolean): Promise<ImapArrival[]> {
    const out: ImapArrival[] = [];
    // `N:*` always matches at least the newest message, even when its UID is below N.
    for await (const m of this.client.fetch(`${fromUid}:*`, { uid: true, size: true, internalDate: true, envelope }, { uid: true })) {
      if (m.uid < fromUid) continue;
      const d = m.internalDate ? new Date(m.internalDate) : null;
      out.push({
        uid: m.uid,
        size: m.size ?? 0,
        internalDate: d && !Number.isNaN(d.getTime()) ? d : null,
        messageId: m.envelope?.messageId ?? '',
        inReplyTo: m.envelope?.inReplyTo ?? '',
      });
    }
    return out.sort((a, b) => a.uid - b.uid);
  }

  /**
   * UID FETCH of the full source (BODY.PEEK[], so \Seen is not set) of these UIDs, each with the
   * Message-ID of its header ({@link headerMessageId}). A UID expunged meanwhile is simply
   * missing from the answer.
   */
  async *sources(uids: number[]): AsyncGenerator<ImapMessageSource> {
    if (uids.length === 0) return;
    for await (const m of this.client.fetch(uidSet(uids), { uid: true, source: true }, { uid: true })) {
      if (m.source) yield { uid: m.uid, source: m.source, messageId: headerMessageId(m.source) };
    }
  }

  /**
   * UID FETCH of the ENVELOPE alone (Message-ID and In-Reply-To, not normalised; empty when
   * there is none) of these UIDs: a few hundred bytes each, to order mail without downloading it.
   */
  async envelopes(uids: number[]): Promise<{ uid: number; messageId: string; inReplyTo: string }[]> {
    const out: { uid: number; messageId: string; inReplyTo: string }[] = [];
    if (uids.length === 0) return out;
    for await (const m of this.client.fetch(uids.join(','), { uid: true, envelope: true }, { uid: true })) {
      out.push({ uid: m.uid, messageId: m.envelope?.messageId ?? '', inReplyTo: m.envelope?.inReplyTo ?? '' });
    }
    return out;
  }

  /** UID SEARCH SINCE `date` (RFC 3501 section 6.4.4: by INTERNALDATE, whole days). */
  async searchSince(date: Date): Promise<number[]> {
    return (await this.client.search({ since: date }, { uid: true })) || [];
  }

  /**
   * UID STORE +FLAGS.SILENT (RFC 3501 section 6.4.6): the server does not answer with an
   * untagged FETCH of each message's flags, hundreds of lines for a batch that the connection
   * would carry before its next command. A UID that is gone is no error.
   * @returns false when the server refused.
   */
  async addFlags(uids: number[], flags: string[]): Promise<boolean> {
    return this.client.messageFlagsAdd(uidSet(uids), flags, { uid: true, silent: true });
  }

  /**
   * UID MOVE (RFC 6851) into `folder`; without the MOVE extension imapflow copies, flags
   * \Deleted and expunges (UID EXPUNGE with UIDPLUS). A UID that is gone is no error.
   * @returns false when the server refused, e.g. `[TRYCREATE]` for a folder that does not exist.
   */
  async move(uids: number[], folder: string): Promise<boolean> {
    return (await this.client.messageMove(uidSet(uids), folder, { uid: true })) !== false;
  }

  /**
   * Flag these UIDs \Deleted and UID EXPUNGE them (RFC 4315, UIDPLUS). Without UIDPLUS imapflow
   * falls back to a plain EXPUNGE, which removes every message flagged \Deleted, also ones
   * Blend has not read: check `has('UIDPLUS')` first. A UID that is gone is no error.
   * @returns false when the server refused.
   */
  async expunge(uids: number[]): Promise<boolean> {
    return this.client.messageDelete(uidSet(uids), { uid: true });
  }

  /** LOGOUT, or drop the connection when the server does not answer within `timeoutMs`. */
  async logout(timeoutMs = 3_000): Promise<void> {
    const out = await Promise.race([this.client.logout().then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs).unref())]);
    if (!out) this.client.close();
  }

  /** Drop the connection at once. */
  close(): void {
    this.client.close();
  }
}
