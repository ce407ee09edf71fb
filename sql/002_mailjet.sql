-- 002_mailjet.sql: Mailjet events, and Mailjet's table of bounce and
-- block reasons.
--
-- Columns follow the fields of Mailjet's event documentation; the
-- program's column table (cgi-bin/mailjet.c) lists the same names.
-- Every event is kept whole in raw; a column is NULL when its field is
-- absent or unusable (an "ip" that is no address, a MessageID that is
-- not an integer), never a reason to drop the event.

CREATE TABLE IF NOT EXISTS mailjet (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	request		bigint NOT NULL,	-- webhook_request.id
	received_at	timestamptz NOT NULL,
	provider_event	text,			-- "event" as sent
	event		text NOT NULL,		-- normalized (SPEC §5)
	hard_bounce	boolean,		-- bounces only
	occurred_at	timestamptz,		-- "time", unix seconds
	recipient	text,			-- "email", lower-cased
	message_id	bigint,			-- "MessageID", exceeds 2^53
	message_guid	text,
	mj_campaign_id	bigint,
	mj_contact_id	bigint,			-- exceeds 2^31
	mj_list_id	bigint,
	customcampaign	text,			-- X-Mailjet-Campaign
	custom_id	text,			-- "CustomID"
	payload		text,			-- "Payload"
	smtp_reply	text,			-- sent
	ip		inet,			-- open, click, unsub
	geo		text,
	agent		text,
	url		text,			-- click
	blocked		boolean,		-- bounce
	error_related_to text,			-- bounce, blocked
	error		text,
	comment		text,
	source		text,			-- spam: the feedback loop
	original_address text,			-- typofix
	new_address	text,
	raw		jsonb NOT NULL,
	-- Exactly once: a digest of the event's canonical JSON (jsonb's own
	-- text form: keys sorted, white space normalized), so a retry, in
	-- whatever grouping or spacing, hits the same key.
	dedup_key	uuid GENERATED ALWAYS AS (md5(raw::text)::uuid) STORED
);
CREATE UNIQUE INDEX IF NOT EXISTS mailjet_dedup_key ON mailjet (dedup_key);

GRANT INSERT ON mailjet TO esphooks_writer;
-- ON CONFLICT (dedup_key) reads the arbiter column, and only that one.
GRANT SELECT (dedup_key) ON mailjet TO esphooks_writer;

-- What Mailjet's error_related_to / error pairs mean, from its
-- documentation, so that reports can explain bounces and blocks.
CREATE TABLE IF NOT EXISTS mailjet_error (
	error_related_to text NOT NULL,
	error		text NOT NULL,
	description	text NOT NULL,
	PRIMARY KEY (error_related_to, error)
);
INSERT INTO mailjet_error (error_related_to, error, description) VALUES
	('recipient', 'user unknown',
	 'The address does not exist; check it for typos.'),
	('recipient', 'mailbox inactive',
	 'The account has been inactive for a long time; the address may no longer exist.'),
	('recipient', 'quota exceeded',
	 'The mailbox is over quota; usually a sign that it is no longer used.'),
	('domain', 'invalid domain',
	 'The domain part has a typo, or the domain has expired.'),
	('domain', 'no mail host',
	 'No mail server answers for the domain.'),
	('domain', 'relay/access denied',
	 'The destination mail server refuses to relay or accept the message.'),
	('domain', 'greylisted',
	 'Temporary greylisting; should never end in a bounce.'),
	('spam', 'sender blocked',
	 'The sender is blocked by the recipient''s server; contact Mailjet.'),
	('spam', 'content blocked',
	 'Something in the content triggered an anti-spam filter.'),
	('spam', 'policy issue',
	 'Rejected for a policy reason (sending limits, best practices).'),
	('system', 'system issue',
	 'An error on Mailjet''s servers; should never be permanent.'),
	('system', 'protocol issue',
	 'An SMTP protocol error between Mailjet and the destination.'),
	('system', 'connection issue',
	 'Mailjet could not connect to the destination server.'),
	('mailjet', 'preblocked',
	 'Not sent: the address bounced recently or repeatedly.'),
	('mailjet', 'duplicate in campaign',
	 'Not sent: X-Mailjet-DeduplicateCampaign was set and the address was already mailed in this campaign.')
ON CONFLICT DO NOTHING;

GRANT SELECT ON mailjet, mailjet_error TO esphooks_reader;
