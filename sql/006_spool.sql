-- 006_spool.sql: requests that came back from the local spool.
--
-- When PostgreSQL could not take a POST, the program kept its events in
-- its spool, answered 200 and inserted them later (doc/operations.md, "What
-- 200 means").  received_at stays the time the POST came; replayed_at says
-- when it reached the database.  A request replayed again after a crash
-- can show twice here; its events never do (dedup_key).
ALTER TABLE webhook_request ADD COLUMN IF NOT EXISTS replayed_at timestamptz;
