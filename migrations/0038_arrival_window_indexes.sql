-- The rate windows count accepted mail by its arrival, coalesce(internal_date, received_at)
-- (docs/SECURITY.md F27; docs/ARCHITECTURE.md "Ingest, one mail at a time"). Indexed on internal_date alone,
-- no index served that expression: the organisation's window read every accepted mail ever
-- stored (inbound rows are kept) for each mail ingested, and a sender's window every mail of
-- the sender. The same two indexes on the expression: nothing read inbound_arrived_idx on
-- internal_date, and inbound_from_idx still serves a lookup by address alone. As many index
-- entries a row as before, on columns no update after the store sets.
DROP INDEX "inbound_arrived_idx";--> statement-breakpoint
CREATE INDEX "inbound_arrived_idx" ON "inbound_messages" USING btree ((coalesce("internal_date", "received_at")));--> statement-breakpoint
DROP INDEX "inbound_from_idx";--> statement-breakpoint
CREATE INDEX "inbound_from_idx" ON "inbound_messages" USING btree ("from_address", (coalesce("internal_date", "received_at")));
