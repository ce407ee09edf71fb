#!/usr/bin/env bash
# deploy/report.sh - the reports of sql/007_reports.sql as aligned
# tables, for the local database (make report).
#
#   deploy/report.sh [--from DATE] [--to DATE] [--recipient ADDRESS] [--limit N]
#
# --from and --to bound the events counted, as [from, to) in UTC (a date
# or a timestamp PostgreSQL reads); by default the 30 days up to the end
# of today.  --limit caps the campaign and bounce-reason tables (20).
# --recipient adds that address's suppression rows and timeline.
#
# The database is the one of ESPHOOKS_VAR/env ('make run': ./var),
# read as esphooks_reader (ESPHOOKS_REPORT_USER to choose another
# role); without that file, whatever libpq's PG* settings name, as is.
# Every value reaches SQL as a psql variable quoted with :'name', never
# pasted into the query text.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

usage() {
	echo "usage: $0 [--from DATE] [--to DATE] [--recipient ADDRESS] [--limit N]" >&2
	exit 2
}

from='' to='' recipient='' limit=20
while [ $# -gt 0 ]; do
	case $1 in
	--from)		[ $# -ge 2 ] || usage; from=$2; shift 2 ;;
	--to)		[ $# -ge 2 ] || usage; to=$2; shift 2 ;;
	--recipient)	[ $# -ge 2 ] || usage; recipient=$2; shift 2 ;;
	--limit)	[ $# -ge 2 ] || usage; limit=$2; shift 2 ;;
	--from=*)	from=${1#*=}; shift ;;
	--to=*)		to=${1#*=}; shift ;;
	--recipient=*)	recipient=${1#*=}; shift ;;
	--limit=*)	limit=${1#*=}; shift ;;
	*)		usage ;;
	esac
done
case $limit in ''|*[!0-9]*) echo "report.sh: --limit must be a number" >&2; exit 2 ;; esac

var=${ESPHOOKS_VAR:-$top/var}
if [ -f "$var/env" ]; then
	# shellcheck disable=SC1091
	. "$var/env"
	export PGUSER=${ESPHOOKS_REPORT_USER:-esphooks_reader}
fi
export PGTZ=UTC

psql -X -q -v ON_ERROR_STOP=1 -P footer=off -P null=- \
    -v from="$from" -v to="$to" -v recipient="$recipient" -v limit="$limit" \
    -f - <<'SQL'
SELECT	coalesce(nullif(:'to', '')::timestamptz,
	    date_trunc('day', now()) + interval '1 day') AS to_at \gset
SELECT	coalesce(nullif(:'from', '')::timestamptz,
	    :'to_at'::timestamptz - interval '30 days') AS from_at,
	:'recipient' <> '' AS one_recipient \gset
\echo 'esphooks report: events from' :'from_at' 'to' :'to_at' '(UTC, end excluded)'
\echo

\pset title 'Events per day (events_per_day)'
SELECT	day, provider,
	coalesce(sum(events) FILTER (WHERE event = 'delivered'), 0) AS delivered,
	coalesce(sum(events) FILTER (WHERE event = 'opened'), 0) AS opened,
	coalesce(sum(events) FILTER (WHERE event = 'clicked'), 0) AS clicked,
	coalesce(sum(events) FILTER (WHERE event = 'bounced'), 0) AS bounced,
	coalesce(sum(events) FILTER (WHERE event = 'blocked'), 0) AS blocked,
	coalesce(sum(events) FILTER (WHERE event = 'complained'), 0) AS complained,
	coalesce(sum(events) FILTER (WHERE event = 'unsubscribed'), 0) AS unsub,
	coalesce(sum(events) FILTER (WHERE event = 'resubscribed'), 0) AS resub,
	coalesce(sum(events) FILTER (WHERE event NOT IN ('delivered', 'opened',
	    'clicked', 'bounced', 'blocked', 'complained', 'unsubscribed',
	    'resubscribed')), 0) AS other
FROM events_per_day(:'from_at', :'to_at')
GROUP BY day, provider
ORDER BY day, provider;

\pset title 'Campaigns, most delivered first (campaign_funnel)'
SELECT	provider, campaign_id AS campaign, delivered,
	unique_opens AS opened, unique_clicks AS clicked,
	hard_bounces AS hard, soft_bounces AS soft, blocked,
	complaints AS complained, unsubscribes AS unsub,
	open_rate, click_rate, bounce_rate
FROM campaign_funnel(:'from_at', :'to_at')
ORDER BY delivered DESC, provider, campaign_id
LIMIT :'limit'::int;

\pset title 'Bounce reasons by recipient domain (bounce_reasons)'
SELECT	domain, provider, reason, hard_bounces AS hard,
	soft_bounces AS soft, blocked, recipients
FROM bounce_reasons(:'from_at', :'to_at')
ORDER BY hard_bounces + soft_bounces + blocked DESC, domain, provider, reason
LIMIT :'limit'::int;

\pset title 'Suppressed addresses, all time (suppression_list)'
SELECT	reason, provider, count(*) AS addresses
FROM suppression_list
GROUP BY reason, provider
ORDER BY reason, provider;

\if :one_recipient
\pset title 'Suppression of the address'
SELECT	recipient, reason, provider, first_at, last_at
FROM suppression_list
WHERE recipient = lower(:'recipient')
ORDER BY reason, provider;

\pset title 'Timeline of the address (recipient_timeline)'
SELECT	event_at, provider, event, provider_event, campaign_id AS campaign,
	message_id, detail
FROM recipient_timeline
WHERE recipient = lower(:'recipient')
ORDER BY event_at, provider, provider_id;
\endif
SQL
