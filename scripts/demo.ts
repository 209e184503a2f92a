// `pnpm demo`: the whole loop on one machine. Uses the settings in the environment when
// they are all given; otherwise starts local defaults (Postgres, Redis, Dovecot, Postfix on
// loopback via scripts/services.sh), seeds two people, mails a thread to the bridge and
// prints where to look. `pnpm demo --once` exits after the thread is visible.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import pg from 'pg';
import { addressingFrom, loadConfig, publicUrl, type Config } from '@blend/config';
import { createLogger } from '@blend/runtime';
import { bridgeAddress } from '@blend/core';
import { createDb, getEsnPostView, issueApiToken, listFeedFiltered, upsertPerson } from '@blend/db';
import { startAll } from './run-all';
import { createMailDomain, fetchRawMessages, headerValues, type MailDomain } from '../test/support/mail-server';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const once = process.argv.includes('--once');
const REQUIRED = ['DATABASE_URL', 'REDIS_URL', 'BLEND_IMAP_URL', 'BLEND_SMTP_URL', 'BLEND_SECRET'];

function say(msg: string): void {
  process.stdout.write(`demo: ${msg}\n`);
}

/** In local mode, a mailbox domain for the demo's people, so the way back to email can be shown. */
let peopleMail: MailDomain | null = null;

async function localDefaults(): Promise<Record<string, string>> {
  const services = path.join(root, 'scripts/services.sh');
  const hasMailServers = existsSync('/usr/sbin/dovecot') && existsSync('/usr/sbin/postfix');
  if (!hasMailServers) {
    say('installing Dovecot and Postfix (Debian packages) for the local mail server...');
    execFileSync(services, ['install'], { stdio: 'inherit' });
  }
  say('starting local Postgres, Redis, Dovecot (IMAP 143) and Postfix (SMTP 2525) on 127.0.0.1...');
  execFileSync(services, ['up'], { stdio: 'inherit' });

  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  const exists = await admin.query("select 1 from pg_database where datname = 'blend_demo'");
  if (exists.rowCount === 0) await admin.query('create database blend_demo');
  await admin.end();

  const stateDir = path.join(root, '.blend');
  mkdirSync(stateDir, { recursive: true });
  // The demo's people get real mailboxes (a fresh *.test domain in the local Dovecot).
  peopleMail = await createMailDomain();
  const secretFile = path.join(stateDir, 'demo-secret');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  // `BLEND_ADDRESSING=plus pnpm demo`: one ordinary mailbox (no catch-all) whose sub-addresses
  // are Blend's addresses, as in Microsoft 365 or Google Workspace.
  const bridge =
    process.env.BLEND_ADDRESSING === 'plus'
      ? await createMailDomain({ catchAll: false }).then((m) => ({ BLEND_IMAP_URL: m.imapUrl, BLEND_MAIL_ADDRESS: m.user }))
      : { BLEND_IMAP_URL: 'imap://bridge%40example.test:secret@127.0.0.1:143/INBOX', BLEND_MAIL_DOMAIN: 'example.test' };
  return {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/blend_demo',
    REDIS_URL: 'redis://127.0.0.1:6379',
    BLEND_SMTP_URL: 'smtp://127.0.0.1:2525',
    ...bridge,
    BLEND_SECRET: readFileSync(secretFile, 'utf8').trim(),
    BLEND_QUEUE_PREFIX: 'blend-demo',
    // The demo's senders (corp.test) have no DNS, so DKIM/SPF/DMARC cannot pass: this is the
    // local-trial mode, which logs a warning at every start. Never use it in production.
    BLEND_SENDER_AUTH: 'none',
    BLEND_ORG_DOMAINS: `corp.test,${peopleMail.domain}`,
  };
}

async function main(): Promise<void> {
  const addressVariable = process.env.BLEND_ADDRESSING === 'plus' ? 'BLEND_MAIL_ADDRESS' : 'BLEND_MAIL_DOMAIN';
  const given = [...REQUIRED, addressVariable].every((k) => process.env[k]);
  const env = given ? process.env : { ...process.env, ...(await localDefaults()) };
  if (given) say('using the settings from the environment');
  const config: Config = loadConfig(env);
  const log = createLogger('demo', process.env.LOG_LEVEL ?? 'warn');
  const running = await startAll(config, log);

  const dbh = createDb(config.DATABASE_URL, { max: 2 });
  const domain = peopleMail?.domain ?? 'corp.test';
  const [danaAddr, samAddr] = [`dana@${domain}`, `sam@${domain}`];
  const { person: dana } = await upsertPerson(dbh.db, { email: danaAddr, name: 'Dana Demo', optIn: true });
  await upsertPerson(dbh.db, { email: samAddr, name: 'Sam Sample', optIn: true });
  const { person: erin } = await upsertPerson(dbh.db, { email: `erin@${domain}`, name: 'Erin Esn', optIn: true });
  const token = await issueApiToken(dbh.db, dana.id, 'demo');
  const erinToken = await issueApiToken(dbh.db, erin.id, 'demo');

  const smtp = new URL(config.BLEND_SMTP_URL);
  const transport = nodemailer.createTransport({
    host: smtp.hostname,
    port: Number(smtp.port || 25),
    secure: smtp.protocol === 'smtps:',
    ...(smtp.username ? { auth: { user: decodeURIComponent(smtp.username), pass: decodeURIComponent(smtp.password) } } : {}),
  });
  const run = randomBytes(4).toString('hex');
  const first = `<demo-${run}-1@${domain}>`;
  const bridge = bridgeAddress(addressingFrom(config), { kind: 'status' });
  say(`mailing a new thread from ${danaAddr} to ${bridge} ...`);
  await transport.sendMail({
    from: `Dana Demo <${danaAddr}>`,
    to: bridge,
    subject: `[team] Demo ${run}: the new office opens on Monday`,
    messageId: first,
    text: 'Good news: the new office opens on Monday. Desks are booked through the usual page.\n\nDana\n-- \nDana Demo, Facilities',
  });
  say(`... and a reply from ${samAddr}, quoting it`);
  await transport.sendMail({
    from: `Sam Sample <${samAddr}>`,
    to: `Dana Demo <${danaAddr}>`,
    cc: bridge,
    envelope: { from: samAddr, to: [bridge] },
    subject: `Re: [team] Demo ${run}: the new office opens on Monday`,
    inReplyTo: first,
    references: [first],
    text: 'Great, I will bring the coffee machine.\n\nOn Monday, Dana Demo wrote:\n> Good news: the new office opens on Monday.',
  });

  const deadline = Date.now() + 60_000;
  let postId: string | undefined;
  while (Date.now() < deadline) {
    const page = await listFeedFiltered(dbh.db, { limit: 20, viewerId: null });
    const post = page.items.find((p) => p.title.includes(`Demo ${run}`));
    if (post && post.comments.length > 0) {
      postId = post.id;
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!postId) {
    say('the thread did not appear within 60 s; see `pnpm blend inbound list` and the logs above');
    await dbh.close();
    await running.stop();
    process.exit(1);
  }
  const base = publicUrl(config);
  let view = (await getEsnPostView(dbh.db, postId, null))!;
  say('');
  say(`mirrored thread: "${view.title}" by ${view.author.name}, ${view.comments.length} comment(s)`);
  say(`  post:    ${view.body_text.split('\n')[0]}`);
  for (const c of view.comments) say(`  comment: ${c.author.name}: ${c.body_text.split('\n')[0]}`);

  if (peopleMail) {
    // The way back: an ESN comment reaches the mail conversation; a reply to it comes back in.
    say('');
    say('Erin comments on the ESN side (POST /api/v1/posts/:id/comments) ...');
    const res = await fetch(`${base}/api/v1/posts/${postId}/comments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${erinToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'Lovely! I will put up signs in the lobby.' }),
    });
    if (res.status !== 201) say(`  the API answered ${res.status}: ${await res.text()}`);
    const mirror = await waitForMail(peopleMail, danaAddr, /Erin Esn via Blend/);
    if (mirror) {
      const replyTo = headerValues(mirror, 'reply-to')[0] ?? '';
      say(`... and it reached ${danaAddr} as a reply in her conversation:`);
      for (const h of ['from', 'subject', 'in-reply-to', 'reply-to']) say(`  ${h}: ${headerValues(mirror, h)[0] ?? ''}`);
      const address = /<([^>]+)>/.exec(replyTo)?.[1] ?? replyTo;
      say(`Dana answers by replying to that mail (to ${address}) ...`);
      await transport.sendMail({
        from: `Dana Demo <${danaAddr}>`,
        to: address,
        subject: `Re: ${view.title}`,
        inReplyTo: headerValues(mirror, 'message-id')[0],
        text: 'Thanks Erin!\n\nOn Monday, Erin Esn via Blend wrote:\n> Lovely! I will put up signs in the lobby.',
      });
      const until = Date.now() + 30_000;
      while (Date.now() < until && view.comments.length < 3) {
        await new Promise((r) => setTimeout(r, 250));
        view = (await getEsnPostView(dbh.db, postId, null))!;
      }
      for (const c of view.comments.slice(1)) say(`  comment: ${c.author.name} (${c.source}): ${c.body_text.split('\n')[0]}`);
    } else {
      say('  the mirrored comment did not arrive within 30 s; see `pnpm blend inbound list` and the worker log');
    }
  }
  transport.close();
  await dbh.close();
  say('');
  say('Where to look:');
  say(`  curl -s -H 'Authorization: Bearer ${token}' ${base}/api/v1/feed`);
  say(`  curl -s -H 'Authorization: Bearer ${token}' ${base}/api/v1/posts/${postId}`);
  say(`  curl -s ${base}/readyz`);
  say('  pnpm blend inbound list     (with DATABASE_URL=' + config.DATABASE_URL.replace(/:[^:@/]*@/, ':***@') + ')');
  say(`  send more: swaks --server 127.0.0.1:2525 --to ${bridge} --from ${danaAddr} --header 'Subject: Hello' --body 'Hi all'`);
  say(`  digests now: pnpm blend digest --now --person ${danaAddr}`);
  if (once) {
    await running.stop();
    process.exit(0);
  }
  say('running; press Ctrl-C to stop');
  const stop = () => void running.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The first mail to `address` whose From matches, within 30 s. */
async function waitForMail(box: MailDomain, address: string, from: RegExp): Promise<string | undefined> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    for (const m of await fetchRawMessages(box.imapUrl)) {
      const raw = m.source.toString('utf8');
      if (headerValues(raw, 'delivered-to').includes(address) && from.test(headerValues(raw, 'from')[0] ?? '')) return raw;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return undefined;
}

await main();
