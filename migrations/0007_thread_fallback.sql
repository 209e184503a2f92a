CREATE INDEX "posts_thread_index_idx" ON "posts" USING btree ("thread_index");--> statement-breakpoint
CREATE INDEX "posts_subject_key_idx" ON "posts" USING btree ("subject_key","created_at");