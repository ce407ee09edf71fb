# tests/lib.sh - TAP and HTTP helpers for the integration tests.
#
# Sourced by tests/*.t, which tests/run starts with a private stack up:
# ESPHOOKS_VAR (its env file gives psql the database as owner) and
# ESPHOOKS_PORT (nginx on 127.0.0.1).  Every helper that talks to nginx
# or PostgreSQL uses those, never a system instance.

set -u
top=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$top/tests/fixtures
: "${ESPHOOKS_VAR:?run the tests with tests/run (or make test)}"
: "${ESPHOOKS_PORT:?run the tests with tests/run (or make test)}"
# shellcheck disable=SC1091
. "$ESPHOOKS_VAR/env"
export PGTZ=UTC
base=http://127.0.0.1:$ESPHOOKS_PORT
auth=${ESPHOOKS_USER:-demo}:${ESPHOOKS_PASSWORD:-demo}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

tap_n=0
tap_failed=0

# ok COND NAME: COND is a shell status (0 is success).
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $2"
	fi
}

# is GOT WANT NAME
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2" | head -40
	fi
}

# like GOT SUBSTRING NAME
like() {
	case $1 in
	*"$2"*) ok 0 "$3" ;;
	*) ok 1 "$3"; printf '#   got: %s\n#   wanted it to contain: %s\n' "$1" "$2" ;;
	esac
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

# sql QUERY: one value or tab-separated rows, as the database owner.
sql() {
	psql -X -q -A -t -F "$(printf '\t')" -v ON_ERROR_STOP=1 -c "$1"
}

# sql_true QUERY: succeeds when QUERY (one boolean) returns true.
sql_true() {
	[ "$(sql "$1")" = t ]
}

# wait_for TENTHS COMMAND...: runs COMMAND every 0.1 s until it
# succeeds, at most TENTHS times; fails if it never did.  The checks
# that follow say what was wrong.
wait_for() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# Empties every event table, so each test file starts from nothing.
reset_db() {
	sql "TRUNCATE mailjet, sendpulse, aldeamo, webhook_request, webhook_reject" >/dev/null
}

# events: how many events are stored, all providers.
events() {
	sql "SELECT count(*) FROM email_events"
}

# post PATH FILE [curl options...]: POSTs FILE's bytes through nginx with
# the test credentials.  Sets $status, $body and $headers.
post() {
	local path=$1 file=$2
	shift 2
	status=$(curl -sS -o "$scratch/body" -D "$scratch/headers" \
	    -w '%{http_code}' -u "$auth" -H 'Content-Type: text/plain' \
	    --data-binary "@$file" "$@" "$base$path") || status=000
	body=$(cat "$scratch/body")
	headers=$(tr -d '\r' <"$scratch/headers")
}

# post_string PATH STRING [curl options...]
post_string() {
	local path=$1
	printf '%s' "$2" >"$scratch/request"
	shift 2
	post "$path" "$scratch/request" "$@"
}

# request METHOD PATH [curl options...]: any method, no body.
request() {
	local method=$1 path=$2
	shift 2
	status=$(curl -sS -o "$scratch/body" -D "$scratch/headers" \
	    -w '%{http_code}' -X "$method" "$@" "$base$path") || status=000
	body=$(cat "$scratch/body")
	headers=$(tr -d '\r' <"$scratch/headers")
}

# json_field KEY: the numeric value of KEY in $body ({"received":3,...}).
json_field() {
	printf '%s' "$body" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

# running PID: the process runs (a zombie, exited but not yet reaped by
# init, does not).
running() {
	kill -0 "$1" 2>/dev/null &&
	    [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# apache_modules: the LoadModule lines for what the esphooks Apache
# snippets use (deploy/apache), from Debian's apache2.
apache_modules() {
	local m
	for m in mpm_prefork authn_core authn_file authz_core authz_user \
	    auth_basic proxy proxy_fcgi alias cgi env; do
		echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
	done
}

# lock_table TABLE [SECONDS]: a transaction in the background ($locker)
# holds an exclusive lock on TABLE for SECONDS (4); returns once the
# lock is granted.
lock_table() {
	psql -X -q -c "BEGIN; LOCK TABLE $1 IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(${2:-4}); COMMIT;" >/dev/null &
	locker=$!
	wait_for 100 sql_true "SELECT count(*) > 0 FROM pg_locks WHERE relation = '$1'::regclass AND granted"
}

# stopped PID: the process no longer runs (for wait_for).
stopped() {
	! running "$1"
}

# children PID: how many processes have PID as parent (no procps needed).
children() {
	grep -l "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status 2>/dev/null | grep -c '' || true
}

# The test stack's PostgreSQL: pg_stop MODE (fast, immediate) and
# pg_start.  pg_ctl refuses root: run it as the data directory's owner.
pgctl=$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)
# as_owner_of DIR COMMAND...: COMMAND as DIR's owner when run as root.
as_owner_of() {
	local dir=$1
	shift
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$(stat -c %u "$dir")" \
		    --regid="$(stat -c %g "$dir")" --clear-groups "$@"
	else
		"$@"
	fi
}
as_pg_owner() {
	as_owner_of "$ESPHOOKS_VAR/pg" "$@"
}
pg_stop() {
	as_pg_owner "$pgctl" -D "$ESPHOOKS_VAR/pg" -m "$1" -w stop >/dev/null
}
pg_start() {
	as_pg_owner "$pgctl" -D "$ESPHOOKS_VAR/pg" -w \
	    -l "$ESPHOOKS_VAR/log/postgres.log" start >/dev/null
}

# as_spool_owner COMMAND...: COMMAND as the spool's owner, as an
# operator runs --requeue (sudo -u esphooks).
as_spool_owner() {
	as_owner_of "$ESPHOOKS_VAR/spool" "$@"
}

# program_restart PROGRAM [OPTION...]: stops the stack's PROGRAM and
# starts it again with the OPTIONs added (ESPHOOKS_ARGS), or as the
# stack starts it when there are none.
program_restart() {
	local p=$1 pid
	shift
	pid=$(cat "$ESPHOOKS_VAR/run/$p.pid")
	kill -TERM "$pid"
	wait_for 150 stopped "$pid"
	ESPHOOKS_ARGS="$*" "$top/deploy/stack.sh" up >/dev/null
}

# The programs' master pids, sorted, one per line.
program_pids() {
	cat "$ESPHOOKS_VAR"/run/{mailjet,sendpulse,aldeamo}.pid 2>/dev/null | sort
}

# spool_drained [SECONDS]: waits (30 s by default) until the programs
# have replayed everything their spool held (the quarantine aside);
# fails if they have not.  Empty twice in a row: a listing of the
# directory can miss a file that the replayer renames meanwhile
# (readdir() need not return an entry renamed during the walk), which
# would make a full spool look empty once.
spool_drained() {
	local i clean=0
	for i in $(seq $((${1:-30} * 10))); do
		if ! find "$ESPHOOKS_VAR/spool" -maxdepth 1 -name '*.replay' | grep -q . &&
		    ! find "$ESPHOOKS_VAR/spool" -maxdepth 1 -name '*.spool' -size +0 | grep -q .; then
			clean=$((clean + 1))
			[ $clean -ge 2 ] && return 0
		else
			clean=0
		fi
		sleep 0.1
	done
	return 1
}

# The programs as plain CGI, for the tests that run them so.
# env -i keeps only what a web server would pass, and the settings that
# send sanitizer reports where tests/run looks for them.
sanitizer="${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS}"

# make valgrind runs each CGI request under valgrind; tests/run fails on
# any report it writes.
wrapper=()
if [ -n "${ESPHOOKS_VALGRIND:-}" ]; then
	wrapper=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect
	    --log-file="$ESPHOOKS_VAR/log/valgrind.%p")
fi

# cgi PROGRAM BODY [ENV=VALUE...] [-- OPTION...]: runs it as CGI, the
# ENV=VALUE pairs added to (or replacing) its environment and the options
# given to the program; sets $status, $body, $headers from its output,
# its stderr in $scratch/cgi.err.  Connects as the least-privileged
# writer.
cgi() {
	local prog=$1 input=$2 envs=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	printf '%s' "$input" | env -i PATH="$PATH" PGHOST="$PGHOST" $sanitizer \
	    PGPORT="$PGPORT" PGDATABASE="$PGDATABASE" PGUSER=esphooks_writer \
	    GATEWAY_INTERFACE=CGI/1.1 REQUEST_METHOD=POST REMOTE_USER=cgi \
	    CONTENT_LENGTH=${#input} "${envs[@]}" "${wrapper[@]}" \
	    "$top/cgi-bin/$prog" "$@" >"$scratch/cgi" 2>"$scratch/cgi.err"
	headers=$(sed '/^\r*$/q' "$scratch/cgi" | tr -d '\r')
	body=$(sed '1,/^\r*$/d' "$scratch/cgi")
	status=$(printf '%s\n' "$headers" | sed -n 's/^Status: \([0-9]*\).*/\1/p')
}
