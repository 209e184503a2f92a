// `pnpm bench api`: populate a large feed, start Blend's API service and a bare Fastify route
// serving the same JSON from memory, each in its own process, and measure feed requests under
// load: latency at a fixed rate and the highest rate. See docs/BENCHMARKS.md.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDb, encodeCursor, issueApiToken } from '@blend/db';
import { createProducerRedis } from '@blend/queue';
import { ADMIN_DATABASE_URL, createTestDatabase, type TestDatabase } from '../../test/support/database';
import { apiDataFacts, populateApiData } from './api-data';
import { runAutocannon, runPaced, type Target } from './api-load';
import { apiFigures, apiTables, TARGET_P99_MS, writeApiDocs, type ApiReport, type CacheOutcome, type Scenario, type ScenarioResult } from './api-report';
import { blendApiEnv, startServer, type Server } from './api-server';
import { measureSearch, searchKinds, searchMarkdown, searchMeets, type SearchResult } from './api-search';
import { commandLine, DOCS_FILE, intEnv, root, runBench, runSteps, sayer, writeDocsSection, writesDocs, type CleanupStep } from './harness';
import { blendRevision, cpuSnapshot, cpuUse, jiffiesByProcess, machineFacts } from './machine';
import type pg from 'pg';

const say = sayer('bench api');

const POSTS = intEnv('BENCH_POSTS', 100_000);
const COMMENTS = intEnv('BENCH_COMMENTS', 500_000, 0);
const GROUPS = intEnv('BENCH_GROUPS', 50);
const PEOPLE = intEnv('BENCH_PEOPLE', 2_000, 20);
const SEED = intEnv('BENCH_SEED', 2025, 0);
const RATE = intEnv('BENCH_RATE', 200);
const SECONDS = intEnv('BENCH_SECONDS', 20);
const MAX_SECONDS = intEnv('BENCH_MAX_SECONDS', 10);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 10);
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_S', 5, 0);
const LIMIT = 20;
const WRITES_PER_SECOND = intEnv('BENCH_WRITES_PER_S', 5, 1);
const NO_CACHE = { 'cache-control': 'no-cache' };
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** `BENCH_SEARCH=0` leaves the search requests out. */
const SEARCH = process.env.BENCH_SEARCH !== '0';
/** `BENCH_FEED=0` leaves the feed requests and the bare route out (search only, with `BENCH_SEARCH`). */
const FEED = process.env.BENCH_FEED !== '0';
/**
 * `BENCH_KEEP_DB=1` keeps the database at the end (its name is printed); `BENCH_DB=name` uses such a
 * one instead of writing the data, and leaves it in place.
 */
const KEEP_DB = process.env.BENCH_KEEP_DB === '1';
const REUSE_DB = process.env.BENCH_DB;

interface Resources {
  db?: TestDatabase;
  servers: Server[];
  tmp?: string;
  prefix?: string;
}

/** A database an earlier run kept (`BENCH_KEEP_DB=1`), opened again; `drop()` only closes it. */
function keptDatabase(name: string): TestDatabase {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = createDb(url.toString(), { max: 5 });
  return { ...handle, url: url.toString(), name, drop: () => handle.close() };
}

/** The requests of each scenario, from the data (cursors at random depths, groups, tags, authors). */
async function scenarios(pool: pg.Pool): Promise<Scenario[]> {
  const feed = `/api/v1/feed?limit=${LIMIT}`;
  const pick = async <T extends pg.QueryResultRow>(sql: string) => (await pool.query<T>(sql)).rows;
  const deep = await pick<{ created_at: Date; id: string }>(
    `select created_at, id from posts where deleted_at is null order by md5(id::text) limit 50`);
  const groups = await pick<{ slug: string }>(`select slug from groups where slug like 'bench-g%' order by slug`);
  const tags = await pick<{ tag: string }>(`select tag from post_tags group by tag order by tag`);
  const authors = await pick<{ email: string }>(`select email from people order by md5(email) limit 50`);
  const q = encodeURIComponent;
  return [
    { name: 'feed, first page', what: `\`GET ${feed}\``, paths: [feed] },
    { name: 'feed, later pages', what: `\`…&cursor=\` of ${deep.length} posts at random depths`, paths: deep.map((p) => `${feed}&cursor=${encodeCursor({ createdAt: p.created_at, id: p.id })}`) },
    { name: 'group filter', what: `\`…&group=\` each of the ${groups.length} groups`, paths: groups.map((g) => `${feed}&group=${q(g.slug)}`) },
    { name: 'tag filter', what: `\`…&tag=\` each of the ${tags.length} tags`, paths: tags.map((t) => `${feed}&tag=${q(t.tag)}`) },
    { name: 'author filter', what: `\`…&author=\` ${authors.length} people's addresses`, paths: authors.map((a) => `${feed}&author=${q(a.email)}`) },
    // The cost of a miss: the same pages with the feed cache refused.
    { name: 'first page, read afresh', what: `\`GET ${feed}\` with \`Cache-Control: no-cache\``, paths: [feed], headers: NO_CACHE },
    { name: 'later pages, read afresh', what: `the cursors above with \`Cache-Control: no-cache\``, paths: deep.map((p) => `${feed}&cursor=${encodeCursor({ createdAt: p.created_at, id: p.id })}`), headers: NO_CACHE },
    // Last: it adds comments. Each write empties the cache of every page.
    { name: `first page, ${WRITES_PER_SECOND} comments/s written`, what: `\`GET ${feed}\` while a comment is added to a recent post ${WRITES_PER_SECOND} times a second`, paths: [feed], writesPerSecond: WRITES_PER_SECOND },
  ];
}

/**
 * The backends connected to the benchmark's database. Only they are counted: the machine's
 * Postgres also serves whatever else runs on it (a test suite, another checkout), and the
 * background processes (WAL writer, checkpointer) do little for a read-only load.
 */
async function benchBackends(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database()');
  return rows.map((r) => r.pid);
}

/** CPU seconds since `before` of those of the backends `pids` alive at the end (USER_HZ = 100). */
function postgresSeconds(before: Map<number, number>, pids: number[]): number {
  const now = jiffiesByProcess('postgres');
  let jiffies = 0;
  for (const pid of new Set(pids)) if (now.has(pid)) jiffies += now.get(pid)! - (before.get(pid) ?? 0);
  return jiffies / 100;
}

/**
 * Add a comment to one of the 20 newest posts `perSecond` times a second until stopped, as the
 * worker would (its NOTIFY empties the feed cache). The count of comments written is returned.
 */
function writeComments(pool: pg.Pool, perSecond: number): () => Promise<number> {
  let written = 0;
  let pending = Promise.resolve();
  const timer = setInterval(() => {
    pending = pending.then(async () => {
      await pool.query(`insert into comments (post_id, author_id, body_text, body_html, source)
        select p.id, p.author_id, 'A comment written during the benchmark', '<p>A comment written during the benchmark</p>', 'esn'
        from (select id, author_id from posts where deleted_at is null order by created_at desc limit 20) p order by random() limit 1`);
      written++;
    });
  }, 1000 / perSecond);
  return async () => {
    clearInterval(timer);
    await pending;
    return written;
  };
}

async function measure(target: Target, server: Server, pool: pg.Pool, writesPerSecond?: number): Promise<Omit<ScenarioResult, 'scenario'>> {
  const stopWriting = writesPerSecond ? writeComments(pool, writesPerSecond) : undefined;
  try {
    return await measureLoad(target, server, pool);
  } finally {
    await stopWriting?.();
  }
}

/** The feed cache's answers so far, from the server's /metrics (zero for the bare route). */
async function cacheCounts(url: string): Promise<Record<CacheOutcome, number>> {
  const text = await (await fetch(`${url}/metrics`)).text().catch(() => '');
  const count = (outcome: string) => Number(new RegExp(`^blend_api_feed_cache_requests_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { hit: count('hit'), miss: count('miss'), off: count('off') };
}

async function measureLoad(target: Target, server: Server, pool: pg.Pool): Promise<Omit<ScenarioResult, 'scenario'>> {
  const cpu0 = cpuSnapshot();
  const backends = await benchBackends(pool);
  const pg0 = jiffiesByProcess('postgres');
  const api0 = await server.cpuSeconds();
  const cache0 = server.kind === 'blend' ? await cacheCounts(target.url) : undefined;
  const paced = await runPaced(target, { seconds: SECONDS, rate: RATE });
  const cache1 = cache0 ? await cacheCounts(target.url) : undefined;
  const api1 = await server.cpuSeconds();
  const postgresCpuSeconds = postgresSeconds(pg0, [...backends, ...(await benchBackends(pool))]);
  const cpu = cpuUse(cpu0, cpuSnapshot());
  const capped = await runAutocannon(target, { seconds: SECONDS, connections: CONNECTIONS, overallRate: RATE });
  const max = await runAutocannon(target, { seconds: MAX_SECONDS, connections: CONNECTIONS });
  const cache = cache0 && cache1 ? { hit: cache1.hit - cache0.hit, miss: cache1.miss - cache0.miss, off: cache1.off - cache0.off } : undefined;
  return { paced, capped, max, serverCpuSeconds: api1 - api0, postgresCpuSeconds, cpu, ...(cache ? { cache } : {}) };
}

async function main(res: Resources): Promise<{ report: ApiReport; search: SearchResult[] }> {
  const machine = await machineFacts();
  const revision = await blendRevision(root);
  say(`${machine.cpuModel}, ${machine.cores} cores; ${POSTS} posts, ${COMMENTS} comments, ${GROUPS} groups, ${PEOPLE} people`);
  let data: ApiReport['data'];
  let db: TestDatabase;
  if (REUSE_DB) {
    db = res.db = keptDatabase(REUSE_DB);
    data = { ...(await apiDataFacts(db.pool)), seconds: 0 };
    say(`database ${db.name}, kept by an earlier run: ${data.posts} posts, ${data.comments} comments (BENCH_POSTS and the like do not apply)`);
  } else {
    db = res.db = await createTestDatabase();
    say(`database ${db.name}: writing the data...`);
    data = await populateApiData(db.pool, { posts: POSTS, comments: COMMENTS, groups: GROUPS, people: PEOPLE, seed: SEED });
    say(`written in ${data.seconds.toFixed(1)} s (${(data.dbBytes / 1024 ** 2).toFixed(0)} MiB)`);
  }
  const viewer = (await db.pool.query<{ id: string }>(`select id from people where email = 'person0@corp.test'`)).rows[0]!;
  const token = await issueApiToken(db.db, viewer.id, 'bench');

  const prefix = (res.prefix = `ba${randomBytes(4).toString('hex')}`);
  const blend = await startServer('blend', { env: blendApiEnv(db.url, REDIS_URL, prefix) });
  res.servers.push(blend);
  const first = await fetch(`${blend.url}/api/v1/feed?limit=${LIMIT}`, { headers: { authorization: `Bearer ${token}` } });
  if (first.status !== 200) throw new Error(`GET /api/v1/feed answered ${first.status}: ${await first.text()}`);
  const body = Buffer.from(await first.arrayBuffer());
  const page = JSON.parse(body.toString('utf8')) as { items: { comments: unknown[]; comment_count: number }[] };
  res.tmp = await mkdtemp(path.join(os.tmpdir(), 'blend-bench-api-'));
  const bodyFile = path.join(res.tmp, 'feed.json');
  await writeFile(bodyFile, body);
  const bare = await startServer('bare', { bodyFile });
  res.servers.push(bare);
  const bareBody = Buffer.from(await (await fetch(`${bare.url}/api/v1/feed`)).arrayBuffer());
  if (!bareBody.equals(body)) throw new Error('the bare route does not send the captured body');

  const list = FEED ? await scenarios(db.pool) : [];
  if (FEED) say(`warming up both servers (${WARMUP_SECONDS} s each)...`);
  if (FEED && WARMUP_SECONDS > 0) {
    const paths = list.flatMap((s) => s.paths);
    // Through the cache (its pages are then kept), and past it (the statements' plans, the JIT).
    await runAutocannon({ url: blend.url, token, paths }, { seconds: WARMUP_SECONDS, connections: CONNECTIONS });
    await runAutocannon({ url: blend.url, token, paths, headers: NO_CACHE }, { seconds: WARMUP_SECONDS, connections: CONNECTIONS });
    await runAutocannon({ url: bare.url, token, paths: list[0]!.paths }, { seconds: WARMUP_SECONDS, connections: CONNECTIONS });
  }
  const results: ScenarioResult[] = [];
  for (const scenario of list) {
    say(`${scenario.name}: ${RATE} req/s open loop ${SECONDS} s, autocannon capped ${SECONDS} s, flat out ${MAX_SECONDS} s...`);
    const r = await measure({ url: blend.url, token, paths: scenario.paths, ...(scenario.headers ? { headers: scenario.headers } : {}) }, blend, db.pool, scenario.writesPerSecond);
    results.push({ scenario, ...r });
    say(`  p50 ${r.paced.p50.toFixed(1)} ms, p99 ${r.paced.p99.toFixed(1)} ms at ${r.paced.rps.toFixed(0)} req/s; flat out ${r.max.rps.toFixed(0)} req/s`);
  }
  let search: SearchResult[] = [];
  if (SEARCH) {
    const kinds = await searchKinds(db.pool);
    say(`search: ${kinds.length} kinds of query, each at 50 req/s open loop ${SECONDS} s and flat out ${MAX_SECONDS} s...`);
    search = await measureSearch(blend.url, token, kinds, { seconds: SECONDS, maxSeconds: MAX_SECONDS, connections: CONNECTIONS });
    for (const r of search) say(`  ${r.kind.name}: p50 ${r.paced.p50.toFixed(1)} ms, p99 ${r.paced.p99.toFixed(1)} ms at ${r.paced.rps.toFixed(0)} req/s; flat out ${r.max.rps.toFixed(0)} req/s`);
  }
  let bareResult: ScenarioResult | undefined;
  if (FEED) {
    say('bare Fastify route, same body...');
    const bareScenario: Scenario = { name: 'bare Fastify route', what: 'the first page\'s JSON from memory', paths: ['/api/v1/feed?limit=20'] };
    bareResult = { scenario: bareScenario, ...(await measure({ url: bare.url, token, paths: bareScenario.paths }, bare, db.pool)) };
    say(`  p50 ${bareResult.paced.p50.toFixed(1)} ms, p99 ${bareResult.paced.p99.toFixed(1)} ms; flat out ${bareResult.max.rps.toFixed(0)} req/s`);
  }

  const v = (await db.pool.query<{ v: string; sb: string; wm: string }>(
    "select version() as v, current_setting('shared_buffers') as sb, current_setting('work_mem') as wm")).rows[0]!;
  const report: ApiReport = {
    date: new Date().toISOString(),
    command: commandLine('pnpm bench api', ['BENCH_FEED', 'BENCH_DB', 'BENCH_WRITES_PER_S', 'BENCH_POSTS', 'BENCH_COMMENTS', 'BENCH_GROUPS', 'BENCH_PEOPLE', 'BENCH_SEED', 'BENCH_RATE', 'BENCH_SECONDS', 'BENCH_MAX_SECONDS', 'BENCH_CONNECTIONS']),
    revision,
    machine,
    postgres: `${v.v.split(' on ')[0]!} (shared_buffers=${v.sb}, work_mem=${v.wm})`,
    params: { posts: POSTS, comments: COMMENTS, groups: GROUPS, people: PEOPLE, seed: SEED, rate: RATE, seconds: SECONDS, maxSeconds: MAX_SECONDS, connections: CONNECTIONS, limit: LIMIT },
    data,
    firstPage: {
      bytes: body.length,
      items: page.items.length,
      comments: page.items.reduce((n, i) => n + i.comments.length, 0),
      commentCount: page.items.reduce((n, i) => n + i.comment_count, 0),
    },
    results,
    ...(bareResult ? { bare: bareResult } : {}),
  };
  return { report, search };
}

/** Stop the servers, drop the database and the queue keys, remove the body file; each step runs even if one fails. */
async function cleanup(res: Resources): Promise<void> {
  await runSteps('bench api', [
    ...res.servers.map((s): CleanupStep => [`stop the ${s.kind} server`, () => s.stop()]),
    ['drop the database', async () => {
      if (KEEP_DB || REUSE_DB) {
        await res.db?.close();
        if (res.db) say(`kept the database: BENCH_DB=${res.db.name} uses it again; drop it with \`dropdb -h 127.0.0.1 -U postgres ${res.db.name}\``);
      } else await res.db?.drop();
    }],
    ['delete the queue keys', async () => {
      if (!res.prefix) return;
      const redis = createProducerRedis(REDIS_URL);
      try {
        const keys = await redis.keys(`${res.prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    }],
    ['remove the body file', async () => res.tmp && rm(res.tmp, { recursive: true, force: true })],
  ]);
}

await runBench<Resources, { report: ApiReport; search: SearchResult[] }>({
  label: 'bench api',
  resources: { servers: [] },
  main,
  cleanup,
  finish: async ({ report, search }) => {
    if (report.bare) process.stdout.write(`\n${apiTables(report)}\n`);
    if (search.length > 0) process.stdout.write(`\n${searchMarkdown(report, search)}\n`);
    if (writesDocs()) {
      if (report.bare) await writeApiDocs(DOCS_FILE, report);
      if (search.length > 0) await writeDocsSection(DOCS_FILE, 'search', searchMarkdown(report, search));
      say(`wrote the ${[report.bare ? 'api' : '', search.length > 0 ? 'search' : ''].filter(Boolean).join(' and ')} section(s) of docs/BENCHMARKS.md`);
    }
    const f = report.bare ? apiFigures(report) : undefined;
    return [
      ...search.filter((r) => !searchMeets(r)).map((r) => `search p99 ${r.paced.p99.toFixed(1)} ms at 50 req/s (${r.kind.name})`),
      ...(!f || f.pass ? [] : [`feed p99 ${f.worstP99.toFixed(1)} ms ≥ ${TARGET_P99_MS} ms at ${RATE} req/s (${f.worstName})`]),
    ];
  },
});
