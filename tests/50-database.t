#!/usr/bin/env bash
# 50-database.t - the programs outlive PostgreSQL restarts.  While it is
# down a POST is spooled and answered 200; once it is back the same
# programs, not restarted, replay the spool (each event once, the
# request marked replayed), reconnect, prepare their statements again
# and store live.
. "$(dirname "$0")/lib.sh"

reset_db
programs=$(program_pids)
for p in mailjet sendpulse aldeamo; do
	post_string /webhooks/$p '{"event":"open","n":1}'
	is "$status" 200 "$p: stored before the restart"
done

pg_stop fast
for p in mailjet sendpulse aldeamo; do
	post_string /webhooks/$p '[{"event":"open","n":2},{"event":"click","n":2}]'
	is "$status" 200 "$p: database down, 200 all the same"
	is "$body" '{"received":2,"stored":0,"duplicates":0,"spooled":2}' \
	    "$p: the answer says the events were spooled"
done
ok "$(test -s "$ESPHOOKS_VAR/spool/mailjet.spool"; echo $?)" \
    "the events are in the spool file"
# The same POST again (a provider's retry) is spooled again: replay
# keeps one copy.
post_string /webhooks/mailjet '[{"event":"open","n":2},{"event":"click","n":2}]'
is "$status" 200 "a retry while down is spooled too"
# A batch of COPY's size, and its retry: replay copies the first, and
# the insert statement finds the second all duplicates.
big="[$(seq -s, 1 64 | sed 's/[0-9][0-9]*/{"event":"opened","n":4,"i":&}/g')]"
for try in 1 2; do
	post_string /webhooks/sendpulse "$big"
	is "$body" '{"received":64,"stored":0,"duplicates":0,"spooled":64}' \
	    "a 64-event batch spooled ($try)"
done
pg_start

ok "$(spool_drained; echo $?)" "the spool is replayed once the database is back"
is "$(sql "SELECT provider, count(*) FROM email_events WHERE raw->>'n' = '2' GROUP BY 1 ORDER BY 1" | tr '\t\n' ': ')" \
    "aldeamo:2 mailjet:2 sendpulse:2 " "every spooled event is stored, once"
is "$(sql "SELECT count(*), count(DISTINCT raw->>'i'), string_agg(DISTINCT cmin::text, ',') FROM sendpulse WHERE raw->>'n' = '4'" | tr '\t' ' ')" \
    "64 64 1" "the spooled batch is stored once, by COPY"
is "$(sql "SELECT count(*) FROM webhook_request WHERE replayed_at IS NOT NULL AND replayed_at > received_at")" 6 \
    "the replayed requests keep their time and are marked replayed"
like "$(cat "$ESPHOOKS_VAR/log/mailjet.log")" "replayed '$ESPHOOKS_VAR/spool/mailjet." \
    "the replay is logged"

# A worker whose connection attempt failed while the server was down
# spools without trying again for a second (STORE_RETRY_MS, doc/operations.md
# "Reconnecting"), which may not be over yet when the server is back
# this quickly: wait it out, so that what follows tests the reconnecting.
sleep 1.2
# Every worker had a connection that is now dead: each POST may land on
# any of them, so send enough to reach them all.
for i in 1 2 3 4 5 6; do
	for p in mailjet sendpulse aldeamo; do
		post_string /webhooks/$p "{\"event\":\"open\",\"n\":3,\"i\":$i}"
		is "$body" '{"received":1,"stored":1,"duplicates":0}' \
		    "$p: stored live after the restart ($i)"
	done
done
is "$(sql "SELECT count(*) FROM email_events WHERE raw->>'n' = '3'")" 18 \
    "all 18 events after the restart are there"
is "$(program_pids)" "$programs" "the programs were not restarted"

done_testing
