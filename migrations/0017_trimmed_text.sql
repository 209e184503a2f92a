ALTER TABLE "comments" ADD COLUMN "trimmed_text" text;--> statement-breakpoint
ALTER TABLE "posts" ADD COLUMN "trimmed_text" text;