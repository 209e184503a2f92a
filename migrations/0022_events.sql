CREATE TABLE "events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"type" text NOT NULL,
	"thread_id" uuid,
	"sequence" integer,
	"position" bigint,
	"group_id" uuid,
	"origin" text NOT NULL,
	"post_id" uuid,
	"comment_id" uuid,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "events_thread_sequence_uq" UNIQUE("thread_id","sequence"),
	CONSTRAINT "events_position_uq" UNIQUE("position")
);
--> statement-breakpoint
CREATE INDEX "events_unpositioned_idx" ON "events" USING btree ("created_at") WHERE "position" IS NULL;--> statement-breakpoint
CREATE INDEX "events_post_idx" ON "events" USING btree ("post_id");--> statement-breakpoint
CREATE INDEX "events_comment_idx" ON "events" USING btree ("comment_id");--> statement-breakpoint
CREATE INDEX "events_created_idx" ON "events" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "webhooks" ADD COLUMN "filter" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "event_id" uuid;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ALTER COLUMN "payload" DROP NOT NULL;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_event_idx" ON "webhook_deliveries" USING btree ("event_id");
