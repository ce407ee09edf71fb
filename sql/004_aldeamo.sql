-- 004_aldeamo.sql: Aldeamo events, "Email marketing" and "SMTP" alike.
--
-- Columns follow §8 of Aldeamo's email manual; the program's column
-- table (cgi-bin/aldeamo.c) lists the same names and the alternative
-- spellings each is read from.

CREATE TABLE IF NOT EXISTS aldeamo (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request		bigint NOT NULL,	-- webhook_request.id
	received_at	timestamptz NOT NULL,
	provider_event	text,			-- "event" as sent
	event		text NOT NULL,		-- normalized (SPEC §5)
	hard_bounce	boolean,		-- bounces only
	occurred_at	timestamptz,		-- "timestamp", GMT-5 or JS date
	recipient	text,			-- "to" or "email", lower-cased
	family		text,			-- "type": Email marketing, SMTP
	message_id	text,			-- "msgid" (SMTP), a UUID
	campaign_id	text,			-- "campid"
	relid		text,			-- "relid", "releid" or "reid"
	contact_id	text,			-- "contactid" or "contactId"
	campaign_name	text,
	subject		text,
	sender		text,
	origin		text,			-- Web, SMTP, API
	status		text,			-- "Entregado", "Rebote duro"
	response	text,			-- string, or JSON text of an array
	smtp_code	smallint,		-- from response, when it has one
	ip		inet,			-- SMTP: where the send came from
	url		text,			-- click: "destination"
	browser		text,
	device_type	text,
	city		text,
	region		text,
	country		text,
	latitude	double precision,
	longitude	double precision,
	subscription_type text,			-- unsubscribed events
	reason		text,
	domain		text,
	categories	jsonb,			-- category update: name -> state
	custom_headers	jsonb,			-- SMTP
	raw		jsonb NOT NULL,
	-- Exactly once: see mailjet.dedup_key.
	dedup_key	uuid GENERATED ALWAYS AS (md5(raw::text)::uuid) STORED
);
CREATE UNIQUE INDEX IF NOT EXISTS aldeamo_dedup_key ON aldeamo (dedup_key);

GRANT INSERT ON aldeamo TO esphooks_writer;
GRANT SELECT (dedup_key) ON aldeamo TO esphooks_writer;
GRANT SELECT ON aldeamo TO esphooks_reader;
