-- Outbox bodies compressed with lz4 instead of pglz (docs/ARCHITECTURE.md "Outbound mail"):
-- a digest's text and HTML are about 28 KiB, and pglz compressing them when the row is written
-- was about half a millisecond of Postgres CPU per digest; lz4 is a fifth of that. Only rows
-- written from now on are affected (a metadata change, no rewrite). PostgreSQL 13, and a server
-- built without lz4, keep pglz.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 140000 THEN
    BEGIN
      ALTER TABLE "outbound_messages" ALTER COLUMN "text_body" SET COMPRESSION lz4, ALTER COLUMN "html_body" SET COMPRESSION lz4;
    EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
      RAISE NOTICE 'lz4 is not available: outbox bodies stay compressed with pglz';
    END;
  END IF;
END $$;
