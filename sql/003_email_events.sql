-- 003_email_events.sql: every stored event, across providers, in one
-- shape (SPEC §5).  Later providers' migrations replace this view with
-- one that adds their table; the columns and their types are a contract
-- that reports and users rely on: only ever add columns at the end.

CREATE OR REPLACE VIEW email_events AS
SELECT	'mailjet'::text		AS provider,
	event,
	provider_event,
	recipient,
	message_id::text	AS message_id,
	mj_campaign_id::text	AS campaign_id,
	occurred_at,
	received_at,
	hard_bounce,
	url,
	ip,
	agent			AS user_agent,
	raw,
	id			AS provider_id	-- the row in the provider's table
FROM mailjet;

GRANT SELECT ON email_events TO esphooks_reader;
