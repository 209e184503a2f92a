DROP INDEX "inbound_processed_idx";--> statement-breakpoint
DROP INDEX "inbound_from_idx";--> statement-breakpoint
CREATE INDEX "inbound_arrived_idx" ON "inbound_messages" USING btree ("internal_date");--> statement-breakpoint
CREATE INDEX "inbound_from_idx" ON "inbound_messages" USING btree ("from_address","internal_date");