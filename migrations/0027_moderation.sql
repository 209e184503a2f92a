-- Moderation (issue #17): an admin hides a post or comment with a reason and may restore it.
-- A hidden item also carries deleted_at (= hidden_at), so every reader-facing query treats it
-- exactly as a retracted one, while its content stays for the author and for a restore
-- (docs/SECURITY.md, moderation).
ALTER TABLE "posts" ADD COLUMN "hidden_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "hidden_by" uuid REFERENCES "people"("id") ON DELETE SET NULL;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "hidden_reason" text;--> statement-breakpoint
ALTER TABLE "comments" ADD COLUMN "hidden_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "comments" ADD COLUMN "hidden_by" uuid REFERENCES "people"("id") ON DELETE SET NULL;--> statement-breakpoint
ALTER TABLE "comments" ADD COLUMN "hidden_reason" text;--> statement-breakpoint
-- Readers' reports: one open report per reader and item (comment_id null for the post itself).
CREATE TABLE "reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"reporter_id" uuid NOT NULL REFERENCES "people"("id") ON DELETE CASCADE,
	"post_id" uuid NOT NULL REFERENCES "posts"("id") ON DELETE CASCADE,
	"comment_id" uuid REFERENCES "comments"("id") ON DELETE CASCADE,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" uuid REFERENCES "people"("id") ON DELETE SET NULL,
	"resolution" text
);--> statement-breakpoint
CREATE UNIQUE INDEX "reports_open_uq" ON "reports" USING btree ("reporter_id", "post_id", coalesce("comment_id", '00000000-0000-0000-0000-000000000000'::uuid)) WHERE "resolved_at" IS NULL;--> statement-breakpoint
CREATE INDEX "reports_open_idx" ON "reports" USING btree ("created_at") WHERE "resolved_at" IS NULL;
