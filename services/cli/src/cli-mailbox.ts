import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AfterActionError, afterActionProblem, ConfigError, formatAfterAction, loadConfigSubset, OAUTH_KEYS, oauthSettings, parseAfterAction } from '@blend/config';
import { explainImapFailure, imapFailureKind, openSecret, sealedKeyId, sealingKeyId, sealSecret, WEBHOOK_SECRET_CONTEXT, webhookSigningSecret, type ImapFailure, type OAuthSettings } from '@blend/core';
import {
  addWatchedMailbox,
  getWatchedMailbox,
  listWatchedMailboxes,
  listWebhookSecrets,
  mailboxStatuses,
  removeWatchedMailbox,
  setWebhookSecret,
  updateWatchedMailbox,
  type DbHandle,
  type WatchedMailbox,
} from '@blend/db';
import { ImapSession, OAuth2TokenError, oauthLogin, parseImapUrl, type ImapTarget } from '@blend/mail';
import { UsageError } from './cli-commands';

const actor = () => `cli:${process.env.USER ?? 'unknown'}`;

const PASSWORD_OPTIONS = {
  'password-file': { type: 'string' },
  'password-env': { type: 'string' },
  oauth2: { type: 'boolean', default: false },
  after: { type: 'string' },
  'no-check': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
} as const;

/** A mailbox that could not be reached, logged in to or opened: exit 1, nothing saved. */
export class MailboxCheckError extends Error {}

/**
 * Log in to the mailbox and open its folder read-only, as a poller will: a wrong password,
 * host or folder is said now, not later in a poller's readiness. Returns the messages in it.
 */
export async function checkMailbox(target: ImapTarget): Promise<number> {
  let session: ImapSession;
  try {
    session = await ImapSession.create(target, { connectTimeoutMs: 10_000, socketTimeoutMs: 30_000 });
  } catch (err) {
    if (err instanceof OAuth2TokenError) throw new MailboxCheckError(`cannot get an OAuth 2.0 access token for ${target.key}: ${err.reason}: ${err.message}`);
    throw err;
  }
  session.onError(() => undefined); // a failure surfaces as the rejected command
  const why = (err: unknown) => {
    const e = err as Error & ImapFailure;
    const line = explainImapFailure(e, target.oauth ? 'oauth2' : 'password');
    return imapFailureKind(e) === 'throttled' ? `${line}, or save it with --no-check` : line;
  };
  try {
    await session.connect();
  } catch (err) {
    throw new MailboxCheckError(`cannot log in to ${target.key}: ${why(err)}`);
  }
  try {
    return (await session.openFolder(target.folder, { readOnly: true })).exists;
  } catch (err) {
    throw new MailboxCheckError(`logged in to ${target.key}, but cannot open the folder ${target.folder}: ${why(err)}`);
  } finally {
    await session.logout();
  }
}

/** `checkMailbox` unless --no-check; says what it found on stderr (stdout may be --json). */
async function checked(target: ImapTarget, skip: boolean): Promise<void> {
  if (skip) return;
  const n = await checkMailbox(target);
  console.error(`logged in to ${target.key}${target.oauth ? ' with an OAuth 2.0 token' : ''}: ${n} message(s) in ${target.folder}`);
}

/** A new login from the options: a password, or (--oauth2) the BLEND_OAUTH_* settings of this environment. */
function readLogin(values: { 'password-file'?: string; 'password-env'?: string; oauth2?: boolean }, url: string): Login | null {
  const pass = readPassword(values);
  if (!values.oauth2) return pass === null ? null : { auth: 'password', secret: pass, target: { ...parseImapUrl(url), pass } };
  if (pass !== null) throw new UsageError('give --oauth2 or a password, not both');
  let settings: OAuthSettings;
  try {
    settings = oauthSettings(loadConfigSubset([...OAUTH_KEYS]));
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`--oauth2 takes the token settings from BLEND_OAUTH_*: ${err.issues.map((i) => `${i.variable} ${i.message}`).join('; ')}`);
    throw err;
  }
  const target = parseImapUrl(url);
  try {
    return { auth: 'oauth2', secret: JSON.stringify(settings), target: { ...target, pass: '', oauth: oauthLogin(settings, target.user) } };
  } catch (err) {
    throw new UsageError(`--oauth2: ${(err as Error).message}`);
  }
}

/** What `mailbox add|set` stores: how to log in, and the secret to seal (a password, or the OAuth settings as JSON). */
interface Login {
  auth: 'password' | 'oauth2';
  secret: string;
  target: ImapTarget;
}

/**
 * A mailbox URL as given to `mailbox add`: imap:// or imaps://, with a user and without a
 * password. The URL is never echoed in errors, in case it holds a password after all.
 */
function mailboxUrl(given: string): { url: string; key: string; folder: string } {
  let u: URL;
  try {
    u = new URL(given);
  } catch {
    throw new UsageError('the mailbox must be a URL such as imap://bridge%40example.com@imap.example.com:993/INBOX');
  }
  if (u.protocol !== 'imap:' && u.protocol !== 'imaps:') throw new UsageError('the mailbox URL must start with imap:// or imaps:// (imaps for TLS on port 993)');
  if (u.password) {
    throw new UsageError('leave the password out of the URL (command lines are visible to other users and kept in shell history); use --password-file FILE or --password-env VAR');
  }
  if (!u.username) throw new UsageError('the mailbox URL needs a user, e.g. imap://bridge%40example.com@imap.example.com/INBOX');
  if (u.search || u.hash) throw new UsageError('the mailbox URL takes no ?query or #fragment');
  const t = parseImapUrl(u.toString());
  return { url: u.toString(), key: t.key, folder: t.folder };
}

/** The mailbox a KEY argument names: a key as `mailbox list` prints it, or the mailbox's URL. */
function keyOf(arg: string | undefined, verb: string): string {
  if (!arg) throw new UsageError(`mailbox ${verb} takes the mailbox KEY (see \`blend mailbox list\`)`);
  return /^imaps?:\/\//i.test(arg) ? mailboxUrl(arg).key : arg;
}

/** The password from --password-file (one trailing newline dropped) or --password-env. */
function readPassword(values: { 'password-file'?: string; 'password-env'?: string }): string | null {
  const file = values['password-file'];
  const env = values['password-env'];
  if (file !== undefined && env !== undefined) throw new UsageError('give either --password-file or --password-env, not both');
  let pass: string | undefined;
  if (file !== undefined) {
    try {
      pass = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new UsageError(`cannot read --password-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (pass === '') throw new UsageError(`--password-file ${file} is empty`);
  } else if (env !== undefined) {
    pass = process.env[env];
    if (!pass) throw new UsageError(`--password-env ${env}: that environment variable is not set or empty`);
  }
  return pass ?? null;
}

/** `--after` checked against the watched folder; `default` (null) follows BLEND_IMAP_AFTER. */
function afterOption(value: string, folder: string): string | null {
  if (value === 'default') return null;
  try {
    const a = parseAfterAction(value);
    const problem = afterActionProblem(a, folder);
    if (problem) throw new UsageError(`--after: ${problem}`);
    return formatAfterAction(a);
  } catch (err) {
    if (err instanceof AfterActionError) throw new UsageError(`--after ${err.message}`);
    throw err;
  }
}

/** BLEND_IMAP_URL's key when the CLI's environment has it (only to tell it apart), else null. */
function primaryKey(): string | null {
  try {
    return parseImapUrl(loadConfigSubset(['BLEND_IMAP_URL']).BLEND_IMAP_URL).key;
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

function describeAfter(after: string | null): string {
  return after ?? `${loadConfigSubset(['BLEND_IMAP_AFTER']).BLEND_IMAP_AFTER} (BLEND_IMAP_AFTER)`;
}

/** A row as printed: never the password, only which key sealed it. */
function shown(row: WatchedMailbox) {
  return { key: row.key, url: row.url, auth: row.auth, enabled: row.enabled, after: row.after ?? 'default', created_at: row.createdAt.toISOString(), updated_at: row.updatedAt.toISOString() };
}

/** `blend mailbox add URL --password-file FILE|--password-env VAR [--after ACTION]`. */
export async function mailboxAdd(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: PASSWORD_OPTIONS });
  if (positionals.length !== 1) throw new UsageError('mailbox add takes one mailbox URL');
  const m = mailboxUrl(positionals[0]!);
  const login = readLogin(values, m.url);
  if (login === null) throw new UsageError('mailbox add needs the password (--password-file FILE or --password-env VAR) or --oauth2');
  const after = values.after === undefined ? null : afterOption(values.after, m.folder);
  if (m.key === primaryKey()) throw new UsageError(`${m.key} is BLEND_IMAP_URL, which is watched already`);
  const { BLEND_SECRET } = loadConfigSubset(['BLEND_SECRET']);
  if (await getWatchedMailbox(dbh.db, m.key)) throw new UsageError(`${m.key} is watched already; change it with \`blend mailbox set\``);
  await checked(login.target, values['no-check']);
  const row = await dbh.db.transaction((tx) =>
    addWatchedMailbox(tx, { key: m.key, url: m.url, passwordSealed: sealSecret(login.secret, BLEND_SECRET, m.key), auth: login.auth, after }, actor()),
  );
  if (!row) throw new UsageError(`${m.key} is watched already; change it with \`blend mailbox set\``);
  if (values.json) console.log(JSON.stringify(shown(row)));
  else console.log(`watching ${row.key} (after processing: ${describeAfter(row.after)}); pollers start within BLEND_MAILBOX_REFRESH_MS`);
  return 0;
}

/** `blend mailbox set KEY [--password-file|--password-env] [--after ACTION|default] [--enable|--disable]`. */
export async function mailboxSet(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...PASSWORD_OPTIONS, enable: { type: 'boolean', default: false }, disable: { type: 'boolean', default: false } },
  });
  if (positionals.length > 1) throw new UsageError('mailbox set takes one mailbox KEY');
  const key = keyOf(positionals[0], 'set');
  if (values.enable && values.disable) throw new UsageError('give --enable or --disable, not both');
  if (key === primaryKey()) throw new UsageError(`${key} is BLEND_IMAP_URL: change it (and BLEND_IMAP_AFTER) in the environment`);
  const row = await getWatchedMailbox(dbh.db, key);
  if (!row) throw new UsageError(`no watched mailbox ${key} (see \`blend mailbox list\`)`);
  const change: { passwordSealed?: string; auth?: 'password' | 'oauth2'; after?: string | null; enabled?: boolean } = {};
  const login = readLogin(values, row.url);
  if (login !== null) {
    await checked(login.target, values['no-check']);
    change.passwordSealed = sealSecret(login.secret, loadConfigSubset(['BLEND_SECRET']).BLEND_SECRET, key);
    change.auth = login.auth;
  }
  if (values.after !== undefined) change.after = afterOption(values.after, parseImapUrl(row.url).folder);
  if (values.enable) change.enabled = true;
  if (values.disable) change.enabled = false;
  if (Object.keys(change).length === 0) throw new UsageError('mailbox set needs a change: --password-file, --password-env, --oauth2, --after, --enable or --disable');
  const updated = await dbh.db.transaction((tx) => updateWatchedMailbox(tx, key, change, actor()));
  if (!updated) throw new UsageError(`no watched mailbox ${key}`);
  if (values.json) console.log(JSON.stringify(shown(updated)));
  else console.log(`${key}: ${updated.enabled ? 'enabled' : 'disabled'}, after processing: ${describeAfter(updated.after)}${login === null ? '' : login.auth === 'oauth2' ? ', new OAuth 2.0 settings' : ', new password'}`);
  return 0;
}

/** `blend mailbox remove KEY`: stop watching; inbound rows and the checkpoint stay. */
export async function mailboxRemove(dbh: DbHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  if (positionals.length > 1) throw new UsageError('mailbox remove takes one mailbox KEY');
  const key = keyOf(positionals[0], 'remove');
  if (key === primaryKey()) throw new UsageError(`${key} is BLEND_IMAP_URL: it is watched for as long as the environment names it`);
  const gone = await dbh.db.transaction((tx) => removeWatchedMailbox(tx, key, actor()));
  if (!gone) throw new UsageError(`no watched mailbox ${key} (see \`blend mailbox list\`)`);
  if (values.json) console.log(JSON.stringify({ key, removed: true }));
  else console.log(`${key}: no longer watched (its inbound mail and checkpoint are kept)`);
  return 0;
}

/**
 * `blend mailbox rekey`: re-encrypt every mailbox password with the current BLEND_SECRET,
 * after `blend keys rotate` (BLEND_SECRET_PREVIOUS must still be set).
 */
export async function mailboxRekey(dbh: DbHandle, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const cfg = loadConfigSubset(['BLEND_SECRET', 'BLEND_SECRET_PREVIOUS']);
  const secrets = [cfg.BLEND_SECRET, cfg.BLEND_SECRET_PREVIOUS];
  const counts = { resealed: 0, current: 0, failed: [] as string[] };
  for (const row of await listWatchedMailboxes(dbh.db)) {
    let opened: { plain: string; keyIndex: number };
    try {
      opened = openSecret(row.passwordSealed, secrets, row.key);
    } catch (err) {
      counts.failed.push(row.key);
      console.error(`${row.key}: ${(err as Error).message}; set its password again with \`blend mailbox set ${row.key} --password-file FILE\``);
      continue;
    }
    if (opened.keyIndex === 0) {
      counts.current++;
      continue;
    }
    const sealed = sealSecret(opened.plain, cfg.BLEND_SECRET, row.key);
    await dbh.db.transaction((tx) => updateWatchedMailbox(tx, row.key, { passwordSealed: sealed }, actor(), 'mailbox_rekey'));
    counts.resealed++;
  }
  // Webhook signing secrets are sealed the same way (and ones stored before sealing get sealed now).
  const hooks = { resealed: 0, current: 0, failed: [] as string[] };
  const currentKey = sealingKeyId(cfg.BLEND_SECRET);
  for (const h of await listWebhookSecrets(dbh.db)) {
    if (sealedKeyId(h.secret) === currentKey) {
      hooks.current++;
      continue;
    }
    try {
      await setWebhookSecret(dbh.db, h.id, sealSecret(webhookSigningSecret(h.secret, secrets), cfg.BLEND_SECRET, WEBHOOK_SECRET_CONTEXT));
      hooks.resealed++;
    } catch (err) {
      hooks.failed.push(h.id);
      console.error(`webhook ${h.id}: ${(err as Error).message}; delete it and register it again`);
    }
  }
  if (values.json) console.log(JSON.stringify({ ...counts, webhooks: hooks }));
  else {
    console.log(`re-encrypted ${counts.resealed} mailbox password(s) with BLEND_SECRET; ${counts.current} already were${counts.failed.length ? `; ${counts.failed.length} could not be decrypted` : ''}`);
    console.log(`re-encrypted ${hooks.resealed} webhook secret(s); ${hooks.current} already were${hooks.failed.length ? `; ${hooks.failed.length} could not be decrypted` : ''}`);
  }
  return counts.failed.length || hooks.failed.length ? 1 : 0;
}

/** BLEND_IMAP_AUTH of this environment (how BLEND_IMAP_URL logs in), or null when it cannot be read. */
function envImapAuth(): string | null {
  try {
    return loadConfigSubset(['BLEND_IMAP_AUTH']).BLEND_IMAP_AUTH;
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

/** `blend mailbox list`: every mailbox with its settings, lease holder, connection state and checkpoint. */
export async function mailboxList(dbh: DbHandle, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } } });
  const [rows, statuses] = await Promise.all([listWatchedMailboxes(dbh.db), mailboxStatuses(dbh.db)]);
  const primary = primaryKey();
  let current: string | null = null;
  try {
    current = sealingKeyId(loadConfigSubset(['BLEND_SECRET']).BLEND_SECRET);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
  }
  const inTable = new Set(rows.map((r) => r.key));
  // BLEND_IMAP_URL is not in the table: named by the environment, or seen as a live lease.
  const outside = [...statuses.values()].filter((s) => !inTable.has(s.mailbox) && (s.mailbox === primary || (primary === null && s.leaseLive))).map((s) => s.mailbox);
  if (primary && !outside.includes(primary)) outside.unshift(primary);
  const list = [
    ...outside.map((key) => ({ key, source: 'BLEND_IMAP_URL', enabled: true, after: primary === key ? describeAfter(null) : 'BLEND_IMAP_AFTER', auth: primary === key ? envImapAuth() : null, password_key: null as string | null })),
    ...rows.map((r) => ({
      key: r.key,
      source: 'watched_mailboxes',
      enabled: r.enabled,
      after: describeAfter(r.after),
      auth: r.auth,
      password_key: current === null ? null : sealedKeyId(r.passwordSealed) === current ? 'current' : 'not BLEND_SECRET (run `blend mailbox rekey`)',
    })),
  ].map((m) => {
    const s = statuses.get(m.key);
    return {
      ...m,
      holder: s?.leaseLive ? s.holder : null,
      state: s?.leaseLive ? s.state : null,
      last_error: s?.leaseLive ? s.lastError : null,
      last_sync_at: s?.lastSyncAt?.toISOString() ?? null,
      uid_validity: s?.uidValidity ?? null,
      last_uid: s?.lastUid ?? null,
      checkpoint_at: s?.checkpointAt?.toISOString() ?? null,
    };
  });
  if (values.json) {
    console.log(JSON.stringify(list));
    return 0;
  }
  for (const m of list) {
    console.log(`${m.key}  (${m.source}${m.enabled ? '' : ', disabled'})`);
    console.log(`  after processing  ${m.after}`);
    if (m.auth) console.log(`  login             ${m.auth === 'oauth2' ? 'OAuth 2.0 access token' : 'password'}`);
    console.log(`  poller            ${m.holder ? `${m.holder}, ${m.state ?? 'starting'}${m.last_error ? ` (${m.last_error})` : ''}` : m.enabled ? 'none holds the lease (no poller running?)' : 'none (disabled)'}`);
    console.log(`  checkpoint        ${m.uid_validity === null ? 'none yet' : `UIDVALIDITY ${m.uid_validity}, last UID ${m.last_uid}, at ${m.checkpoint_at}`}; last sync ${m.last_sync_at ?? 'unknown'}`);
    if (m.password_key && m.password_key !== 'current') console.log(`  password          ${m.password_key}`);
  }
  if (list.length === 0) console.log('no mailboxes (BLEND_IMAP_URL is not set here, and none were added)');
  return 0;
}
