#!/usr/bin/env bash
# 25-cgi.t - the programs as plain CGI (RFC 3875: environment and stdin,
# as Apache's mod_cgi and fcgiwrap run them, and as cgit's tests do), and
# the FastCGI master's SIGTERM: in-hand requests finish, exit status 0.
. "$(dirname "$0")/lib.sh"

reset_db
for p in mailjet sendpulse aldeamo; do
	cgi $p '{"event":"open","via":"cgi"}'
	is "$status" 200 "$p as CGI: 200"
	is "$body" '{"received":1,"stored":1,"duplicates":0}' "$p as CGI: stored"
	like "$headers" 'Content-Type: application/json' "$p as CGI: JSON"

	# A batch large enough for COPY, and again: all duplicates, by the
	# statement COPY falls back to (under valgrind too: make valgrind).
	# Its own user keeps the count of 'cgi' requests below.
	big="[$(seq -s, 1 64 | sed 's/[0-9][0-9]*/{"event":"open","via":"cgi-copy","i":&}/g')]"
	cgi $p "$big" REMOTE_USER=cgi-copy
	is "$body" '{"received":64,"stored":64,"duplicates":0}' \
	    "$p as CGI: a 64-event batch stored"
	cgi $p "$big" REMOTE_USER=cgi-copy
	is "$body" '{"received":64,"stored":0,"duplicates":64}' \
	    "$p as CGI: the same batch again, 64 duplicates"

	cgi $p '{"event":"open","via":"cgi"}' REMOTE_USER=
	is "$status" 401 "$p as CGI, empty REMOTE_USER: 401"
	like "$headers" 'WWW-Authenticate: Basic' "$p: 401 asks for Basic auth"
	cgi $p '{"event":"open","via":"cgi-anon"}' REMOTE_USER=
	printf '%s' '{"event":"open","via":"anon"}' | env -i PATH="$PATH" $sanitizer \
	    PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" \
	    PGUSER=esphooks_writer REQUEST_METHOD=POST CONTENT_LENGTH=29 \
	    "$top/cgi-bin/$p" --allow-anonymous >"$scratch/cgi"
	like "$(cat "$scratch/cgi")" 'Status: 200' "$p --allow-anonymous takes it"

	cgi $p '' REQUEST_METHOD=GET CONTENT_LENGTH=
	is "$status" 405 "$p as CGI, GET: 405"
	like "$headers" 'Allow: POST' "$p: 405 says Allow: POST"

	cgi $p '{"event":"open"}' CONTENT_LENGTH=100
	is "$status" 400 "$p: body shorter than CONTENT_LENGTH, 400"
	cgi $p '{"event":"open"}' CONTENT_LENGTH=16777217
	is "$status" 413 "$p: CONTENT_LENGTH over the limit, 413 unread"
	cgi $p '{"event":"open"}' CONTENT_LENGTH=99999999999999999999999
	is "$status" 413 "$p: absurd CONTENT_LENGTH, 413"
	cgi $p '{"event":"open"}' CONTENT_LENGTH=12abc
	is "$status" 400 "$p: CONTENT_LENGTH not a number, 400"
	cgi $p '{"event":"open","via":"no-length"}' CONTENT_LENGTH=
	is "$status" 200 "$p: no CONTENT_LENGTH, body read to its end"

	cgi $p '{"event": NaN}'
	is "$status" 400 "$p as CGI, NaN: 400"
	is "$body" '{"error":"NaN and Infinity at byte 10 are not JSON"}' \
	    "$p: the error names the byte"
	like "$(cat "$scratch/cgi.err")" "esphooks-$p[" "$p: one log line on stderr"

	cgi $p '{"event":"open"}' PGHOST=/nonexistent
	is "$status" 503 "$p: no database, 503"
	like "$headers" 'Retry-After: ' "$p: 503 says when to retry"
done
is "$(sql "SELECT count(*) FROM email_events WHERE raw->>'via' IN ('cgi','anon','no-length')")" 9 \
    "the CGI requests' events are stored"
is "$(sql "SELECT count(*) FROM email_events WHERE raw->>'via' = 'cgi-anon'")" 0 \
    "the anonymous one without the option is not"
is "$(sql "SELECT count(*) FROM webhook_request WHERE remote_user = 'cgi'")" 6 \
    "requests record their user"

# The writer can insert and nothing else.
for stmt in "DELETE FROM mailjet" "UPDATE mailjet SET event = 'x'" \
    "TRUNCATE mailjet" "DROP TABLE mailjet" "SELECT raw FROM mailjet"; do
	if PGUSER=esphooks_writer psql -X -q -c "$stmt" >/dev/null 2>&1; then
		ok 1 "writer cannot: $stmt"
	else
		ok 0 "writer cannot: $stmt"
	fi
done

# SIGTERM: a master with its own socket stops its workers and exits 0.
sock=$scratch/term.sock
env PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" \
    PGUSER=esphooks_writer "$top/cgi-bin/mailjet" --listen "$sock" \
    --workers 2 2>"$scratch/term.log" &
master=$!
wait_for 50 test -S "$sock"
ok "$([ -S "$sock" ]; echo $?)" "--listen makes the socket"
is "$(children $master)" 2 "two workers forked"
kill -TERM $master
wait $master
is "$?" 0 "SIGTERM: the master exits 0"
ok "$([ ! -e "$sock" ]; echo $?)" "the socket is removed"
is "$(children $master)" 0 "no worker left"

# SIGKILL: the master cannot clean up, so the kernel stops its workers
# (PR_SET_PDEATHSIG) rather than leave them serving unsupervised.
env PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" \
    PGUSER=esphooks_writer "$top/cgi-bin/mailjet" --listen "$sock" \
    --workers 2 2>>"$scratch/term.log" &
master=$!
two_workers() { [ "$(children "$1")" = 2 ]; }
wait_for 50 two_workers $master
workers=$(grep -l "^PPid:[[:space:]]*$master\$" /proc/[0-9]*/status | cut -d/ -f3)
is "$(printf '%s\n' $workers | grep -c '')" 2 "two workers to watch"
# Not waited for: bash would print a "Killed" notice for the job.
disown $master
kill -KILL $master
all_stopped() {
	local w
	for w; do running "$w" && return 1; done
	return 0
}
ok "$(wait_for 50 all_stopped $workers; echo $?)" \
    "SIGKILL on the master: its workers stop too"
rm -f "$sock"

# Without --workers (auto): one worker per CPU this process may run on,
# at least 2 and at most 8 (SERVER_WORKERS_AUTO_MIN and _MAX).
cpus=$(nproc)
want=$(( cpus < 2 ? 2 : cpus > 8 ? 8 : cpus ))
env PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" \
    PGUSER=esphooks_writer "$top/cgi-bin/mailjet" --listen "$sock" \
    2>"$scratch/auto.log" &
master=$!
auto_workers() { [ "$(children "$1")" = "$want" ]; }
wait_for 50 auto_workers $master
is "$(children $master)" "$want" "no --workers: one per CPU ($cpus CPU(s): $want workers)"
like "$(cat "$scratch/auto.log")" "serving with $want workers" "and the master says how many"
kill -TERM $master
wait $master
is "$?" 0 "SIGTERM: the master exits 0"
for arg in 0 257 two auto2; do
	"$top/cgi-bin/mailjet" --listen "$sock" --workers "$arg" 2>"$scratch/bad.log"
	is "$?" 2 "--workers $arg: refused, exit 2"
	like "$(cat "$scratch/bad.log")" "--workers takes 1 to 256, or auto" \
	    "--workers $arg: says what it takes"
done
ok "$([ ! -e "$sock" ]; echo $?)" "no socket left behind"

done_testing
