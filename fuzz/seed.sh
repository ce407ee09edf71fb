#!/usr/bin/env bash
# fuzz/seed.sh DIR PROVIDER... - writes seed inputs for a fuzz target
# into DIR: every body file of tests/fixtures/<PROVIDER>/ and, with
# --tables, the body of each row of hostile.tsv and tolerated.tsv.
# Names are kept (<provider>-<file>, <table>-<row>), so running it again
# overwrites the same seeds instead of adding copies; what libFuzzer
# added to DIR is left alone.
set -euo pipefail

fixtures=$(cd "$(dirname "$0")/../tests/fixtures" && pwd)
tables=0
[ "${1:-}" = --tables ] && { tables=1; shift; }
dir=$1
shift
mkdir -p "$dir"

for p in "$@"; do
	for f in "$fixtures/$p"/*.json "$fixtures/$p"/*.spool; do
		[ -e "$f" ] || continue
		cp "$f" "$dir/$p-$(basename "$f")"
	done
done

[ $tables = 1 ] || exit 0
for t in hostile tolerated; do
	while IFS= read -r line; do
		# As tests/40-hostile.t reads them: a tab is white space to
		# read(1), so empty fields would collapse; split on 0x1f.
		IFS=$'\037' read -r name method fmt want _ \
		    <<<"${line//$'\t'/$'\037'}"
		case $want in [0-9][0-9][0-9]) ;; *) continue ;; esac
		# shellcheck disable=SC2059
		printf -- "$fmt" >"$dir/$t-$name"
	done <"$fixtures/$t.tsv"
done
