#!/usr/bin/env bash
# 60-batches.t - SendPulse-sized batches through nginx: 1,000 events
# stored in one request and all duplicates when sent again, 5,000 and
# 10,000 (the per-request limit) taken whole, one past the limit 413,
# and one bad element anywhere refusing the whole batch; batches by COPY
# (duplicates, escaping, the request's time).  Also Aldeamo's
# unsubscribe then reactivation, kept both and in order.
. "$(dirname "$0")/lib.sh"

# batch N TAG [BAD_AT]: a SendPulse array of N events; element BAD_AT, if
# given, is a number instead of an object.
batch() {
	awk -v n="$1" -v tag="$2" -v bad="${3:--1}" 'BEGIN {
		printf "["
		for (i = 0; i < n; i++) {
			if (i) printf ","
			if (i == bad) { printf "42"; continue }
			printf "{\"event\":\"%s\",\"timestamp\":%d,\"message_id\":%d,", \
			    i % 3 ? "opened" : "delivered", 1490954061 + i, 1149317311 + i
			printf "\"recipient\":\"User%d@Example.com\",\"sender\":\"s@sendpulse.com\",", i
			printf "\"subject\":\"Привет, мир %s\",\"smtp_server_response_code\":%s}", \
			    tag, i % 2 ? "250" : "\"250\""
		}
		printf "]"
	}' >"$scratch/batch"
}

reset_db
batch 1000 a
post /webhooks/sendpulse "$scratch/batch"
is "$status/$body" '200/{"received":1000,"stored":1000,"duplicates":0}' \
    "1,000 events stored"
is "$(sql "SELECT count(*) FROM webhook_request WHERE provider = 'sendpulse'")" 1 \
    "in one request row"
post /webhooks/sendpulse "$scratch/batch"
is "$status/$body" '200/{"received":1000,"stored":0,"duplicates":1000}' \
    "the same 1,000 again: 1,000 duplicates"
is "$(sql "SELECT count(*) FROM sendpulse")" 1000 "still 1,000 rows"
is "$(sql "SELECT count(DISTINCT recipient) FROM sendpulse WHERE recipient = lower(recipient)")" 1000 \
    "recipients lower-cased"
is "$(sql "SELECT subject FROM sendpulse ORDER BY id LIMIT 1")" "Привет, мир a" \
    "Cyrillic subject intact"
is "$(sql "SELECT count(*) FROM sendpulse WHERE smtp_code = 250")" 1000 \
    "numeric and string response codes both read"
is "$(sql "SELECT string_agg(message_id, ',' ORDER BY id) FROM (SELECT * FROM sendpulse ORDER BY id LIMIT 3) s")" \
    "1149317311,1149317312,1149317313" "stored in the order sent"

# A batch of STORE_COPY_MIN (64) events or more goes by COPY, after the
# request row in the same transaction: its rows carry command id 1,
# where the one insert statement's carry 0.  A duplicate makes COPY fail
# and the statement take the batch instead.
is "$(sql "SELECT string_agg(DISTINCT cmin::text, ',') FROM sendpulse")" 1 \
    "the 1,000 events went by COPY"
batch 1500 a
post /webhooks/sendpulse "$scratch/batch"
is "$status/$body" '200/{"received":1500,"stored":500,"duplicates":1000}' \
    "1,000 known and 500 new: COPY refused, the statement sorts them"
is "$(sql "SELECT count(*), count(DISTINCT message_id), string_agg(DISTINCT cmin::text, ',') FROM sendpulse WHERE message_id::bigint >= 1149317311 + 1000" | tr '\t' ' ')" \
    "500 500 0" "the 500 new ones stored once, by the statement"
is "$(sql "SELECT string_agg(events::text, ',' ORDER BY id) FROM webhook_request WHERE provider = 'sendpulse'")" \
    1000,1000,1500 "one request row each: COPY's was rolled back"
batch 40 twice
sed -e 's/^\[//' -e 's/\]$//' "$scratch/batch" >"$scratch/half"
{ printf '['; cat "$scratch/half"; printf ','; cat "$scratch/half"; printf ']'; } \
    >"$scratch/batch"
post /webhooks/sendpulse "$scratch/batch"
is "$status/$body" '200/{"received":80,"stored":40,"duplicates":40}' \
    "the same 40 events twice in one batch: stored once"

# What COPY's text format escapes reaches the columns as sent: each
# event's subject and smtp_response must equal its raw field.
awk 'BEGIN {
	n = split("back\\\\slash|tab\\there|new\\nline|cr\\rx|\\\\N|\\\\.|NULL||quo\\\"te|{b},c|end\\\\|\\u00e7a \\u2603", v, "|")
	printf "["
	for (i = 0; i < 72; i++) {
		if (i) printf ","
		printf "{\"event\":\"hard_bounces\",\"timestamp\":1490954061,\"message_id\":%d,", 77000 + i
		printf "\"recipient\":\"e%d@example.com\",\"subject\":\"%s\",", i, v[i % n + 1]
		printf "\"smtp_server_response\":\"%s\"}", v[(i + 1) % n + 1]
	}
	printf "]"
}' >"$scratch/batch"
post /webhooks/sendpulse "$scratch/batch"
is "$status/$body" '200/{"received":72,"stored":72,"duplicates":0}' \
    "72 events with characters COPY escapes: stored"
is "$(sql "SELECT count(*) FILTER (WHERE subject = raw->>'subject' AND smtp_response = raw->>'smtp_server_response' AND url IS NULL AND cmin::text = '1') FROM sendpulse WHERE message_id::bigint BETWEEN 77000 AND 77071")" \
    72 "backslashes, tabs, newlines, \\N, \\., NULL and '' arrive as sent, absent is NULL"
is "$(sql "SELECT subject FROM sendpulse WHERE message_id = '77000'")" 'back\slash' \
    "a backslash is one backslash"
is "$(sql "SELECT count(*) FROM sendpulse WHERE message_id::bigint BETWEEN 77000 AND 77071 AND subject = ''")" \
    6 "an empty string is empty, not NULL"

for n in 5000 10000; do
	batch $n "n$n"
	post /webhooks/sendpulse "$scratch/batch"
	is "$status/$body" "200/{\"received\":$n,\"stored\":$n,\"duplicates\":0}" \
	    "$n events stored in one request"
done
batch 10001 over
post /webhooks/sendpulse "$scratch/batch"
is "$status" 413 "10,001 events: 413"
like "$body" 'more than 10000 events' "the error says the limit"

before=$(events)
for at in 0 500 999; do
	batch 1000 "bad$at" $at
	post /webhooks/sendpulse "$scratch/batch"
	is "$status" 400 "one bad element at $at: 400"
	like "$body" "element $at at byte" "the error names element $at"
	is "$(events)" "$before" "nothing of that batch stored"
done
batch 1000 trunc
head -c 50000 "$scratch/batch" >"$scratch/cut"
post /webhooks/sendpulse "$scratch/cut"
is "$status" 400 "a batch cut short: 400"
is "$(events)" "$before" "nothing of it stored"

# Aldeamo: unsubscribe, then reactivate; both events, in that order.
reset_db
post_string /webhooks/aldeamo '{"subscription_type":"domain subscription cancelled","type":"Email marketing","event":"unsubscribed","releid":"1470","email":"U@Example.com","timestamp":"2020-10-02 18:03:16"}'
is "$status" 200 "Aldeamo unsubscribe stored"
post_string /webhooks/aldeamo '{"subscription_type":"domain subscription reactivated","type":"Email marketing","event":"unsubscribed","relid":"1470","email":"u@example.com","timestamp":"2020-10-02 18:04:10"}'
is "$status" 200 "Aldeamo reactivation stored"
post_string /webhooks/aldeamo '{"subscription_type":"domain subscription cancelled","type":"Email marketing","event":"unsubscribed","releid":"1470","email":"U@Example.com","timestamp":"2020-10-02 18:03:16"}'
is "$body" '{"received":1,"stored":0,"duplicates":1}' "Aldeamo's retry of the unsubscribe is a duplicate"
is "$(sql "SELECT string_agg(event || '@' || occurred_at, ' ' ORDER BY provider_id) FROM email_events WHERE recipient = 'u@example.com'")" \
    "unsubscribed@2020-10-02 23:03:16+00 resubscribed@2020-10-02 23:04:10+00" \
    "both kept, in order, times in UTC"

# The nesting and string limits (lib/limits.h), through nginx: at the
# limit 200, one past it 400 and nothing stored.
nested() {	# a batch of one event, N levels deep in all
	perl -e '$n = shift; print "[", "{\"a\":" x ($n - 1), "1", "}" x ($n - 1), "]"' "$1"
}
long_string() {	# an event whose string value is N bytes as sent
	perl -e '$n = shift; print "{\"event\":\"open\",\"a\":\"", "x" x ($n - 2), "\"}"' "$1"
}
limit() {
	sed -n "s/^#define $1 \([0-9]*\)$/\1/p" "$top/lib/limits.h"
}
reset_db
depth=$(limit LIMIT_DEPTH)
field=$(limit LIMIT_FIELD)
nested "$depth" >"$scratch/deep"
post /webhooks/sendpulse "$scratch/deep"
is "$status" 200 "nesting of $depth levels: 200"
nested $((depth + 1)) >"$scratch/deep"
post /webhooks/sendpulse "$scratch/deep"
is "$status" 400 "nesting of $((depth + 1)) levels: 400"
like "$body" "nesting deeper than $depth" "the 400 names the limit"
long_string "$field" >"$scratch/long"
post /webhooks/mailjet "$scratch/long"
is "$status" 200 "a string of $field bytes: 200"
long_string $((field + 1)) >"$scratch/long"
post /webhooks/mailjet "$scratch/long"
is "$status" 400 "a string of $((field + 1)) bytes: 400"
is "$(events)" 2 "only the two bodies within the limits are stored"

# COPY's rows carry their request's time as text the server reads back:
# it must be the same instant whatever the session's DateStyle and time
# zone.  In the Postgres style, Asia/Kolkata prints "IST", which the
# default abbreviations read as Israel's +02.
sql "ALTER ROLE esphooks_writer SET DateStyle = 'Postgres, DMY'" >/dev/null
sql "ALTER ROLE esphooks_writer SET TimeZone = 'Asia/Kolkata'" >/dev/null
# The workers reconnect, with those settings, at their next POST.
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'esphooks_writer'" >/dev/null
batch 64 zone
post /webhooks/sendpulse "$scratch/batch"
is "$status/$body" '200/{"received":64,"stored":64,"duplicates":0}' \
    "a batch from a session in another DateStyle and time zone"
is "$(sql "SELECT count(*) FILTER (WHERE s.received_at = r.received_at AND s.cmin::text = '1') FROM sendpulse s JOIN webhook_request r ON r.id = s.request WHERE s.subject LIKE '% zone'")" \
    64 "its events carry their request's time, to the microsecond"
sql "ALTER ROLE esphooks_writer RESET ALL" >/dev/null

done_testing
