CREATE TABLE "chat_identities" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"person_id" uuid NOT NULL,
	"tool" text NOT NULL,
	"external_id" text NOT NULL,
	"linked_by" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_identities_uq" UNIQUE("tool","external_id")
);
--> statement-breakpoint
CREATE TABLE "chat_threads" (
	"tool" text NOT NULL,
	"space" text NOT NULL,
	"thread_id" text NOT NULL,
	"post_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_threads_tool_space_thread_id_pk" PRIMARY KEY("tool","space","thread_id")
);
--> statement-breakpoint
CREATE TABLE "chat_inbound" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tool" text NOT NULL,
	"event_key" text NOT NULL,
	"author_ref" text NOT NULL,
	"person_id" uuid,
	"post_id" uuid,
	"comment_id" uuid,
	"state" text NOT NULL,
	"reason" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "chat_inbound_event_uq" UNIQUE("tool","event_key")
);
--> statement-breakpoint
ALTER TABLE "chat_identities" ADD CONSTRAINT "chat_identities_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_threads" ADD CONSTRAINT "chat_threads_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."posts"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_inbound" ADD CONSTRAINT "chat_inbound_person_id_people_id_fk" FOREIGN KEY ("person_id") REFERENCES "public"."people"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_inbound" ADD CONSTRAINT "chat_inbound_post_id_posts_id_fk" FOREIGN KEY ("post_id") REFERENCES "public"."posts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chat_inbound" ADD CONSTRAINT "chat_inbound_comment_id_comments_id_fk" FOREIGN KEY ("comment_id") REFERENCES "public"."comments"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_identities_person_idx" ON "chat_identities" USING btree ("person_id");--> statement-breakpoint
CREATE INDEX "chat_threads_post_idx" ON "chat_threads" USING btree ("post_id");--> statement-breakpoint
CREATE INDEX "chat_inbound_received_idx" ON "chat_inbound" USING btree ("received_at");
