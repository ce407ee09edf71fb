#!/usr/bin/env bash
# 35-numbers.t - numbers reach PostgreSQL as sent, or as NULL, never as
# another number (SPEC §3, issue 19).  json-c saturates integers beyond
# int64/uint64 and re-prints objects with those saturated values; the
# typed columns must not show it: bigint columns hold the exact value or
# NULL, text columns the literal sent, jsonb columns every number as
# sent, double precision columns NULL for what is not a JSON number or
# overflows.  Times with a half offset ("+05:") or a leap second are
# NULL; a fraction of a second is kept to the microsecond (timestamptz's
# resolution), read from the digits sent, never from a double.  Through
# the statement (one event) and through COPY (64 events).
. "$(dirname "$0")/lib.sh"

reset_db

# Aldeamo: custom_headers (jsonb), relid (text), response (text).
post_string /webhooks/aldeamo '{"type":"SMTP","event":"bounce","relid":123456789012345678901234,"to":"n1@example.com","msgid":"num-1","timestamp":"2020-10-05 17:40:55","status":"Rebotado","response":[{"code":"550","id":-99999999999999999999}],"custom_headers":{"a":18446744073709551616,"b":-9223372036854775809,"c":1.50},"latitude":"12.5","longitude":-74.25}'
is "$status" 200 "aldeamo: big numbers answered 200"
row() {
	sql "SELECT $1 FROM aldeamo WHERE message_id = '$2'"
}
is "$(row custom_headers num-1)" \
    '{"a": 18446744073709551616, "b": -9223372036854775809, "c": 1.50}' \
    "custom_headers: 2^64, -2^63-1 and 1.50 kept as sent"
is "$(row "custom_headers = raw->'custom_headers'" num-1)" t \
    "custom_headers equals the raw event's"
is "$(row relid num-1)" 123456789012345678901234 \
    "a 24-digit relid (a number) kept to the digit"
is "$(row response num-1)" '[{"code":"550","id":-99999999999999999999}]' \
    "response, an array, is its JSON text as sent"
is "$(row "hard_bounce" num-1)" t \
    "the verdict read from it as before: a hard bounce (550)"
is "$(row "latitude || ' ' || longitude" num-1)" "12.5 -74.25" \
    "latitude \"12.5\" and longitude -74.25 read"

i=0
for lat in '"0x1p4"' '"inf"' '" 12"' '"1e5x"' '"+1"' 1e400 1e-400 1e-310; do
	i=$((i + 1))
	post_string /webhooks/aldeamo "{\"type\":\"SMTP\",\"event\":\"open\",\"to\":\"n2@example.com\",\"msgid\":\"lat-$i\",\"latitude\":$lat}"
	is "$status/$(sql "SELECT coalesce(latitude::text, 'NULL') FROM aldeamo WHERE message_id = 'lat-$i'")" \
	    "200/NULL" "latitude $lat: NULL"
done

# Mailjet: MessageID, mj_contact_id and mj_campaign_id are bigint.
post_string /webhooks/mailjet '{"event":"open","time":1433103519,"email":"n3@example.com","MessageID":-99999999999999999999,"mj_contact_id":9223372036854775808,"mj_campaign_id":-9223372036854775809}'
is "$status" 200 "mailjet: out-of-range ids answered 200"
is "$(sql "SELECT coalesce(message_id::text, 'NULL') || ' ' || coalesce(mj_contact_id::text, 'NULL') || ' ' || coalesce(mj_campaign_id::text, 'NULL') FROM mailjet WHERE recipient = 'n3@example.com'")" \
    "NULL NULL NULL" "MessageID -99999999999999999999, mj_contact_id 2^63, mj_campaign_id -2^63-1: NULL"
is "$(sql "SELECT raw->>'MessageID' FROM mailjet WHERE recipient = 'n3@example.com'")" \
    -99999999999999999999 "raw keeps the MessageID as sent"
is "$(sql "SELECT coalesce(message_id, 'NULL') FROM email_events WHERE recipient = 'n3@example.com'")" \
    NULL "email_events.message_id NULL too"
post_string /webhooks/mailjet '{"event":"open","time":1433103520,"email":"n4@example.com","MessageID":9223372036854775807,"mj_contact_id":9223372036854775807,"mj_campaign_id":-9223372036854775808}'
is "$(sql "SELECT message_id || ' ' || mj_contact_id || ' ' || mj_campaign_id FROM mailjet WHERE recipient = 'n4@example.com'")" \
    "9223372036854775807 9223372036854775807 -9223372036854775808" \
    "2^63-1 and -2^63 kept exactly"

# Aldeamo times: a colon without minutes, and leap seconds, are no time.
aldeamo_time() {
	post_string /webhooks/aldeamo "{\"type\":\"SMTP\",\"event\":\"sent\",\"to\":\"t@example.com\",\"msgid\":\"time-$1\",\"timestamp\":\"$2\"}"
	is "$status/$(sql "SELECT coalesce(occurred_at::text, 'NULL') FROM aldeamo WHERE message_id = 'time-$1'")" \
	    "200/$3" "timestamp \"$2\": $3"
}
aldeamo_time 1 "2020-10-01 20:01:20+05:" NULL
aldeamo_time 2 "2020-10-01 20:01:20+05:00" "2020-10-01 15:01:20+00"
aldeamo_time 3 "2016-12-31 18:59:60" NULL
aldeamo_time 4 "2016-12-31 18:59:59" "2016-12-31 23:59:59+00"
aldeamo_time 5 "2020-10-01 20:01:20." NULL
# Fractions are part of the time sent (they were dropped to :20).
aldeamo_time 6 "2020-10-01 20:01:20.123" "2020-10-02 01:01:20.123+00"
aldeamo_time 7 "2020-10-01T20:01:20.908181Z" "2020-10-01 20:01:20.908181+00"
aldeamo_time 8 "2016-12-31 18:59:60.5" NULL
# Past the microsecond: rounded to the nearest one, as PostgreSQL reads
# the same text...
i=8
for frac in 12345650001 1234564999 9999996 90818149; do
	i=$((i + 1))
	aldeamo_time $i "2020-10-01 20:01:20.$frac" \
	    "$(sql "SELECT '2020-10-01 20:01:20.$frac-05'::timestamptz")"
done
# ...and an exact tie to the even one, always.  PostgreSQL's own input
# rounds the fraction's double (rint(strtod() * 1e6)), so at a tie it
# goes either way: it reads .1261935 as .126193.
aldeamo_time 13 "2020-10-01 20:01:20.1234565" "2020-10-02 01:01:20.123456+00"
aldeamo_time 14 "2020-10-01 20:01:20.1261935" "2020-10-02 01:01:20.126194+00"

# Mailjet and SendPulse unix seconds with a fraction: the instant sent,
# to the microsecond, not floored to the second (a double would not even
# hold 1521472262.908181).
mailjet_time() {
	post_string /webhooks/mailjet "{\"event\":\"open\",\"time\":$2,\"email\":\"$1@example.com\",\"MessageID\":1}"
	is "$status/$(sql "SELECT coalesce(occurred_at::text, 'NULL') FROM mailjet WHERE recipient = '$1@example.com'")" \
	    "200/$3" "mailjet time $2: $3"
}
mailjet_time f1 1433333949.5 "2015-06-03 12:19:09.5+00"
mailjet_time f2 1521472262.908181 "2018-03-19 15:11:02.908181+00"
mailjet_time f3 '"1521472262.000001"' "2018-03-19 15:11:02.000001+00"
mailjet_time f4 -0.5 "1969-12-31 23:59:59.5+00"
mailjet_time f5 1.5e9 "2017-07-14 02:40:00+00"
mailjet_time f6 1433333949 "2015-06-03 12:19:09+00"
is "$(sql "SELECT extract(epoch FROM occurred_at) FROM mailjet WHERE recipient = 'f2@example.com'")" \
    1521472262.908181 "1521472262.908181 exactly, as epoch seconds"

# A SendPulse batch of 64 events goes by COPY: one fractional timestamp
# in it, exact there too.
awk 'BEGIN {
	printf "["
	for (i = 0; i < 64; i++) {
		if (i) printf ","
		printf "{\"event\":\"delivered\",\"recipient\":\"c%d@example.com\",", i
		printf "\"message_id\":%d,\"timestamp\":%s}", 880000 + i, \
		    i == 17 ? "1521472262.908181" : 1521472262 + i
	}
	printf "]"
}' >"$scratch/batch"
post /webhooks/sendpulse "$scratch/batch"
is "$status/$body" '200/{"received":64,"stored":64,"duplicates":0}' \
    "sendpulse: 64 events, one with a fractional timestamp, stored"
is "$(sql "SELECT string_agg(DISTINCT cmin::text, ',') FROM sendpulse WHERE message_id::bigint BETWEEN 880000 AND 880063")" 1 \
    "they went by COPY"
is "$(sql "SELECT occurred_at FROM sendpulse WHERE message_id = '880017'")" \
    "2018-03-19 15:11:02.908181+00" "by COPY: the fraction exact"
is "$(sql "SELECT count(*) FROM sendpulse WHERE message_id::bigint BETWEEN 880000 AND 880063 AND message_id <> '880017' AND occurred_at = to_timestamp(1521472262 + message_id::bigint - 880000)")" \
    63 "the 63 others: whole seconds, as sent"

# 64 events (STORE_COPY_MIN) go by COPY, which takes the same arrays.
awk 'BEGIN {
	printf "["
	for (i = 0; i < 64; i++) {
		if (i) printf ","
		printf "{\"type\":\"SMTP\",\"event\":\"sent\",\"to\":\"b%d@example.com\",", i
		printf "\"msgid\":\"copy-%d\",\"relid\":%d00000000000000000000,", i, i + 1
		printf "\"custom_headers\":{\"n\":-%d99999999999999999999,\"d\":1.50},", i + 1
		printf "\"latitude\":%s}", i % 2 ? "\"0x1p4\"" : "1e400"
	}
	printf "]"
}' >"$scratch/batch"
post /webhooks/aldeamo "$scratch/batch"
is "$status/$body" '200/{"received":64,"stored":64,"duplicates":0}' \
    "64 events with big numbers stored"
is "$(sql "SELECT string_agg(DISTINCT cmin::text, ',') FROM aldeamo WHERE message_id LIKE 'copy-%'")" 1 \
    "they went by COPY"
is "$(sql "SELECT relid || ' ' || custom_headers::text FROM aldeamo WHERE message_id = 'copy-63'")" \
    '6400000000000000000000 {"d": 1.50, "n": -6499999999999999999999}' \
    "by COPY too: relid and custom_headers as sent"
is "$(sql "SELECT count(*) FILTER (WHERE relid = (raw->'relid')::text AND custom_headers = raw->'custom_headers' AND latitude IS NULL) FROM aldeamo WHERE message_id LIKE 'copy-%'")" \
    64 "every one: relid, custom_headers as raw has them, latitude NULL"

done_testing
