#!/usr/bin/env bash
# 80-reports.t - the suppression list and the reports (sql/007_reports.sql)
# over a known set of events, POSTed through nginx from all three
# providers (tests/fixtures/reports/), compared with golden files
# tests/fixtures/reports/<view>.tsv as 'psql -At' prints them (TAB
# separated, empty = NULL, UTC).  On a mismatch the diff is printed;
# ESPHOOKS_ACCEPT=1 rewrites the golden files with what was got.
# Then the cases the issue names, one assertion each, that the lookups
# reach the indexes, that the reader role can read every report, and
# that deploy/report.sh prints them.
. "$(dirname "$0")/lib.sh"

dir=$fixtures/reports

reset_db
post /webhooks/mailjet "$dir/mailjet.json"
is "$status $(json_field stored)" "200 20" "mailjet: 20 events stored"
post /webhooks/sendpulse "$dir/sendpulse.json"
is "$status $(json_field stored)" "200 14" "sendpulse: 14 events stored"
n=0
for f in "$dir"/aldeamo/*.json; do
	post /webhooks/aldeamo "$f"
	[ "$status $(json_field stored)" = "200 1" ] && n=$((n + 1))
done
is "$n" 16 "aldeamo: 16 POSTs stored, one event each"
post /webhooks/sendpulse "$dir/sendpulse-notime.json"
is "$status $(json_field stored)" "200 1" "sendpulse: an unsubscribe without a timestamp stored"

# golden NAME QUERY: QUERY's rows are tests/fixtures/reports/NAME.tsv.
golden() {
	local name=$1 file=$dir/$1.tsv got
	got=$(sql "$2")
	if [ -n "${ESPHOOKS_ACCEPT:-}" ]; then
		printf '%s\n' "$got" >"$file"
	fi
	if [ "$got" = "$(cat "$file" 2>/dev/null)" ]; then
		ok 0 "$name: rows as in ${file#"$top"/}"
	else
		ok 1 "$name: rows as in ${file#"$top"/}"
		diff <(cat "$file" 2>/dev/null) <(printf '%s\n' "$got") |
		    sed 's/^/#   /' | head -60
		echo "#   if the new rows are right: ESPHOOKS_ACCEPT=1 tests/run $0"
	fi
}

# The unsubscribe without a timestamp counts at its arrival time, which
# is now: it has assertions of its own below, not golden rows.
notime="recipient <> 'notime@notime.test'"

golden suppression_list "SELECT * FROM suppression_list WHERE $notime
	ORDER BY recipient, reason, provider"
golden events_per_day "SELECT * FROM events_per_day
	WHERE day < '2025-01-01' ORDER BY day, provider, event"
golden campaign_funnel "SELECT * FROM campaign_funnel
	ORDER BY provider, campaign_id"
golden campaign_funnel_range "SELECT * FROM
	campaign_funnel('2024-03-01 12:01:00+00', '2024-03-01 12:10:00+00')
	ORDER BY provider, campaign_id"
golden bounce_reasons "SELECT * FROM bounce_reasons
	ORDER BY domain, provider, reason"
# received_at is the time of the test run, provider_id depends on the
# tests before: neither is compared.
golden recipient_timeline "SELECT recipient, event_at, provider, event,
	provider_event, campaign_id, message_id, detail, occurred_at
	FROM recipient_timeline WHERE $notime
	ORDER BY recipient, event_at, provider, provider_id"

# suppressed ADDRESS: its suppression rows as "reason/provider ...".
suppressed() {
	sql "SELECT coalesce(string_agg(reason || '/' || provider, ' '
		ORDER BY reason, provider), 'none')
	    FROM suppression_list WHERE recipient = lower('$1')"
}

is "$(suppressed sp-resub@example.net)" none \
    "SendPulse: unsubscribed, then resubscribed: not suppressed"
is "$(suppressed al-resub@example.org)" none \
    "Aldeamo: subscription cancelled, then reactivated: not suppressed"
is "$(suppressed sp-again@example.net)" unsubscribed/sendpulse \
    "SendPulse: unsubscribed again after resubscribing: suppressed"
is "$(sql "SELECT first_at FROM suppression_list WHERE recipient = 'sp-again@example.net'")" \
    "2024-03-02 12:03:20+00" "... from the second unsubscribe on"
is "$(suppressed sp-before@example.net)" unsubscribed/sendpulse \
    "SendPulse: a resubscription before the unsubscribe undoes nothing"
is "$(suppressed al-tie@example.org)" none \
    "Aldeamo: same second, reactivation arrived last: not suppressed"
is "$(suppressed al-tie2@example.org)" unsubscribed/aldeamo \
    "Aldeamo: same second, cancellation arrived last: suppressed"
is "$(suppressed soft@example.net)" none \
    "SendPulse: soft bounces alone (452, soft_bounces) do not suppress"
is "$(suppressed al-soft@example.org)" none \
    "Aldeamo: a soft bounce alone does not suppress"
is "$(suppressed a4@funnel.test)" none \
    "Mailjet: a soft bounce alone does not suppress"
is "$(suppressed HARD@Example.NET)" hard_bounce/sendpulse \
    "a hard bounce at SendPulse suppresses the address, one row for three spellings"
is "$(sql "SELECT string_agg(DISTINCT provider, ' ') FROM recipient_timeline
	WHERE recipient = 'hard@example.net'")" "aldeamo mailjet sendpulse" \
    "... which Mailjet and Aldeamo mailed too, as the same recipient"
is "$(suppressed a5@funnel.test) $(suppressed c3@camp.test)" \
    "hard_bounce/mailjet hard_bounce/aldeamo" "Mailjet and Aldeamo hard bounces suppress"
is "$(suppressed blocked@funnel.test)" blocked/mailjet "a Mailjet block suppresses"
is "$(suppressed a6@funnel.test) $(suppressed sp-spam@example.net) $(suppressed al-complaint@example.org)" \
    "complaint/mailjet complaint/sendpulse complaint/aldeamo" \
    "a complaint suppresses, from every provider"
is "$(suppressed a7@funnel.test)" unsubscribed/mailjet \
    "a Mailjet unsub suppresses, and a later SendPulse resubscription leaves it"
is "$(suppressed notime@notime.test)" unsubscribed/sendpulse \
    "an unsubscribe without a timestamp suppresses"
is "$(sql "SELECT count(*) FROM suppression_list
	WHERE recipient = 'notime@notime.test' AND first_at > now() - interval '1 hour'")" 1 \
    "... from the time it arrived"
is "$(sql "SELECT count(*) FROM (SELECT recipient FROM suppression_list UNION ALL
	SELECT recipient FROM recipient_timeline) r WHERE recipient <> lower(recipient)")" 0 \
    "no upper-case address in any report"

is "$(sql "SELECT delivered || ' ' || opens || ' ' || unique_opens || ' ' ||
	clicks || ' ' || unique_clicks FROM campaign_funnel
	WHERE provider = 'mailjet' AND campaign_id = '501'")" "6 3 2 3 2" \
    "funnel: 6 delivered, 3 opens by 2 addresses, 3 clicks by 2 (A3 and a3 one)"
is "$(sql "SELECT open_rate || ' ' || click_rate || ' ' || bounce_rate FROM campaign_funnel
	WHERE provider = 'aldeamo' AND campaign_id = '777'")" "0.5000 0.5000 1.0000" \
    "funnel: rates over delivered"
is "$(sql "SELECT reason FROM bounce_reasons WHERE domain = 'funnel.test' AND hard_bounces = 1")" \
    "recipient: user unknown - The address does not exist; check it for typos." \
    "bounce reason: Mailjet's error with its meaning from mailjet_error"
is "$(sql "SELECT reason FROM bounce_reasons WHERE provider = 'sendpulse' AND hard_bounces = 1")" \
    "550 5.1.1 (addressing)" "bounce reason: SendPulse's SMTP code and subcode"

# The filters of the lookups reach every table's index (PostgreSQL
# would rather scan these few rows: forbid it, and see that it can).
sql "ANALYZE mailjet, sendpulse, aldeamo" >/dev/null
plan() {
	sql "SET enable_seqscan = off; SET enable_bitmapscan = off; EXPLAIN $1" |
	    grep -o 'Index Scan using [a-z_]*' | sort -u | sed 's/.* //' | tr '\n' ' '
}
is "$(plan "SELECT * FROM suppression_list WHERE recipient = 'a@b.c'")" \
    "aldeamo_recipient mailjet_recipient sendpulse_recipient " \
    "suppression lookup: an index scan of each table's recipient index"
is "$(plan "SELECT * FROM recipient_timeline WHERE recipient = 'a@b.c'" | grep -o '[a-z]*_recipient' | sort -u | tr '\n' ' ')" \
    "aldeamo_recipient mailjet_recipient sendpulse_recipient " \
    "timeline: the recipient indexes"
is "$(plan "SELECT * FROM campaign_funnel('2024-03-01', '2024-04-01') WHERE campaign_id = '501'")" \
    "aldeamo_campaign mailjet_campaign " \
    "one campaign's funnel over a month: the campaign indexes"
like "$(plan "SELECT * FROM events_per_day('2024-03-01', '2024-04-01')")" \
    "sendpulse_event_at" "events per day over a month: the event-time indexes"

# The reader role reads every report; the writer none.
for v in suppression_list events_per_day campaign_funnel bounce_reasons \
    bounce_events recipient_timeline; do
	is "$(PGUSER=esphooks_reader sql "SELECT count(*) > 0 FROM $v" 2>&1)" t \
	    "esphooks_reader reads $v"
done
is "$(PGUSER=esphooks_reader sql "SELECT count(*) FROM campaign_funnel('2024-03-01', '2024-04-01')" 2>&1)" 4 \
    "esphooks_reader runs campaign_funnel(from, to)"
like "$(PGUSER=esphooks_writer sql "SELECT count(*) FROM suppression_list" 2>&1)" \
    "permission denied" "esphooks_writer reads no report"

# make report: every table, the range and the recipient applied.
out=$("$top/deploy/report.sh" --from 2024-03-01 --to 2024-03-04 --recipient HARD@example.net 2>&1)
ok $? "report.sh runs"
like "$out" "events from '2024-03-01 00:00:00+00' to '2024-03-04 00:00:00+00'" "report: the range"
for title in "Events per day" "Campaigns, most delivered first" \
    "Bounce reasons by recipient domain" "Suppressed addresses" \
    "Suppression of the address" "Timeline of the address"; do
	like "$out" "$title" "report: $title"
done
like "$out" " 2024-03-02 | sendpulse |         1 |      1 |       0 |       3 |" \
    "report: SendPulse's day as aligned columns"
like "$out" " mailjet  | 501      |         6 |      2 |       2 |    1 |    1 |       1 |" \
    "report: Mailjet campaign 501"
like "$out" "550 5.1.1 (addressing)" "report: the recipient's timeline shows the bounce"
out=$("$top/deploy/report.sh" --from 2024-03-02 --to 2024-03-03 2>&1)
is "$(printf '%s\n' "$out" | grep -c '| mailjet  | 501 ')" 0 \
    "report: a range without the campaign shows none of it"
out=$("$top/deploy/report.sh" --from "2024-03-01'; DROP TABLE mailjet; --" 2>&1)
rc=$?
ok "$([ $rc -ne 0 ]; echo $?)" "report: a bad --from fails"
is "$(sql "SELECT count(*) FROM mailjet")" 20 "... and is never SQL"

done_testing
