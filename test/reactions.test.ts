import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ensureGroup, insertPost, issueApiToken, schema, upsertPerson } from '@blend/db';
import { type TestDatabase } from './support/database';
import { startTestApi, type TestApi } from './support/api';

// Emoji reactions besides "like" through the JSON API, on real Postgres (docs/ARCHITECTURE.md "Reactions").
let t: TestDatabase;
let app: FastifyInstance;
let api: TestApi;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};

beforeAll(async () => {
  api = await startTestApi();
  ({ t, app } = api);
  for (const [name, optIn] of [['alice', true], ['bob', true], ['carol', false]] as const) {
    const { person } = await upsertPerson(t.db, { email: `${name}@corp.test`, name, optIn });
    ids[name] = person.id;
    tokens[name] = await issueApiToken(t.db, person.id);
  }
  const general = await ensureGroup(t.db, 'general');
  const post = await insertPost(t.db, { groupId: general.id, authorId: ids.bob!, title: 'Launch', bodyText: 'We shipped', bodyHtml: '<p>We shipped</p>', source: 'esn' });
  ids.post = post.id;
});
afterAll(async () => {
  await api?.close();
});

const req = (method: 'GET' | 'POST' | 'DELETE', url: string, who?: string) =>
  app.inject({ method, url, headers: who ? { authorization: `Bearer ${tokens[who]}` } : {} });
const zero = { like: 0, heart: 0, tada: 0, smile: 0, thinking: 0 };

describe('POST|DELETE /api/v1/posts/:id/reactions/:kind', () => {
  it('adds and takes back reactions idempotently, with per-kind counts and the reader\'s own', async () => {
    const url = (kind: string) => `/api/v1/posts/${ids.post}/reactions/${kind}`;
    expect((await req('POST', url('heart'), 'alice')).json()).toEqual({ like: 0, liked_by_me: false, counts: { ...zero, heart: 1 }, mine: ['heart'] });
    expect((await req('POST', url('heart'), 'alice')).json()).toMatchObject({ counts: { heart: 1 }, mine: ['heart'] });
    expect((await req('POST', url('tada'), 'alice')).json()).toMatchObject({ counts: { heart: 1, tada: 1 }, mine: ['heart', 'tada'] });
    expect((await req('POST', url('heart'), 'bob')).json()).toEqual({ like: 0, liked_by_me: false, counts: { ...zero, heart: 2, tada: 1 }, mine: ['heart'] });
    // `like` here is the like of POST /reactions.
    expect((await req('POST', url('like'), 'bob')).json()).toMatchObject({ like: 1, liked_by_me: true, counts: { like: 1 } });
    expect((await req('DELETE', `/api/v1/posts/${ids.post}/reactions`, 'bob')).json()).toMatchObject({ like: 0, liked_by_me: false, mine: ['heart'] });
    expect((await req('DELETE', url('heart'), 'alice')).json()).toMatchObject({ counts: { heart: 1, tada: 1 }, mine: ['tada'] });
    expect((await req('DELETE', url('heart'), 'alice')).json()).toMatchObject({ counts: { heart: 1 }, mine: ['tada'] });
  });

  it('shows the counts in the feed and on the post, the same for every reader', async () => {
    const feed = (await req('GET', '/api/v1/feed', 'carol')).json() as { items: { id: string; reactions: unknown }[] };
    expect(feed.items.find((i) => i.id === ids.post)!.reactions).toEqual({ like: 0, liked_by_me: false, counts: { ...zero, heart: 1, tada: 1 } });
    expect(((await req('GET', `/api/v1/posts/${ids.post}`, 'bob')).json() as { reactions: unknown }).reactions).toMatchObject({ counts: { ...zero, heart: 1, tada: 1 } });
  });

  it('allows only the kinds of the allow-list, only opted-in writers, only posts one may see', async () => {
    expect((await req('POST', `/api/v1/posts/${ids.post}/reactions/poo`, 'alice')).statusCode).toBe(400);
    expect((await req('POST', `/api/v1/posts/${ids.post}/reactions/smile`, 'carol')).statusCode).toBe(403);
    expect((await req('POST', `/api/v1/posts/00000000-0000-4000-8000-000000000000/reactions/smile`, 'alice')).statusCode).toBe(404);
    expect((await req('POST', `/api/v1/posts/${ids.post}/reactions/smile`)).statusCode).toBe(401);
    // And the database refuses a kind outside the list, whoever writes it (migration 0030).
    const err = await t.db.insert(schema.reactions).values({ postId: ids.post!, personId: ids.alice!, kind: 'poo' }).catch((e: Error) => e);
    expect((err as Error & { cause?: { constraint?: string } }).cause?.constraint).toBe('reactions_kind_check');
  });

  it('records every reaction as a like for webhooks and mail', async () => {
    const rows = await t.db.select({ type: schema.events.type, body: schema.events.payload }).from(schema.events);
    const reactions = rows.filter((r) => r.type === 'reaction.created');
    expect(reactions.length).toBeGreaterThan(0);
    for (const r of reactions) expect((r.body as { reaction: { kind: string } }).reaction.kind).toBe('like');
  });
});
