-- 007_reports.sql: the suppression list and the reports (SPEC §5), and
-- the indexes they need.
--
-- Every report reads email_events, or the provider tables where it needs
-- their own columns (bounce reasons).  An event's time is
-- coalesce(occurred_at, received_at): SendPulse's "unsubscribed" carries
-- no timestamp and Aldeamo's can be unparsable, and such events must
-- still count, on the day they arrived.  Days are UTC days.
--
-- The reports that take a date range are SQL functions with the range
-- as arguments, and a view of the same name is the function over all
-- time: campaign_funnel is every campaign ever, campaign_funnel(from, to)
-- the events in [from, to).  The functions are plain LANGUAGE sql, so
-- PostgreSQL inlines them into the query and the range, like any other
-- WHERE clause on the views, reaches the indexes.

-- Indexes.  Each one slows every insert, so only three kinds, on
-- expressions that the views filter on:
--  - recipient: the suppression lookup and the timeline of one address
--    (a few rows per address, so no second column);
--  - event time: date ranges;
--  - campaign, then event time: one campaign's funnel over a month.  The
--    campaign column as email_events shows it (text), or the predicate
--    on the view could not use it; SendPulse has no campaign.
CREATE INDEX IF NOT EXISTS mailjet_recipient ON mailjet (recipient);
CREATE INDEX IF NOT EXISTS mailjet_event_at
	ON mailjet ((coalesce(occurred_at, received_at)));
CREATE INDEX IF NOT EXISTS mailjet_campaign
	ON mailjet ((mj_campaign_id::text), (coalesce(occurred_at, received_at)));
CREATE INDEX IF NOT EXISTS sendpulse_recipient ON sendpulse (recipient);
CREATE INDEX IF NOT EXISTS sendpulse_event_at
	ON sendpulse ((coalesce(occurred_at, received_at)));
CREATE INDEX IF NOT EXISTS aldeamo_recipient ON aldeamo (recipient);
CREATE INDEX IF NOT EXISTS aldeamo_event_at
	ON aldeamo ((coalesce(occurred_at, received_at)));
CREATE INDEX IF NOT EXISTS aldeamo_campaign
	ON aldeamo (campaign_id, (coalesce(occurred_at, received_at)));

-- suppression_list: who must not be mailed again, and why.
CREATE OR REPLACE VIEW suppression_list AS
SELECT	recipient, reason, provider,
	min(event_at) AS first_at,
	max(event_at) AS last_at
FROM (
	SELECT	recipient, provider,
		coalesce(occurred_at, received_at) AS event_at,
		CASE event
		WHEN 'bounced' THEN 'hard_bounce'
		WHEN 'blocked' THEN 'blocked'
		ELSE 'complaint'
		END AS reason
	FROM email_events
	WHERE recipient IS NOT NULL
	  AND (event IN ('blocked', 'complained')
	    OR (event = 'bounced' AND hard_bounce))
	-- Unsubscribes on their own: NOT EXISTS at the top of a WHERE is an
	-- anti-join, a hash join over the whole list; inside an OR it would
	-- be a subplan run row by row.
	UNION ALL
	SELECT	e.recipient, e.provider,
		coalesce(e.occurred_at, e.received_at), 'unsubscribed'
	FROM email_events e
	WHERE e.recipient IS NOT NULL
	  AND e.event = 'unsubscribed'
	  AND NOT EXISTS (
		SELECT FROM email_events r
		WHERE r.recipient = e.recipient
		  AND r.provider = e.provider
		  AND r.event = 'resubscribed'
		  AND (coalesce(r.occurred_at, r.received_at), r.provider_id) >
		      (coalesce(e.occurred_at, e.received_at), e.provider_id))
) s
GROUP BY recipient, reason, provider;

COMMENT ON VIEW suppression_list IS
$$Who must not be mailed again: one row per address, reason and provider.
reason is hard_bounce, blocked (Mailjet), complaint or unsubscribed;
first_at and last_at span the events behind it.  Any row suppresses the
address for every provider.  Soft bounces never suppress.  An unsubscribe
is undone by a later resubscription from the same provider (SendPulse
resubscribed, Aldeamo "domain subscription reactivated"; ties broken by
arrival order); a resubscription never undoes a bounce, block or
complaint.  Addresses are lower-case.  Look one up with
WHERE recipient = lower($1).$$;

-- events_per_day(from, to): the volume behind everything else.
CREATE OR REPLACE FUNCTION events_per_day(from_at timestamptz, to_at timestamptz)
RETURNS TABLE (day date, provider text, event text, events bigint)
LANGUAGE sql STABLE AS $$
	SELECT	(coalesce(occurred_at, received_at) AT TIME ZONE 'UTC')::date,
		provider, event, count(*)
	FROM email_events
	WHERE coalesce(occurred_at, received_at) >= from_at
	  AND coalesce(occurred_at, received_at) < to_at
	GROUP BY 1, 2, 3
$$;
CREATE OR REPLACE VIEW events_per_day AS
SELECT * FROM events_per_day('-infinity', 'infinity');
COMMENT ON FUNCTION events_per_day(timestamptz, timestamptz) IS
    'events_per_day over the events whose time is in [from_at, to_at).';
COMMENT ON VIEW events_per_day IS
$$How many events of each normalized kind each provider sent per UTC day
(time: occurred_at, else received_at).  events_per_day(from, to) does the
same for a range.$$;

-- campaign_funnel(from, to): how each campaign did.
CREATE OR REPLACE FUNCTION campaign_funnel(from_at timestamptz, to_at timestamptz)
RETURNS TABLE (provider text, campaign_id text,
	delivered bigint, opens bigint, unique_opens bigint,
	clicks bigint, unique_clicks bigint,
	hard_bounces bigint, soft_bounces bigint, blocked bigint,
	complaints bigint, unsubscribes bigint,
	open_rate numeric, click_rate numeric, bounce_rate numeric,
	complaint_rate numeric, unsubscribe_rate numeric)
LANGUAGE sql STABLE AS $$
	SELECT	provider, campaign_id, delivered, opens, unique_opens,
		clicks, unique_clicks, hard_bounces, soft_bounces, blocked,
		complaints, unsubscribes,
		round(unique_opens / nullif(delivered, 0)::numeric, 4),
		round(unique_clicks / nullif(delivered, 0)::numeric, 4),
		round((hard_bounces + soft_bounces) / nullif(delivered, 0)::numeric, 4),
		round(complaints / nullif(delivered, 0)::numeric, 4),
		round(unsubscribes / nullif(delivered, 0)::numeric, 4)
	FROM (
		SELECT	provider, campaign_id,
			count(*) FILTER (WHERE event = 'delivered') AS delivered,
			count(*) FILTER (WHERE event = 'opened') AS opens,
			count(DISTINCT recipient) FILTER (WHERE event = 'opened')
			    AS unique_opens,
			count(*) FILTER (WHERE event = 'clicked') AS clicks,
			count(DISTINCT recipient) FILTER (WHERE event = 'clicked')
			    AS unique_clicks,
			count(*) FILTER (WHERE event = 'bounced' AND hard_bounce)
			    AS hard_bounces,
			count(*) FILTER (WHERE event = 'bounced' AND hard_bounce IS NOT TRUE)
			    AS soft_bounces,
			count(*) FILTER (WHERE event = 'blocked') AS blocked,
			count(*) FILTER (WHERE event = 'complained') AS complaints,
			count(*) FILTER (WHERE event = 'unsubscribed') AS unsubscribes
		FROM email_events
		WHERE campaign_id IS NOT NULL
		  AND coalesce(occurred_at, received_at) >= from_at
		  AND coalesce(occurred_at, received_at) < to_at
		GROUP BY provider, campaign_id
	) c
$$;
CREATE OR REPLACE VIEW campaign_funnel AS
SELECT * FROM campaign_funnel('-infinity', 'infinity');
COMMENT ON FUNCTION campaign_funnel(timestamptz, timestamptz) IS
    'campaign_funnel over the events whose time is in [from_at, to_at).';
COMMENT ON VIEW campaign_funnel IS
$$How each campaign did, per provider (campaign ids are the provider's own;
SendPulse sends none, so it has no rows here).  delivered, bounces,
blocks, complaints and unsubscribes count events; unique_opens and
unique_clicks count addresses that opened or clicked at least once.  A
bounce that is not known to be hard counts as soft.  Rates are over
delivered, NULL when nothing was delivered.  campaign_funnel(from, to)
counts only the events in that range.$$;

-- bounce_events: one reason text per bounce or block, from each
-- provider's own columns.
CREATE OR REPLACE FUNCTION smtp_reason(code integer, enhanced text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
	-- RFC 3463 §3 names the subject of an enhanced status code by its
	-- second number.
	SELECT nullif(concat_ws(' ', code::text, enhanced,
	    CASE split_part(enhanced, '.', 2)
	    WHEN '0' THEN '(other)'
	    WHEN '1' THEN '(addressing)'
	    WHEN '2' THEN '(mailbox)'
	    WHEN '3' THEN '(mail system)'
	    WHEN '4' THEN '(network and routing)'
	    WHEN '5' THEN '(mail delivery protocol)'
	    WHEN '6' THEN '(message content)'
	    WHEN '7' THEN '(security or policy)'
	    END), '')
$$;
COMMENT ON FUNCTION smtp_reason(integer, text) IS
    'An SMTP reply code and enhanced status code (RFC 3463) as one reason text.';

CREATE OR REPLACE VIEW bounce_events AS
SELECT	'mailjet'::text AS provider, m.id AS provider_id, m.recipient,
	coalesce(m.occurred_at, m.received_at) AS event_at,
	m.event, m.hard_bounce,
	coalesce(m.error_related_to || ': ' || m.error ||
	    coalesce(' - ' || me.description, ''), 'unknown') AS reason
FROM mailjet m
LEFT JOIN mailjet_error me
	ON me.error_related_to = m.error_related_to AND me.error = m.error
WHERE m.event IN ('bounced', 'blocked')
UNION ALL
SELECT	'sendpulse', id, recipient, coalesce(occurred_at, received_at),
	event, hard_bounce,
	coalesce(smtp_reason(smtp_code, smtp_subcode), smtp_response, 'unknown')
FROM sendpulse
WHERE event = 'bounced'
UNION ALL
SELECT	'aldeamo', id, recipient, coalesce(occurred_at, received_at),
	event, hard_bounce,
	coalesce(smtp_reason(smtp_code,
	    substring(response FROM '\m[245]\.[0-9]{1,3}\.[0-9]{1,3}\M')),
	    response, status, 'unknown')
FROM aldeamo
WHERE event = 'bounced';
COMMENT ON VIEW bounce_events IS
$$Every bounce (and Mailjet block) with one reason text: Mailjet's
error_related_to and error with their meaning from mailjet_error;
SendPulse's SMTP code and subcode; the SMTP code and enhanced code in
Aldeamo's response.  Without a code, the provider's own words.$$;

-- bounce_reasons(from, to): why mail to each domain bounces.
CREATE OR REPLACE FUNCTION bounce_reasons(from_at timestamptz, to_at timestamptz)
RETURNS TABLE (domain text, provider text, reason text,
	hard_bounces bigint, soft_bounces bigint, blocked bigint,
	recipients bigint)
LANGUAGE sql STABLE AS $$
	SELECT	split_part(recipient, '@', 2), provider, reason,
		count(*) FILTER (WHERE event = 'bounced' AND hard_bounce),
		count(*) FILTER (WHERE event = 'bounced' AND hard_bounce IS NOT TRUE),
		count(*) FILTER (WHERE event = 'blocked'),
		count(DISTINCT recipient)
	FROM bounce_events
	WHERE event_at >= from_at AND event_at < to_at
	GROUP BY 1, 2, 3
$$;
CREATE OR REPLACE VIEW bounce_reasons AS
SELECT * FROM bounce_reasons('-infinity', 'infinity');
COMMENT ON FUNCTION bounce_reasons(timestamptz, timestamptz) IS
    'bounce_reasons over the events whose time is in [from_at, to_at).';
COMMENT ON VIEW bounce_reasons IS
$$Why mail bounces, by recipient domain, provider and reason (see
bounce_events): hard and soft bounces, Mailjet blocks, and how many
addresses they hit.  bounce_reasons(from, to) for a range.$$;

-- recipient_timeline: everything that happened to one address.
CREATE OR REPLACE VIEW recipient_timeline AS
SELECT	e.recipient,
	coalesce(e.occurred_at, e.received_at) AS event_at,
	e.provider, e.event, e.provider_event, e.campaign_id, e.message_id,
	coalesce(b.reason, e.url) AS detail,
	e.occurred_at, e.received_at, e.provider_id
FROM email_events e
LEFT JOIN bounce_events b
	ON b.provider = e.provider AND b.provider_id = e.provider_id
	-- Redundant, but it lets WHERE recipient = ... reach both sides.
	AND b.recipient = e.recipient;
COMMENT ON VIEW recipient_timeline IS
$$One row per event of each address, across providers: use
WHERE recipient = lower($1) ORDER BY event_at, provider, provider_id.
event_at is occurred_at, else received_at; detail is the bounce reason
(see bounce_events) or the clicked link.$$;

REVOKE EXECUTE ON FUNCTION events_per_day(timestamptz, timestamptz),
	campaign_funnel(timestamptz, timestamptz),
	bounce_reasons(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION events_per_day(timestamptz, timestamptz),
	campaign_funnel(timestamptz, timestamptz),
	bounce_reasons(timestamptz, timestamptz) TO esphooks_reader;
GRANT SELECT ON suppression_list, events_per_day, campaign_funnel,
	bounce_events, bounce_reasons, recipient_timeline TO esphooks_reader;
