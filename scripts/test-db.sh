#!/usr/bin/env bash
# test-db.sh - the database tier: pgTAP tests against a real PostgreSQL.
#
# Needs a running cluster: either described by the variables
# `scripts/pg.sh env` prints (NRM_PG_SOCKDIR, NRM_PG_PORT), or named as
# arguments, e.g.
#   scripts/pg.sh start /tmp/nrm-pg 55432
#   scripts/test-db.sh /tmp/nrm-pg 55432
# Creates a fresh database nrm_dbtest owned by nrm_owner, migrates it with
# bin/nrmctl (NRMCTL overrides), installs pgTAP and dblink as superuser,
# loads config/municipalities.csv for the reference-data comparison,
# runs pg_prove on tests/db/*.sql and drops the database (kept when
# NRM_KEEP_TEST_DB=1).
set -euo pipefail

cd "$(dirname "$0")/.."
PGBIN=${NRM_PGBIN:-/usr/lib/postgresql/15/bin}
NRMCTL=${NRMCTL:-bin/nrmctl}
DB=${NRM_TEST_DB:-nrm_dbtest}

die() {
	printf 'test-db: %s\n' "$*" >&2
	exit 1
}

# `scripts/test-db.sh DIR PORT` takes the cluster from pg.sh itself.
if [ $# -eq 2 ]; then
	eval "$(scripts/pg.sh env "$1" "$2")"
elif [ $# -ne 0 ]; then
	die "usage: scripts/test-db.sh [DIR PORT]"
fi
if [ -z "${NRM_PG_SOCKDIR:-}" ] || [ -z "${NRM_PG_PORT:-}" ]; then
	die "NRM_PG_SOCKDIR and NRM_PG_PORT are not set (eval \"\$(scripts/pg.sh env DIR PORT)\", or pass DIR PORT)"
fi
[ -x "$NRMCTL" ] || die "$NRMCTL is not built (run make)"
command -v pg_prove >/dev/null || die "pg_prove is missing (run scripts/deps.sh)"

su_psql() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$NRM_PG_SOCKDIR" \
	    -p "$NRM_PG_PORT" -U postgres "$@"
}

cleanup() {
	if [ "${NRM_KEEP_TEST_DB:-0}" != 1 ]; then
		su_psql -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
		    >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

echo "== reference data: generator and checked-in migration agree"
python3 scripts/gen-refdata.py --check

echo "== fresh database $DB"
su_psql -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" \
    -c "CREATE DATABASE $DB OWNER nrm_owner"

owner_url="postgresql://nrm_owner@/$DB?host=$NRM_PG_SOCKDIR&port=$NRM_PG_PORT"
"$NRMCTL" --database-url "$owner_url" migrate --dir sql
# A second run must change nothing.
"$NRMCTL" --database-url "$owner_url" migrate --dir sql |
	grep -q '^schema is current at version' ||
	die "a second migrate was not a no-op"

su_psql -d "$DB" <<'EOF'
SET client_min_messages = warning;
CREATE EXTENSION pgtap;
CREATE EXTENSION dblink;
CREATE TABLE public.csv_municipality (code text, name text,
    region_code text, region_name text);
\copy public.csv_municipality FROM 'config/municipalities.csv' WITH (FORMAT csv, HEADER true)
EOF

echo "== pg_prove tests/db"
pg_prove --ext .sql -h "$NRM_PG_SOCKDIR" -p "$NRM_PG_PORT" -U postgres \
    -d "$DB" tests/db/*.sql
