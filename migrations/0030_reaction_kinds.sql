-- Reactions besides "like" (issue #17): a fixed allow-list, kept in step with REACTION_KINDS
-- in packages/core/src/reactions.ts. Only likes were ever written before, so every row passes.
ALTER TABLE "reactions" ADD CONSTRAINT "reactions_kind_check" CHECK ("reactions"."kind" in ('like', 'heart', 'tada', 'smile', 'thinking'));
