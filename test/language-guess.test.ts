import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database';

// The language guess of a post or comment as it is written (docs/ARCHITECTURE.md "Search";
// migration 0037): a PL/pgSQL function, whose plan a session keeps, where an SQL function's was
// parsed and planned again behind every mail's savepoint; the same answer for every text.

/** The guess as migration 0024 wrote it, as a query of its own. */
const GUESS_0024 = `
  WITH w AS (SELECT lexeme, array_length(positions, 1) AS n FROM unnest(to_tsvector('simple'::regconfig, left(coalesce($1::text, ''), 600))))
  SELECT coalesce((
    SELECT s.cfg
    FROM w JOIN search_stopwords s ON s.word = w.lexeme
    GROUP BY s.cfg
    HAVING sum(w.n) >= greatest(2, (SELECT sum(n) FROM w) / 10)
    ORDER BY sum(w.n) DESC, array_position(blend_search_configs(), s.cfg)
    LIMIT 1), 'simple'::regconfig)::text AS cfg`;

const TEXTS: (string | null)[] = [
  'We planned the billing migration for the end of the quarter and the team is on it.',
  'Die Häuser am Hafen werden im Sommer renoviert und wir haben die Arbeiten schon geplant.',
  'Le budget de la prochaine année est en cours et nous avons besoin de vos chiffres pour le comité.',
  'El equipo de ventas presenta los resultados del trimestre con los datos que tenemos para la reunión.',
  'Мы обсудили план на следующий квартал и все согласны с этим решением, но нужно время.',
  '来週の会議の資料を共有します。ご確認ください。',
  'Zítra máme poradu o rozpočtu, prosím pošlete podklady.',
  'the and of',
  'og at det som en på er af for med til den har ikke om',
  'IT Q3 OKR KPI',
  'Re: ok',
  '',
  null,
  `${'lorem ipsum dolor sit amet consectetur '.repeat(16)} the and of to a in is it that for on was with`,
  `Hi all,\r\n\r\n> On Tuesday Bob wrote:\r\n> Das ist der Plan für die nächste Woche.\r\n\r\nThanks, that is fine with me and we will do it.`,
];

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => t?.drop());

describe('the language guess', () => {
  it('is a PL/pgSQL function, whose plan the session keeps', async () => {
    const r = await t.pool.query<{ lang: string; volatility: string }>(
      `select l.lanname as lang, p.provolatile as volatility from pg_proc p join pg_language l on l.oid = p.prolang where p.proname = 'blend_text_language'`,
    );
    expect(r.rows).toEqual([{ lang: 'plpgsql', volatility: 's' }]);
  });

  it('gives the language the query of migration 0024 gives, text by text', async () => {
    const c = await t.pool.connect();
    try {
      const got: [string | null, string][] = [];
      const want: [string | null, string][] = [];
      for (const text of TEXTS) {
        want.push([text, (await c.query<{ cfg: string }>(GUESS_0024, [text])).rows[0]!.cfg]);
        got.push([text, (await c.query<{ cfg: string }>('select blend_text_language($1)::text as cfg', [text])).rows[0]!.cfg]);
      }
      expect(got).toEqual(want);
      // Not all 'simple': the texts tell languages apart.
      expect(new Set(got.map(([, cfg]) => cfg))).toEqual(new Set(['english', 'german', 'french', 'spanish', 'russian', 'danish', 'simple']));
    } finally {
      c.release();
    }
  });

  it('is set on posts and comments written behind savepoints, each mail its own, as the ingest writes them', async () => {
    const c = await t.pool.connect();
    try {
      const person = (await c.query<{ id: string }>(`insert into people (email, name) values ('lang@corp.test', 'Lang') returning id`)).rows[0]!.id;
      const group = (await c.query<{ id: string }>(`insert into groups (slug, name) values ('lang', 'Lang') returning id`)).rows[0]!.id;
      await c.query('begin');
      const langs: string[] = [];
      for (let i = 0; i < 4; i++) {
        await c.query(i === 0 ? 'savepoint m0' : `release savepoint m${i - 1}; savepoint m${i}`);
        const body = TEXTS[i % 2]!;
        const post = (await c.query<{ id: string; language: string }>(
          `insert into posts (group_id, author_id, title, body_text, body_html, source) values ($1, $2, $3, $4, $4, 'email') returning id, language::text`,
          [group, person, `Post ${i}`, body],
        )).rows[0]!;
        const comment = (await c.query<{ language: string }>(
          `insert into comments (post_id, author_id, body_text, body_html, source) values ($1, $2, $3, $3, 'email') returning language::text`,
          [post.id, person, TEXTS[(i + 1) % 2]!],
        )).rows[0]!;
        langs.push(post.language, comment.language);
      }
      await c.query('commit');
      expect(langs).toEqual(['english', 'german', 'german', 'english', 'english', 'german', 'german', 'english']);
    } finally {
      await c.query('rollback').catch(() => undefined);
      c.release();
    }
  });
});
