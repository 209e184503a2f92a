// `pnpm bench stream`: the live stream (GET /api/v1/stream) with many readers connected. Blend's
// API service runs in a child process as in production; this process holds READERS connections
// (plain fetch streaming readers, READERS / 100 per person, under the per-person cap), posts
// POSTS posts through the API one after another, and measures for each post how long until
// every reader had its `post.created` (the slowest reader's delay), then prints p50/p95/max.
import { randomBytes } from 'node:crypto';
import { issueApiToken, upsertPerson } from '@blend/db';
import { createTestDatabase } from '../../test/support/database';
import { blendApiEnv, startServer } from './api-server';

const READERS = Number(process.env.BENCH_STREAM_READERS ?? 1000);
const POSTS = Number(process.env.BENCH_STREAM_POSTS ?? 30);
const PEOPLE = Math.max(1, Math.ceil(READERS / 10));
const say = (s: string) => process.stdout.write(`stream: ${s}\n`);

const db = await createTestDatabase();
const servers: Array<{ stop(): Promise<void> }> = [];
const aborts: AbortController[] = [];
try {
  const tokens: string[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const { person } = await upsertPerson(db.db, { email: `reader${i}@corp.test`, name: `Reader ${i}`, optIn: true });
    tokens.push(await issueApiToken(db.db, person.id, 'bench'));
  }
  const prefix = `bs${randomBytes(4).toString('hex')}`;
  const blend = await startServer('blend', {
    env: blendApiEnv(db.url, process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix, { BLEND_STREAM_MAX_CONNECTIONS: String(READERS + 10) }),
  });
  servers.push(blend);

  // When each reader saw each post (post id -> arrival times).
  const seen = new Map<string, number[]>();
  const readers = await Promise.all(
    Array.from({ length: READERS }, async (_, i) => {
      const ctl = new AbortController();
      aborts.push(ctl);
      const res = await fetch(`${blend.url}/api/v1/stream`, { headers: { authorization: `Bearer ${tokens[i % PEOPLE]}` }, signal: ctl.signal });
      if (res.status !== 200) throw new Error(`reader ${i}: ${res.status} ${await res.text()}`);
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      void (async () => {
        let buf = '';
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            buf += dec.decode(value, { stream: true });
            let k: number;
            while ((k = buf.indexOf('\n\n')) >= 0) {
              const frame = buf.slice(0, k);
              buf = buf.slice(k + 2);
              const m = /^event: post\.created\ndata: (.*)$/m.exec(frame) && /"post":\{"id":"([0-9a-f-]{36})"/.exec(frame);
              if (m) {
                const t = performance.now();
                const list = seen.get(m[1]!) ?? [];
                list.push(t);
                seen.set(m[1]!, list);
              }
            }
          }
        } catch {
          // aborted at the end
        }
      })();
      return i;
    }),
  );
  say(`${readers.length} readers connected (${PEOPLE} people)`);

  const delays: number[] = [];
  for (let n = 0; n < POSTS; n++) {
    const start = performance.now();
    const res = await fetch(`${blend.url}/api/v1/posts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ group: 'general', title: `Bench ${n}`, body: 'live' }),
    });
    if (res.status !== 201) throw new Error(`post ${n}: ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    const deadline = start + 30_000;
    while ((seen.get(id)?.length ?? 0) < READERS && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const got = seen.get(id) ?? [];
    if (got.length < READERS) throw new Error(`post ${n}: only ${got.length} of ${READERS} readers got it within 30 s`);
    delays.push(Math.max(...got) - start);
  }
  delays.sort((a, b) => a - b);
  const q = (p: number) => delays[Math.min(delays.length - 1, Math.ceil(p * delays.length) - 1)]!;
  say(`${POSTS} posts to ${READERS} readers: time from the POST until the last reader had it — p50 ${q(0.5).toFixed(0)} ms, p95 ${q(0.95).toFixed(0)} ms, max ${q(1).toFixed(0)} ms`);
} finally {
  for (const a of aborts) a.abort();
  for (const s of servers) await s.stop().catch(() => undefined);
  await db.drop().catch(() => undefined);
}
process.exit(0);
