-- Search by people's names (docs/ARCHITECTURE.md "Search"): the newest visible posts with their
-- author and group, so the posts of people whose names match are found by walking this index
-- without reading the table (an index-only scan), as comments_search_feed_idx does for comments.
-- Built here within the migration's transaction, which holds writes to posts while it builds
-- (about a second per 100,000 posts). On a large live database create it first with the same
-- statement and CONCURRENTLY (outside a transaction); this one then does nothing.
CREATE INDEX IF NOT EXISTS "posts_search_feed_idx" ON "posts" USING btree ("created_at" DESC, "id" DESC) INCLUDE ("author_id", "group_id") WHERE "deleted_at" IS NULL;
