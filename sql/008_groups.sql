-- 008_groups.sql: what the insert for several POSTs at once reads back.
--
-- The programs store the POSTs that wait together in one statement
-- (lib/store.c, store_group_sql()): each event finds its POST's request
-- row by the request id, and each POST's count of new events comes from
-- the event rows' request column.  The writer may read those two columns
-- and nothing else besides what 001-004 grant.
GRANT SELECT (request_id) ON webhook_request TO esphooks_writer;
GRANT SELECT (request) ON mailjet, sendpulse, aldeamo TO esphooks_writer;
