#!/usr/bin/env bash
# 65-groups.t - POSTs that wait together share a transaction, and each
# still gets the answer it would have had alone.  A lock on the table
# holds the workers (tests/run starts 2 a program) inside their first
# insert while more POSTs queue in the listening socket; once the lock
# goes, each worker takes all that wait at once (lib/server.c), so with
# more POSTs than workers some must share.  Rows committed by one
# transaction share their xmin, so the request rows tell how the POSTs
# went in.
. "$(dirname "$0")/lib.sh"

reset_db
workers=${ESPHOOKS_WORKERS:-2}

# at_once PATH N BODY...: starts N POSTs of the BODYs (cycled) in the
# background, the answers in $scratch/at.<i> ("STATUS BODY"); $posters
# holds their pids.
at_once() {
	local path=$1 n=$2 i
	shift 2
	local bodies=("$@")
	posters=()
	for ((i = 0; i < n; i++)); do
		printf '%s' "${bodies[i % ${#bodies[@]}]}" >"$scratch/at.$i.in"
		curl -sS -o "$scratch/at.$i.out" -w '%{http_code}' -u "$auth" \
		    --data-binary "@$scratch/at.$i.in" "$base$path" \
		    >"$scratch/at.$i.code" 2>/dev/null &
		posters+=($!)
	done
}
# answers N: the N answers, one "STATUS BODY" a line.
answers() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf '%s %s\n' "$(cat "$scratch/at.$i.code")" "$(cat "$scratch/at.$i.out")"
	done
}
# held TABLE N BODY...: N POSTs to TABLE's program while TABLE is locked
# for 4 s: the workers wait inside their insert, the rest queue.  Returns
# once all are answered.
held() {
	local table=$1
	lock_table "$table"
	shift
	at_once "/webhooks/$table" "$@"
	wait_for 100 sql_true "SELECT count(*) = $workers FROM pg_locks WHERE relation = '$table'::regclass AND NOT granted"
	# The others reach nginx and the listening socket in milliseconds.
	sleep 1
	wait "$locker" "${posters[@]}"
}
# marker_rows M: how many sendpulse rows carry "m":"M".
marker_rows() {
	sql "SELECT count(*) FROM sendpulse WHERE raw->>'m' = '$1'"
}

# 1. Twenty-four new events, one a POST.
bodies=()
for i in $(seq 24); do
	bodies+=("{\"event\":\"opened\",\"recipient\":\"g$i@example.com\",\"m\":\"g1\",\"i\":$i}")
done
held sendpulse 24 "${bodies[@]}"
is "$(answers 24 | sort | uniq -c | sed 's/^ *//')" \
    '24 200 {"received":1,"stored":1,"duplicates":0}' \
    "24 POSTs at once: each answered 200, its event stored"
is "$(marker_rows g1)" 24 "24 events stored"
is "$(sql "SELECT count(*), count(DISTINCT s.request), count(DISTINCT r.id)
	FROM sendpulse s JOIN webhook_request r ON r.id = s.request
	WHERE s.raw->>'m' = 'g1' AND r.events = 1 AND r.provider = 'sendpulse'" | tr '\t' ' ')" \
    "24 24 24" "each event has its own POST's request row"
txns=$(sql "SELECT count(DISTINCT r.xmin::text) FROM sendpulse s
	JOIN webhook_request r ON r.id = s.request WHERE s.raw->>'m' = 'g1'")
ok "$([ "$txns" -lt 24 ] && [ "$txns" -ge 2 ]; echo $?)" \
    "POSTs that waited together shared a transaction ($txns transactions for 24)"
is "$(sql "SELECT count(*) FROM sendpulse s JOIN webhook_request r ON r.id = s.request
	WHERE s.raw->>'m' = 'g1' AND s.xmin::text <> r.xmin::text")" 0 \
    "each POST's events committed with its request row"

# 2. The same event in twelve POSTs that wait together: stored once,
# the eleven others answered as duplicates.
same='{"event":"opened","recipient":"same@example.com","m":"g2"}'
held sendpulse 12 "$same"
is "$(answers 12 | sort | uniq -c | sed 's/^ *//')" \
    '11 200 {"received":1,"stored":0,"duplicates":1}
1 200 {"received":1,"stored":1,"duplicates":0}' \
    "one event in 12 POSTs at once: stored by one, a duplicate for the rest"
is "$(marker_rows g2)" 1 "stored once"

# 3. One POST of a group carries an event the database refuses (a check
# added for the test): that POST alone is answered 422, the others are
# stored, each with its request row.
sql "ALTER TABLE sendpulse ADD CONSTRAINT test_poison CHECK (raw->>'m' <> 'poison') NOT VALID" >/dev/null
bodies=()
for i in $(seq 12); do
	bodies+=("{\"event\":\"opened\",\"recipient\":\"p$i@example.com\",\"m\":\"g3\",\"i\":$i}")
done
bodies[6]='{"event":"opened","recipient":"p7@example.com","m":"poison"}'
held sendpulse 12 "${bodies[@]}"
is "$(answers 12 | sed -n 7p)" \
    '422 {"error":"the database refused the events: new row for relation \"sendpulse\" violates check constraint \"test_poison\" (SQLSTATE 23514)"}' \
    "the POST with the refused event: 422, with the reason"
is "$(answers 12 | sed 7d | sort | uniq -c | sed 's/^ *//')" \
    '11 200 {"received":1,"stored":1,"duplicates":0}' \
    "the eleven others in its group: 200, stored"
is "$(marker_rows g3)/$(marker_rows poison)" "11/0" \
    "their events are stored, the refused one is not"
is "$(sql "SELECT count(*) FROM webhook_reject WHERE convert_from(body, 'UTF8') LIKE '%poison%'")" 1 \
    "the refused body is kept in webhook_reject"
sql "ALTER TABLE sendpulse DROP CONSTRAINT test_poison" >/dev/null

# 4. A group stuck behind a lock longer than --db-timeout (5 s): the
# POSTs in hand are spooled at 5 s, the groups taken in then at 10 s;
# every POST is answered 200 and the replay stores each once.
bodies=()
for i in $(seq 12); do
	bodies+=("{\"event\":\"opened\",\"recipient\":\"s$i@example.com\",\"m\":\"g4\",\"i\":$i}")
done
lock_table sendpulse 13
at_once /webhooks/sendpulse 12 "${bodies[@]}"
wait "${posters[@]}"
wait "$locker"
is "$(answers 12 | sort | uniq -c | sed 's/^ *//')" \
    '12 200 {"received":1,"stored":0,"duplicates":0,"spooled":1}' \
    "12 POSTs held past the timeout: each spooled and answered 200"
ok "$(spool_drained; echo $?)" "the spool is replayed"
is "$(sql "SELECT count(*), count(DISTINCT raw->>'i') FROM sendpulse WHERE raw->>'m' = 'g4'" | tr '\t' ' ')" \
    "12 12" "each spooled event stored once"

done_testing
