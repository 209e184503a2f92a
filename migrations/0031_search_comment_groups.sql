-- Search within a group, and by people's names, without reading comments from the table one by
-- one (docs/ARCHITECTURE.md "Search").
-- A comment carries its post's group, kept by triggers whenever a comment is written or moved
-- and whenever a post changes group, so the newest comments of one group are read from an index
-- instead of through all of the group's posts.
ALTER TABLE "comments" ADD COLUMN "group_id" uuid;--> statement-breakpoint
CREATE FUNCTION blend_comment_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.group_id := (SELECT p.group_id FROM posts p WHERE p.id = NEW.post_id);
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE FUNCTION blend_post_group_to_comments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE comments SET group_id = NEW.group_id WHERE post_id = NEW.id AND group_id IS DISTINCT FROM NEW.group_id;
  RETURN NULL;
END $$;--> statement-breakpoint
UPDATE "comments" c SET "group_id" = p."group_id" FROM "posts" p WHERE p."id" = c."post_id";--> statement-breakpoint
CREATE TRIGGER comments_group BEFORE INSERT OR UPDATE OF post_id, group_id ON comments FOR EACH ROW EXECUTE FUNCTION blend_comment_group();--> statement-breakpoint
CREATE TRIGGER posts_group_to_comments AFTER UPDATE OF group_id ON posts FOR EACH ROW WHEN (OLD.group_id IS DISTINCT FROM NEW.group_id) EXECUTE FUNCTION blend_post_group_to_comments();--> statement-breakpoint
-- The newest visible comments of a group.
CREATE INDEX "comments_group_feed_idx" ON "comments" USING btree ("group_id", "created_at" DESC, "id" DESC) WHERE "deleted_at" IS NULL;--> statement-breakpoint
-- The newest visible comments with their author and post: the comments of people whose names
-- match are found by walking it without reading the table (an index-only scan).
CREATE INDEX "comments_search_feed_idx" ON "comments" USING btree ("created_at" DESC, "id" DESC) INCLUDE ("author_id", "post_id") WHERE "deleted_at" IS NULL;--> statement-breakpoint
DROP INDEX "comments_feed_idx";
