#!/usr/bin/env bash
# deploy/stack.sh - a private esphooks stack under one directory:
# PostgreSQL, the three programs and nginx, for 'make run' and the tests.
#
#   deploy/stack.sh deps     install the Debian packages that are missing
#   deploy/stack.sh up       create what is missing and start everything
#   deploy/stack.sh down     stop exactly what 'up' started
#   deploy/stack.sh status   one line per piece
#
# Settings (environment, with defaults):
#   ESPHOOKS_VAR       <project>/var  where everything lives
#   ESPHOOKS_PORT      8080           nginx, on 127.0.0.1 only
#   ESPHOOKS_PGPORT    5432           names PostgreSQL's socket file; it
#                                     listens on no TCP port at all
#   ESPHOOKS_USER      demo           basic-auth user ...
#   ESPHOOKS_PASSWORD  demo           ... and password (127.0.0.1 demos only)
#   ESPHOOKS_WORKERS   auto           FastCGI workers per program (a number,
#                                     or auto: one per CPU, 2 to 8)
#   ESPHOOKS_DB_TIMEOUT               the programs' --db-timeout (ms)
#   ESPHOOKS_ARGS                     more options for the programs, as
#                                     words (e.g. --quarantine-tries 2)
#   ESPHOOKS_QUIET     0              1: do not print the URLs at the end
#   ESPHOOKS_EXTRA_PACKAGES           more packages for 'deps' (valgrind)
#
# Run as root, PostgreSQL, the programs and nginx's workers run as the
# unprivileged system user 'esphooks' (initdb refuses root); run as
# another user, everything runs as that user.  'up' is idempotent: what
# runs already is left alone, so running it twice is harmless.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
VAR=${ESPHOOKS_VAR:-$top/var}
PORT=${ESPHOOKS_PORT:-8080}
PGPORT_=${ESPHOOKS_PGPORT:-5432}
AUTH_USER=${ESPHOOKS_USER:-demo}
AUTH_PASS=${ESPHOOKS_PASSWORD:-demo}
WORKERS=${ESPHOOKS_WORKERS:-auto}
DB_TIMEOUT=${ESPHOOKS_DB_TIMEOUT:-}
read -r -a ARGS <<<"${ESPHOOKS_ARGS:-}"
QUIET=${ESPHOOKS_QUIET:-0}
PROVIDERS="mailjet sendpulse aldeamo"
# What building, running and testing need on Debian 12.
PACKAGES="gcc libc6-dev make pkg-config libfcgi-dev libjson-c-dev libpq-dev
	postgresql-15 postgresql-client-15 nginx curl openssl perl ca-certificates
	${ESPHOOKS_EXTRA_PACKAGES:-}"
SYSUSER=esphooks
# Seconds to wait for a program's socket, or for a process to stop.
WAIT=15

say() { printf '%s\n' "$*"; }
die() { printf 'stack.sh: %s\n' "$*" >&2; exit 1; }

case $VAR in /*) ;; *) VAR=$PWD/$VAR ;; esac

is_root() { [ "$(id -u)" = 0 ]; }

# The command prefix that runs a command as the stack's user.  setpriv
# execs, so a backgrounded "${RUNAS[@]}" cmd has cmd's own pid in $!.
RUNAS=()
if is_root; then
	RUNAS=(setpriv --reuid="$SYSUSER" --regid="$SYSUSER" --init-groups
	    --reset-env -- env PATH="$PATH" LANG=C.UTF-8)
fi
as_user() { "${RUNAS[@]}" "$@"; }

pgbin() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -n "$d" ] || die "PostgreSQL server binaries not found (run: $0 deps)"
	printf '%s' "$d"
}

# running PID: the process runs.  One that exited but is not reaped
# yet (a zombie: an orphan's new parent, init, may take its time) does
# not count.
running() {
	local state
	kill -0 "$1" 2>/dev/null || return 1
	state=$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}
alive() {	# alive PIDFILE
	[ -s "$1" ] && running "$(cat "$1")"
}

cmd_deps() {
	local p missing=()
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if ! is_root; then
		command -v sudo >/dev/null ||
		    die "missing packages; as root run: apt-get install ${missing[*]}"
		# sudo drops the environment: pass the extra packages on.
		exec sudo ESPHOOKS_EXTRA_PACKAGES="${ESPHOOKS_EXTRA_PACKAGES:-}" "$0" deps
	fi
	say "installing ${missing[*]}"
	# Debian starts nginx (on :80) and a 'main' PostgreSQL cluster when
	# they are installed; esphooks runs its own, so keep those stopped.
	local policy=/usr/sbin/policy-rc.d
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' >$policy
		chmod 755 $policy
		trap 'rm -f '$policy EXIT
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_layout() {
	if is_root; then
		id "$SYSUSER" >/dev/null 2>&1 ||
		    useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin "$SYSUSER"
	fi
	mkdir -p "$VAR"/{pg,run,log,spool,nginx}
	chmod 700 "$VAR/pg" "$VAR/run" "$VAR/spool"
	if is_root; then
		chown "$SYSUSER:" "$VAR" "$VAR"/{pg,run,log,spool,nginx}
		as_user test -w "$VAR/run" ||
		    die "user $SYSUSER cannot reach $VAR (a parent directory is private, e.g. /root): clone elsewhere or set ESPHOOKS_VAR"
	fi
}

# A private cluster: a unix socket in $VAR/run (mode 0700: only the
# stack's user and root get in, which is why 'trust' is acceptable) and
# no TCP port.  Durability settings are PostgreSQL's defaults, on.
#
# PG_MALLOC: glibc gives back to the kernel any free memory above 128 KiB
# at the top of a process's heap.  glibc raises that threshold by itself
# only when it frees a large mmap()ed block, which a backend that has
# served many small statements apparently no longer makes; such a
# backend then faults the megabytes of every 1000-event insert back in:
# 40-53 us of backend CPU per event against 28-29 with this (make bench,
# doc/install.md).  32 MiB is where glibc's own automatic raise ends; a
# backend keeps at most what it once used.  Durability is untouched.
PG_MALLOC=glibc.malloc.trim_threshold=33554432
pg_up() {
	local bin
	bin=$(pgbin)
	if [ ! -s "$VAR/pg/PG_VERSION" ]; then
		as_user "$bin/initdb" -D "$VAR/pg" -U esphooks -E UTF8 \
		    --locale=C.UTF-8 --auth=trust >"$VAR/log/initdb.log"
		echo "include_if_exists = 'esphooks.conf'" >>"$VAR/pg/postgresql.conf"
	fi
	cat >"$VAR/pg/esphooks.conf" <<-CONF
	listen_addresses = ''
	unix_socket_directories = '$VAR/run'
	port = $PGPORT_
	max_connections = 200
	fsync = on
	synchronous_commit = on
	CONF
	is_root && chown "$SYSUSER:" "$VAR/pg/esphooks.conf"
	if ! as_user "$bin/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1; then
		as_user env GLIBC_TUNABLES="$PG_MALLOC" \
		    "$bin/pg_ctl" -D "$VAR/pg" -w -t 60 \
		    -l "$VAR/log/postgres.log" start >/dev/null ||
		    { tail -n 20 "$VAR/log/postgres.log" >&2; die "PostgreSQL did not start"; }
	fi
	export PGHOST=$VAR/run PGPORT=$PGPORT_ PGUSER=esphooks
	if [ -z "$(psql -X -A -t -d postgres -c \
	    "SELECT 1 FROM pg_database WHERE datname = 'esphooks'")" ]; then
		psql -X -q -d postgres -c "CREATE DATABASE esphooks"
	fi
	PGDATABASE=esphooks "$top/sql/migrate.sh" >"$VAR/log/migrate.log"
}

# nginx's {SSHA} scheme: base64(SHA-1(password . salt) . salt).  A fast
# salted hash on purpose: nginx checks it on every request, an apr1 hash
# costs ~75 us and bcrypt ~1 ms each, and a long random secret gains
# nothing from a slow hash.  Written anew each time, so a changed
# ESPHOOKS_PASSWORD applies at once.
htpasswd_write() {
	local tmp hash
	tmp=$(mktemp -d)
	openssl rand 8 >"$tmp/salt"
	{ printf '%s' "$AUTH_PASS"; cat "$tmp/salt"; } |
	    openssl dgst -sha1 -binary >"$tmp/digest"
	hash=$(cat "$tmp/digest" "$tmp/salt" | openssl base64 -A)
	printf '%s:{SSHA}%s\n' "$AUTH_USER" "$hash" >"$VAR/htpasswd.new"
	rm -rf "$tmp"
	chmod 600 "$VAR/htpasswd.new"
	is_root && chown "$SYSUSER:" "$VAR/htpasswd.new"
	mv "$VAR/htpasswd.new" "$VAR/htpasswd"
}

programs_up() {
	local p sock pidfile i
	for p in $PROVIDERS; do
		[ -x "$top/cgi-bin/$p" ] || continue
		sock=$VAR/run/$p.sock
		pidfile=$VAR/run/$p.pid
		alive "$pidfile" && continue
		rm -f "$sock"
		# setsid: the programs outlive the terminal 'make run' ran in.
		# Sanitizer settings pass through: make sanitize collects
		# the programs' reports from them.
		"${RUNAS[@]}" env PGHOST="$VAR/run" PGPORT="$PGPORT_" \
		    ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
		    ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
		    PGDATABASE=esphooks PGUSER=esphooks_writer \
		    setsid "$top/cgi-bin/$p" --listen "$sock" \
		    --workers "$WORKERS" --spool "$VAR/spool" \
		    ${DB_TIMEOUT:+--db-timeout "$DB_TIMEOUT"} ${ARGS[@]+"${ARGS[@]}"} \
		    </dev/null >>"$VAR/log/$p.log" 2>&1 &
		echo $! >"$pidfile"
		for i in $(seq $((WAIT * 10))); do
			[ -S "$sock" ] && break
			alive "$pidfile" || break
			sleep 0.1
		done
		[ -S "$sock" ] || { tail -n 20 "$VAR/log/$p.log" >&2; die "$p did not start"; }
	done
}

nginx_up() {
	local user_line=""
	is_root && user_line="user $SYSUSER;"
	sed -e "s|@VAR@|$VAR|g" -e "s|@PORT@|$PORT|g" \
	    -e "s|@USER_LINE@|$user_line|" "$top/nginx/esphooks.conf.in" \
	    >"$VAR/nginx/nginx.conf"
	sed -e "s|@HTPASSWD@|$VAR/htpasswd|g" -e "s|@RUNDIR@|$VAR/run|g" \
	    "$top/nginx/locations.conf.in" >"$VAR/nginx/locations.conf"
	local args=(-p "$VAR/nginx" -c "$VAR/nginx/nginx.conf" -e "$VAR/log/nginx-error.log")
	nginx "${args[@]}" -t -q || die "nginx refused its configuration"
	if alive "$VAR/run/nginx.pid"; then
		nginx "${args[@]}" -s reload
	else
		nginx "${args[@]}"
	fi
}

env_write() {
	cat >"$VAR/env" <<-ENV
	# esphooks: '. var/env; psql' opens the database as its owner.
	export PGHOST='$VAR/run'
	export PGPORT='$PGPORT_'
	export PGDATABASE=esphooks
	export PGUSER=esphooks
	export ESPHOOKS_URL='http://127.0.0.1:$PORT'
	ENV
}

cmd_up() {
	ensure_layout
	pg_up
	htpasswd_write
	programs_up
	nginx_up
	env_write
	[ "$QUIET" = 1 ] && return 0
	local u="http://$AUTH_USER:$AUTH_PASS@127.0.0.1:$PORT"
	cat <<-MSG
	esphooks is running (logs in $VAR/log):
	  Mailjet    $u/mailjet_triggers   (also /webhooks/mailjet)
	  SendPulse  $u/webhooks/sendpulse
	  Aldeamo    $u/webhooks/aldeamo
	Try it:
	  curl -u '$AUTH_USER:$AUTH_PASS' http://127.0.0.1:$PORT/webhooks/mailjet -d '{"event":"open","time":1433333949,"MessageID":19421777396190490,"email":"api@mailjet.com","ip":"127.0.0.1"}'
	  . $VAR/env; psql -c 'SELECT provider, event, recipient, occurred_at FROM email_events'
	Stop it with: make stop
	MSG
}

# stop PIDFILE SIGNAL: signals the process and waits for it to go.
stop_pid() {
	local pidfile=$1 sig=$2 pid i
	alive "$pidfile" || { rm -f "$pidfile"; return 0; }
	pid=$(cat "$pidfile")
	kill "-$sig" "$pid" 2>/dev/null || true
	for i in $(seq $((WAIT * 10))); do
		running "$pid" || break
		sleep 0.1
	done
	if running "$pid"; then
		say "stack.sh: pid $pid did not stop, killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
}

cmd_down() {
	local p bin
	[ -d "$VAR" ] || return 0
	stop_pid "$VAR/run/nginx.pid" QUIT
	for p in $PROVIDERS; do
		stop_pid "$VAR/run/$p.pid" TERM
	done
	if [ -s "$VAR/pg/PG_VERSION" ]; then
		bin=$(pgbin)
		if as_user "$bin/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1; then
			as_user "$bin/pg_ctl" -D "$VAR/pg" -m fast -w stop >/dev/null
		fi
	fi
}

cmd_status() {
	local p
	for p in nginx $PROVIDERS; do
		if alive "$VAR/run/$p.pid"; then
			say "$p: running, pid $(cat "$VAR/run/$p.pid")"
		else
			say "$p: stopped"
		fi
	done
	if [ -s "$VAR/pg/PG_VERSION" ] &&
	    as_user "$(pgbin)/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1; then
		say "postgresql: running"
	else
		say "postgresql: stopped"
	fi
}

case ${1:-} in
deps)	cmd_deps ;;
up)	cmd_up ;;
down)	cmd_down ;;
status)	cmd_status ;;
*)	die "usage: $0 deps|up|down|status" ;;
esac
