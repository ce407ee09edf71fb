-- 010_original.sql: the bytes of events that had to be repaired, and a
-- dedup key that tells apart events that differ only in those bytes.
--
-- PostgreSQL's jsonb cannot hold invalid UTF-8, "\u0000" or an unpaired
-- surrogate, so the programs repair them before storing (lib/payload.h):
-- an invalid byte becomes '?', the escapes become "\ufffd".  Until this
-- migration dedup_key, md5(raw::text), was the whole key, so
-- "q\xff@x.com", "q\xfe@x.com" and "q?@x.com" (or "\ud800", "\udbff" and
-- a literal "\ufffd") were one event: the second and third POSTs were
-- answered as duplicates and lost.  SPEC §3: events that differ in their
-- bytes are never duplicates of each other.
--
-- original is NULL for an event that needed no repair (nearly all), and
-- otherwise holds the event exactly as sent: the bytes of its JSON
-- object in the POST's body, before any repair.  raw keeps the repaired,
-- queryable JSON.  Blanking a trailing comma is not a repair: it changes
-- no value, so {"a":1,} is stored with original NULL, as {"a":1}.
--
-- The key is (dedup_key, md5(original)):
--   - an event that needed no repair has the key it always had,
--     (md5(raw), NULL), so a provider's retry that spans the upgrade is
--     still a duplicate, and such an event is the same event whatever
--     its spacing, key order or grouping, as before;
--   - a repaired event adds the digest of its bytes as sent, so two
--     events that read the same once repaired, or an event that needed
--     repair and one that did not ("q\xff" and "q?"), are two events,
--     while the same bytes sent again are a duplicate.  A repaired event
--     sent again with other spacing is a new event: its bytes differ,
--     and without valid text nothing canonical can be computed from them.
-- NULLS NOT DISTINCT (PostgreSQL 15) makes (k, NULL) equal to (k, NULL):
-- with the default, NULLS DISTINCT, every unrepaired event would be
-- unique whatever its dedup_key and retries would all be stored again.
-- md5() keeps the index entry small whatever the size of the event.
--
-- A repaired event stored before this migration has original NULL (its
-- bytes were not kept and cannot be recovered).  If the provider sends it
-- again after the upgrade, it now carries its bytes, its key differs from
-- the stored row's, and it is stored a second time: once, and only for
-- events retried across the upgrade that had needed a repair.  The two
-- rows share dedup_key, the old one without original: candidates are
--   SELECT dedup_key FROM mailjet GROUP BY dedup_key
--   HAVING count(*) FILTER (WHERE original IS NULL) > 0
--      AND count(original) > 0;
-- though an unrepaired "q?" beside a repaired "q\xff" matches too, and
-- is two events.  (Events that the old key merged were never stored, and
-- stay lost.)
--
-- The programs name this index in their inserts, ON CONFLICT (dedup_key,
-- md5(original)) DO NOTHING (lib/store.c): run this migration before
-- starting programs of this release.  Their spool format changed with it
-- (version 3, lib/spool.h); records spooled by the previous release
-- (version 2) are replayed as events that needed no repair.
--
-- Each statement is idempotent.  ADD COLUMN of a column without a
-- default rewrites nothing.  The index build holds off inserts for as
-- long as it takes (the programs spool meanwhile); on a large table
-- build it beforehand without that lock, outside a transaction:
--   CREATE UNIQUE INDEX CONCURRENTLY mailjet_dedup
--       ON mailjet (dedup_key, (md5(original))) NULLS NOT DISTINCT;
-- (with the column added first), and this file then finds it.  Check
-- that such an index is valid (pg_index.indisvalid) before relying on it.

ALTER TABLE mailjet ADD COLUMN IF NOT EXISTS original bytea;
ALTER TABLE sendpulse ADD COLUMN IF NOT EXISTS original bytea;
ALTER TABLE aldeamo ADD COLUMN IF NOT EXISTS original bytea;

COMMENT ON COLUMN mailjet.original IS
    'The event as sent, when raw had to be repaired (invalid UTF-8, \u0000, an unpaired surrogate); NULL when raw is the event as sent.';
COMMENT ON COLUMN sendpulse.original IS
    'The event as sent, when raw had to be repaired (invalid UTF-8, \u0000, an unpaired surrogate); NULL when raw is the event as sent.';
COMMENT ON COLUMN aldeamo.original IS
    'The event as sent, when raw had to be repaired (invalid UTF-8, \u0000, an unpaired surrogate); NULL when raw is the event as sent.';

-- The new key first, then the old one goes (in one transaction, as
-- every file here): the table always has one.
CREATE UNIQUE INDEX IF NOT EXISTS mailjet_dedup
    ON mailjet (dedup_key, (md5(original))) NULLS NOT DISTINCT;
CREATE UNIQUE INDEX IF NOT EXISTS sendpulse_dedup
    ON sendpulse (dedup_key, (md5(original))) NULLS NOT DISTINCT;
CREATE UNIQUE INDEX IF NOT EXISTS aldeamo_dedup
    ON aldeamo (dedup_key, (md5(original))) NULLS NOT DISTINCT;
DROP INDEX IF EXISTS mailjet_dedup_key;
DROP INDEX IF EXISTS sendpulse_dedup_key;
DROP INDEX IF EXISTS aldeamo_dedup_key;

-- ON CONFLICT reads the columns of the index it infers: dedup_key
-- (granted in 002-004) and now original.  The writer may insert
-- original (its INSERT is on the whole table) and read that column
-- back, nothing more.
GRANT SELECT (original) ON mailjet, sendpulse, aldeamo TO esphooks_writer;
