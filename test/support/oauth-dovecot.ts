/**
 * A second, dedicated Dovecot instance that logs users in with OAuth 2.0 bearer tokens (SASL
 * OAUTHBEARER, RFC 7628, and Google's XOAUTH2) and reads the same maildirs as the main test
 * Dovecot of `scripts/services.sh`: mail that Postfix delivers into `bridge@<domain>` (see
 * `createMailDomain()`) is read here by logging in with a token for `bridge@<domain>`.
 *
 * Dovecot checks each token by asking the authorisation server (`oauth-server.ts`) over RFC 7662
 * introspection, so a token is accepted while the server reports it active, for the user who
 * logs in; an expired, unknown or other user's token is refused.
 *
 * ```ts
 * const auth = await startOAuthServer();
 * const imap = await startOAuthDovecot({ introspectionUrl: auth.introspectionUrl });
 * const mail = await createMailDomain();
 * // BLEND_IMAP_URL=imap.imapUrl(mail.user), BLEND_IMAP_AUTH=oauth2, BLEND_OAUTH_TOKEN_URL=auth.tokenUrl ...
 * await imap.stop();
 * ```
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { mailRoot } from './mail-server';
import { freePort } from './ports';

export type OAuthMechanism = 'oauthbearer' | 'xoauth2';

export interface OAuthDovecot {
  /** IMAP port on 127.0.0.1. */
  port: number;
  /** `imap://<user>@127.0.0.1:<port>/<mailbox>`, without a password (the login takes a token). */
  imapUrl(user: string, mailbox?: string): string;
  /** The instance's log (auth failures say why a token was refused); gone after {@link stop}. */
  logFile: string;
  /** Stops the instance and all its processes, and removes its directory. */
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the instance (as root, like the main one) and waits until it greets on IMAP.
 * @param opts.introspectionUrl - RFC 7662 endpoint Dovecot POSTs `token=...` to.
 * @param opts.mechanisms - SASL mechanisms offered; imapflow takes OAUTHBEARER when offered,
 *   so `['xoauth2']` makes it use XOAUTH2 (what Microsoft 365 offers). @defaultValue both
 */
export async function startOAuthDovecot(opts: { introspectionUrl: string; mechanisms?: OAuthMechanism[] }): Promise<OAuthDovecot> {
  const id = randomBytes(4).toString('hex');
  // Own directory for everything: base_dir (sockets, master.pid), state, config and log, so
  // nothing is shared with the main instance in /run/blend-dovecot but the mail itself.
  const root = `/run/blend-oauth-dovecot-${id}`;
  const logFile = path.join(root, 'dovecot.log');
  const conf = path.join(root, 'dovecot.conf');
  await mkdir(path.join(root, 'state'), { recursive: true, mode: 0o755 });
  const home = await stat(path.join(mailRoot(), 'home')).catch((err: unknown) => {
    throw new Error(`${mailRoot()}/home missing (${(err as Error).message}); run scripts/services.sh up`);
  });
  const port = await freePort();
  await writeFile(path.join(root, 'oauth2.conf.ext'), oauth2Conf(opts.introspectionUrl), { mode: 0o644 });
  await writeFile(conf, dovecotConf({ id, root, logFile, port, uid: home.uid, gid: home.gid, mechanisms: opts.mechanisms ?? ['oauthbearer', 'xoauth2'] }), { mode: 0o644 });

  // In the foreground (-F) as our child, in its own session (detached): every process of the
  // instance is then in one process group, which stop() signals as a whole. Dovecot's own
  // `dovecot stop` leaves imap processes serving their sessions for a while.
  const stderr = await open(path.join(root, 'stderr.log'), 'w');
  const master = spawn('dovecot', ['-F', '-c', conf], { detached: true, stdio: ['ignore', 'ignore', stderr.fd] });
  await stderr.close();
  master.unref();
  const exited = new Promise<number | null>((resolve) => master.once('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
  // A test that dies without stop() must not leave the instance running.
  const killOnExit = () => killGroup(master, 'SIGKILL');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.off('exit', killOnExit);
    if (master.exitCode === null && master.signalCode === null) killGroup(master, 'SIGTERM');
    const deadline = Date.now() + 5_000;
    let killed = false;
    while (await groupAlive(master)) {
      if (Date.now() > deadline + 5_000) throw new Error(`OAuth Dovecot (pid ${String(master.pid)}) left processes that do not die`);
      if (!killed && Date.now() > deadline) {
        killGroup(master, 'SIGKILL');
        killed = true;
      }
      await sleep(50);
    }
    await exited;
    await rm(root, { recursive: true, force: true });
  };

  try {
    await waitForGreeting(port, exited, 15_000);
  } catch (err) {
    const [log, errors] = await Promise.all([readTail(logFile), readTail(path.join(root, 'stderr.log'))]);
    await stop();
    throw new Error(`OAuth Dovecot did not start: ${(err as Error).message}\n${errors}\n${log}`);
  }
  return {
    port,
    logFile,
    imapUrl: (user, mailbox = 'INBOX') => `imap://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(mailbox)}`,
    stop,
  };
}

function oauth2Conf(introspectionUrl: string): string {
  // Dovecot 2.3's oauth2 passdb: with no tokeninfo_url it POSTs `token=<token>` (form) to the
  // introspection URL and reads the JSON answer: the user in `username` must be the one logging
  // in (username_format %Lu), and `active` must be true (RFC 7662 section 2.2: false once
  // expired or unknown).
  return [
    'introspection_mode = post',
    `introspection_url = ${introspectionUrl}`,
    'force_introspection = yes',
    'username_attribute = username',
    'active_attribute = active',
    'active_value = true',
    'timeout_msecs = 5000',
    '',
  ].join('\n');
}

function dovecotConf(c: { id: string; root: string; logFile: string; port: number; uid: number; gid: number; mechanisms: OAuthMechanism[] }): string {
  const users = path.join(mailRoot(), 'users');
  const domains = path.join(mailRoot(), 'domains');
  return `# Written by test/support/oauth-dovecot.ts: an IMAP-only instance with OAuth 2.0 logins.
instance_name = blend-oauth-dovecot-${c.id}
base_dir = ${c.root}/run
state_dir = ${c.root}/state
protocols = imap
listen = 127.0.0.1
log_path = ${c.logFile}
info_log_path = ${c.logFile}
auth_verbose = yes

ssl = no
disable_plaintext_auth = no
login_trusted_networks = 127.0.0.0/8 ::1
auth_mechanisms = ${c.mechanisms.join(' ')}
auth_failure_delay = 0

# The same maildirs as the main instance (scripts/services.sh), owned by the mail user.
mail_location = maildir:~/Maildir
mail_uid = ${c.uid}
mail_gid = ${c.gid}
first_valid_uid = ${c.uid}
last_valid_uid = ${c.uid}
first_valid_gid = ${c.gid}
last_valid_gid = ${c.gid}
namespace inbox {
  inbox = yes
  separator = /
}

passdb {
  driver = oauth2
  mechanisms = ${c.mechanisms.join(' ')}
  args = ${c.root}/oauth2.conf.ext
}
# The same user files as the main instance: accounts, then each domain's catch-all.
userdb {
  driver = passwd-file
  args = username_format=%u ${users}
}
userdb {
  driver = passwd-file
  args = username_format=%d ${domains}
}

# No anvil auth penalty: the tests fail logins on purpose (see scripts/services.sh).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${c.port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
}

function killGroup(master: ChildProcess, sig: NodeJS.Signals): void {
  if (master.pid === undefined) return;
  try {
    process.kill(-master.pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Whether a process of the instance's group still runs. Read from /proc rather than with
 * `kill(-pgid, 0)`, which also counts zombies: once the master is gone, its orphans are reaped
 * by init, and that may be slow.
 */
async function groupAlive(master: ChildProcess): Promise<boolean> {
  if (master.pid === undefined) return false;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields && fields[0] !== 'Z' && Number(fields[2]) === master.pid) return true;
  }
  return false;
}

/** Resolves once the IMAP listener sends its `* OK` greeting; rejects if the master exits first. */
async function waitForGreeting(port: number, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => {
    gone = code;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone !== undefined) throw new Error(`dovecot exited with ${String(gone)}`);
    if (await greets(port)) return;
    if (Date.now() > deadline) throw new Error(`no IMAP greeting on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(2_000, () => (socket.destroy(), resolve(false)));
    socket.on('error', () => resolve(false));
    socket.once('data', (data) => {
      socket.end('a LOGOUT\r\n');
      resolve(data.toString('latin1').startsWith('* OK'));
    });
  });
}

async function readTail(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((err: unknown) => `(${file}: ${(err as Error).message})`);
  return text.split('\n').slice(-20).join('\n');
}
