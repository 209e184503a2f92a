DROP INDEX "post_tags_tag_idx";--> statement-breakpoint
DROP INDEX "comments_post_idx";--> statement-breakpoint
-- Hand-edited: the copied post_created_at is added nullable, filled from posts, then made NOT NULL
-- (drizzle-kit adds a NOT NULL column without a default in one step, which fails on any row).
ALTER TABLE "mentions" ADD COLUMN "post_created_at" timestamp with time zone;--> statement-breakpoint
UPDATE "mentions" m SET "post_created_at" = p."created_at" FROM "posts" p WHERE p."id" = m."post_id";--> statement-breakpoint
ALTER TABLE "mentions" ALTER COLUMN "post_created_at" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "post_tags" ADD COLUMN "post_created_at" timestamp with time zone;--> statement-breakpoint
UPDATE "post_tags" t SET "post_created_at" = p."created_at" FROM "posts" p WHERE p."id" = t."post_id";--> statement-breakpoint
ALTER TABLE "post_tags" ALTER COLUMN "post_created_at" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "mentions_feed_idx" ON "mentions" USING btree ("person_id","post_created_at" DESC NULLS FIRST,"post_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "post_tags_feed_idx" ON "post_tags" USING btree ("tag","post_created_at" DESC NULLS FIRST,"post_id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "comments_post_idx" ON "comments" USING btree ("post_id","created_at","id");
