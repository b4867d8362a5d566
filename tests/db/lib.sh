# lib.sh - what the shell tests in tests/db share.  Sourced from the
# repository root with the test's arguments (DIR PORT, a cluster from
# scripts/pg.sh), after the test has set DB (the name of its database;
# its copies are named ${DB}_*): checks them, loads the cluster's
# environment (NRM_PG_SOCKDIR, NRM_PG_PORT), checks $NRMCTL is built,
# makes the scratch directory $T, removes it and every database of the
# test on exit, and defines psql_as, su_psql, url and new_db (and, from
# tap.sh, ok, fail and expect).
PGBIN=${NRM_PGBIN:-/usr/lib/postgresql/15/bin}
NRMCTL=${NRMCTL:-bin/nrmctl}

[ $# -eq 2 ] || { echo "usage: $0 DIR PORT" >&2; exit 2; }
eval "$(scripts/pg.sh env "$1" "$2")"
[ -x "$NRMCTL" ] || { echo "$NRMCTL is not built (run make)" >&2; exit 2; }

# psql_as USER DB [psql args]: one quiet psql, stopping on an error.
psql_as() {
	local user=$1 db=$2
	shift 2
	PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -q -At \
	    -v ON_ERROR_STOP=1 -h "$NRM_PG_SOCKDIR" -p "$NRM_PG_PORT" \
	    -U "$user" -d "$db" "$@"
}
# su_psql DB [psql args]: as the superuser postgres.
su_psql() { psql_as postgres "$@"; }
# url DB [USER]: the libpq URL of DB for USER (default nrm_owner).
url() {
	echo "postgresql://${2:-nrm_owner}@/$1?host=$NRM_PG_SOCKDIR&port=$NRM_PG_PORT"
}
# new_db NAME [TEMPLATE]: a fresh database NAME owned by nrm_owner (a
# copy of TEMPLATE if given), replacing any of that name.
new_db() {
	su_psql postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" \
	    -c "CREATE DATABASE $1 ${2:+TEMPLATE $2} OWNER nrm_owner"
}

T=$(mktemp -d "/tmp/$DB.XXXXXX")
lib_cleanup() {
	local d
	for d in $(su_psql postgres -c "SELECT datname FROM pg_database
	    WHERE datname = '$DB' OR starts_with(datname, '${DB}_')" \
	    2>/dev/null); do
		su_psql postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" \
		    >/dev/null 2>&1 || true
	done
	rm -rf "$T"
}
trap lib_cleanup EXIT

. tests/db/tap.sh
