-- Every change to what a feed page shows is announced on the channel `blend_feed` (NOTIFY, sent
-- when the writing transaction commits). The API's feed cache listens and forgets its pages.
CREATE FUNCTION blend_feed_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('blend_feed', '');
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER posts_feed_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON posts FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER comments_feed_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON comments FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER reactions_feed_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON reactions FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER post_tags_feed_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON post_tags FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER mentions_feed_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON mentions FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER attachments_feed_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON attachments FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER groups_feed_changed AFTER UPDATE OF slug, name OR DELETE OR TRUNCATE ON groups FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER people_feed_changed AFTER UPDATE OF email, name OR DELETE OR TRUNCATE ON people FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
-- Inbound mail is written all the time; only a reply withheld on a post (or no longer) changes a
-- feed item (its `withheld_replies`).
CREATE TRIGGER inbound_withheld_added AFTER INSERT ON inbound_messages FOR EACH ROW
  WHEN (NEW.state = 'withheld' AND NEW.post_id IS NOT NULL) EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER inbound_withheld_changed AFTER UPDATE ON inbound_messages FOR EACH ROW
  WHEN ((OLD.state = 'withheld' OR NEW.state = 'withheld')
    AND (OLD.state IS DISTINCT FROM NEW.state OR OLD.post_id IS DISTINCT FROM NEW.post_id)) EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER inbound_withheld_removed AFTER DELETE ON inbound_messages FOR EACH ROW
  WHEN (OLD.state = 'withheld' AND OLD.post_id IS NOT NULL) EXECUTE FUNCTION blend_feed_changed();--> statement-breakpoint
CREATE TRIGGER inbound_feed_truncated AFTER TRUNCATE ON inbound_messages FOR EACH STATEMENT EXECUTE FUNCTION blend_feed_changed();
