CREATE TABLE "watched_mailboxes" (
	"key" text PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"password_sealed" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"after" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "watched_mailboxes_after_ck" CHECK ("watched_mailboxes"."after" is null or "watched_mailboxes"."after" in ('flag', 'delete') or "watched_mailboxes"."after" like 'move:_%')
);
--> statement-breakpoint
ALTER TABLE "mailbox_leases" ADD COLUMN "state" text;--> statement-breakpoint
ALTER TABLE "mailbox_leases" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "mailbox_leases" ADD COLUMN "last_sync_at" timestamp with time zone;