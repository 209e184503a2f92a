-- The language guess of a post or comment as it is written (docs/ARCHITECTURE.md "Search"), the
-- same query as before in a PL/pgSQL function instead of an SQL one. Postgres keeps an SQL
-- function's plan only within one statement of one subtransaction: the ingest writes each mail
-- behind a savepoint of its own, so every post and comment it wrote parsed and planned the guess
-- afresh (about half of its cost). PL/pgSQL keeps the plan for the whole session. The result is
-- the same for every text.
CREATE OR REPLACE FUNCTION blend_text_language(body text) RETURNS regconfig LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  RETURN (
    WITH w AS (SELECT lexeme, array_length(positions, 1) AS n FROM unnest(to_tsvector('simple'::regconfig, left(coalesce(body, ''), 600))))
    SELECT coalesce((
      SELECT s.cfg
      FROM w JOIN search_stopwords s ON s.word = w.lexeme
      GROUP BY s.cfg
      HAVING sum(w.n) >= greatest(2, (SELECT sum(n) FROM w) / 10)
      ORDER BY sum(w.n) DESC, array_position(blend_search_configs(), s.cfg)
      LIMIT 1), 'simple'::regconfig));
END
$$;
