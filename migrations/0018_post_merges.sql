CREATE TABLE "post_merges" (
	"merged_post_id" uuid PRIMARY KEY NOT NULL,
	"surviving_post_id" uuid NOT NULL,
	"comment_id" uuid,
	"kind" text NOT NULL,
	"inbound_id" uuid,
	"merged_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "post_merges" ADD CONSTRAINT "post_merges_surviving_post_id_posts_id_fk" FOREIGN KEY ("surviving_post_id") REFERENCES "public"."posts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "post_merges" ADD CONSTRAINT "post_merges_comment_id_comments_id_fk" FOREIGN KEY ("comment_id") REFERENCES "public"."comments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "post_merges_surviving_idx" ON "post_merges" USING btree ("surviving_post_id");