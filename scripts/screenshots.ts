// `pnpm tsx scripts/screenshots.ts`: the pictures of the web UI in docs/screenshots/, taken
// with Debian's Chromium through playwright-core against a throw-away database seeded with a
// small, realistic team (needs Postgres and Redis as for the tests; BLEND_CHROMIUM names
// another browser). The feed and a thread, each at desktop and phone width.
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { chromium } from 'playwright-core';
import { createLogger, createMetrics } from '@blend/runtime';
import { markdownToSafeHtml, textToSafeHtml } from '@blend/core';
import { addLike, createDb, ensureGroup, insertComment, insertPost, issueApiToken, migrateDb, schema, storeAttachments, upsertPerson } from '@blend/db';
import { createQueues } from '@blend/queue';
import { buildApp } from '@blend/api';

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const ADMIN_URL = process.env.BLEND_TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NAME = `blend_screens_${process.pid}`;
const minutes = (n: number) => new Date(Date.now() - n * 60_000);

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Five colleagues, two groups, three threads with comments, reactions and a file. */
async function seed(db: ReturnType<typeof createDb>['db']): Promise<{ token: string; threadId: string }> {
  const people: Record<string, string> = {};
  for (const [key, name] of [['maria', 'María González'], ['tom', 'Tom Becker'], ['aiko', 'Aiko Tanaka'], ['sam', 'Sam Okafor'], ['lea', 'Léa Martin']] as const) {
    people[key] = (await upsertPerson(db, { email: `${key}@example.com`, name, optIn: true })).person.id;
  }
  const general = await ensureGroup(db, 'general', 'General');
  const launch = await ensureGroup(db, 'launch', 'Product launch');
  const md = (s: string) => ({ bodyText: s, bodyHtml: markdownToSafeHtml(s) });
  const text = (s: string) => ({ bodyText: s, bodyHtml: textToSafeHtml(s) });

  const older = await insertPost(db, { groupId: general.id, authorId: people.lea!, title: 'Office plants need a home over the holidays', ...text('Who can take one or two plants home from 20 December? They only need water once a week.'), source: 'email', createdAt: minutes(60 * 26) });
  await insertComment(db, { postId: older.id, authorId: people.sam!, ...text('I can take the big fern.'), source: 'email', createdAt: minutes(60 * 25) });

  const thread = await insertPost(db, {
    groupId: launch.id,
    authorId: people.maria!,
    title: 'Launch checklist for Thursday',
    ...md('We are **on track** for Thursday. Before then:\n\n- final copy review with @tom@example.com\n- press kit in the shared drive\n- support rota for the first week\n\nThe [timeline](https://example.com/timeline) has the details; the slides are attached.'),
    source: 'esn',
    createdAt: minutes(95),
  });
  await db.transaction((tx) =>
    storeAttachments(tx, { postId: thread.id, commentId: null }, [
      { plan: { filename: 'launch-slides.pdf', declaredType: 'application/pdf', size: 48_213, inline: false, store: true, omitted: null, note: null }, content: Buffer.alloc(48_213, 1) },
    ]),
  );
  const comments: [string, string, 'email' | 'esn', number][] = [
    ['tom', 'Copy review is booked for Wednesday at 10:00.', 'email', 80],
    ['aiko', 'Press kit is uploaded. *Logos* are in the `brand` folder.', 'esn', 42],
    ['sam', 'Support rota is done: I take the first two days.', 'email', 12],
    ['lea', 'Great work, everyone! 🎉', 'esn', 3],
  ];
  for (const [who, body, source, ago] of comments) {
    await insertComment(db, { postId: thread.id, authorId: people[who]!, ...(source === 'esn' ? md(body) : text(body)), source, createdAt: minutes(ago) });
  }
  await insertPost(db, { groupId: general.id, authorId: people.aiko!, title: 'Lunch and learn: accessible forms', ...md('Friday 12:30 in the big room, or join from your desk. Bring questions about **labels**, focus and error messages.'), source: 'esn', createdAt: minutes(20) });
  for (const [who, kind] of [['tom', 'like'], ['aiko', 'like'], ['sam', 'tada'], ['lea', 'tada'], ['tom', 'heart'], ['aiko', 'tada']] as const) {
    await addLike(db, thread.id, people[who]!, kind);
  }
  await addLike(db, older.id, people.maria!, 'smile');
  await db.insert(schema.groupMembers).values([general, launch].flatMap((g) => Object.values(people).map((personId) => ({ groupId: g.id, personId })))).onConflictDoNothing();
  return { token: await issueApiToken(db, people.maria!, 'screenshots'), threadId: thread.id };
}

async function main(): Promise<void> {
  await adminQuery(`create database ${NAME}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${NAME}`;
  const handle = createDb(url.toString(), { max: 5 });
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const queues = createQueues(redis, `${NAME}q`);
  const app = buildApp({
    db: handle.db,
    pool: handle.pool,
    redis,
    queues,
    metrics: createMetrics(),
    secret: 'screenshots-'.padEnd(32, 'x'),
    withheldRetentionDays: 14,
    addressing: { mode: 'domain', domain: 'blend.example.com' },
    log: createLogger('screenshots', 'warn'),
  });
  const browser = await chromium.launch({ executablePath: process.env.BLEND_CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    await migrateDb(handle.db, handle.pool);
    const { token, threadId } = await seed(handle.db);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    mkdirSync(OUT, { recursive: true });
    for (const [label, viewport] of [['desktop', { width: 1280, height: 1000 }], ['phone', { width: 390, height: 844 }]] as const) {
      const context = await browser.newContext({ viewport, deviceScaleFactor: label === 'phone' ? 2 : 1, locale: 'en-GB', timezoneId: 'Europe/London', colorScheme: 'light' });
      const page = await context.newPage();
      await page.goto(`${base}/web/login`);
      await page.getByLabel('API token').fill(token);
      await Promise.all([page.waitForURL(`${base}/web`), page.getByRole('button', { name: 'Sign in' }).click()]);
      await page.screenshot({ path: `${OUT}feed-${label}.png`, fullPage: label === 'desktop' });
      await page.goto(`${base}/web/posts/${threadId}`);
      await page.screenshot({ path: `${OUT}thread-${label}.png`, fullPage: label === 'desktop' });
      await context.close();
      process.stdout.write(`screenshots: ${label} feed and thread in docs/screenshots/\n`);
    }
  } finally {
    await browser.close();
    await app.close();
    await queues.close();
    redis.disconnect();
    await handle.close();
    await adminQuery(`drop database if exists ${NAME} with (force)`);
  }
}

await main();
