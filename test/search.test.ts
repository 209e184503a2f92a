import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { addGroupMember, createGroup, editEsnPost, ensureGroup, getInbound, insertComment, insertPost, replaceTags, storeFetched, tombstoneComment, tombstonePost, upsertPerson, createDb, searchContent, SEARCH_WALK_SHARE, type SearchHit } from '@blend/db';
import type pg from 'pg';
import { ingest } from '@blend/worker';
import { ingestDeps } from './support/ingest';
import { personWithToken, sessionCookie, startTestApi, type TestApi } from './support/api';

// GET /api/v1/search through app.inject() on real Postgres (migration 0024: each text indexed
// in its own language, trigram matching of names and titles) and the real ingest pipeline.
let api: TestApi;
let app: FastifyInstance;
const tokens: Record<string, string> = {};
const ids: Record<string, string> = {};
let uid = 0;

const at = (day: number) => new Date(Date.UTC(2026, 10, day, 9));

async function mail(raw: string) {
  const buf = Buffer.from(raw);
  const rows = await storeFetched(api.t.db, 'imap://search', 1, [{ uid: ++uid, size: buf.length, raw: buf, internalDate: new Date() }]);
  await ingest({ inboundId: rows[0]!.id }, ingestDeps(api.t.db, { addressing: { mode: 'domain', domain: 'search.test' } }));
  return (await getInbound(api.t.db, rows[0]!.id))!;
}

const message = (from: string, id: string, subject: string, body: string) =>
  [`Delivered-To: status@search.test`, `From: ${from}`, 'To: status@search.test', `Subject: ${subject}`, 'Date: Tue, 24 Nov 2026 11:00:00 +0000',
    `Message-ID: <${id}@corp.test>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n');

beforeAll(async () => {
  api = await startTestApi({ addressing: { mode: 'domain', domain: 'search.test' } });
  app = api.app;
  const db = api.t.db;
  for (const [name, full] of [['alice', 'Alice Example'], ['bob', 'Bob Builder'], ['kate', 'Kateřina Nakamura']] as const) {
    const p = await personWithToken(db, { email: `${name}@corp.test`, name: full });
    ids[name] = p.id;
    tokens[name] = p.token;
  }
  await upsertPerson(db, { email: 'carol@corp.test', name: 'Carol Withheld' });
  const general = await ensureGroup(db, 'general');
  const sales = await ensureGroup(db, 'sales');
  ids.general = general.id;
  const post = async (key: string, v: { title: string; body: string; author?: string; group?: string; day?: number }) => {
    const row = await insertPost(db, { groupId: v.group ?? general.id, authorId: v.author ?? ids.alice!, title: v.title, bodyText: v.body, bodyHtml: `<p>${v.body}</p>`, source: 'esn', createdAt: at(v.day ?? 1) });
    ids[key] = row.id;
    return row.id;
  };
  // German and English prose: found by the stems of their own language.
  await post('german', { title: 'Hafen', body: 'Die Häuser am Hafen werden im Sommer renoviert und wir haben die Arbeiten schon geplant.' });
  await post('english', { title: 'Migration', body: 'We planned the billing migration for the end of the quarter and the team is on it.' });
  // A title with a short word that English stop words would drop.
  await post('it', { title: 'IT outage on Friday', body: 'The mail servers will be down for an hour.' });
  // Kateřina writes: her name is found by trigrams, misspelt too.
  await post('katePost', { title: 'Lunch', body: 'Who is coming along on Thursday?', author: ids.kate });
  // Hostile text: stays text.
  await post('hostile', { title: 'Markup <b>zebra</b>', body: 'A <script>alert("zebra")</script> and <img src=x onerror=alert(1)> zebra crossing.' });
  // What no one may find.
  await tombstonePost(db, await post('retracted', { title: 'Retracted okapi', body: 'The okapi plan was withdrawn.' }), false);
  const onRetracted = await post('retractedParent', { title: 'Parent gone', body: 'Nothing here.' });
  await insertComment(db, { postId: onRetracted, authorId: ids.bob!, bodyText: 'An okapi comment on a retracted post.', bodyHtml: '<p>okapi</p>', source: 'esn' });
  await tombstonePost(db, onRetracted, false);
  const live = await post('live', { title: 'Live thread', body: 'Still here.' });
  ids.retractedComment = (await insertComment(db, { postId: live, authorId: ids.bob!, bodyText: 'An okapi comment, retracted.', bodyHtml: '<p>okapi</p>', source: 'esn' })).id;
  await tombstoneComment(db, ids.retractedComment);
  // Tombstones whose text is still in the row (as a hidden post's would be): only the visibility
  // conditions keep them out.
  const keep = await post('deletedKeepText', { title: 'Okapi kept', body: 'An okapi post marked deleted with its text.' });
  await api.t.pool.query('update posts set deleted_at = now() where id = $1', [keep]);
  const keptComment = await insertComment(db, { postId: live, authorId: ids.bob!, bodyText: 'An okapi comment marked deleted with its text.', bodyHtml: '<p>okapi</p>', source: 'esn' });
  await api.t.pool.query('update comments set deleted_at = now() where id = $1', [keptComment.id]);
  ids.comment = (await insertComment(db, { postId: live, authorId: ids.bob!, bodyText: 'The giraffe enclosure opens on Monday.', bodyHtml: '<p>giraffe</p>', source: 'esn', createdAt: at(2) })).id;
  // Paging: seven posts with one word, on different days; two in sales, one tagged.
  for (let i = 0; i < 7; i++) await post(`page${i}`, { title: `Pelican report ${i}`, body: `The pelican count, week ${i}.`, day: 3 + i, ...(i < 2 ? { group: sales.id } : {}) });
  await replaceTags(db, ids.page4!, ['birds']);
  // A private group: Bob is a member, Alice is not.
  const secret = (await createGroup(db, { slug: 'board', name: 'Board', visibility: 'private', ownerId: ids.kate! }))!;
  await addGroupMember(db, secret.id, ids.bob!);
  const privatePost = await post('private', { title: 'Board minutes', body: 'The narwhal acquisition was approved.', group: secret.id, author: ids.kate });
  ids.privateComment = (await insertComment(db, { postId: privatePost, authorId: ids.bob!, bodyText: 'Narwhal due diligence starts next week.', bodyHtml: '<p>narwhal</p>', source: 'esn' })).id;
});
afterAll(async () => {
  await api?.close();
});

const get = (url: string, who = 'alice') => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokens[who]}` } });
async function search(qs: string, who = 'alice') {
  const res = await get(`/api/v1/search?${qs}`, who);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: SearchHit[]; next_cursor: string | null };
}
const found = async (q: string, who = 'alice') => (await search(`q=${encodeURIComponent(q)}`, who)).items.map((h) => h.id);
const marked = (segments: { text: string; match: boolean }[]) => segments.filter((s) => s.match).map((s) => s.text);

describe('search: language-aware matching', () => {
  it('detects each text\'s language when it is written', async () => {
    const byId = new Map((await search('q=Hafen or migration')).items.map((h) => [h.id, h.language]));
    expect(byId.get(ids.german!)).toBe('german');
    expect(byId.get(ids.english!)).toBe('english');
  });

  it.each([
    ['Haus', 'german'], // Häuser, by the German stemmer
    ['Arbeit', 'german'],
    ['Sommers', 'german'],
    ['plan', 'english'], // planned, by the English stemmer
    ['migrations', 'english'],
  ])('%s finds the %s post by its stem', async (q, key) => {
    expect(await found(q)).toContain(ids[key]);
  });

  it('marks the matched words in the highlight, as plain-text segments', async () => {
    const hit = (await search('q=H%C3%A4user')).items.find((h) => h.id === ids.german)!;
    expect(marked(hit.highlight.text)).toEqual(['Häuser']);
    expect(hit.highlight.text.map((s) => s.text).join('')).toContain('Häuser am Hafen werden');
    expect(marked(hit.highlight.title)).toEqual([]);
  });

  it('finds a comment, naming its thread', async () => {
    const hit = (await search('q=giraffe')).items.find((h) => h.id === ids.comment)!;
    expect(hit).toMatchObject({ type: 'comment', post_id: ids.live, title: 'Live thread', author: { email: 'bob@corp.test' } });
    expect(marked(hit.highlight.text)).toEqual(['giraffe']);
  });

  it('finds mail that came through the pipeline, in its language, and never a withheld one', async () => {
    const posted = await mail(message('Alice Example <alice@corp.test>', 'de-1', 'Kantine', 'Ab Montag gibt es in der Kantine wieder frische Brötchen für alle Kollegen.'));
    expect(posted.state).toBe('posted');
    const withheld = await mail(message('Carol Withheld <carol@corp.test>', 'carol-1', 'Kantine', 'Die Kantine hat frische Brötchen und Kuchen.'));
    expect(withheld.state).toBe('withheld');
    const hits = (await search('q=Br%C3%B6tchen')).items;
    expect(hits.map((h) => [h.id, h.source, h.language])).toEqual([[posted.postId, 'email', 'german']]);
    expect(await found('Kuchen')).toEqual([]);
  });

  it('detects the language again when an edit changes the text', async () => {
    await editEsnPost(api.t.db, ids.english!, { title: 'Migration', bodyText: 'Die Migration der Rechnungen ist für das Ende des Quartals geplant.', bodyHtml: '<p>x</p>', tags: [], mentionedEmails: [] });
    const hit = (await search('q=Rechnung')).items.find((h) => h.id === ids.english)!;
    expect(hit.language).toBe('german');
  });
});

describe('search: trigrams for names and short words', () => {
  it.each(['Nakamura', 'nakamra', 'Kateřina'])('%s finds what Kateřina Nakamura wrote', async (q) => {
    expect(await found(q)).toContain(ids.katePost);
  });

  it.each(['IT', 'it outage'])('%s finds a title with a stop word', async (q) => {
    expect(await found(q)).toContain(ids.it);
  });

  it('finds part of a title word', async () => {
    expect(await found('pelica')).toContain(ids.page0);
  });
});

describe('search: what the reader may see', () => {
  it('never finds a retracted post, a retracted comment or a comment on a retracted post', async () => {
    expect(await found('okapi')).toEqual([]);
  });

  it('finds a private group\'s post and comments for its members only', async () => {
    expect(new Set(await found('narwhal', 'bob'))).toEqual(new Set([ids.private, ids.privateComment]));
    expect(await found('narwhal', 'alice')).toEqual([]);
    // Not by its author's name either, nor with the group named.
    expect(await found('Nakamura', 'alice')).not.toContain(ids.private);
    expect((await search('q=narwhal&group=board', 'alice')).items).toEqual([]);
  });

  it('keeps markup as text in the highlight', async () => {
    const hit = (await search('q=zebra')).items.find((h) => h.id === ids.hostile)!;
    expect(marked(hit.highlight.title)).toEqual(['zebra']);
    expect(hit.highlight.title.map((s) => s.text).join('')).toBe('Markup <b>zebra</b>');
    // Passages of the stored text as it is, tags and all: nothing added, nothing to render.
    const body = 'A <script>alert("zebra")</script> and <img src=x onerror=alert(1)> zebra crossing.';
    const passages = hit.highlight.text.map((s) => s.text).join('').split(' … ');
    for (const passage of passages) expect(body).toContain(passage);
    expect(marked(hit.highlight.text)).toContain('zebra');
  });

  it('cannot be given the highlight markers', async () => {
    const res = await get(`/api/v1/search?q=${encodeURIComponent('zebra\ue000')}`);
    expect(res.statusCode).toBe(400);
  });
});

describe('search: filters and paging', () => {
  it('pages with the cursor through every result once, best (here: newest) first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { items: SearchHit[]; next_cursor: string | null } = await search(`q=pelican&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((h) => h.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0].map((i) => ids[`page${i}`]));
  });

  it.each([
    ['group=sales', [1, 0]],
    ['tag=birds', [4]],
    ['tag=%23birds', [4]],
    [`author=alice%40corp.test`, [6, 5, 4, 3, 2, 1, 0]],
    [`author=bob%40corp.test`, []],
  ])('takes the feed\'s filter %s', async (filter, expected) => {
    expect((await search(`q=pelican&${filter}`)).items.map((h) => h.id)).toEqual(expected.map((i) => ids[`page${i}`]));
  });

  it('finds a comment in its post\'s group, and follows the post when it moves to another group', async () => {
    const inGroup = async (slug: string) => (await search(`q=giraffe&group=${slug}`)).items.map((h) => h.id);
    expect(await inGroup('general')).toContain(ids.comment);
    expect(await inGroup('sales')).not.toContain(ids.comment);
    const { post_id } = (await search('q=giraffe')).items.find((h) => h.id === ids.comment)!;
    const move = (group: string) => api.t.pool.query('update posts set group_id = (select id from groups where slug = $1) where id = $2', [group, post_id]);
    await move('sales');
    try {
      expect(await inGroup('sales')).toContain(ids.comment);
      expect(await inGroup('general')).not.toContain(ids.comment);
    } finally {
      await move('general');
    }
    expect(await inGroup('general')).toContain(ids.comment);
  });
});

describe('search: bad requests', () => {
  it.each([
    ['q=', 'q is empty'],
    ['q=%20%20', 'q is empty'],
    ['q=!!!', 'no letters or digits'],
    [`q=${'x'.repeat(201)}`, 'longer than 200'],
    ['q=pelican&cursor=bogus', 'cursor is not one this search issued'],
    ['q=pelican&limit=0', 'limit'],
    ['q=pelican&group=NOT%20A%20SLUG', 'group'],
  ])('?%s is 400 VALIDATION saying %j', async (qs, message) => {
    const res = await get(`/api/v1/search?${qs}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'VALIDATION' } });
    expect(res.json().error.message).toContain(message);
  });

  it('needs q', async () => {
    const res = await get('/api/v1/search');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('q');
  });

  it('needs a token', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/search?q=pelican' })).statusCode).toBe(401);
  });

  it('answers a query of stop words only with no results rather than an error', async () => {
    expect((await search('q=the%20and')).items.filter((h) => h.type === 'comment')).toEqual([]);
  });
});

describe('search: the web page', () => {
  const page = async (url: string) => {
    const cookie = await sessionCookie(api.t.db, tokens.alice!);
    return app.inject({ method: 'GET', url, headers: { cookie } });
  };

  it('has a search box on every page, in a search landmark with a label', async () => {
    for (const url of ['/web', '/web/preferences', `/web/posts/${ids.live}`]) {
      const res = await page(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toMatch(/<form class="search" method="get" action="\/web\/search" role="search"/);
      expect(res.body).toMatch(/<label for="site-search"[^>]*>Search posts and comments<\/label><input id="site-search" type="search" name="q"/);
    }
  });

  it('shows the results with the matches in <mark> and everything else escaped', async () => {
    const res = await page('/web/search?q=zebra');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Markup &lt;b&gt;<mark>zebra</mark>&lt;/b&gt;');
    expect(res.body).not.toMatch(/<script>|<img src=x|<b>zebra/);
    expect(res.body).toContain(`href="/web/posts/${ids.hostile}"`);
    expect(res.body).toContain('value="zebra"');
  });

  it('links a comment to its place in the thread, and pages with a cursor', async () => {
    expect((await page('/web/search?q=giraffe')).body).toContain(`href="/web/posts/${ids.live}#c-${ids.comment}"`);
    const first = await page('/web/search?q=pelican&group=');
    const next = /<a rel="next" href="([^"]+)"/.exec(first.body);
    expect(next).toBeNull(); // 7 results: one page of 20
  });

  it('says what is wrong with a bad query, and shows only the form for an empty one', async () => {
    const bad = await page('/web/search?q=%21%21%21');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('role="alert">The search has no letters or digits to search for.');
    const empty = await page('/web/search?q=');
    expect(empty.statusCode).toBe(200);
    expect(empty.body).not.toContain('Results for');
  });
});

describe('search: a word in hundreds of rows of a group', () => {
  // Enough rows that Postgres's statistics count "lantern" and "quokka" as common words, so the
  // search walks the newest rows before it reads the GIN index (docs/ARCHITECTURE.md "Search").
  // Whichever way it goes, the candidates are the newest SEARCH_CANDIDATES visible matches of
  // each kind: the oracle below states that rule in plain SQL.
  const base = '2026-09-01T00:00:00Z';
  const group: Record<string, string> = {};
  const hidden: string[] = [];

  beforeAll(async () => {
    const db = api.t.db;
    const pool = api.t.pool;
    group.busy = (await ensureGroup(db, 'busy')).id;
    group.quiet = (await ensureGroup(db, 'quiet')).id;
    group.vault = (await createGroup(db, { slug: 'vault', name: 'Vault', visibility: 'private', ownerId: ids.kate! }))!.id;
    await addGroupMember(db, group.vault, ids.bob!);
    const posts = async (g: string, n: number, body: (i: string) => string, from: number) => (await pool.query<{ id: string }>(
      `insert into posts (group_id, author_id, title, body_text, body_html, source, created_at)
       select $1, $2, 'Busy thread ' || i, ${body('i')}, '<p>x</p>', 'esn', $3::timestamptz + (i + $4::int) * interval '1 minute'
       from generate_series(1, $5::int) i returning id`, [g, ids.alice, base, from, n])).rows.map((r) => r.id);
    const comments = (postIds: string[], n: number, body: (i: string) => string, from: number) => pool.query(
      `insert into comments (post_id, author_id, body_text, body_html, source, created_at)
       select ($1::uuid[])[1 + i % cardinality($1::uuid[])], $2, ${body('i')}, '<p>x</p>', 'esn', $3::timestamptz + (i + $4::int) * interval '1 minute'
       from generate_series(1, $5::int) i`, [postIds, ids.bob, base, from, n]);
    // Busy: 400 posts, half with the word; 1,800 comments, a fifth with it, and the two oldest
    // with a word common elsewhere only; one in thirty with a less common word, one with a rare one.
    const busy = await posts(group.busy, 400, (i) => `case when ${i} % 2 = 0 then 'The lantern festival, note ' || ${i} else 'Plain note ' || ${i} end`, 0);
    await comments(busy, 1800, (i) => `case when ${i} % 5 = 0 then 'A lantern comment ' || ${i} when ${i} <= 2 then 'An old quokka sighting ' || ${i}
      when ${i} = 701 then 'A zeppelin overhead' when ${i} % 30 = 1 then 'A grey heron ' || ${i} else 'Nothing to see ' || ${i} end`, 0);
    // Quiet: the other word, in many rows.
    const quiet = await posts(group.quiet, 200, (i) => `'The quokka census ' || ${i}`, 0);
    await comments(quiet, 600, (i) => `'Another quokka comment ' || ${i}`, 0);
    // The private group's matches are the newest of all.
    const vault = await posts(group.vault, 100, (i) => `'A vault lantern ' || ${i}`, 3000);
    await comments(vault, 300, (i) => `'A vault lantern comment ' || ${i}`, 3000);
    // Hidden by a moderator (their text kept): the newest matches of the busy group.
    hidden.push(...(await pool.query<{ id: string }>(`update comments set deleted_at = now() where id in (select id from comments
      where group_id = $1 and body_text like '%lantern%' order by created_at desc limit 3) returning id`, [group.busy])).rows.map((r) => r.id));
    hidden.push(...(await pool.query<{ id: string }>(`update posts set deleted_at = now(), hidden_at = now() where id in (select id from posts
      where group_id = $1 and body_text like '%lantern%' order by created_at desc limit 2) returning id`, [group.busy])).rows.map((r) => r.id));
    await pool.query('analyze posts, comments');
  });

  /** Every result of the search, all pages. */
  async function everything(qs: string, who: string) {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: { items: SearchHit[]; next_cursor: string | null } = await search(`${qs}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, who);
      seen.push(...page.items.map((h) => h.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return seen.sort();
  }

  /** The rule: the newest 150 visible matches of each kind, in the group when one is given. */
  async function newestMatches(q: string, who: string, slug?: string, author?: string) {
    const { rows } = await api.t.pool.query<{ id: string }>(
      `with v as (select g.id from groups g where (g.visibility = 'public' or exists (select 1 from group_members m where m.group_id = g.id and m.person_id = $2))
                   and ($3::text is null or g.slug = $3))
       (select p.id from posts p where p.search_vector @@ blend_search_query($1) and p.deleted_at is null and p.group_id in (select id from v)
         and ($4::uuid is null or p.author_id = $4) order by p.created_at desc limit 150)
       union all
       (select c.id from comments c join posts p on p.id = c.post_id where c.search_vector @@ blend_search_query($1)
         and c.deleted_at is null and p.deleted_at is null and p.group_id in (select id from v)
         and ($4::uuid is null or c.author_id = $4) order by c.created_at desc limit 150)`,
      [q, ids[who], slug ?? null, author ? ids[author] : null]);
    return rows.map((r) => r.id).sort();
  }

  it('finds the words in its statistics as common, less common and unknown, so that each way of searching is taken', async () => {
    const { rows } = await api.t.pool.query<{ lexeme: string; share: number | null }>(
      `select w.lexeme, (select e.share from unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as e(lexeme, share) where e.lexeme = w.lexeme) as share
       from pg_stats s, unnest(array['lantern', 'quokka', 'heron', 'zeppelin']) as w(lexeme)
       where s.tablename = 'comments' and s.attname = 'search_vector'`);
    const share = Object.fromEntries(rows.map((r) => [r.lexeme, r.share]));
    expect(share.lantern).toBeGreaterThanOrEqual(SEARCH_WALK_SHARE);
    expect(share.quokka).toBeGreaterThanOrEqual(SEARCH_WALK_SHARE);
    expect(share.heron).toBeGreaterThan(0);
    expect(share.heron).toBeLessThan(SEARCH_WALK_SHARE);
    expect(share.zeppelin).toBeNull();
  });

  it.each([
    ['a word in hundreds of the group\'s newest rows', 'lantern', 'busy'],
    ['a word common elsewhere, in the group only in rows older than the walk', 'quokka', 'busy'],
    ['a less common word', 'heron', 'busy'],
    ['a rare word', 'zeppelin', 'busy'],
    ['a common word in every group the reader may see', 'lantern', undefined],
  ])('%s: the newest matches of each kind, never a hidden one', async (_what, q, slug) => {
    const expected = await newestMatches(q, 'alice', slug);
    expect(expected.length).toBeGreaterThan(0);
    const got = await everything(`q=${q}${slug ? `&group=${slug}` : ''}`, 'alice');
    expect(got).toEqual(expected);
    for (const id of hidden) expect(got).not.toContain(id);
  });

  it('takes an author filter with a common word', async () => {
    const expected = await newestMatches('lantern', 'alice', 'busy', 'bob');
    expect(expected).toHaveLength(150);
    expect(await everything('q=lantern&group=busy&author=bob%40corp.test', 'alice')).toEqual(expected);
  });

  it('walks a private group\'s rows for its members only', async () => {
    expect((await search('q=lantern&group=vault', 'alice')).items).toEqual([]);
    const forBob = await everything('q=lantern&group=vault', 'bob');
    expect(forBob).toHaveLength(250);
    expect(forBob).toEqual(await newestMatches('lantern', 'bob', 'vault'));
    // Without a group, its rows are the newest matches for a member, and none for anyone else.
    const all = await everything('q=lantern', 'bob');
    expect(all).toEqual(await newestMatches('lantern', 'bob'));
    expect(all.filter((id) => forBob.includes(id)).length).toBe(250);
  });
});

describe('search: titles and names next to a walk', () => {
  // A word common enough to be walked for ("lighthouse"), a title that only looks like it
  // ("Lighthousekeeping") and a person whose name does (Quinn Lighthousen), each in rows newer
  // and older than the walk's oldest match: the names' and titles' candidates are looked for
  // only as far back as that match (docs/ARCHITECTURE.md "Search"), which must not change which
  // rows are ranked. The oracle states the rule in plain SQL.
  const base = '2026-10-01T00:00:00Z';
  const extra: Record<string, string[]> = { titleNew: [], titleOld: [], namePostNew: [], namePostOld: [], nameCommentNew: [], nameCommentOld: [] };

  beforeAll(async () => {
    const db = api.t.db;
    const pool = api.t.pool;
    const harbour = (await ensureGroup(db, 'harbour')).id;
    const quinn = (await upsertPerson(db, { email: 'quinn@corp.test', name: 'Quinn Lighthousen' })).person.id;
    const at = (minutes: number) => new Date(Date.parse(base) + minutes * 60_000);
    // 400 posts, every other one with the word; 600 comments on them, every other one with it.
    const postIds = (await pool.query<{ id: string }>(
      `insert into posts (group_id, author_id, title, body_text, body_html, source, created_at)
       select $1, $2, 'Harbour note ' || i, case when i % 2 = 0 then 'The lighthouse beam, log ' || i else 'Calm sea, log ' || i end, '<p>x</p>', 'esn',
         $3::timestamptz + i * interval '1 minute'
       from generate_series(1, 400) i returning id`, [harbour, ids.alice, base])).rows.map((r) => r.id);
    await pool.query(
      `insert into comments (post_id, author_id, body_text, body_html, source, created_at)
       select ($1::uuid[])[1 + i % 400], $2, case when i % 2 = 0 then 'Saw the lighthouse again ' || i else 'Quiet night ' || i end, '<p>x</p>', 'esn',
         $3::timestamptz + (i * 40) * interval '1 second'
       from generate_series(1, 600) i`, [postIds, ids.bob, base]);
    const post = async (key: string, minutes: number, v: { title: string; author: string }) => {
      const row = await insertPost(db, { groupId: harbour, authorId: v.author, title: v.title, bodyText: 'Nothing about the sea.', bodyHtml: '<p>x</p>', source: 'esn', createdAt: at(minutes) });
      extra[key]!.push(row.id);
    };
    const comment = async (key: string, minutes: number) => {
      const row = await insertComment(db, { postId: postIds[399]!, authorId: quinn, bodyText: 'Nothing about the sea.', bodyHtml: '<p>x</p>', source: 'esn', createdAt: at(minutes) });
      extra[key]!.push(row.id);
    };
    // Newer than the walk's oldest match (the newest 150 of the 200 posts with the word begin at
    // minute 102, of the 300 comments with it at minute 201), and older than every row with it.
    for (const m of [390.5, 300.5, 250.5]) await post('titleNew', m, { title: 'Lighthousekeeping log', author: ids.alice! });
    for (const m of [-10, -20]) await post('titleOld', m, { title: 'Lighthousekeeping log', author: ids.alice! });
    for (const m of [395.5, 200.5]) await post('namePostNew', m, { title: 'Tides', author: quinn });
    await post('namePostOld', -30, { title: 'Tides', author: quinn });
    for (const m of [398.5, 350.5]) await comment('nameCommentNew', m);
    await comment('nameCommentOld', -40);
    await pool.query('analyze posts, comments');
  });

  /** The rule: the newest 150 of each kind among the matches of the words, the newest 25 titles that look like the query, and the rows of people whose names do. */
  async function candidates(q: string, who: string, slug?: string) {
    const { rows } = await api.t.pool.query<{ id: string }>(
      `with v as (select g.id from groups g where (g.visibility = 'public' or exists (select 1 from group_members m where m.group_id = g.id and m.person_id = $2))
                   and ($3::text is null or g.slug = $3)),
       named as (select id from people where $1 <% name),
       vp as (select p.* from posts p where p.deleted_at is null and p.group_id in (select id from v)),
       vc as (select c.* from comments c join posts p on p.id = c.post_id where c.deleted_at is null and p.deleted_at is null and p.group_id in (select id from v))
       (select id from (
         (select id, created_at from vp where search_vector @@ blend_search_query($1) order by created_at desc limit 150)
         union (select id, created_at from vp where $1 <% title order by created_at desc limit 25)
         union (select id, created_at from vp where author_id in (select id from named) order by created_at desc limit 150)) u
        order by created_at desc limit 150)
       union all
       (select id from (
         (select id, created_at from vc where search_vector @@ blend_search_query($1) order by created_at desc limit 150)
         union (select id, created_at from vc where author_id in (select id from named) order by created_at desc limit 150)) u
        order by created_at desc limit 150)`,
      [q, ids[who], slug ?? null]);
    return rows.map((r) => r.id).sort();
  }

  async function everything(qs: string, who: string) {
    const seen: SearchHit[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const page: { items: SearchHit[]; next_cursor: string | null } = await search(`${qs}&limit=100${cursor ? `&cursor=${cursor}` : ''}`, who);
      seen.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    return seen;
  }

  it('counts the word as common in both tables, so that it is walked for', async () => {
    const { rows } = await api.t.pool.query<{ tablename: string; share: number | null }>(
      `select s.tablename, (select max(e.share) from unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as e(lexeme, share) where e.lexeme in ('lighthous', 'lighthouse')) as share
       from pg_stats s where s.tablename in ('posts', 'comments') and s.attname = 'search_vector'`);
    for (const r of rows) expect(r.share, r.tablename).toBeGreaterThanOrEqual(SEARCH_WALK_SHARE);
  });

  it.each([
    ['within the group', 'harbour'],
    ['without a group', undefined],
  ])('%s: ranks the same rows as the rule, titles and names newer than the walk\'s oldest match among them', async (_what, slug) => {
    const hits = await everything(`q=lighthouse${slug ? `&group=${slug}` : ''}`, 'alice');
    const got = hits.map((h) => h.id).sort();
    expect(got).toEqual(await candidates('lighthouse', 'alice', slug));
    for (const key of ['titleNew', 'namePostNew', 'nameCommentNew']) for (const id of extra[key]!) expect(got, key).toContain(id);
    for (const key of ['titleOld', 'namePostOld', 'nameCommentOld']) for (const id of extra[key]!) expect(got, key).not.toContain(id);
    // Best first: the pages are in the order of their scores.
    const scores = hits.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });
});

describe('search: its transaction and settings', () => {
  // The search plans its statements with settings of its own (esn-search.ts searchSettings):
  // they hold for its statements and are gone when the connection goes back to the pool.
  const settings = `select current_setting('jit') as jit, current_setting('max_parallel_workers_per_gather') as workers,
    current_setting('random_page_cost') as page_cost, now() = statement_timestamp() as outside`;

  it.each([
    ['without a group', undefined, '4'],
    ['within a group', 'busy', '1.1'],
  ])('%s: plans its statement without JIT or parallel workers, in a transaction of its own, and leaves the connection as it was', async (_what, group, pageCost) => {
    const h = createDb(api.t.url, { max: 1 });
    try {
      const before = (await h.pool.query(settings)).rows[0];
      expect(before).toMatchObject({ jit: 'on', workers: '2', page_cost: '4', outside: true });
      // What the search's connection holds just before its main statement (the one with no name).
      let during: Record<string, unknown> | undefined;
      h.pool.on('acquire', (client: pg.PoolClient) => {
        const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
        (client as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = async (...a: unknown[]) => {
          if (typeof a[0] === 'string' && Array.isArray(a[1]) && !during) during = ((await query(settings)) as pg.QueryResult).rows[0];
          return query(...a);
        };
      });
      const page = await searchContent(h.db, { q: 'lantern', viewerId: ids.alice!, limit: 5, filter: group ? { group } : {} });
      expect(page.items).toHaveLength(5);
      expect(during).toEqual({ jit: 'off', workers: '0', page_cost: pageCost, outside: false });
      h.pool.removeAllListeners('acquire');
      expect((await h.pool.query(settings)).rows[0]).toEqual(before);
    } finally {
      await h.close();
    }
  });
  it.each([
    ['a walk that finds enough matches', 'lantern', 1],
    ['a walk that falls short (the word is common elsewhere, in the group only in old rows)', 'quokka', 2],
  ])('%s: %s takes %i search statement(s)', async (_what, q, statements) => {
    const h = createDb(api.t.url, { max: 1 });
    try {
      let count = 0;
      h.pool.on('acquire', (client: pg.PoolClient) => {
        const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
        (client as unknown as { query: (...a: unknown[]) => Promise<unknown> }).query = (...a: unknown[]) => {
          if (typeof a[0] === 'string' && Array.isArray(a[1])) count++;
          return query(...a);
        };
      });
      const page = await searchContent(h.db, { q, viewerId: ids.alice!, limit: 5, filter: { group: 'busy' } });
      expect(page.items.length).toBeGreaterThan(0);
      expect(count).toBe(statements);
    } finally {
      await h.close();
    }
  });
});
