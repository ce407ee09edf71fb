#!/usr/bin/env bash
# 40-hostile.t - tables of bad and odd requests (tests/fixtures/hostile.tsv
# and tolerated.tsv) against every endpoint: each gets its expected
# status, a JSON error naming the problem, and a refused one stores no
# event.  Odd but acceptable bodies (\u0000, invalid UTF-8, trailing
# commas) are stored without PostgreSQL refusing the batch, and events
# that differ only in what had to be repaired stay apart.
. "$(dirname "$0")/lib.sh"

# run_table FILE: columns name, method, body (a printf format), status,
# error substring.  Lines whose status is not a number are headers.
run_table() {
	local line name method fmt want word path before
	while IFS= read -r line; do
		# A tab is white space to read(1), so empty fields would
		# collapse: split on a byte that is not.
		IFS=$'\037' read -r name method fmt want word \
		    <<<"${line//$'\t'/$'\037'}"
		case $want in
		[0-9][0-9][0-9]) ;;
		*) continue ;;
		esac
		# shellcheck disable=SC2059
		printf -- "$fmt" >"$scratch/hostile"
		for path in /webhooks/mailjet /webhooks/sendpulse /webhooks/aldeamo; do
			before=$(events)
			if [ "$method" = POST ]; then
				post "$path" "$scratch/hostile"
			else
				request "$method" "$path" -u "$auth" \
				    --data-binary "@$scratch/hostile"
			fi
			is "$status" "$want" "$path $name: $want"
			if [ "$want" != 200 ]; then
				like "$body" '{"error":"' "$path $name: JSON error"
				[ -n "$word" ] && like "$body" "$word" \
				    "$path $name: error mentions '$word'"
				is "$(events)" "$before" "$path $name: nothing stored"
			fi
		done
	done <"$1"
}

reset_db
run_table "$fixtures/hostile.tsv"
run_table "$fixtures/tolerated.tsv"

# What the database holds of the tolerated bodies: text it can hold.
is "$(sql "SELECT count(*) FROM mailjet WHERE raw::text LIKE '%\\\\u0000%'")" 0 \
    "no \\u0000 reached jsonb"
# Events that differ in their bytes stay apart when their JSON had to be
# repaired (the rows repaired-* and not-repaired-*, marked "m"): one row
# each, those repaired with their bytes as sent in original (45-repaired.t
# checks the bytes).
for t in mailjet sendpulse aldeamo; do
	is "$(sql "SELECT string_agg(m || ':' || n || '/' || o, ',' ORDER BY m)
	    FROM (SELECT raw->>'m' AS m, count(*) AS n, count(original) AS o
	    FROM $t WHERE raw ? 'm' GROUP BY 1) s")" "r1:3/2,r2:3/2,r3:1/1,r4:4/3" \
	    "$t: repaired events kept apart: events/originals per marker"
done
is "$(sql "SELECT count(*) FROM webhook_reject WHERE provider = 'mailjet'")" \
    "$(awk -F '\t' '$4 == 400' "$fixtures/hostile.tsv" | grep -c '')" \
    "every 400 body is in webhook_reject"

# SQL in values is data: the tables are still there and hold it.
post_string /webhooks/mailjet "{\"event\":\"open\",\"email\":\"x'); DROP TABLE mailjet; --@example.com\"}"
is "$status" 200 "SQL in a value is stored"
is "$(sql "SELECT count(*) FROM mailjet
	WHERE recipient = 'x''); drop table mailjet; --@example.com'")" 1 \
    "stored as data, lower-cased"

# Header injection: nothing from the request is echoed into headers.
request POST "/webhooks/mailjet" -u "$auth" -H $'X-Evil: a\r\nSet-Cookie: x=1' -d '{}'
case $headers in *Set-Cookie*) ok 1 "no injected header" ;; *) ok 0 "no injected header" ;; esac

# Path tricks reach no program and no file.
for path in /webhooks/mailjet/extra /webhooks/%2e%2e/etc/passwd \
    /webhooks/mailjet%00 /webhooks/ /webhooks/unknown /cgi-bin/mailjet; do
	before=$(events)
	request POST "$path" -u "$auth" --path-as-is -d '{"event":"trick"}'
	case $status in
	200) ok 1 "$path: not taken ($status)" ;;
	*) ok 0 "$path: not taken ($status)" ;;
	esac
	is "$(events)" "$before" "$path: nothing stored"
done

done_testing
