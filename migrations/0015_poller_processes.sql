CREATE TABLE "poller_processes" (
	"holder" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
