#!/usr/bin/env bash
# 30-providers.t - every fixture body of every provider, POSTed through
# nginx, lands in email_events exactly as tests/fixtures/*/expected.tsv
# says (normalized event, lower-cased recipient, exact ids, UTC times,
# hard_bounce, url, ip, user agent).  Bodies as printed in a provider's
# documentation with a missing comma (*.asprinted.json) answer 400 and
# store nothing.
. "$(dirname "$0")/lib.sh"

columns="provider_event, event, recipient, message_id, campaign_id,
	occurred_at, hard_bounce, url, ip, user_agent"

for provider in mailjet sendpulse aldeamo; do
	dir=$fixtures/$provider
	if [ ! -s "$dir/expected.tsv" ]; then
		ok 1 "$provider: fixtures in $dir"
		continue
	fi
	for file in "$dir"/*.json; do
		name=${file##*/}
		reset_db
		post "/webhooks/$provider" "$file"
		case $name in
		*.asprinted.json)
			is "$status" 400 "$provider $name as printed: 400"
			like "$body" '"error":' "$provider $name: JSON error"
			is "$(events)" 0 "$provider $name: nothing stored"
			continue
			;;
		esac
		want=$(awk -F '\t' -v f="$name" '$1 == f' "$dir/expected.tsv" |
		    cut -f 2-)
		nwant=$(printf '%s' "$want" | grep -c '' || true)
		is "$status" 200 "$provider $name: 200"
		is "$(json_field received)" "$nwant" \
		    "$provider $name: received $nwant"
		got=$(sql "SELECT $columns FROM email_events
			WHERE provider = '$provider' ORDER BY provider_id")
		is "$got" "$want" "$provider $name: rows as expected"
	done
done

done_testing
