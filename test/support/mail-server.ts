/**
 * Helpers for end-to-end tests that talk to the real local mail servers started by
 * `scripts/services.sh up`: Postfix on 127.0.0.1:2525 delivering over LMTP into Dovecot,
 * IMAP on 127.0.0.1:143.
 *
 * Postfix accepts mail for any domain ending in `.test`; Dovecot maps every domain listed in
 * `$BLEND_MAIL_ROOT/domains` to that domain's bridge account, so `status@`, `group@` and
 * `reply+TOKEN@<domain>` all land in the bridge's INBOX with `Delivered-To: <address used>`.
 * `createMailDomain()` registers a fresh `t-<hex>.test` domain so each test file gets its own
 * isolated mailbox. Dovecot re-reads its passwd-files when they change; no reload is needed.
 * With `{ catchAll: false }` the domain has only the mailbox `bridge@`: Postfix and Dovecot
 * (`recipient_delimiter = +`) deliver `bridge+anything@` to it and refuse every other local part.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chown, mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { parseImapUrl as parseMailboxUrl } from '@blend/core';

export const SMTP_HOST = '127.0.0.1';
export const SMTP_PORT = 2525;
/** Postfix's second listener (scripts/services.sh): per-recipient replies from {@link scriptRecipientReply}. */
export const SCRIPTED_SMTP_PORT = 2526;
export const SCRIPTED_SMTP_URL = `smtp://${SMTP_HOST}:${SCRIPTED_SMTP_PORT}`;
export const IMAP_HOST = '127.0.0.1';
export const IMAP_PORT = 143;
export const LMTP_PORT = 24;

export interface MailDomain {
  /** Fresh domain, e.g. `t-3f9a1c2b7d4e.test`. */
  domain: string;
  /** The bridge account / IMAP login, `bridge@<domain>`. */
  user: string;
  password: string;
  /** `imap://bridge%40<domain>:<password>@127.0.0.1:143/INBOX` */
  imapUrl: string;
  /** `smtp://127.0.0.1:2525` */
  smtpUrl: string;
}

export interface ImapTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  mailbox: string;
}

export function mailRoot(): string {
  return process.env['BLEND_MAIL_ROOT'] ?? '/var/lib/blend-mail';
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Parses `imap://user:pass@host:port/MAILBOX` (user and password percent-encoded). */
export function parseImapUrl(imapUrl: string): ImapTarget {
  if (!imapUrl.startsWith('imap://')) throw new Error(`not an imap:// URL: ${imapUrl}`);
  const t = parseMailboxUrl(imapUrl);
  return { host: t.host, port: t.port, user: t.user, password: t.pass, mailbox: t.folder };
}

function imapClient(target: ImapTarget): ImapFlow {
  return new ImapFlow({
    host: target.host,
    port: target.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: target.user, pass: target.password },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
  });
}

/** Connects, runs `fn`, and always closes the connection. */
export async function withImap<T>(imapUrl: string, fn: (client: ImapFlow, target: ImapTarget) => Promise<T>): Promise<T> {
  const target = parseImapUrl(imapUrl);
  const client = imapClient(target);
  // A connection error after connect() would otherwise surface as an unhandled 'error' event.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client, target);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * Registers a fresh mail domain `t-<hex>.test` with its own bridge account and waits until
 * Dovecot accepts the login. Runs as root (it chowns the new home to the `blendmail` user).
 * @param opts.catchAll - deliver every local part at the domain to the bridge account; false:
 *   only `bridge@` and its sub-addresses (one ordinary mailbox, as for BLEND_ADDRESSING=plus).
 *   @defaultValue true
 */
export async function createMailDomain(opts: { catchAll?: boolean } = {}): Promise<MailDomain> {
  const root = mailRoot();
  const domain = `t-${randomBytes(6).toString('hex')}.test`;
  const user = `bridge@${domain}`;
  const password = randomBytes(12).toString('hex');
  const homeRoot = path.join(root, 'home');
  const home = path.join(homeRoot, domain, 'bridge');

  // The home tree is owned by the mail user (services.sh creates it so).
  const owner = await stat(homeRoot).catch((err: unknown) => {
    throw new Error(`${homeRoot} missing (${errorMessage(err)}); run scripts/services.sh up`);
  });
  await mkdir(home, { recursive: true });
  await chown(path.dirname(home), owner.uid, owner.gid);
  await chown(home, owner.uid, owner.gid);

  // One appendFile = one O_APPEND write of a whole line: parallel test files cannot interleave
  // partial lines, and each write changes the file's size, so Dovecot notices and re-reads it.
  await appendFile(path.join(root, 'users'), `${user}:{PLAIN}${password}::::${home}::\n`);
  if (opts.catchAll !== false) await appendFile(path.join(root, 'domains'), `${domain}::${owner.uid}:${owner.gid}::${home}::\n`);
  // Dovecot's passwd-file driver stat()s a file at most once per second (per auth process), so
  // a lookup earlier in this same second may still be served from the old contents. Waiting
  // for the next second makes the first login (and any LMTP delivery) see the new lines.
  await sleep(1000 - (Date.now() % 1000) + 50);

  const imapUrl = `imap://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${IMAP_HOST}:${IMAP_PORT}/INBOX`;
  await waitForLogin(imapUrl, 10_000);
  return { domain, user, password, imapUrl, smtpUrl: `smtp://${SMTP_HOST}:${SMTP_PORT}` };
}

async function waitForLogin(imapUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await withImap(imapUrl, async () => undefined);
      return;
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(`Dovecot did not accept ${parseImapUrl(imapUrl).user} within ${timeoutMs}ms: ${errorMessage(err)}`);
      }
      await sleep(200);
    }
  }
}

function run(file: string, args: string[], input?: string | Buffer): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        // swaks writes the SMTP transcript, including the server's error replies (`<**` lines),
        // to stdout; its stderr is often empty.
        const errors = stdout.split('\n').filter((line) => /^(<\*\*|\*\*\*)/.test(line));
        const detail = [stderr.trim(), ...errors].filter(Boolean).join('\n') || stdout.trim().split('\n').slice(-10).join('\n');
        reject(new Error(`${file} ${args.join(' ')} failed (exit ${String(err.code ?? err.signal)}):\n${detail}`));
        return;
      }
      resolve({ stdout, stderr });
    });
    if (input !== undefined) {
      child.stdin?.end(input);
    } else {
      child.stdin?.end();
    }
  });
}

/**
 * Runs the `swaks` binary, adding `--server 127.0.0.1:2525` unless a server is given.
 * Resolves with swaks' transcript (stdout); rejects with its stderr on a non-zero exit.
 */
export async function swaks(args: string[]): Promise<string> {
  const hasServer = args.some((a) => a === '--server' || a === '-s' || a.startsWith('--server='));
  const full = hasServer ? args : ['--server', `${SMTP_HOST}:${SMTP_PORT}`, ...args];
  const { stdout } = await run('swaks', full);
  return stdout;
}

/** Submits a raw RFC 822 message unchanged over SMTP to 127.0.0.1:2525. */
export async function sendRaw(
  rawRfc822: string | Buffer,
  envelope: { from: string; to: string | string[] },
): Promise<void> {
  const transport = nodemailer.createTransport({
    host: SMTP_HOST,
    port: SMTP_PORT,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await transport.sendMail({ envelope: { from: envelope.from, to: envelope.to }, raw: rawRfc822 });
  } finally {
    transport.close();
  }
}

/** Number of messages in the URL's mailbox right now. */
export async function mailboxCount(imapUrl: string): Promise<number> {
  return withImap(imapUrl, async (client, target) => {
    const status = await client.status(target.mailbox, { messages: true });
    if (status === false) throw new Error(`STATUS ${target.mailbox} failed`);
    return status.messages ?? 0;
  });
}

/** Polls until the mailbox holds at least `n` messages; resolves with the count. */
export async function waitForMailboxCount(imapUrl: string, n: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let lastError = '';
  for (;;) {
    try {
      last = await mailboxCount(imapUrl);
      if (last >= n) return last;
    } catch (err) {
      lastError = errorMessage(err);
    }
    if (Date.now() >= deadline) {
      const suffix = lastError ? ` (last error: ${lastError})` : '';
      throw new Error(`mailbox ${parseImapUrl(imapUrl).mailbox} has ${last} message(s), wanted ${n}, after ${timeoutMs}ms${suffix}`);
    }
    await sleep(250);
  }
}

export interface FetchedMessage {
  uid: number;
  source: Buffer;
}

/** Raw sources of all messages in the URL's mailbox, in UID order. */
export async function fetchRawMessages(imapUrl: string): Promise<FetchedMessage[]> {
  return withImap(imapUrl, async (client, target) => {
    const lock = await client.getMailboxLock(target.mailbox, { readOnly: true });
    try {
      const out: FetchedMessage[] = [];
      const mailbox = client.mailbox;
      if (mailbox === false || mailbox.exists === 0) return out;
      for await (const msg of client.fetch('1:*', { uid: true, source: true })) {
        if (msg.source) out.push({ uid: msg.uid, source: msg.source });
      }
      return out.sort((a, b) => a.uid - b.uid);
    } finally {
      lock.release();
    }
  });
}

/** All values of a header in a raw message's header block (unfolded). */
export function headerValues(source: Buffer | string, name: string): string[] {
  const text = typeof source === 'string' ? source : source.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const head = (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const prefix = `${name.toLowerCase()}:`;
  return head
    .split(/\r?\n/)
    .filter((line) => line.toLowerCase().startsWith(prefix))
    .map((line) => line.slice(prefix.length).trim());
}

/**
 * A raw message as the local MTA would have delivered it: with the `Return-Path` and the
 * Postfix `Received` line that sender authentication reads (client 127.0.0.1). For tests that
 * APPEND mail straight into the mailbox instead of sending it through Postfix.
 */
export function asDelivered(raw: string, envelopeFrom: string): string {
  const date = new Date().toUTCString().replace('GMT', '+0000');
  return (
    `Return-Path: <${envelopeFrom}>\r\n` +
    `Received: from client.corp.test (unknown [127.0.0.1])\r\n\tby vm (Postfix) with ESMTP id 4F00TEST\r\n\tfor <status@example.test>; ${date}\r\n` +
    raw
  );
}

function scriptedRepliesMap(): string {
  return path.join(mailRoot(), 'etc', 'postfix', 'scripted_replies');
}

/**
 * Runs `postmap <args> hash:<scripted map>` and makes sure the `.db` gets a newer whole-second
 * mtime: smtpd compares `st_mtime` (seconds) to decide that a table changed and it must restart
 * before its next connection, so a second edit within the same second would go unnoticed.
 * @returns postmap's exit status (1 from `-d` means the key was not there).
 */
async function updateScriptedReplies(args: string[], input?: string): Promise<number> {
  const db = `${scriptedRepliesMap()}.db`;
  const before = await stat(db).catch((err: unknown) => {
    throw new Error(`${db} missing (${errorMessage(err)}); run scripts/services.sh up`);
  });
  const code = await new Promise<number>((resolve, reject) => {
    const child = execFile('postmap', [...args, `hash:${scriptedRepliesMap()}`], { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(new Error(`postmap ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve(typeof err?.code === 'number' ? err.code : 0);
    });
    // `postmap -d` reads no input and may exit before we close its stdin: that EPIPE says
    // nothing about the table (the exit status does), so it must not become an uncaught error.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
  const after = await stat(db);
  const was = Math.floor(before.mtimeMs / 1000);
  if (Math.floor(after.mtimeMs / 1000) <= was) await utimes(db, after.atime, was + 1);
  return code;
}

/**
 * Makes Postfix's scripted listener ({@link SCRIPTED_SMTP_URL}) answer `RCPT TO:<address>`
 * with `reply`, an access(5) action such as `451 4.3.0 try again later` or
 * `550 5.1.1 no such user`. Postfix prefixes the text with `<address>: Recipient address
 * rejected:` and hangs up after it (one error per session on that listener). Takes effect for
 * the next SMTP session: smtpd reads its maps once, so a pooled session that only got 250s
 * keeps answering from the old map; script replies before the sender connects. Use an address
 * of the test's own domain.
 */
export async function scriptRecipientReply(address: string, reply: string): Promise<void> {
  if (!/^[45]\d\d [45]\.\d{1,3}\.\d{1,3} [^\r\n]+$/.test(reply)) throw new Error(`not an access(5) reply: ${reply}`);
  const code = await updateScriptedReplies(['-i'], `${address.toLowerCase()} ${reply}\n`);
  if (code !== 0) throw new Error(`postmap -i exited with ${code}`);
}

/** Lets `address` through the scripted listener again (no-op when no reply was scripted). */
export async function clearRecipientReply(address: string): Promise<void> {
  const code = await updateScriptedReplies(['-d', address.toLowerCase()]);
  if (code !== 0 && code !== 1) throw new Error(`postmap -d exited with ${code}`);
}

/** The dedicated Dovecot instance's config, as written by `scripts/services.sh up`. */
export function dovecotConf(): string {
  return path.join(mailRoot(), 'etc', 'dovecot.conf');
}

async function dovecotPidFile(): Promise<string> {
  const { stdout } = await run('doveconf', ['-c', dovecotConf(), '-h', 'base_dir']);
  return path.join(stdout.trim(), 'master.pid');
}

/** Dovecot's master pid while the instance runs (from `<base_dir>/master.pid`), else null. */
export async function dovecotPid(): Promise<number | null> {
  const pidFile = await dovecotPidFile();
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 && (await alive(pid)) ? pid : null;
}

/** `/proc/<pid>/stat` fields after the command name: state, ppid, pgrp, session, ... */
async function procStat(pid: number | string): Promise<string[] | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  return stat === null ? null : stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Running, i.e. neither gone nor a zombie (which only waits to be reaped, and init may be slow). */
async function alive(pid: number): Promise<boolean> {
  const fields = await procStat(pid);
  return fields !== null && fields[0] !== 'Z';
}

/** Running pids in session `sid` (Dovecot's master is a session leader, see `ps -o sid`). */
async function sessionMembers(sid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await procStat(entry);
    if (fields && Number(fields[3]) === sid && fields[0] !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = await Promise.all(pids.map(alive));
    if (!running.includes(true)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(port, IMAP_HOST);
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

/**
 * Stops the shared Dovecot instance as `scripts/services.sh down` does (`dovecot stop`, and
 * wait for the master to exit), then ends what is left of that instance, as systemd's
 * `KillMode=control-group` does on a restart: `dovecot stop` alone leaves imap processes
 * serving their sessions for another 10-30 s, so no client would see the restart. Always pair
 * it with {@link startDovecot} in a `finally`/`afterAll`: every other test file needs it.
 */
export async function stopDovecot(): Promise<void> {
  const pid = await dovecotPid();
  if (pid === null) return;
  await run('dovecot', ['-c', dovecotConf(), 'stop']);
  if (!(await waitGone([pid], 10_000))) throw new Error(`Dovecot (pid ${pid}) did not exit within 10 s`);
  const rest = await sessionMembers(pid);
  signal(rest, 'SIGTERM');
  if (!(await waitGone(rest, 5_000))) signal(rest, 'SIGKILL');
}

/**
 * Starts the shared Dovecot instance as `scripts/services.sh up` does, unless it runs
 * already, and waits until IMAP and LMTP accept connections.
 * @param timeoutMs - how long to wait for the listeners. @defaultValue 15000
 */
export async function startDovecot(timeoutMs = 15_000): Promise<void> {
  if ((await dovecotPid()) === null) {
    await rm(await dovecotPidFile(), { force: true });
    // stdio ignored: the daemonised master keeps inherited pipes open, so execFile would wait
    // (until its timeout) for them to close.
    const code = await new Promise<number | null>((resolve, reject) => {
      spawn('dovecot', ['-c', dovecotConf()], { stdio: 'ignore' }).once('error', reject).once('exit', resolve);
    });
    if (code !== 0) throw new Error(`dovecot -c ${dovecotConf()} exited with ${String(code)}; see ${path.join(mailRoot(), 'log')}/dovecot.log`);
  }
  const deadline = Date.now() + timeoutMs;
  while (!((await portOpen(IMAP_PORT)) && (await portOpen(LMTP_PORT)))) {
    if (Date.now() >= deadline) throw new Error(`Dovecot did not listen on ${IMAP_PORT} and ${LMTP_PORT} within ${timeoutMs}ms`);
    await sleep(100);
  }
}
