#!/usr/bin/env bash
# 77-durable.t - a 200 does not depend on settings the program does not
# make itself (issue 19 §4): every session commits with
# synchronous_commit on whatever ALTER ROLE or ALTER DATABASE says; the
# spool's directory is fsynced for every new spool file, also when the
# file system gives it the inode number of one the replayer unlinked;
# and when that fsync fails, the 503 leaves no record behind.  strace,
# attached to the worker, shows the system calls and makes the fsync
# fail.
. "$(dirname "$0")/lib.sh"

spool=$ESPHOOKS_VAR/spool
reset_db

# 1. synchronous_commit.  A trigger records the setting each insert
# runs under (a test of the test: a plain session of the writer's shows
# the setting that was made for it).
sql "CREATE TABLE test_sync (setting text NOT NULL);
	CREATE FUNCTION test_sync() RETURNS trigger LANGUAGE plpgsql
	    SECURITY DEFINER AS \$\$
	BEGIN
		INSERT INTO test_sync VALUES (current_setting('synchronous_commit'));
		RETURN NEW;
	END \$\$;
	CREATE TRIGGER test_sync BEFORE INSERT ON mailjet
	    FOR EACH ROW EXECUTE FUNCTION test_sync();
	CREATE TRIGGER test_sync BEFORE INSERT ON sendpulse
	    FOR EACH ROW EXECUTE FUNCTION test_sync()" >/dev/null
# new_sessions: the programs' sessions end, so the next start anew.
new_sessions() {
	sql "SELECT count(pg_terminate_backend(pid)) >= 0 FROM pg_stat_activity
	    WHERE usename = 'esphooks_writer'" >/dev/null
}
for scope in "ROLE esphooks_writer" "DATABASE esphooks"; do
	big="[$(seq -s, 1 64 | sed "s/[0-9][0-9]*/{\"event\":\"opened\",\"s\":\"$scope\",\"i\":&}/g")]"
	sql "TRUNCATE test_sync; ALTER $scope SET synchronous_commit = off" >/dev/null
	new_sessions
	is "$(PGUSER=esphooks_writer sql "SHOW synchronous_commit")" off \
	    "ALTER $scope: a new session of the writer starts with off"
	for i in 1 2 3 4; do	# each worker's dead session found and renewed
		post_string /webhooks/mailjet "{\"event\":\"open\",\"m\":\"sync\",\"i\":$i,\"s\":\"$scope\"}"
	done
	is "$body" '{"received":1,"stored":1,"duplicates":0}' "ALTER $scope: POSTs stored"
	post_string /webhooks/sendpulse "$big"
	is "$body" '{"received":64,"stored":64,"duplicates":0}' "ALTER $scope: a batch stored by COPY"
	pg_stop fast
	post_string /webhooks/mailjet "{\"event\":\"open\",\"m\":\"sync-replay\",\"s\":\"$scope\"}"
	is "$body" '{"received":1,"stored":0,"duplicates":0,"spooled":1}' "ALTER $scope: one spooled"
	pg_start
	ok "$(spool_drained; echo $?)" "ALTER $scope: and replayed"
	is "$(sql "SELECT count(*) >= 69, string_agg(DISTINCT setting, ',') FROM test_sync" | tr '\t' ' ')" \
	    "t on" "ALTER $scope: every insert committed with synchronous_commit on"
	sql "ALTER $scope RESET synchronous_commit" >/dev/null
	# The second in which a worker whose connection attempt failed
	# spools without trying again (50-database.t) is over.
	sleep 1.2
done
sql "DROP TABLE test_sync CASCADE; DROP FUNCTION test_sync() CASCADE" >/dev/null

# 2. The directory of every new spool file is fsynced.  One worker, so
# that both files are written by the same process.  (Before, a process
# synced the directory once per inode number, which ext4 often, but not
# always, gives the next file after the replayer's unlink: the numbers
# are printed below.)
program_restart mailjet --workers 1
master=$(cat "$ESPHOOKS_VAR/run/mailjet.pid")
worker=$(grep -l "^PPid:[[:space:]]*$master\$" /proc/[0-9]*/status | head -n 1 |
    sed 's|/proc/\([0-9]*\)/status|\1|')
# traced FILE [STRACE OPTION...] -- COMMAND...: COMMAND with the worker
# traced (openat, fsync, fdatasync) into FILE.
traced() {
	local out=$1 tracer
	shift
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	strace -qq -e trace=openat,fsync,fdatasync -e signal=none "${opts[@]}" \
	    -o "$out" -p "$worker" 2>/dev/null &
	tracer=$!
	wait_for 100 sh -c "grep -q '^TracerPid:[[:space:]]*[1-9]' /proc/$worker/status"
	"$@"
	kill -INT "$tracer"
	wait "$tracer" 2>/dev/null
}
# dir_synced FILE: the trace shows the spool directory opened and that
# descriptor fsynced.
dir_synced() {
	local fd
	fd=$(sed -n "s|^openat(AT_FDCWD, \"$spool\", .*O_DIRECTORY.*) *= \([0-9]*\)\$|\1|p" "$1" | tail -n 1)
	[ -n "$fd" ] && grep -q "^fsync($fd) *= 0$" "$1"
}
pg_stop fast
post_string /webhooks/mailjet '{"event":"open","m":"file1"}'
is "$body" '{"received":1,"stored":0,"duplicates":0,"spooled":1}' "a first spool file"
inode1=$(stat -c %i "$spool/mailjet.spool")
pg_start
ok "$(spool_drained; echo $?)" "replayed, and unlinked"
pg_stop fast
traced "$scratch/trace2" -- post_string /webhooks/mailjet '{"event":"open","m":"file2"}'
is "$body" '{"received":1,"stored":0,"duplicates":0,"spooled":1}' "a second spool file"
echo "# inode numbers of the two files: $inode1 $(stat -c %i "$spool/mailjet.spool")"
ok "$(dir_synced "$scratch/trace2"; echo $?)" "its directory is fsynced too"
grep -q '^fdatasync(' "$scratch/trace2"
ok $? "and the record itself (a test of the trace)"
# The order matters: synced before the record is written, the name is
# durable whenever a record is, and a failed sync leaves none (3).
is "$(grep -o '^f[a-z]*sync' "$scratch/trace2" | tr '\n' ' ')" "fsync fdatasync " \
    "the directory first, then the record"

# 3. A failed directory fsync: 503, and no record left behind it.
pg_start
ok "$(spool_drained; echo $?)" "replayed again"
pg_stop fast
traced "$scratch/trace3" -e inject=fsync:error=EIO -- \
    post_string /webhooks/mailjet '{"event":"open","m":"unsynced"}'
is "$status" 503 "the directory cannot be synced: 503"
grep -q '^fsync(.*EIO' "$scratch/trace3"
ok $? "(the fsync failed as injected)"
is "$(cat "$spool/mailjet.spool" 2>/dev/null | wc -c)" 0 "no record is left behind the 503"
post_string /webhooks/mailjet '{"event":"open","m":"synced"}'
is "$body" '{"received":1,"stored":0,"duplicates":0,"spooled":1}' "the next POST is spooled"
pg_start
ok "$(spool_drained; echo $?)" "and replayed"
is "$(sql "SELECT string_agg(raw->>'m', ' ' ORDER BY raw->>'m') FROM mailjet WHERE raw->>'m' IN ('synced', 'unsynced')")" \
    synced "what was answered 200 is stored, what was answered 503 is not"
program_restart mailjet

done_testing
