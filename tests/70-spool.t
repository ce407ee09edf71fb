#!/usr/bin/env bash
# 70-spool.t - the spool's edges: an unwritable spool while the database
# is down answers 503 (never a 200 it cannot keep); a damaged spool file
# (a flipped byte, a torn write) is replayed around the damage, which is
# logged; a database slower than --db-timeout sends the POST to the
# spool; a CGI program spools and its --replay companion replays.
. "$(dirname "$0")/lib.sh"

spool=$ESPHOOKS_VAR/spool
marker_count() {
	sql "SELECT count(*) FROM email_events WHERE raw->>'m' = '$1'"
}

# (c) No database and no spool: 503.
reset_db
pg_stop fast
chmod 000 "$spool"
post_string /webhooks/sendpulse '{"event":"opened","m":"c1"}'
is "$status" 503 "spool unwritable and database down: 503"
like "$headers" 'Retry-After:' "the 503 says when to retry"
like "$body" '"error":' "the 503 is JSON"
like "$(tail -n 3 "$ESPHOOKS_VAR/log/sendpulse.log")" "not spooled: unable to open" \
    "the log says why"
chmod 700 "$spool"
post_string /webhooks/sendpulse '{"event":"opened","m":"c2"}'
is "$status" 200 "spool writable again: 200"

# (d) Four POSTs spooled; the second's payload gets a flipped byte and
# the fourth is torn in the middle (a crash while writing it); a fifth
# is then appended after the torn bytes.
for i in 1 2 3 4; do
	post_string /webhooks/mailjet "{\"event\":\"open\",\"m\":\"d$i\"}"
done
is "$status" 200 "four POSTs spooled"
file=$spool/mailjet.spool
perl -e '
	my ($file) = @ARGV;
	open(my $f, "+<", $file) or die "$file: $!";
	binmode $f;
	local $/;
	my $data = <$f>;
	my @at;
	while ($data =~ /\xffESPOOL3/g) { push @at, pos($data) - 8 }
	die "want 4 frames, found " . @at unless @at == 4;
	substr($data, $at[1] + 35 + 20, 1) ^= "\x01";
	$data = substr($data, 0, $at[3] + 50);
	seek($f, 0, 0);
	print $f $data;
	truncate($f, length $data);
	close $f;
' "$file"
ok $? "the spool file is damaged"
post_string /webhooks/mailjet '{"event":"open","m":"d5"}'
is "$status" 200 "a fifth POST spooled after the torn one"
pg_start
ok "$(spool_drained; echo $?)" "the damaged spool is replayed"
is "$(marker_count d1)$(marker_count d2)$(marker_count d3)$(marker_count d4)$(marker_count d5)" \
    10101 "the good records are stored, the damaged ones not"
is "$(marker_count c2)$(marker_count c1)" 10 \
    "the POST answered 200 is stored, the one answered 503 is not"
like "$(cat "$ESPHOOKS_VAR/log/mailjet.log")" "damaged bytes at offset" \
    "the damage is logged"

# A database slower than the timeout: the POST is spooled, answered in
# time, and stored once the lock goes.  In CGI mode, whose settings
# come from the environment, with --replay as the companion.
cgispool=$scratch/cgispool
mkdir "$cgispool"
# spooled_cgi PROGRAM BODY [ENV=VALUE...]: the CGI program with its spool
# named in the environment, as a web server passes it, and a short timeout.
spooled_cgi() {
	cgi "$1" "$2" ESPHOOKS_SPOOL="$cgispool" "${@:3}" -- --db-timeout 300
}
# replay [PROGRAM]: the --replay companion (aldeamo's by default) on the
# CGI spool, in the background.
replay() {
	env PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" \
	    PGUSER=esphooks_writer "$top/cgi-bin/${1:-aldeamo}" --replay \
	    --spool "$cgispool" 2>>"$scratch/replay.err" &
	replayer=$!
}
lock_table aldeamo 8
spooled_cgi aldeamo '{"event":"open","m":"slow"}'
is "$body" '{"received":1,"stored":0,"duplicates":0,"spooled":1}' \
    "a database slower than --db-timeout: spooled"
like "$(cat "$scratch/cgi.err")" "within 300 ms" "the log says it timed out"
# The statement given up still waits for the lock on the server, and
# would hold its connection slot as long as the lock lasts: the session
# has the server check its client (client_connection_check_interval),
# so its backend ends while the lock is still held.
abandoned="SELECT count(*) FROM pg_stat_activity WHERE application_name = 'esphooks-aldeamo' AND wait_event_type = 'Lock'"
wait_for 60 sql_true "SELECT ($abandoned) = 0"
is "$(sql "$abandoned")" 0 "the abandoned statement's backend is gone..."
ok "$(running "$locker"; echo $?)" "... while the lock is still held"
wait "$locker"
is "$(marker_count slow)" 0 "nothing stored yet: CGI mode does not replay"
replay
wait_for 100 sql_true "SELECT count(*) = 1 FROM email_events WHERE raw->>'m' = 'slow'"
is "$(marker_count slow)" 1 "the --replay companion stores it"
kill -TERM "$replayer"
wait "$replayer"
is "$?" 0 "and stops on SIGTERM with status 0"
is "$(ls "$cgispool" | grep -v '\.lock$')" "" "its spool is empty"

# The same for a batch that goes by COPY: the request row is inserted,
# COPY waits for the lock, the program gives up at --db-timeout and
# spools; the abandoned transaction never commits, and the replay
# stores the batch once.
big="[$(seq -s, 1 64 | sed 's/[0-9][0-9]*/{"event":"opened","m":"slowcopy","i":&}/g')]"
lock_table sendpulse
# Its own user, so that the count of replayed requests below holds.
spooled_cgi sendpulse "$big" REMOTE_USER=cgi-copy
is "$body" '{"received":64,"stored":0,"duplicates":0,"spooled":64}' \
    "a 64-event batch stuck behind a lock: spooled"
like "$(cat "$scratch/cgi.err")" "within 300 ms" "the log says it timed out"
wait "$locker"
replay sendpulse
wait_for 100 sql_true "SELECT count(*) >= 64 FROM email_events WHERE raw->>'m' = 'slowcopy'"
kill -TERM "$replayer"
wait "$replayer"
is "$(sql "SELECT count(*), count(DISTINCT raw->>'i') FROM email_events WHERE raw->>'m' = 'slowcopy'" | tr '\t' ' ')" \
    "64 64" "the replay stores the batch once"
is "$(sql "SELECT count(*) FROM webhook_request WHERE remote_user = 'cgi-copy'")" 1 \
    "one request row: the abandoned transaction left none"

# A replayer killed mid-file resumes where it was.  Thirty POSTs are
# spooled (no database for the CGI program); a transaction holding the
# dedup key of the tenth makes the replay wait there; the replayer is
# killed; once the transaction is gone a new one finishes the file.
for i in $(seq 30); do
	spooled_cgi aldeamo "{\"event\":\"open\",\"m\":\"k$i\",\"who\":\"resume\"}" \
	    PGHOST=/nonexistent
done
is "$body" '{"received":1,"stored":0,"duplicates":0,"spooled":1}' \
    "thirty POSTs spooled with no database"
psql -X -q -c "BEGIN; INSERT INTO aldeamo (request, received_at, event, raw) VALUES (0, now(), 'opened', '{\"event\":\"open\",\"m\":\"k10\",\"who\":\"resume\"}'); SELECT pg_sleep(5); ROLLBACK;" >/dev/null &
blocker=$!
wait_for 100 sql_true "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'BEGIN; INSERT INTO aldeamo%'"
replay
wait_for 100 sql_true "SELECT count(*) > 0 FROM pg_locks WHERE NOT granted"
is "$(sql "SELECT count(*) FROM aldeamo WHERE raw->>'who' = 'resume'")" 9 \
    "the replay stopped at the tenth record"
pos=$(cut -c1-20 "$cgispool"/aldeamo.*.replay.pos 2>/dev/null || echo 0)
ok "$([ "$((10#$pos))" -gt 0 ]; echo $?)" "its position is saved ($((10#$pos)))"
kill -KILL "$replayer"
wait "$replayer" 2>/dev/null
wait "$blocker"
# The .pos file as an earlier release wrote it (the offset alone, with
# no count of failures), as an upgrade finds it: read all the same.
printf '%s' "$pos" >"$(ls "$cgispool"/aldeamo.*.replay.pos)"
replay
wait_for 100 sql_true "SELECT count(*) = 30 FROM aldeamo WHERE raw->>'who' = 'resume'"
kill -TERM "$replayer"
wait "$replayer"
is "$(sql "SELECT count(*), count(DISTINCT raw->>'m') FROM aldeamo WHERE raw->>'who' = 'resume'" | tr '\t' ' ')" \
    "30 30" "a new replayer stores the rest, each event once"
# The killed one's statement for the tenth may still have committed
# after the kill: 30 or 31 request rows, not 39 (a replay from the top).
n=$(sql "SELECT count(*) FROM webhook_request WHERE remote_user = 'cgi' AND replayed_at IS NOT NULL")
ok "$([ "$n" -ge 31 ] && [ "$n" -le 32 ]; echo $?)" \
    "it resumed where the first stopped ($n replayed requests, the slow one included)"

done_testing
