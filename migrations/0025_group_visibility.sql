-- Groups people can use (issue #17): public or private, archived (read-only), an owner.
-- A private group's posts are seen only by its members (docs/SECURITY.md, private groups).
ALTER TABLE "groups" ADD COLUMN "visibility" text DEFAULT 'public' NOT NULL;--> statement-breakpoint
ALTER TABLE "groups" ADD CONSTRAINT "groups_visibility_check" CHECK ("visibility" IN ('public', 'private'));--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "groups" ADD COLUMN "owner_id" uuid REFERENCES "people"("id") ON DELETE SET NULL;--> statement-breakpoint
CREATE INDEX "group_members_person_idx" ON "group_members" USING btree ("person_id");--> statement-breakpoint
-- What a feed page shows now depends on visibility and membership: the API's feed cache hears of
-- changes to either (migration 0013's channel).
DROP TRIGGER "groups_feed_changed" ON "groups";--> statement-breakpoint
CREATE TRIGGER groups_feed_changed AFTER UPDATE OF slug, name, visibility, archived_at OR DELETE OR TRUNCATE ON groups FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER group_members_feed_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON group_members FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();
