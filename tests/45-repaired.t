#!/usr/bin/env bash
# 45-repaired.t - events that PostgreSQL could only take repaired
# (invalid UTF-8 becomes '?', "\u0000" and unpaired surrogates become
# "\ufffd", lib/payload.h) are never duplicates of events that differ in
# their bytes, and a retry of the same bytes still is (SPEC §3, issue
# 19).  Each such event keeps its bytes as sent in 'original'; an event
# that needed no repair, or only lost a trailing comma, has NULL there.
# The same rules hold for a single event, a batch (one statement), a
# batch that goes by COPY, POSTs stored together (the group statement)
# and POSTs that went through the spool; a spool file written by the
# release before (format version 2) still replays.
. "$(dirname "$0")/lib.sh"

spool=$ESPHOOKS_VAR/spool
new='{"received":1,"stored":1,"duplicates":0}'
dup='{"received":1,"stored":0,"duplicates":1}'
spooled='{"received":1,"stored":0,"duplicates":0,"spooled":1}'

# ev NAME FORMAT [ARG...]: writes printf FORMAT's bytes, one event, to
# $scratch/NAME.
ev() {
	local name=$1 fmt=$2
	shift 2
	# shellcheck disable=SC2059
	printf -- "$fmt" "$@" >"$scratch/$name"
}
# hex NAME: the bytes of $scratch/NAME in hex, as encode(..., 'hex').
hex() {
	od -An -v -tx1 "$scratch/$1" | tr -d ' \n'
}
# batch OUT NAME...: the events NAME... as one JSON array, byte for byte.
batch() {
	local out=$1 sep= n
	shift
	{
		printf '['
		for n in "$@"; do
			printf '%s' "$sep"
			cat "$scratch/$n"
			sep=,
		done
		printf ']'
	} >"$scratch/$out"
}
# originals TABLE MARKER [ORDER]: each stored event's original in hex,
# or NULL, one a line, in id order (or sorted, with ORDER=sorted).
originals() {
	local order="id"
	[ "${3:-}" = sorted ] && order="1"
	sql "SELECT coalesce(encode(original, 'hex'), 'NULL') FROM $1
	    WHERE raw->>'m' = '$2' ORDER BY $order"
}
# send PATH NAME: POSTs $scratch/NAME; "$status $body" is the answer.
send() {
	post "$1" "$scratch/$2"
	answer="$status $body"
}

reset_db

for t in mailjet sendpulse aldeamo; do
	path=/webhooks/$t

	# 1. Three addresses that differ in one byte, two of which read
	# "q?@x.com" once repaired.
	ev ff '{"event":"open","m":"a-%s","email":"q\xff@x.com"}' "$t"
	ev fe '{"event":"open","m":"a-%s","email":"q\xfe@x.com"}' "$t"
	ev qm '{"event":"open","m":"a-%s","email":"q?@x.com"}' "$t"
	send "$path" ff
	is "$answer" "200 $new" "$t: q\\xff stored"
	send "$path" fe
	is "$answer" "200 $new" "$t: q\\xfe is another event, stored"
	send "$path" qm
	is "$answer" "200 $new" "$t: q? is another event, stored"
	send "$path" ff
	is "$answer" "200 $dup" "$t: q\\xff again is a duplicate"
	send "$path" qm
	is "$answer" "200 $dup" "$t: q? again is a duplicate"
	is "$(sql "SELECT count(*), count(DISTINCT raw), count(DISTINCT dedup_key)
	    FROM $t WHERE raw->>'m' = 'a-$t'" | tr '\t' ' ')" "3 1 1" \
	    "$t: three rows whose raw reads the same"
	is "$(originals "$t" "a-$t")" "$(hex ff)
$(hex fe)
NULL" "$t: original holds the bytes sent, NULL for the event not repaired"
	is "$(sql "SELECT raw->>'email' FROM $t WHERE raw->>'m' = 'a-$t' ORDER BY id LIMIT 1")" \
	    "q?@x.com" "$t: raw holds the repaired text"

	# 2. Escapes jsonb refuses, and the replacement character itself.
	ev d800 '{"event":"open","m":"b-%s","agent":"\\ud800"}' "$t"
	ev dbff '{"event":"open","m":"b-%s","agent":"\\udbff"}' "$t"
	ev fffd '{"event":"open","m":"b-%s","agent":"\\ufffd"}' "$t"
	ev nul '{"event":"open","m":"b-%s","agent":"\\u0000"}' "$t"
	for n in d800 dbff fffd nul; do
		send "$path" $n
		is "$answer" "200 $new" "$t: \\u$n stored as an event of its own"
	done
	for n in d800 fffd; do
		send "$path" $n
		is "$answer" "200 $dup" "$t: \\u$n again is a duplicate"
	done
	is "$(originals "$t" "b-$t")" "$(hex d800)
$(hex dbff)
NULL
$(hex nul)" "$t: originals of the escapes, NULL for a literal \\ufffd"

	# 3. A trailing comma is syntax, not a repair: the same event.
	ev tc1 '{"event":"open","m":"c-%s",}' "$t"
	ev tc2 '{"event":"open","m":"c-%s"}' "$t"
	send "$path" tc1
	is "$answer" "200 $new" "$t: an event with a trailing comma stored"
	send "$path" tc2
	is "$answer" "200 $dup" "$t: the same without the comma is a duplicate"
	is "$(originals "$t" "c-$t")" NULL "$t: no original for a trailing comma"

	# 4. A batch (one statement): the same rules between its events
	# and with the events stored before.
	ev bff '{"event":"open","m":"d-%s","email":"q\xff@x.com"}' "$t"
	ev bfe '{"event":"open","m":"d-%s","email":"q\xfe@x.com"}' "$t"
	ev bqm '{"event":"open","m":"d-%s","email":"q?@x.com"}' "$t"
	ev bd800 '{"event":"open","m":"d-%s","agent":"\\ud800"}' "$t"
	batch b bff bfe bqm bd800 bff ff
	send "$path" b
	is "$answer" '200 {"received":6,"stored":4,"duplicates":2}' \
	    "$t: a batch of 6: 4 new, its repeat and an older event duplicates"
	is "$(originals "$t" "d-$t")" "$(hex bff)
$(hex bfe)
NULL
$(hex bd800)" "$t: the batch's originals are each event's own bytes"
	send "$path" b
	is "$answer" '200 {"received":6,"stored":0,"duplicates":6}' \
	    "$t: the batch again: all duplicates"

	# 5. A batch of STORE_COPY_MIN (64) events or more goes by COPY
	# (its rows carry command id 1, 60-batches.t); a duplicate makes
	# COPY fail and the statement sort the batch.
	names=() want=()
	for i in $(seq 70); do
		case $((i % 3)) in
		0) ev "c$i" '{"event":"open","m":"e-%s","i":%d,"email":"q\xff@x.com"}' "$t" "$i"
		   want+=("$(hex "c$i")") ;;
		1) ev "c$i" '{"event":"open","m":"e-%s","i":%d,"email":"q\xfe@x.com"}' "$t" "$i"
		   want+=("$(hex "c$i")") ;;
		2) ev "c$i" '{"event":"open","m":"e-%s","i":%d,"email":"q?@x.com"}' "$t" "$i"
		   want+=(NULL) ;;
		esac
		names+=("c$i")
	done
	batch copy "${names[@]}"
	send "$path" copy
	is "$answer" '200 {"received":70,"stored":70,"duplicates":0}' \
	    "$t: 70 events, a third of each kind: all stored"
	is "$(sql "SELECT string_agg(DISTINCT cmin::text, ',') FROM $t WHERE raw->>'m' = 'e-$t'")" \
	    1 "$t: the 70 went by COPY"
	is "$(originals "$t" "e-$t")" "$(printf '%s\n' "${want[@]}")" \
	    "$t: COPY stored each event's bytes as sent, NULL for q?"
	for i in 71 72 73; do
		ev "c$i" '{"event":"open","m":"e-%s","i":%d,"email":"q\xff@x.com"}' "$t" "$i"
		names+=("c$i")
	done
	batch copy "${names[@]}"
	send "$path" copy
	is "$answer" '200 {"received":73,"stored":3,"duplicates":70}' \
	    "$t: the 70 again and 3 new: COPY refused, the statement sorts them"
	is "$(sql "SELECT count(*), count(original) FROM $t WHERE raw->>'m' = 'e-$t'" | tr '\t' ' ')" \
	    "73 50" "$t: 73 events, 50 of them repaired"
done

# 6. POSTs that wait together share one statement (65-groups.t): a lock
# on the table holds the workers inside their first insert while the
# other POSTs queue; each worker then takes all that wait at once.
workers=${ESPHOOKS_WORKERS:-2}
# held TABLE NAME...: POSTs the events NAME..., all at once, to TABLE's
# program while TABLE is locked for 4 s; the answers, one "STATUS BODY"
# a line in POST order, go to $scratch/held.
held() {
	local table=$1 i=0 n pids=()
	shift
	lock_table "$table"
	for n in "$@"; do
		curl -sS -o "$scratch/held.$i.out" -w '%{http_code}' -u "$auth" \
		    --data-binary "@$scratch/$n" "$base/webhooks/$table" \
		    >"$scratch/held.$i.code" 2>/dev/null &
		pids+=($!)
		i=$((i + 1))
	done
	wait_for 100 sql_true "SELECT count(*) = $workers FROM pg_locks WHERE relation = '$table'::regclass AND NOT granted"
	# The others reach nginx and the listening socket in milliseconds.
	sleep 1
	wait "$locker" "${pids[@]}"
	for ((i = 0; i < $#; i++)); do
		printf '%s %s\n' "$(cat "$scratch/held.$i.code")" "$(cat "$scratch/held.$i.out")"
	done >"$scratch/held"
}
for t in mailjet sendpulse aldeamo; do
	ev gff '{"event":"open","m":"g-%s","email":"q\xff@x.com"}' "$t"
	ev gfe '{"event":"open","m":"g-%s","email":"q\xfe@x.com"}' "$t"
	ev gqm '{"event":"open","m":"g-%s","email":"q?@x.com"}' "$t"
	ev gd800 '{"event":"open","m":"g-%s","agent":"\\ud800"}' "$t"
	ev gdbff '{"event":"open","m":"g-%s","agent":"\\udbff"}' "$t"
	ev gfffd '{"event":"open","m":"g-%s","agent":"\\ufffd"}' "$t"
	held "$t" gff gfe gqm gd800 gdbff gfffd gff gd800
	is "$(sort "$scratch/held" | uniq -c | sed 's/^ *//')" "2 200 $dup
6 200 $new" "$t: 8 POSTs at once: 6 events stored, 2 repeats duplicates"
	is "$(originals "$t" "g-$t" sorted)" "$(printf '%s\n' "$(hex gff)" \
	    "$(hex gfe)" NULL "$(hex gd800)" "$(hex gdbff)" NULL | sort)" \
	    "$t: the group stored each event's bytes as sent"
	txns=$(sql "SELECT count(DISTINCT r.xmin::text) FROM $t e
	    JOIN webhook_request r ON r.id = e.request WHERE e.raw->>'m' = 'g-$t'")
	ok "$([ "$txns" -lt 6 ]; echo $?)" \
	    "$t: POSTs that waited together shared a statement ($txns transactions for 6 events)"
done

# 7. A spool file of the release before (format version 2, records
# without original) dropped in the spool, as an upgrade would find it:
# replayed, its events taken as needing no repair, deduplicated against
# what is stored.  tests/fixtures/spool/mailjet-two-posts.spool: one POST
# of {"event":"open","email":"a@example.com"}, one of a bounce and a sent.
post_string /webhooks/mailjet '{"event":"open","email":"a@example.com"}'
is "$status $body" "200 $new" "an event that a version 2 spool record holds, stored live"
cp "$fixtures/spool/mailjet-two-posts.spool" "$spool/mailjet.tmp"
chown --reference="$spool" "$spool/mailjet.tmp"
# Renamed into place whole: the replayer never reads half a file.
mv "$spool/mailjet.tmp" "$spool/mailjet.00000000000000000001.replay"
ok "$(spool_drained; echo $?)" "the version 2 file is replayed"
is "$(sql "SELECT string_agg(request_id || ':' || events, ',' ORDER BY id)
    FROM webhook_request WHERE replayed_at IS NOT NULL")" \
    "0123456789abcdef0123456789abcdef:1,f00d:2" "both of its POSTs reached the database"
is "$(sql "SELECT count(*) FROM mailjet WHERE raw = '{\"event\":\"open\",\"email\":\"a@example.com\"}'")" \
    1 "its first event was a duplicate of the one stored live"
is "$(sql "SELECT string_agg(e.event || '/' || coalesce(e.original::text, 'NULL'), ',' ORDER BY e.id)
    FROM mailjet e JOIN webhook_request r ON r.id = e.request WHERE r.request_id = 'f00d'")" \
    "bounced/NULL,delivered/NULL" "its other two events stored, with no original"
like "$(cat "$ESPHOOKS_VAR/log/mailjet.log")" \
    "2 requests, 3 events (2 new), 0 refused, 0 quarantined, 0 damaged bytes" \
    "the replay took every record of the file"

# 8. POSTs spooled while PostgreSQL is down keep their bytes and the
# same dedup once replayed: with an event stored live before, repeats
# in the spool, and events that read the same once repaired.
for t in mailjet sendpulse aldeamo; do
	ev "s-$t-ff" '{"event":"open","m":"s-%s","email":"q\xff@x.com"}' "$t"
	ev "s-$t-fe" '{"event":"open","m":"s-%s","email":"q\xfe@x.com"}' "$t"
	ev "s-$t-qm" '{"event":"open","m":"s-%s","email":"q?@x.com"}' "$t"
	ev "s-$t-d800" '{"event":"open","m":"s-%s","agent":"\\ud800"}' "$t"
	ev "s-$t-dbff" '{"event":"open","m":"s-%s","agent":"\\udbff"}' "$t"
	send "/webhooks/$t" "s-$t-ff"
	is "$answer" "200 $new" "$t: q\\xff stored before PostgreSQL stops"
done
pg_stop fast
for t in mailjet sendpulse aldeamo; do
	for n in ff fe qm ff d800 dbff d800; do
		send "/webhooks/$t" "s-$t-$n"
		is "$answer" "200 $spooled" "$t: $n spooled while PostgreSQL is down"
	done
	# (In the .spool file, or in a .replay file if the replayer took
	# it while its connection did not yet know the server was gone.)
	is "$(cat "$spool/$t.spool" "$spool/$t".*.replay 2>/dev/null |
	    LC_ALL=C grep -a -o $'\xffESPOOL3' | grep -c '')" 7 \
	    "$t: the spool holds 7 frames of version 3"
done
pg_start
ok "$(spool_drained; echo $?)" "the spool is replayed"
for t in mailjet sendpulse aldeamo; do
	is "$(originals "$t" "s-$t")" "$(hex "s-$t-ff")
$(hex "s-$t-fe")
NULL
$(hex "s-$t-d800")
$(hex "s-$t-dbff")" \
	    "$t: replayed: each distinct event once, with its bytes as sent"
done

done_testing
