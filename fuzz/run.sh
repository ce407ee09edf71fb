#!/usr/bin/env bash
# fuzz/run.sh SECONDS TARGET... - runs each fuzz target (a binary in
# build/fuzz/) for SECONDS on its corpus, then prints one line per
# target.  Exits 1 when any target found a crash, a leak, a timeout or
# ran out of memory; every target runs even after one has failed.
# FUZZ_MAX_LEN and FUZZ_FLAGS (more libFuzzer flags) come from fuzz.mk.
set -uo pipefail

secs=$1
shift
B=build/fuzz
mkdir -p "$B/crashes" "$B/log"
fails=0

for t in "$@"; do
	log=$B/log/$t.log
	# New corpus entries go to build/, never into the repository.
	# shellcheck disable=SC2086
	"$B/$t" -max_total_time="$secs" -max_len="${FUZZ_MAX_LEN:-65536}" \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -dict=fuzz/json.dict -artifact_prefix="$B/crashes/$t-" \
	    ${FUZZ_FLAGS:-} "$B/corpus/$t" >"$log" 2>&1
	rc=$?
	# From -print_final_stats=1, printed on every exit.
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	added=$(sed -n 's/^stat::new_units_added: *//p' "$log")
	rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
	corpus=$(find "$B/corpus/$t" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		printf '%-24s ok: %s runs in %s s, %s/s, %s new units, corpus %s, peak rss %s MB\n' \
		    "$t" "${runs:-?}" "$secs" "${rate:-?}" "${added:-?}" \
		    "$corpus" "${rss:-?}"
		continue
	fi
	fails=$((fails + 1))
	art=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -n 1)
	printf '%-24s FAILED (exit %d): %s; input %s; log %s\n' "$t" $rc \
	    "$(grep -m1 -E '^(==[0-9]+==ERROR|SUMMARY|invariant broken)' "$log" ||
	    echo 'see the log')" "${art:-none}" "$log"
done
[ $fails -eq 0 ]
