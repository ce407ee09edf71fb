#!/usr/bin/env bash
# 55-sigterm.t - SIGTERM lets a request in hand finish: a POST is held
# inside its INSERT by a lock on the table, the master gets SIGTERM, the
# lock goes, and the POST still gets its 200 (its event stored) while the
# master and its workers exit 0.  Then 'stack.sh up' starts it again.
. "$(dirname "$0")/lib.sh"

reset_db
pidfile=$ESPHOOKS_VAR/run/mailjet.pid
master=$(cat "$pidfile")

# Hold an exclusive lock on mailjet for a few seconds, from psql.
lock_table mailjet 3

printf '{"event":"open","held":1}' >"$scratch/held"
curl -sS -o "$scratch/held.out" -w '%{http_code}' -u "$auth" \
    --data-binary "@$scratch/held" "$base/webhooks/mailjet" >"$scratch/held.code" &
poster=$!
# Wait until the insert is waiting on the lock, i.e. in hand.
wait_for 50 sql_true "SELECT count(*) > 0 FROM pg_locks WHERE relation = 'mailjet'::regclass AND NOT granted"
is "$(sql "SELECT count(*) FROM pg_locks WHERE relation = 'mailjet'::regclass AND NOT granted")" 1 \
    "a POST is in hand, waiting for the lock"

kill -TERM "$master"
wait "$locker"
wait "$poster"
is "$(cat "$scratch/held.code")" 200 "the request in hand was answered 200"
is "$(cat "$scratch/held.out")" '{"received":1,"stored":1,"duplicates":0}' \
    "and its event stored"
is "$(sql "SELECT count(*) FROM mailjet WHERE raw->>'held' = '1'")" 1 \
    "the event is in the table"
wait_for 100 stopped "$master"
ok "$(running "$master" && echo 1 || echo 0)" "the master exited"
case $(tail -n 5 "$ESPHOOKS_VAR/log/mailjet.log") in
*"killed by signal"*|*"did not stop"*) ok 1 "workers stopped by themselves" ;;
*) ok 0 "workers stopped by themselves" ;;
esac

# Start it again for whatever runs next; it serves at once.
"$top/deploy/stack.sh" up >/dev/null
post_string /webhooks/mailjet '{"event":"open","after":1}'
is "$status" 200 "restarted by stack.sh up, it serves again"

done_testing
