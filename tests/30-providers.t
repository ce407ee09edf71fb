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

# Aldeamo's spellings land in one typed column each (manual §8 quirks).
reset_db
for f in 01-em-bounce 02-em-click 06-em-unsubscribed-cancelled 12-smtp-sent \
    08-em-unsubscribed-category-update 16-bounce-soft 24-bounce-response-array; do
	post /webhooks/aldeamo "$fixtures/aldeamo/$f.json"
done
is "$(sql "SELECT string_agg(coalesce(relid, '-') || '/' || coalesce(contact_id, '-') || '/' ||
	coalesce(family, '-'), ' ' ORDER BY id) FROM aldeamo")" \
    "123/1/Email marketing 123/112528991/Email marketing 1470/-/Email marketing 123/-/SMTP 123/-/Email marketing 0042/-/SMTP 7/-/SMTP" \
    "relid, releid, reid and contactid, contactId read, as text ('0042' kept)"
is "$(sql "SELECT categories FROM aldeamo WHERE event = 'subscription_changed'")" \
    '{"Category1": "cancelled", "Category2": "cancelled", "Category3": "active"}' \
    "the categories map is kept as jsonb"
is "$(sql "SELECT string_agg(coalesce(smtp_code::text, '-'), ' ' ORDER BY id) FROM aldeamo WHERE event = 'bounced'")" \
    "550 421 -" "SMTP codes read from response strings"
is "$(sql "SELECT latitude || ',' || longitude FROM aldeamo WHERE event = 'clicked'")" \
    "4.60971,-74.081749" "coordinates as numbers"

done_testing
