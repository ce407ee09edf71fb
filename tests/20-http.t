#!/usr/bin/env bash
# 20-http.t - the HTTP contract of SPEC §3 on every endpoint, through the
# real nginx and PostgreSQL: answers, credentials, methods, body limit,
# retries counted as duplicates, all-or-nothing batches, Content-Type not
# trusted, and each Mailjet URL reaching the Mailjet program.
. "$(dirname "$0")/lib.sh"

limit=16777216		# LIMIT_BODY, and nginx's client_max_body_size 16m

reset_db
# The stack starts PostgreSQL with glibc's heap trim threshold raised
# (deploy/stack.sh, PG_MALLOC): without it batches cost a backend that
# has served single events ~1.7x the CPU.  Checked here, before a later
# file restarts PostgreSQL on its own.
like "$(tr '\0' '\n' <"/proc/$(head -n 1 "$ESPHOOKS_VAR/pg/postmaster.pid")/environ")" \
    'GLIBC_TUNABLES=glibc.malloc.trim_threshold=33554432' \
    "PostgreSQL runs with glibc's trim threshold raised"

for path in /webhooks/mailjet /mailjet_triggers /webhooks/sendpulse \
    /webhooks/aldeamo; do
	case $path in
	*mailjet*) provider=mailjet ;;
	*) provider=${path##*/} ;;
	esac
	ev="{\"event\":\"open\",\"time\":1700000000,\"email\":\"u@$RANDOM.example\",\"timestamp\":1700000000,\"recipient\":\"r@example.com\",\"path\":\"$path\"}"

	post_string "$path" "$ev"
	is "$status" 200 "$path: one event, 200"
	is "$body" '{"received":1,"stored":1,"duplicates":0}' "$path: counts"
	like "$headers" "Content-Type: application/json" "$path: JSON answer"
	is "$(sql "SELECT provider FROM email_events WHERE raw->>'path' = '$path'")" \
	    "$provider" "$path: stored by the $provider program"

	post_string "$path" "$ev"
	is "$body" '{"received":1,"stored":0,"duplicates":1}' \
	    "$path: a retry is a duplicate"
	is "$(sql "SELECT count(*) FROM email_events WHERE raw->>'path' = '$path'")" 1 \
	    "$path: a retry stores nothing"

	# The same event in another grouping and spacing is the same event.
	post_string "$path" "[ $(printf '%s' "$ev" | sed 's/,/, /g'), {\"event\":\"x\",\"path\":\"$path\"} ]"
	is "$body" '{"received":2,"stored":1,"duplicates":1}' \
	    "$path: regrouped and respaced, still a duplicate"

	post_string "$path" '[]'
	is "$status/$body" '200/{"received":0,"stored":0,"duplicates":0}' \
	    "$path: [] is 200 with nothing received"

	# Content-Type is not trusted: none, form, JSON all parse the same.
	for ct in 'Content-Type:' 'Content-Type: application/x-www-form-urlencoded' \
	    'Content-Type: application/json; charset=latin1'; do
		post_string "$path" "{\"event\":\"ct\",\"ct\":\"$ct\",\"path\":\"$path\"}" -H "$ct"
		is "$status" 200 "$path: '$ct' still parsed"
	done

	# All or nothing: one bad element and none of the batch is stored.
	before=$(events)
	rejects=$(sql "SELECT count(*) FROM webhook_reject")
	post_string "$path" '[{"event":"open","email":"a@x.com"},{"event":"open","email":"b@x.com"},1]'
	is "$status" 400 "$path: a batch with a number in it is 400"
	like "$body" 'element 2 at byte' "$path: the error names the element"
	is "$(events)" "$before" "$path: nothing of that batch stored"
	is "$(sql "SELECT count(*) FROM webhook_reject")" $((rejects + 1)) \
	    "$path: the refused body is kept in webhook_reject"
	is "$(sql "SELECT convert_from(body, 'UTF8') FROM webhook_reject ORDER BY id DESC LIMIT 1")" \
	    '[{"event":"open","email":"a@x.com"},{"event":"open","email":"b@x.com"},1]' \
	    "$path: kept byte for byte"

	# Credentials: nginx asks for them.
	request POST "$path" -d '{}'
	is "$status" 401 "$path: no credentials, 401"
	like "$headers" 'WWW-Authenticate: Basic' "$path: 401 asks for Basic auth"
	request POST "$path" -d '{}' -u "$auth-wrong"
	is "$status" 401 "$path: wrong password, 401"

	for m in GET PUT DELETE PATCH; do
		request "$m" "$path" -u "$auth"
		is "$status" 405 "$path: $m is 405"
		like "$headers" 'Allow: POST' "$path: $m answer says Allow: POST"
	done
done

# Two opens of the same message at different times are two events.
reset_db
post_string /webhooks/mailjet '{"event":"open","time":1700000000,"MessageID":19421777396190490,"email":"a@example.com"}'
post_string /webhooks/mailjet '{"event":"open","time":1700000060,"MessageID":19421777396190490,"email":"a@example.com"}'
is "$body" '{"received":1,"stored":1,"duplicates":0}' "a second open later is new"
is "$(sql "SELECT count(*) FROM email_events WHERE event = 'opened'")" 2 \
    "two opens, two rows"

# Values reach their typed columns through array literals (lib/pgarray.c):
# quotes, backslashes, braces, commas, the word NULL, an empty string and
# non-ASCII text arrive as sent, and NULL only where there is no value.
post_string /webhooks/mailjet '[{"event":"open","email":"q1@example.com","customcampaign":"x\"y\\z{a,b} NULL","CustomID":"NULL","Payload":""},{"event":"open","email":"q2@example.com","customcampaign":"fran\u00e7ais \u2603"}]'
is "$body" '{"received":2,"stored":2,"duplicates":0}' "escaping batch stored"
is "$(sql "SELECT customcampaign FROM mailjet WHERE recipient = 'q1@example.com'")" \
    'x"y\z{a,b} NULL' "quotes, backslash, braces and commas arrive as sent"
is "$(sql "SELECT count(*) FROM mailjet WHERE recipient LIKE 'q_@example.com' AND customcampaign = raw->>'customcampaign'")" 2 \
    "each typed value equals the raw field"
is "$(sql "SELECT format('%s|%s|%s', custom_id IS NULL, custom_id, payload = '') FROM mailjet WHERE recipient = 'q1@example.com'")" \
    'f|NULL|t' "the word NULL is text and an empty string is empty, not NULL"
is "$(sql "SELECT custom_id IS NULL FROM mailjet WHERE recipient = 'q2@example.com'")" \
    t "an absent field is NULL"

# The body limit, the same in nginx and in the program: at the limit the
# request is taken, one byte past it nginx answers 413 in JSON.
head -c $((limit - 17)) /dev/zero | tr '\0' ' ' >"$scratch/big"
printf '{"event":"big"}\n' >>"$scratch/big"
is "$(stat -c %s "$scratch/big")" $((limit - 1)) "a body of limit-1 bytes made"
printf ' ' >>"$scratch/big"
post /webhooks/mailjet "$scratch/big"
is "$status" 200 "a body of exactly $limit bytes is taken"
printf ' ' >>"$scratch/big"
post /webhooks/mailjet "$scratch/big"
is "$status" 413 "a body of $((limit + 1)) bytes is 413"
like "$body" '"error":' "413 answer is JSON"

# A light load is served by one warm worker, not passed round all of
# them (lib/server.c, server_queue).  Twenty POSTs one after another,
# each refused and logged with its worker's pid: with a plain accept()
# the test stack's 2 workers took turns, about 10 each; now one takes
# them all, or nearly (the other may get a POST that comes while the
# first is still closing the last one's connection).
log=$ESPHOOKS_VAR/log/aldeamo.log
before=$(wc -l <"$log")
for i in $(seq 20); do
	post_string /webhooks/aldeamo "not json $i"
done
is "$status" 400 "twenty POSTs refused"
most=$(tail -n +$((before + 1)) "$log" | grep 'refused with 400' |
    sed -E 's/.*\[([0-9]+)\].*/\1/' | sort | uniq -c | sort -rn |
    awk 'NR == 1 { print $1 }')
ok "$([ "${most:-0}" -ge 16 ]; echo $?)" \
    "one worker served at least 16 of twenty POSTs in a row (${most:-0})"

done_testing
