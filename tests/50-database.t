#!/usr/bin/env bash
# 50-database.t - the programs outlive PostgreSQL restarts: while it is
# down a POST answers 503 with Retry-After (until the spool exists), and
# once it is back the same programs, not restarted, reconnect, prepare
# their statements again and store.
. "$(dirname "$0")/lib.sh"

pgctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)
# pg_ctl refuses root: run it as the owner of the data directory.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$(stat -c %u "$ESPHOOKS_VAR/pg")" \
		    --regid="$(stat -c %g "$ESPHOOKS_VAR/pg")" --clear-groups "$@"
	else
		"$@"
	fi
}
pids() { cat "$ESPHOOKS_VAR"/run/{mailjet,sendpulse,aldeamo}.pid 2>/dev/null | sort; }

reset_db
programs=$(pids)
for p in mailjet sendpulse aldeamo; do
	post_string /webhooks/$p '{"event":"open","n":1}'
	is "$status" 200 "$p: stored before the restart"
done

as_owner "$pgctl" -D "$ESPHOOKS_VAR/pg" -m fast -w stop >/dev/null
for p in mailjet sendpulse aldeamo; do
	post_string /webhooks/$p '{"event":"open","n":2}'
	is "$status" 503 "$p: database down, 503"
	like "$headers" 'Retry-After:' "$p: 503 says when to retry"
	like "$body" '"error":' "$p: 503 answer is JSON"
done
as_owner "$pgctl" -D "$ESPHOOKS_VAR/pg" -w -l "$ESPHOOKS_VAR/log/postgres.log" start >/dev/null

# Every worker had a connection that is now dead: each POST may land on
# any of them, so send enough to reach them all.
for i in 1 2 3 4 5 6; do
	for p in mailjet sendpulse aldeamo; do
		post_string /webhooks/$p "{\"event\":\"open\",\"n\":3,\"i\":$i}"
		is "$status" 200 "$p: stored after the restart ($i)"
	done
done
is "$(sql "SELECT count(*) FROM email_events WHERE raw->>'n' = '3'")" 18 \
    "all 18 events after the restart are there"
is "$(sql "SELECT count(*) FROM email_events WHERE raw->>'n' = '2'")" 0 \
    "nothing answered 503 was stored"
is "$(pids)" "$programs" "the programs were not restarted"

done_testing
