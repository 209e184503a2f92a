import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { count, eq } from 'drizzle-orm';
import { leaseHolder, schema } from '@blend/db';
import { parseImapUrl } from '@blend/mail';
import { waitFor } from './support/database';
import { sendRaw } from './support/mail-server';
import { buildMessage, finalRow } from './support/messages';
import { freePort, freePorts } from './support/ports';
import { run } from './support/process';
import { serviceEnv, startStack, type Stack } from './support/stack';

// What IT sees and does: metrics, health of every service, replay and reprocess, and a
// second poller taking over the mailbox when the first dies.
let s: Stack;
let token: string;
// An operator's own legal footer, cut by ingest and by a reprocess alike.
const DISCLAIMERS = 'regex:/^ACME-INTERNAL:/';
const env = (extra: Record<string, string> = {}) => serviceEnv(s, extra);

beforeAll(async () => {
  s = await startStack({ BLEND_POLL_INTERVAL_MS: '1000', BLEND_DISCLAIMER_PATTERNS: DISCLAIMERS }, { poller: false });
  token = await s.person('alice@corp.test', { name: 'Alice' });
});
afterAll(async () => s?.stop());

describe('pollers: one lease per mailbox, failover when the holder dies', () => {
  it('lets exactly one of two poller processes poll, and the other takes over after a SIGKILL', async () => {
    const key = parseImapUrl(s.mail.imapUrl).key;
    const ports = await freePorts(2);
    const procs = ports.map((p) => run(['services/poller/src/main.ts'], env({ BLEND_POLLER_HEALTH_PORT: String(p) }), { timeoutMs: 120_000 }));
    try {
      const first = await waitFor(() => leaseHolder(s.db.db, key), 'a lease holder', 30_000, 100);
      // Both are ready: the holder with its IMAP session, the other as a standby.
      for (const p of ports) await waitFor(async () => (await fetch(`http://127.0.0.1:${p}/readyz`)).ok, `poller on ${p} ready`, 20_000, 200);
      const held = await Promise.all(ports.map(async (p) => /blend_poller_lease_held\{mailbox="[^"]+"\} 1/.test(await (await fetch(`http://127.0.0.1:${p}/metrics`)).text())));
      expect(held.filter(Boolean)).toHaveLength(1);
      const holderIdx = held.indexOf(true);

      procs[holderIdx]!.kill('SIGKILL');
      const killedAt = Date.now();
      const second = await waitFor(async () => {
        const h = await leaseHolder(s.db.db, key);
        return h && h !== first ? h : undefined;
      }, 'the standby to take the lease', 20_000, 100);
      expect(Date.now() - killedAt).toBeLessThan(15_000);

      const m = buildMessage({ from: 'alice@corp.test', to: `status@${s.mail.domain}`, subject: 'After the failover' });
      await sendRaw(m.raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
      expect((await finalRow(s.db.db, m.messageId, 30_000)).state).toBe('posted');
      const metrics = await (await fetch(`http://127.0.0.1:${ports[1 - holderIdx]}/metrics`)).text();
      expect(metrics).toMatch(/blend_poller_lease_held\{mailbox="[^"]+"\} 1/);
    } finally {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.done));
    }
  });
});

describe('a failed IMAP login is loud', () => {
  it('fails readiness with the reason and counts the failure', async () => {
    const p = await freePort();
    const bad = new URL(s.mail.imapUrl);
    bad.password = 'wrong-password';
    const proc = run(['services/poller/src/main.ts'], env({ BLEND_IMAP_URL: bad.toString(), BLEND_POLLER_HEALTH_PORT: String(p), BLEND_QUEUE_PREFIX: `bt${randomBytes(3).toString('hex')}` }), { timeoutMs: 60_000 });
    try {
      // The other mailbox key (same mailbox, other password) has no holder, so this one takes it.
      const body = await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${p}/readyz`).catch(() => null);
        if (!res || res.status !== 503) return undefined;
        const b = (await res.json()) as { checks: Record<string, string> };
        return /login failed/.test(b.checks.imap ?? '') ? b : undefined;
      }, 'readiness to fail', 30_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}; the poller wrote:\n${proc.out().slice(-4000)}\n${proc.err().slice(-2000)}`);
      });
      expect(body.checks.imap).toMatch(/IMAP login failed/);
      const metrics = await (await fetch(`http://127.0.0.1:${p}/metrics`)).text();
      expect(metrics).toMatch(/blend_imap_auth_failures_total\{mailbox="[^"]+"\} [1-9]/);
      expect(proc.out()).toContain('IMAP login failed');
      expect(proc.out()).not.toContain('wrong-password');
    } finally {
      proc.kill('SIGTERM');
      await proc.done;
    }
  });
});

describe('metrics', () => {
  it('counts inbound mail by state and reason and exposes queue depth and poll lag', async () => {
    await s.startPoller();
    const m = buildMessage({ from: 'alice@corp.test', to: `status@${s.mail.domain}`, subject: 'Counted' });
    await sendRaw(m.raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
    await finalRow(s.db.db, m.messageId);
    const res = await s.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/blend_inbound_messages_total\{state="posted",reason=""\} [1-9]/);
    expect(res.body).toMatch(/blend_ingest_latency_seconds_count [1-9]/);
    expect(res.body).toMatch(/blend_queue_depth\{queue="ingest",state="waiting"\} \d+/);
    expect(res.body).toMatch(/blend_queue_depth\{queue="ingest-backlog",state="waiting"\} \d+/);
    for (const q of ['send', 'webhook', 'digest']) expect(res.body).toMatch(new RegExp(`blend_queue_depth\\{queue="${q}",state="delayed"\\} \\d+`));
    expect(res.body).toMatch(/blend_notifications_pending \d+/);
    expect(res.body).toContain('# TYPE blend_digest_run_duration_seconds histogram');
    expect(res.body).toMatch(/blend_poll_lag_seconds \d/);
    expect(res.body).toMatch(/blend_imap_connected\{mailbox="[^"]+"\} 1/);
    expect(res.body).not.toContain(s.config.BLEND_SECRET);
  });
});

describe('replay and reprocess', () => {
  const blend = (...args: string[]) => run(['services/cli/src/cli.ts', ...args], env());

  it('replays a withheld message after the person opts in by an admin', async () => {
    const m = buildMessage({ from: 'zoe@corp.test', to: `status@${s.mail.domain}`, subject: 'Withheld then replayed' });
    await sendRaw(m.raw, { from: 'zoe@corp.test', to: `status@${s.mail.domain}` });
    const row = await finalRow(s.db.db, m.messageId);
    expect(row).toMatchObject({ state: 'withheld', reason: 'sender_unknown' });
    await s.person('zoe@corp.test');
    const p = blend('inbound', 'replay', row.id);
    expect((await p.done).code).toBe(0);
    expect(p.out()).toContain('withheld -> received');
    await waitFor(async () => (await finalRow(s.db.db, m.messageId)).state === 'posted', 'the replayed post');
    const audit = await s.db.db.select().from(schema.auditLog).where(eq(schema.auditLog.subject, row.id));
    expect(audit.map((a) => a.action)).toEqual(['replay_inbound']);
  });

  it('shows what a rule change would do with --dry-run, and applies it without', async () => {
    const m = buildMessage({ from: 'alice@corp.test', to: `status@${s.mail.domain}`, subject: 'Ticket', body: 'See PROJ-4711 for details.' });
    await sendRaw(m.raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
    const row = await finalRow(s.db.db, m.messageId);
    const rules = { BLEND_REDACT: 'card,iban,ticket=regex:/\\bPROJ-\\d+\\b/' };
    const dry = run(['services/cli/src/cli.ts', 'inbound', 'reprocess', row.id, '--dry-run', '--json'], env(rules));
    expect((await dry.done).code).toBe(0);
    expect(JSON.parse(dry.out())).toMatchObject({ changed: true, applied: false, stored: { body_text: 'See PROJ-4711 for details.' }, reprocessed: { body_text: 'See [redacted ticket] for details.' } });
    const [before] = await s.db.db.select().from(schema.posts).where(eq(schema.posts.id, row.postId!));
    expect(before!.bodyText).toBe('See PROJ-4711 for details.');

    const apply = run(['services/cli/src/cli.ts', 'inbound', 'reprocess', row.id], env(rules));
    expect((await apply.done).code).toBe(0);
    const [after] = await s.db.db.select().from(schema.posts).where(eq(schema.posts.id, row.postId!));
    expect(after).toMatchObject({ bodyText: 'See [redacted ticket] for details.' });
    expect(after!.editedAt).not.toBeNull();
  });

  it('cuts an operator-defined footer on reprocess as ingest did', async () => {
    const body = 'Ship on Friday.\n\nACME-INTERNAL: this message is meant for its addressees only.';
    const m = buildMessage({ from: 'alice@corp.test', to: `status@${s.mail.domain}`, subject: 'Footer', body });
    await sendRaw(m.raw, { from: 'alice@corp.test', to: `status@${s.mail.domain}` });
    const row = await finalRow(s.db.db, m.messageId);
    expect(row.state).toBe('posted');
    const [post] = await s.db.db.select().from(schema.posts).where(eq(schema.posts.id, row.postId!));
    expect(post!.bodyText).toBe('Ship on Friday.');

    const p = run(['services/cli/src/cli.ts', 'inbound', 'reprocess', row.id, '--json'], env({ BLEND_DISCLAIMER_PATTERNS: DISCLAIMERS }));
    expect((await p.done).code).toBe(0);
    expect(JSON.parse(p.out())).toMatchObject({ changed: false, applied: false, reprocessed: { body_text: 'Ship on Friday.' } });
  });

  it('shows the configuration with secrets masked', async () => {
    const p = run(['services/cli/src/cli.ts', 'config', 'show'], env());
    expect((await p.done).code).toBe(0);
    const shown = JSON.parse(p.out()) as Record<string, string>;
    expect(shown.BLEND_SECRET).toBe('********');
    expect(p.out()).not.toContain(s.config.BLEND_SECRET);
    expect(shown.BLEND_IMAP_URL).not.toContain(parseImapUrl(s.mail.imapUrl).pass);
  });
});

describe('posts stay unique', () => {
  it('has exactly one post per message after everything above', async () => {
    const posts = await s.db.db.select({ n: count() }).from(schema.posts);
    const published = await s.db.db.select({ n: count() }).from(schema.inboundMessages).where(eq(schema.inboundMessages.state, 'posted'));
    expect(posts[0]!.n).toBe(published[0]!.n);
  });
});
