-- 001_core.sql: roles, the request log and the rejected bodies.
--
-- Safe to run again: every statement checks what exists.  Run as the
-- database owner (make migrate, sql/migrate.sh).

-- The programs connect as esphooks_writer, which can add rows and do
-- nothing else: no UPDATE, DELETE, TRUNCATE or DDL.  Reports connect as
-- esphooks_reader, which can read the views.  Both are created without a
-- password: give them one (ALTER ROLE ... PASSWORD) or a pg_hba rule.
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'esphooks_writer') THEN
		CREATE ROLE esphooks_writer LOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'esphooks_reader') THEN
		CREATE ROLE esphooks_reader LOGIN;
	END IF;
END
$$;

-- One row per POST that reached the database, with its events.
CREATE TABLE IF NOT EXISTS webhook_request (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	provider	text NOT NULL,
	request_id	text,		-- nginx's $request_id, also in the logs
	remote_user	text,		-- the basic-auth user that sent it
	received_at	timestamptz NOT NULL DEFAULT now(),
	events		integer NOT NULL
);

-- Bodies answered 400: kept as sent (bytea: they may not even be text),
-- so a provider's odd payload can be looked at and, once understood,
-- replayed by hand.
CREATE TABLE IF NOT EXISTS webhook_reject (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	provider	text NOT NULL,
	request_id	text,
	remote_user	text,
	received_at	timestamptz NOT NULL DEFAULT now(),
	error		text NOT NULL,
	body		bytea NOT NULL
);

GRANT INSERT ON webhook_request, webhook_reject TO esphooks_writer;
-- The insert statement reads back the id and time of its request row.
GRANT SELECT (id, received_at) ON webhook_request TO esphooks_writer;
GRANT SELECT ON webhook_request, webhook_reject TO esphooks_reader;
