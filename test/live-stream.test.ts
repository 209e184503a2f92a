import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { schema } from '@blend/db';
import { listenOnLoopback } from './support/browser';
import { swaks } from './support/mail-server';
import { startStack, type Stack } from './support/stack';

// The live stream (GET /api/v1/stream, docs/ARCHITECTURE.md "Live updates") over real HTTP on
// real Postgres and Redis: a plain fetch reader gets what the reader may see — posts, comments,
// removals — and not a private group's post; Last-Event-ID resumes; no credentials is 401; the
// connection cap answers 429 (docs/SECURITY.md, live stream).

interface Frame {
  id?: string;
  event?: string;
  data?: Record<string, unknown>;
}

/** An SSE client on fetch's streaming body: frames as they come, and a wait for one. */
class Sse {
  frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  private readonly ctl = new AbortController();
  status = 0;
  private constructor() {}

  static async open(base: string, token: string, lastEventId?: string): Promise<Sse> {
    const s = new Sse();
    const res = await fetch(`${base}/api/v1/stream`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      signal: s.ctl.signal,
    });
    s.status = res.status;
    if (res.status !== 200) {
      s.body = await res.text();
      return s;
    }
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    s.ended = s.read(res.body!.getReader());
    return s;
  }

  body = '';
  /** Settles when the server ends the stream (or it is aborted). */
  ended: Promise<void> = Promise.resolve();

  private async read(r: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { done, value } = await r.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const raw = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const f: Frame = {};
          for (const line of raw.split('\n')) {
            if (line.startsWith('id: ')) f.id = line.slice(4);
            else if (line.startsWith('event: ')) f.event = line.slice(7);
            else if (line.startsWith('data: ')) f.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
          }
          if (f.event) {
            this.frames.push(f);
            for (const w of this.waiters.splice(0)) w();
          }
        }
      }
    } catch {
      // aborted
    }
  }

  /** The first frame matching, waiting for it (the test's own timeout bounds the wait). */
  async next(match: (f: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const f = this.frames.find(match);
      if (f) return f;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.ctl.abort();
  }
}

const postOf = (f: Frame) => (f.data?.post as { id?: string } | undefined)?.id;

let s: Stack;
let base = '';
let bob = '';
let rita = '';
let ada = '';
const open: Sse[] = [];

async function api(token: string, method: string, url: string, payload?: object): Promise<{ id: string }> {
  const res = await s.app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.statusCode === 204 ? { id: '' } : (res.json() as { id: string });
}

async function stream(token: string, lastEventId?: string): Promise<Sse> {
  const c = await Sse.open(base, token, lastEventId);
  open.push(c);
  return c;
}

beforeAll(async () => {
  s = await startStack({ BLEND_STREAM_MAX_CONNECTIONS: '4' }, { poller: false });
  base = await listenOnLoopback(s.app);
  bob = await s.person('bob@corp.test', { name: 'Bob Author' });
  rita = await s.person('rita@corp.test', { name: 'Rita Reader' });
  ada = await s.person('ada@corp.test', { name: 'Ada Admin' });
  await s.db.db.update(schema.people).set({ isAdmin: true }).where(eq(schema.people.email, 'ada@corp.test'));
  await api(ada, 'POST', '/api/v1/groups', { slug: 'board', name: 'Board', visibility: 'private' });
});

afterAll(async () => {
  for (const c of open) c.close();
  await s?.stop();
});

describe('GET /api/v1/stream', () => {
  it('is 401 without credentials', async () => {
    const res = await fetch(`${base}/api/v1/stream`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });

  let postId = '';
  let lastSeen = '';
  it('a reader gets another person’s post and comment, but not a private group’s post; a member does', async () => {
    const r = await stream(rita);
    const a = await stream(ada);
    const secret = await api(ada, 'POST', '/api/v1/posts', { group: 'board', title: 'Board only', body: 'Salaries' });
    const post = await api(bob, 'POST', '/api/v1/posts', { group: 'general', title: 'Lunch?', body: 'At noon' });
    postId = post.id;
    const got = await r.next((f) => f.event === 'post.created' && postOf(f) === post.id);
    expect((got.data!.post as { title: string }).title).toBe('Lunch?');
    // Positions are in commit order, so the private post came before the public one or never.
    expect(r.frames.some((f) => postOf(f) === secret.id)).toBe(false);
    await a.next((f) => f.event === 'post.created' && postOf(f) === secret.id);

    const comment = await api(bob, 'POST', `/api/v1/posts/${post.id}/comments`, { body: 'Pizza' });
    const c = await r.next((f) => f.event === 'comment.created');
    expect((c.data!.comment as { id: string; body_text: string }).id).toBe(comment.id);
    expect(r.frames.some((f) => postOf(f) === secret.id)).toBe(false);

    await api(bob, 'DELETE', `/api/v1/comments/${comment.id}`);
    const gone = await r.next((f) => f.event === 'comment.deleted');
    expect((gone.data!.comment as { id: string }).id).toBe(comment.id);
    lastSeen = gone.id!;
    r.close();
    a.close();
  });

  it('Last-Event-ID resumes after the last event seen', async () => {
    const later = await api(bob, 'POST', '/api/v1/posts', { group: 'general', title: 'Missed', body: 'while away' });
    const r = await stream(rita, lastSeen);
    const f = await r.next((x) => x.event === 'post.created');
    expect(postOf(f)).toBe(later.id);
    r.close();
  });

  it('an admin’s hide reaches the reader as post.deleted', async () => {
    const r = await stream(rita);
    await api(ada, 'POST', `/api/v1/admin/posts/${postId}/hide`, { reason: 'Off topic' });
    const f = await r.next((x) => x.event === 'post.deleted' && postOf(x) === postId);
    expect(JSON.stringify(f.data)).not.toContain('At noon');
    r.close();
  });

  it('a post and a reply that came by mail reach the stream (worker writes, heard by the hub)', async () => {
    const r = await stream(rita);
    await s.startPoller();
    const mid = `<live-${randomBytes(6).toString('hex')}@corp.test>`;
    await swaks(['--to', `status@${s.mail.domain}`, '--from', 'bob@corp.test', '--header', 'Subject: [team] Mailed news', '--header', `Message-Id: ${mid}`, '--body', 'By mail.']);
    const p = await r.next((f) => f.event === 'post.created' && (f.data!.post as { title: string }).title === 'Mailed news');
    expect((p.data!.post as { source: string }).source).toBe('email');
    await swaks([
      '--to', `status@${s.mail.domain}`,
      '--from', 'ada@corp.test',
      '--header', 'Subject: Re: [team] Mailed news',
      '--header', `In-Reply-To: ${mid}`,
      '--header', `References: ${mid}`,
      '--body', 'Replied by mail.',
    ]);
    const c = await r.next((f) => f.event === 'comment.created' && postOf(f) === postOf(p));
    expect((c.data!.comment as { body_text: string; source: string }).source).toBe('email');
    await s.stopPoller();
    r.close();
  });

  it('a stream ends when its token is revoked', async () => {
    const tess = await s.person('tess@corp.test', { name: 'Tess' });
    const r = await stream(tess);
    let over = false;
    const ended = r.ended.then(() => {
      over = true;
    });
    await api(bob, 'POST', '/api/v1/posts', { group: 'general', title: 'Still here', body: 'yes' });
    await r.next((f) => f.event === 'post.created');
    expect(over).toBe(false);
    const person = (await s.db.db.select({ id: schema.people.id }).from(schema.people).where(eq(schema.people.email, 'tess@corp.test')))[0]!;
    await s.db.db.update(schema.apiTokens).set({ revokedAt: new Date() }).where(eq(schema.apiTokens.personId, person.id));
    await ended; // the hub checks open streams' credentials at each poll (5 s)
    expect(over).toBe(true);
  });

  it('over BLEND_STREAM_MAX_CONNECTIONS is 429 with a clear error, and a closed connection frees its place', async () => {
    for (const c of open) c.close();
    // Places of closed connections are freed when the server sees them close.
    let held: Sse[] = [];
    for (;;) {
      const c = await stream(rita);
      if (c.status === 200) held.push(c);
      else break;
    }
    expect(held.length).toBeLessThanOrEqual(4);
    const over = await stream(bob);
    expect(over.status).toBe(429);
    expect(over.body).toContain('too many live connections');
    held[0]!.close();
    held = held.slice(1);
    for (;;) {
      const c = await stream(bob);
      if (c.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
