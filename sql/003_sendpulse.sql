-- 003_sendpulse.sql: SendPulse SMTP service events.
--
-- Columns follow the fields of SendPulse's "SMTP WebHooks" page; the
-- program's column table (cgi-bin/sendpulse.c) lists the same names.

CREATE TABLE IF NOT EXISTS sendpulse (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request		bigint NOT NULL,	-- webhook_request.id
	received_at	timestamptz NOT NULL,
	provider_event	text,			-- "event" as sent
	event		text NOT NULL,		-- normalized (SPEC §5)
	hard_bounce	boolean,		-- bounces only
	occurred_at	timestamptz,		-- "timestamp", unix seconds
	recipient	text,			-- lower-cased
	message_id	text,			-- a number or a string
	sender		text,
	subject		text,
	smtp_code	smallint,		-- smtp_server_response_code
	smtp_subcode	text,			-- "5.7.1"
	smtp_response	text,			-- the remote server's words
	url		text,			-- clicked, when present
	raw		jsonb NOT NULL,
	-- Exactly once: see mailjet.dedup_key.
	dedup_key	uuid GENERATED ALWAYS AS (md5(raw::text)::uuid) STORED
);
CREATE UNIQUE INDEX IF NOT EXISTS sendpulse_dedup_key ON sendpulse (dedup_key);

GRANT INSERT ON sendpulse TO esphooks_writer;
GRANT SELECT (dedup_key) ON sendpulse TO esphooks_writer;
GRANT SELECT ON sendpulse TO esphooks_reader;
