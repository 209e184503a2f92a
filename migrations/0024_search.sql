-- Search (issue #17): full-text search over posts and comments in each one's own language,
-- plus trigram matching for people's names and titles (docs/ARCHITECTURE.md "Search").
-- pg_trgm is a trusted extension: a database owner may create it (Debian's postgresql contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
-- The text search configurations Blend tells apart, in order of preference on a tie.
CREATE FUNCTION blend_search_configs() RETURNS regconfig[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY['english', 'german', 'french', 'spanish', 'italian', 'portuguese', 'dutch', 'swedish', 'danish',
               'norwegian', 'finnish', 'russian', 'hungarian', 'turkish']::regconfig[]
$$;--> statement-breakpoint
-- The most frequent function words of each language (its position in blend_search_configs()
-- breaks ties). A text's language is the one whose words make up the most of it.
CREATE TABLE "search_stopwords" ("cfg" regconfig NOT NULL, "word" text NOT NULL, PRIMARY KEY ("word", "cfg"));--> statement-breakpoint
INSERT INTO "search_stopwords" ("cfg", "word")
SELECT l.cfg::regconfig, w FROM (VALUES
  ('english', 'the and of to a in is it that for on was with as are be this have not you we at by from or but will they our an'),
  ('german', 'der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat dass wir ich sie sind'),
  ('french', 'le la les de des et à un une du est en que qui dans pour pas sur au avec ce il nous vous sont par plus ne se'),
  ('spanish', 'el la los las de del y en que un una es por con para no se su al lo como más pero sus le ya o este'),
  ('italian', 'il di che è e la le un una per non in con sono del della gli dei si ma come anche questo lo al alla nel'),
  ('portuguese', 'o a os as de do da dos das e em um uma que é para com não no na por se mais como mas ao foi são'),
  ('dutch', 'de het een en van in is dat op te zijn voor met die niet aan er ook als maar om bij wat dit wij we'),
  ('swedish', 'och att det som en på är av för med till den har inte om ett de jag vi var men så kan från'),
  ('danish', 'og at det som en på er af for med til den har ikke om et de jeg vi var men så kan fra'),
  ('norwegian', 'og at det som en på er av for med til den har ikke om et de jeg vi var men så kan fra'),
  ('finnish', 'ja on ei se että oli hän ole kuin mutta tai jos myös ovat mitä tämä nyt vain niin sen olla kun me'),
  ('russian', 'и в не на что с как по это он я а к но из у то за мы вы бы же от для все так его'),
  ('hungarian', 'a az és hogy nem is van egy meg de ez csak már mint el még volt ha azt fel kell lesz'),
  ('turkish', 've bir bu da de için ile ne çok gibi daha ama olarak var ki en her şey sonra kadar')
) AS l(cfg, words), regexp_split_to_table(l.words, ' ') AS w
ON CONFLICT DO NOTHING;--> statement-breakpoint
-- A cheap language guess from the text itself, with one pass of the 'simple' parser over its
-- first 600 characters: the language whose function words are the most of its words (at least
-- 2, and a tenth of them), else 'simple' (no stemming: Japanese, Chinese, Polish, Czech…).
CREATE FUNCTION blend_text_language(body text) RETURNS regconfig LANGUAGE sql STABLE PARALLEL SAFE AS $$
  WITH w AS (SELECT lexeme, array_length(positions, 1) AS n FROM unnest(to_tsvector('simple'::regconfig, left(coalesce(body, ''), 600))))
  SELECT coalesce((
    SELECT s.cfg
    FROM w JOIN search_stopwords s ON s.word = w.lexeme
    GROUP BY s.cfg
    HAVING sum(w.n) >= greatest(2, (SELECT sum(n) FROM w) / 10)
    ORDER BY sum(w.n) DESC, array_position(blend_search_configs(), s.cfg)
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
CREATE INDEX "people_name_trgm_idx" ON "people" USING gin ("name" gin_trgm_ops);--> statement-breakpoint
-- What people whose names match wrote, newest first (posts have posts_author_idx).
CREATE INDEX "comments_author_idx" ON "comments" USING btree ("author_id", "created_at" DESC NULLS FIRST);--> statement-breakpoint
-- The newest comments first: a common word's newest matches are found by walking it, where the
-- GIN index would hand over every one of them (tens of thousands) to be sorted.
CREATE INDEX "comments_feed_idx" ON "comments" USING btree ("created_at" DESC NULLS FIRST, "id" DESC NULLS FIRST);
