-- The language a person reads Blend's mail and pages in (an entry of LANGUAGES in
-- packages/core/src/i18n); null = the organisation's default (BLEND_DEFAULT_LANGUAGE).
ALTER TABLE "people" ADD COLUMN "language" text;
