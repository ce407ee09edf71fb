-- 005_email_events.sql: every stored event, across providers, in one
-- shape (SPEC §5).  The columns and their types are a contract that
-- reports and users rely on: a later migration may add a provider or
-- add columns at the end, never change these.

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
FROM mailjet
UNION ALL
SELECT	'sendpulse', event, provider_event, recipient, message_id,
	NULL::text, occurred_at, received_at, hard_bounce, url,
	NULL::inet, NULL::text, raw, id
FROM sendpulse
UNION ALL
SELECT	'aldeamo', event, provider_event, recipient, message_id,
	campaign_id, occurred_at, received_at, hard_bounce, url,
	ip, browser, raw, id
FROM aldeamo;

COMMENT ON VIEW email_events IS
    'One row per stored event of every provider, normalized (SPEC §5).';
GRANT SELECT ON email_events TO esphooks_reader;
