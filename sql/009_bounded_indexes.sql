-- 009_bounded_indexes.sql: no index refuses a long value.
--
-- A btree index entry must fit in a third of a page (2704 bytes): an
-- event whose recipient or Aldeamo campid was longer (incompressible, as
-- random letters are) made PostgreSQL refuse the whole insert ("index row
-- size ... exceeds btree version 4 maximum 2704", SQLSTATE 54000), and
-- with it every event of its POST.  A hash index keeps only a 4-byte hash
-- of each value, whatever its length, and serves what these indexes are
-- for: equality (WHERE recipient = lower($1), a campaign's funnel, the
-- suppression list's anti-join).  Hash indexes are crash-safe and
-- replicated since PostgreSQL 10.
--
-- The indexes keep their names (007).  The campaign index loses its
-- second column, the event time, which a hash index cannot hold: a
-- campaign's funnel over a month reads the campaign's rows and filters
-- them by time.  mailjet_campaign stays a btree: mj_campaign_id is a
-- bigint, its text at most 20 bytes.  The time indexes hold timestamps.
--
-- Rebuilding an index locks its table against inserts while it runs:
-- the programs spool what arrives meanwhile and replay it after.  Safe
-- to run again.
DROP INDEX IF EXISTS mailjet_recipient;
CREATE INDEX mailjet_recipient ON mailjet USING hash (recipient);
DROP INDEX IF EXISTS sendpulse_recipient;
CREATE INDEX sendpulse_recipient ON sendpulse USING hash (recipient);
DROP INDEX IF EXISTS aldeamo_recipient;
CREATE INDEX aldeamo_recipient ON aldeamo USING hash (recipient);
DROP INDEX IF EXISTS aldeamo_campaign;
CREATE INDEX aldeamo_campaign ON aldeamo USING hash (campaign_id);
