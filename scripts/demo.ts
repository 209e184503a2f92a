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
import { createLogger, loadConfig, publicUrl, type Config } from '@blend/config';
import { createDb, getEsnPostView, issueApiToken, listFeedFiltered, upsertPerson } from '@blend/db';
import { startAll } from './run-all';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const once = process.argv.includes('--once');
const REQUIRED = ['DATABASE_URL', 'REDIS_URL', 'BLEND_IMAP_URL', 'BLEND_SMTP_URL', 'BLEND_MAIL_DOMAIN', 'BLEND_SECRET'];

function say(msg: string): void {
  process.stdout.write(`demo: ${msg}\n`);
}

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
  const secretFile = path.join(stateDir, 'demo-secret');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  return {
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/blend_demo',
    REDIS_URL: 'redis://127.0.0.1:6379',
    BLEND_IMAP_URL: 'imap://bridge%40example.test:secret@127.0.0.1:143/INBOX',
    BLEND_SMTP_URL: 'smtp://127.0.0.1:2525',
    BLEND_MAIL_DOMAIN: 'example.test',
    BLEND_SECRET: readFileSync(secretFile, 'utf8').trim(),
    BLEND_QUEUE_PREFIX: 'blend-demo',
    // The demo's senders (corp.test) have no DNS, so DKIM/SPF/DMARC cannot pass: this is the
    // local-trial mode, which logs a warning at every start. Never use it in production.
    BLEND_SENDER_AUTH: 'none',
    BLEND_ORG_DOMAINS: 'corp.test',
  };
}

async function main(): Promise<void> {
  const given = REQUIRED.every((k) => process.env[k]);
  const env = given ? process.env : { ...process.env, ...(await localDefaults()) };
  if (given) say('using the settings from the environment');
  const config: Config = loadConfig(env);
  const log = createLogger('demo', process.env.LOG_LEVEL ?? 'warn');
  const running = await startAll(config, log);

  const dbh = createDb(config.DATABASE_URL, { max: 2 });
  const { person: dana } = await upsertPerson(dbh.db, { email: 'dana@corp.test', name: 'Dana Demo', optIn: true });
  await upsertPerson(dbh.db, { email: 'sam@corp.test', name: 'Sam Sample', optIn: true });
  const token = await issueApiToken(dbh.db, dana.id, 'demo');

  const smtp = new URL(config.BLEND_SMTP_URL);
  const transport = nodemailer.createTransport({
    host: smtp.hostname,
    port: Number(smtp.port || 25),
    secure: smtp.protocol === 'smtps:',
    ...(smtp.username ? { auth: { user: decodeURIComponent(smtp.username), pass: decodeURIComponent(smtp.password) } } : {}),
  });
  const run = randomBytes(4).toString('hex');
  const first = `<demo-${run}-1@corp.test>`;
  const bridge = `status@${config.BLEND_MAIL_DOMAIN}`;
  say(`mailing a new thread from dana@corp.test to ${bridge} ...`);
  await transport.sendMail({
    from: 'Dana Demo <dana@corp.test>',
    to: bridge,
    subject: `[team] Demo ${run}: the new office opens on Monday`,
    messageId: first,
    text: 'Good news: the new office opens on Monday. Desks are booked through the usual page.\n\nDana\n-- \nDana Demo, Facilities',
  });
  say('... and a reply from sam@corp.test, quoting it');
  await transport.sendMail({
    from: 'Sam Sample <sam@corp.test>',
    to: 'Dana Demo <dana@corp.test>',
    cc: bridge,
    envelope: { from: 'sam@corp.test', to: [bridge] },
    subject: `Re: [team] Demo ${run}: the new office opens on Monday`,
    inReplyTo: first,
    references: [first],
    text: 'Great, I will bring the coffee machine.\n\nOn Monday, Dana Demo wrote:\n> Good news: the new office opens on Monday.',
  });
  transport.close();

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
  const view = (await getEsnPostView(dbh.db, postId, null))!;
  await dbh.close();

  const base = publicUrl(config);
  say('');
  say(`mirrored thread: "${view.title}" by ${view.author.name}, ${view.comments.length} comment(s)`);
  say(`  post:    ${view.body_text.split('\n')[0]}`);
  for (const c of view.comments) say(`  comment: ${c.author.name}: ${c.body_text.split('\n')[0]}`);
  say('');
  say('Where to look:');
  say(`  curl -s -H 'Authorization: Bearer ${token}' ${base}/api/v1/feed`);
  say(`  curl -s -H 'Authorization: Bearer ${token}' ${base}/api/v1/posts/${postId}`);
  say(`  curl -s ${base}/readyz`);
  say('  pnpm blend inbound list     (with DATABASE_URL=' + config.DATABASE_URL.replace(/:[^:@/]*@/, ':***@') + ')');
  say(`  send more: swaks --server 127.0.0.1:2525 --to ${bridge} --from dana@corp.test --header 'Subject: Hello' --body 'Hi all'`);
  if (once) {
    await running.stop();
    process.exit(0);
  }
  say('running; press Ctrl-C to stop');
  const stop = () => void running.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
