#!/usr/bin/env bash
# sql/migrate.sh - applies sql/NNN_*.sql in order to the database that
# libpq's usual settings name (PGHOST, PGDATABASE, PGUSER, a service
# file...), or to the conninfo given as $1.  Each file runs in its own
# transaction and is recorded in schema_migrations, so a run applies only
# what is new; the files are idempotent as well.  Run it as the owner of
# the database (it creates roles, tables and views).
set -euo pipefail
dir=${ESPHOOKS_SQL_DIR:-$(cd "$(dirname "$0")" && pwd)}
conn=(${1:+"$1"})
# Notices such as "relation already exists, skipping" are not news.
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"

psql_() {
	psql -X -q -v ON_ERROR_STOP=1 "${conn[@]}" "$@"
}

psql_ -c "CREATE TABLE IF NOT EXISTS schema_migrations (
	version    text PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now())"
applied=$(psql_ -A -t -c "SELECT version FROM schema_migrations")
for file in "$dir"/[0-9][0-9][0-9]_*.sql; do
	version=${file##*/}
	if grep -qxF "$version" <<<"$applied"; then
		continue
	fi
	# The file and its record commit together, or neither does.
	{ cat "$file"; printf '\nINSERT INTO schema_migrations (version) VALUES (%s);\n' \
	    "'${version//\'/\'\'}'"; } | psql_ --single-transaction -f -
	echo "applied $version"
done
