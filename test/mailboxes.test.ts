import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq, inArray } from 'drizzle-orm';
import { mailboxStatuses, schema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { asDelivered, createMailDomain, withImap, type MailDomain } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { freePorts } from './support/ports';
import { run } from './support/process';
import { serviceEnv, startStack, type Stack } from './support/stack';

// Several watched mailboxes: IT adds, changes, disables and removes mailboxes with
// `blend mailbox …` while poller processes run, and the pollers follow without a restart.
// The extra mailboxes receive mail for the bridge domain (as a second server or a shared
// mailbox would), so their mail is APPENDed as delivered.
let s: Stack;
let second: MailDomain;
let third: MailDomain;
const procs: ReturnType<typeof run>[] = [];
let ports: number[] = [];
/** The mailbox the first poller handed over to the second (it got one more mail). */
let handedOver = '';

const withoutPassword = (imapUrl: string) => {
  const u = new URL(imapUrl);
  u.password = '';
  return u.toString();
};
const keyOf = (imapUrl: string) => parseImapUrl(imapUrl).key;
const passwordFile = (password: string) => {
  const file = path.join(tmpdir(), `blend-pw-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return file;
};

const cliEnv = () => ({ DATABASE_URL: s.config.DATABASE_URL, BLEND_SECRET: s.config.BLEND_SECRET, BLEND_IMAP_URL: s.config.BLEND_IMAP_URL });
async function blend(args: string[], env: Record<string, string> = {}): Promise<string> {
  const p = run(['services/cli/src/cli.ts', ...args], { ...cliEnv(), ...env }, { timeoutMs: 90_000 });
  const { code } = await p.done;
  if (code !== 0) throw new Error(`blend ${args.join(' ')} exited ${code}: ${p.err()}`);
  return p.out();
}

function startPoller(port: number) {
  const env = serviceEnv(s, { BLEND_POLL_INTERVAL_MS: '1000', BLEND_MAILBOX_REFRESH_MS: '1000', BLEND_POLLER_HEALTH_PORT: String(port), LOG_LEVEL: 'info' });
  const p = run(['services/poller/src/main.ts'], env, { timeoutMs: 600_000 });
  procs.push(p);
  return p;
}

async function readyz(port: number): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, checks: ((await res.json()) as { checks: Record<string, string> }).checks };
}

/** Which mailboxes the poller on `port` holds the lease of, from its /metrics. */
async function held(port: number): Promise<Set<string>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return new Set([...text.matchAll(/^blend_poller_lease_held\{mailbox="([^"]+)"\} 1$/gm)].map((m) => m[1]!));
}

/** Put a mail for the bridge into another mailbox's INBOX, as its server would deliver it. */
async function deliverTo(mailbox: MailDomain, subject: string): Promise<string> {
  const m = buildMessage({ from: 'Alice <alice@corp.test>', to: `status@${s.mail.domain}`, subject });
  await withImap(mailbox.imapUrl, (c) => c.append('INBOX', asDelivered(m.raw, 'alice@corp.test')));
  return m.messageId;
}

const liveHolder = async (key: string) => {
  const st = (await mailboxStatuses(s.db.db)).get(key);
  return st?.leaseLive ? st : undefined;
};

beforeAll(async () => {
  ports = await freePorts(2);
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000', BLEND_RATE_SENDER_PER_MINUTE: '0', BLEND_RATE_SENDER_PER_HOUR: '0', BLEND_RATE_THREAD_PER_MINUTE: '0' }, { poller: false });
  await s.person('alice@corp.test', { name: 'Alice' });
  [second, third] = await Promise.all([createMailDomain(), createMailDomain()]);
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.done));
  await s?.stop();
}, 60_000);

describe('watched mailboxes', () => {
  it('a mailbox added with `blend mailbox add` is watched without restarting the poller, and its mail becomes posts', async () => {
    const poller = startPoller(ports[0]!);
    await waitFor(async () => (await readyz(ports[0]!)).status === 200, 'the poller ready', 30_000, 200);
    const first = await deliverTo(s.mail, 'Into the first mailbox');
    expect((await finalRow(s.db.db, first, 30_000)).state).toBe('posted');

    const out = await blend(['mailbox', 'add', withoutPassword(second.imapUrl), '--password-file', passwordFile(second.password), '--json']);
    expect(JSON.parse(out)).toMatchObject({ key: keyOf(second.imapUrl), enabled: true, after: 'default' });
    const id = await deliverTo(second, 'Into the second mailbox');
    const row = await finalRow(s.db.db, id, 30_000);
    expect(row).toMatchObject({ state: 'posted', mailbox: keyOf(second.imapUrl) });
    expect(poller.child.exitCode).toBeNull();
    expect(await held(ports[0]!)).toEqual(new Set([keyOf(s.mail.imapUrl), keyOf(second.imapUrl)]));
  }, 120_000);

  it('a wrong password fails only that mailbox: readiness and `mailbox list` name it, the others keep working', async () => {
    const bad = keyOf(third.imapUrl);
    // `mailbox add` tries the login first and saves nothing when it is refused…
    const refused = run(['services/cli/src/cli.ts', 'mailbox', 'add', withoutPassword(third.imapUrl), '--password-env', 'THIRD_PW'], { ...cliEnv(), THIRD_PW: 'not-the-password-1234' }, { timeoutMs: 90_000 });
    expect((await refused.done).code).toBe(1);
    expect(refused.err()).toContain(`cannot log in to ${bad}: the login was refused`);
    const noFolder = run(['services/cli/src/cli.ts', 'mailbox', 'add', withoutPassword(second.imapUrl).replace(/\/INBOX$/, '/Nope'), '--password-file', passwordFile(second.password)], cliEnv(), { timeoutMs: 90_000 });
    expect((await noFolder.done).code).toBe(1);
    expect(noFolder.err()).toMatch(/but cannot open the folder Nope/);
    expect(refused.err()).not.toContain('not-the-password-1234');
    expect(JSON.parse(await blend(['mailbox', 'list', '--json'])).map((m: { key: string }) => m.key)).not.toContain(bad);
    // …and --no-check saves it anyway (a server the admin host cannot reach): the poller then says why.
    await blend(['mailbox', 'add', withoutPassword(third.imapUrl), '--password-env', 'THIRD_PW', '--no-check'], { THIRD_PW: 'not-the-password-1234' });
    const r = await waitFor(async () => {
      const x = await readyz(ports[0]!);
      return x.status === 503 && /IMAP login failed/.test(x.checks[`imap ${bad}`] ?? '') ? x : undefined;
    }, 'readiness to name the failing mailbox', 30_000, 200);
    expect(r.checks.imap).toBe('ok');
    expect(r.checks[`imap ${keyOf(second.imapUrl)}`]).toBe('ok');
    await waitFor(async () => (await liveHolder(bad))?.state === 'auth_failed', 'the auth failure recorded', 10_000);

    const id = await deliverTo(second, 'Still flowing');
    expect((await finalRow(s.db.db, id, 30_000)).state).toBe('posted');
    const list = JSON.parse(await blend(['mailbox', 'list', '--json'])) as { key: string; state: string | null; last_error: string | null; holder: string | null }[];
    expect(list.find((m) => m.key === bad)).toMatchObject({ state: 'auth_failed', last_error: expect.stringMatching(/auth/i) });
    expect(list.find((m) => m.key === keyOf(second.imapUrl))).toMatchObject({ state: 'connected', holder: expect.any(String) });
    expect(list.find((m) => m.key === keyOf(s.mail.imapUrl))).toMatchObject({ state: 'connected' });
    const text = await blend(['mailbox', 'list']);
    expect(text).toContain('auth_failed');
    const logs = procs[0]!.out() + procs[0]!.err();
    expect(logs).toContain('IMAP login failed');
    expect(logs).toContain(`blend mailbox set ${bad} --password-file FILE`);
    for (const secret of ['not-the-password-1234', second.password, third.password, s.mail.password]) {
      expect(logs + JSON.stringify(list) + text).not.toContain(secret);
    }

    // The right password, set while the poller runs: the mailbox connects.
    await blend(['mailbox', 'set', bad, '--password-file', passwordFile(third.password)]);
    await waitFor(async () => (await liveHolder(bad))?.state === 'connected', 'the mailbox connected', 30_000, 200);
    expect((await readyz(ports[0]!)).status).toBe(200);
  }, 180_000);

  it('disabling a mailbox stops its watch; enabling it again reads what arrived meanwhile', async () => {
    const key = keyOf(second.imapUrl);
    await blend(['mailbox', 'set', key, '--disable']);
    await waitFor(async () => !(await held(ports[0]!)).has(key) && !(await liveHolder(key)), 'the lease released', 15_000, 200);
    const waiting = await deliverTo(second, 'Sent while disabled');
    // The poller is alive and syncing (the first mailbox's mail is posted), but not here.
    const marker = await deliverTo(s.mail, 'Marker');
    expect((await finalRow(s.db.db, marker, 30_000)).state).toBe('posted');
    expect(await s.db.db.select().from(schema.inboundMessages).where(eq(schema.inboundMessages.messageId, waiting))).toEqual([]);
    expect((await readyz(ports[0]!)).checks[`imap ${key}`]).toBeUndefined();

    await blend(['mailbox', 'set', key, '--enable']);
    expect((await finalRow(s.db.db, waiting, 30_000)).state).toBe('posted');
  }, 120_000);

  it('two poller processes share the mailboxes out and poll each once, and the survivor takes every mailbox after a SIGKILL', async () => {
    const keys = [keyOf(s.mail.imapUrl), keyOf(second.imapUrl), keyOf(third.imapUrl)];
    // The first poller holds all three until the second starts; then it hands one over.
    await waitFor(async () => (await held(ports[0]!)).size === 3, 'the first poller holding all three', 30_000, 200);
    startPoller(ports[1]!);
    await waitFor(async () => (await readyz(ports[1]!)).status === 200, 'the second poller ready', 30_000, 200);
    const [a, b] = await waitFor(async () => {
      const both = await Promise.all([held(ports[0]!), held(ports[1]!)]);
      return both[0].size === 2 && both[1].size === 1 ? both : undefined;
    }, 'the mailboxes shared out 2 + 1', 30_000, 200);
    for (const k of keys) expect([a.has(k), b.has(k)].filter(Boolean)).toHaveLength(1);
    const moved = (handedOver = [...b][0]!);
    // Mail to the mailbox that moved is read by its new holder.
    const which = [s.mail, second, third].find((m) => keyOf(m.imapUrl) === moved)!;
    expect((await finalRow(s.db.db, await deliverTo(which, 'After the handover'), 30_000)).state).toBe('posted');
    const rows = await s.db.db.select().from(schema.mailboxLeases).where(inArray(schema.mailboxLeases.mailbox, keys));
    expect(rows).toHaveLength(3);

    // Kill the process that holds the first mailbox (so at least one mailbox must move).
    const victim = a.has(keys[0]!) ? 0 : 1;
    const dead = rows.find((r) => r.mailbox === keys[0])!.holder;
    procs[victim]!.kill('SIGKILL');
    await waitFor(async () => {
      const st = await mailboxStatuses(s.db.db);
      return keys.every((k) => st.get(k)?.leaseLive && st.get(k)?.holder !== dead && st.get(k)?.state === 'connected');
    }, 'the survivor to hold every mailbox', 30_000, 200);
    expect(await held(ports[1 - victim]!)).toEqual(new Set(keys));
    const ids = await Promise.all([deliverTo(s.mail, 'After failover 1'), deliverTo(second, 'After failover 2'), deliverTo(third, 'After failover 3')]);
    for (const id of ids) expect((await finalRow(s.db.db, id, 30_000)).state).toBe('posted');
    ports.splice(victim, 1);
  }, 120_000);

  it('removing a mailbox stops watching it and keeps its inbound mail and checkpoint (audited)', async () => {
    const key = keyOf(second.imapUrl);
    const port = ports[0]!;
    const before = (await s.db.db.select({ n: count() }).from(schema.inboundMessages).where(eq(schema.inboundMessages.mailbox, key)))[0]!.n;
    expect(before).toBeGreaterThanOrEqual(4);
    await blend(['mailbox', 'remove', key]);
    await waitFor(async () => !(await held(port)).has(key) && !(await liveHolder(key)), 'the lease released', 15_000, 200);
    const after = (await s.db.db.select({ n: count() }).from(schema.inboundMessages).where(eq(schema.inboundMessages.mailbox, key)))[0]!.n;
    expect(after).toBe(before);
    expect((await mailboxStatuses(s.db.db)).get(key)?.lastUid).toBeGreaterThanOrEqual(4);
    const list = JSON.parse(await blend(['mailbox', 'list', '--json'])) as { key: string }[];
    expect(list.map((m) => m.key)).not.toContain(key);
    const audit = await s.db.db.select().from(schema.auditLog).where(eq(schema.auditLog.subject, key));
    expect(audit.map((x) => x.action).sort()).toEqual(['mailbox_add', 'mailbox_remove', 'mailbox_set', 'mailbox_set']);
  }, 120_000);

  it('`mailbox backfill` needs a KEY when several mailboxes are watched', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const p = run(['services/cli/src/cli.ts', 'mailbox', 'backfill', '--since', today], cliEnv(), { timeoutMs: 90_000 });
    expect((await p.done).code).toBe(2);
    expect(p.err()).toContain('several mailboxes are watched; name one:');
    expect(p.err()).toContain(keyOf(third.imapUrl));
    const out = await blend(['mailbox', 'backfill', keyOf(third.imapUrl), '--since', today]);
    // Today: "After failover 3", and "After the handover" if this mailbox was the one moved.
    const since = handedOver === keyOf(third.imapUrl) ? 2 : 1;
    expect(out).toMatch(new RegExp(`checkpoint moved to UID \\d+; the poller re-reads ${since} message\\(s\\)`));
  }, 60_000);
});
