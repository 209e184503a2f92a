-- Room on each page for a row's later versions (docs/ARCHITECTURE.md "Storage and WAL"). A mail's
-- inbound row is updated three times after it is stored (the counted attempt, the outcome, the
-- IMAP flag) and an outbox row twice (the claim, the send).
-- On a full page each update went to another page: the whole row written to the WAL again, the
-- old one locked first, and a new entry in every index of the table. With free space on the page,
-- an update that changes no indexed column (the attempt, the IMAP flag, the outbox claim) is a
-- heap-only tuple update (no index entry), and the others stay on their page (only the changed
-- bytes are logged). Pages written from now on are affected; existing ones are not rewritten.
ALTER TABLE "inbound_messages" SET (fillfactor = 50);--> statement-breakpoint
ALTER TABLE "outbound_messages" SET (fillfactor = 70);
