#!/usr/bin/env bash
# 75-faults.t - SPEC §8 under load: streams of POSTs to all three
# endpoints while (a) PostgreSQL is stopped in fast and then in immediate
# mode and started again, and (b) a worker, then a master, is killed
# with SIGKILL, also in the middle of a replay.  Afterwards every event
# answered 200 is in the database exactly once; the POSTs that got
# something else are sent again, as a provider retries, and then every
# event is there exactly once.
. "$(dirname "$0")/lib.sh"

providers="mailjet sendpulse aldeamo"
stop=$scratch/stop

# streams TAG: one stream per provider, in the background.
streams() {
	rm -f "$stop"
	for p in $providers; do
		"$top/tests/bin/stream" "$p" "$1-$p" "$stop" "$scratch/$1-$p.out" &
	done
}
streams_end() {
	touch "$stop"
	wait $(jobs -p)
}
answered() {	# answered TAG STATUS: POSTs of that run with that answer
	cat "$scratch/$1"-*.out | awk -v s="$2" '$3 == s' | grep -c '' || true
}
# check TAG: every 200 stored once, nothing stored twice.
check() {
	local tag=$1 missing doubled
	cat "$scratch/$tag"-*.out | awk '$3 == 200 { print $1 "-" $2 "-a@fault.test"; print $1 "-" $2 "-b@fault.test" }' |
	    sort >"$scratch/$tag.acked"
	sql "SELECT recipient FROM email_events WHERE recipient LIKE '$tag-%'" |
	    sort >"$scratch/$tag.stored"
	missing=$(comm -23 "$scratch/$tag.acked" "$scratch/$tag.stored" | grep -c '' || true)
	doubled=$(uniq -d "$scratch/$tag.stored" | grep -c '' || true)
	is "$missing" 0 "$tag: every event answered 200 ($(wc -l <"$scratch/$tag.acked")) is stored"
	is "$doubled" 0 "$tag: no event is stored twice"
}
# retry TAG: the provider's retries of what did not get a 200.
retry() {
	local f
	for f in "$scratch/$1"-*.out; do
		p=${f##*/$1-}
		"$top/tests/bin/stream" "${p%.out}" "retry:$f" - -
	done
	is "$(cat "$scratch/$1"-*.out | awk '$3 != 200' | grep -c '' || true)" 0 \
	    "$1: the retries all get 200"
	ok "$(spool_drained; echo $?)" "$1: the spool is drained after the retries"
	is "$(sql "SELECT count(*), count(DISTINCT recipient) FROM email_events WHERE recipient LIKE '$1-%'" | tr '\t' ' ')" \
	    "$(($(cat "$scratch/$1"-*.out | grep -c '') * 2)) $(($(cat "$scratch/$1"-*.out | grep -c '') * 2))" \
	    "$1: after the retries every event is there, once"
}

reset_db
programs=$(program_pids)

# (a) PostgreSQL stopped in fast, then immediate mode, mid-stream.
streams a
sleep 1
pg_stop fast
sleep 1
pg_start
sleep 1
pg_stop immediate
sleep 1
pg_start
sleep 1
streams_end
ok "$(spool_drained 60; echo $?)" "a: the spool is replayed"
spooled=$(cat "$scratch"/a-*.out | grep -c ' 200 spooled' || true)
ok "$([ "$spooled" -gt 0 ]; echo $?)" "a: POSTs were spooled during the outages ($spooled)"
ok "$([ "$(answered a 200)" -gt "$spooled" ]; echo $?)" "a: and stored live around them ($(answered a 200) answered 200)"
check a
retry a
is "$(program_pids)" "$programs" "a: the programs were not restarted"

# (b) SIGKILL mid-stream: a worker (its master starts another), then a
# master (restarted as an operator or systemd would), then a master in
# the middle of replaying.
worker_of() {
	grep -l "^PPid:[[:space:]]*$(cat "$ESPHOOKS_VAR/run/$1.pid")\$" /proc/[0-9]*/status |
	    head -n 1 | sed 's|/proc/\([0-9]*\)/status|\1|'
}
streams b
sleep 1
kill -KILL "$(worker_of mailjet)"
sleep 0.5
kill -KILL "$(cat "$ESPHOOKS_VAR/run/sendpulse.pid")"
sleep 0.5
"$top/deploy/stack.sh" up >/dev/null
sleep 0.5
pg_stop fast
sleep 1.5
pg_start
# The masters start replaying within a second: kill one at once.
sleep 0.3
kill -KILL "$(cat "$ESPHOOKS_VAR/run/aldeamo.pid")"
sleep 0.5
"$top/deploy/stack.sh" up >/dev/null
sleep 1
streams_end
ok "$(spool_drained 60; echo $?)" "b: the spool is replayed"
ok "$([ "$(answered b 502)" -gt 0 ]; echo $?)" "b: the killed master's requests got 502 ($(answered b 502))"
check b
retry b

done_testing
