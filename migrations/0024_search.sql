-- Search (issue #17): full-text search over posts and comments in each one's own language,
-- plus trigram matching for people's names and titles (docs/ARCHITECTURE.md "Search").
-- pg_trgm is a trusted extension: a database owner may create it (Debian's postgresql contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
-- The text search configurations Blend tells apart, in order of preference on a tie.
CREATE FUNCTION blend_search_configs() RETURNS regconfig[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY['english', 'german', 'french', 'spanish', 'italian', 'portuguese', 'dutch', 'swedish', 'danish',
               'norwegian', 'finnish', 'russian', 'hungarian', 'turkish']::regconfig[]
$$;--> statement-breakpoint
-- A cheap language guess from the text itself: the configuration whose stop-word list removes
-- the most words of its first 600 characters (at least 2, and a tenth of them), else 'simple'
-- (no stemming: Japanese, Chinese, Polish, Czech…). Postgres's own stop-word lists are the model.
CREATE FUNCTION blend_text_language(body text) RETURNS regconfig LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH sample AS (SELECT left(coalesce(body, ''), 600) AS s),
  words AS (SELECT coalesce(sum(array_length(positions, 1)), 0) AS n FROM sample, unnest(to_tsvector('simple'::regconfig, s)))
  SELECT coalesce((
    SELECT c.cfg
    FROM unnest(blend_search_configs()) WITH ORDINALITY AS c(cfg, pref)
    CROSS JOIN sample CROSS JOIN words
    CROSS JOIN LATERAL (SELECT coalesce(sum(array_length(positions, 1)), 0) AS kept FROM unnest(to_tsvector(c.cfg, sample.s))) k
    WHERE words.n - k.kept >= greatest(2, words.n / 10)
    ORDER BY words.n - k.kept DESC, c.pref
    LIMIT 1), 'simple'::regconfig)
$$;--> statement-breakpoint
-- What a search string means in every language at once: its words stemmed by each
-- configuration, OR'ed (each document is indexed in its own language and matches its own part);
-- null when no configuration finds a word in it (only stop words or punctuation).
CREATE FUNCTION blend_search_query(q text) RETURNS tsquery LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT string_agg(DISTINCT '(' || t::text || ')', ' | ')::tsquery
  FROM (SELECT websearch_to_tsquery(cfg, q) AS t FROM unnest(blend_search_configs() || 'simple'::regconfig) AS cfg) x
  WHERE numnode(t) > 0
$$;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "language" regconfig;--> statement-breakpoint
ALTER TABLE "comments" ADD COLUMN "language" regconfig;--> statement-breakpoint
-- The language is guessed when a row is written without one, and again when an edit changes
-- the text (unless the edit sets the language itself).
CREATE FUNCTION blend_set_language() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.language IS NULL THEN
      NEW.language := blend_text_language(CASE WHEN TG_TABLE_NAME = 'posts' THEN to_jsonb(NEW)->>'title' || E'\n' ELSE '' END || NEW.body_text);
    END IF;
  ELSIF NEW.language IS NOT DISTINCT FROM OLD.language AND NEW.body_text IS DISTINCT FROM OLD.body_text THEN
    NEW.language := blend_text_language(CASE WHEN TG_TABLE_NAME = 'posts' THEN to_jsonb(NEW)->>'title' || E'\n' ELSE '' END || NEW.body_text);
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
UPDATE "posts" SET "language" = blend_text_language("title" || E'\n' || "body_text");--> statement-breakpoint
UPDATE "comments" SET "language" = blend_text_language("body_text");--> statement-breakpoint
CREATE TRIGGER posts_language BEFORE INSERT OR UPDATE OF title, body_text, language ON posts FOR EACH ROW EXECUTE FUNCTION blend_set_language();--> statement-breakpoint
CREATE TRIGGER comments_language BEFORE INSERT OR UPDATE OF body_text, language ON comments FOR EACH ROW EXECUTE FUNCTION blend_set_language();--> statement-breakpoint
-- The words of each row in its language (title weighted A, body B), plus the title's words as
-- written (D), so that a stop word or an unstemmed short word of a title ("IT", "Q3") is found.
ALTER TABLE "posts" ADD COLUMN "search_vector" tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector(coalesce("language", 'simple'::regconfig), "title"), 'A')
  || setweight(to_tsvector(coalesce("language", 'simple'::regconfig), "body_text"), 'B')
  || setweight(to_tsvector('simple'::regconfig, "title"), 'D')) STORED;--> statement-breakpoint
ALTER TABLE "comments" ADD COLUMN "search_vector" tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector(coalesce("language", 'simple'::regconfig), "body_text"), 'B')) STORED;--> statement-breakpoint
CREATE INDEX "posts_search_idx" ON "posts" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "comments_search_idx" ON "comments" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "posts_title_trgm_idx" ON "posts" USING gin ("title" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "people_name_trgm_idx" ON "people" USING gin ("name" gin_trgm_ops);
