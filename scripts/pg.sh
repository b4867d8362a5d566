#!/usr/bin/env bash
# pg.sh - a private PostgreSQL 15 cluster for nrm, under a project folder.
#
#   scripts/pg.sh start DIR PORT   initdb DIR/data if empty, start, ensure
#                                  roles nrm_owner / nrm_app and database nrm
#   scripts/pg.sh stop DIR         fast shutdown (quiet when not running)
#   scripts/pg.sh env DIR PORT     print sourceable NRM_* connection lines
#   scripts/pg.sh psql DIR PORT [psql args]   psql as postgres into nrm
#   scripts/pg.sh drop DIR         stop and remove DIR
#   scripts/pg.sh roles HOST PORT  ensure the roles and database on another
#                                  server (a primary of scripts/ha.sh)
#
# The cluster listens on a Unix socket only (listen_addresses = ''), in
# DIR/run, or /tmp/nrm-pg-<hash of DIR> when DIR/run is too long for a
# socket path.  Local connections are trusted (the socket directory is
# reachable only by root and the postgres OS user); TCP is refused.
# initdb and postgres refuse to run as root: they run as the postgres
# OS user through runuser.
set -euo pipefail

PGBIN=${NRM_PGBIN:-/usr/lib/postgresql/15/bin}
PGUSER_OS=postgres
SOCK_MAX=90
ME=pg.sh
USAGE_END=12
COMMANDS="start stop env psql drop roles"
# shellcheck source=scripts/cluster-lib.sh
. "$(dirname "$0")/cluster-lib.sh"

# The socket directory for cluster DIR (absolute).
sockdir_of() {
	local dir=$1 run=$1/run h
	if [ "${#run}" -gt "$SOCK_MAX" ]; then
		h=$(printf '%s' "$dir" | sha256sum | cut -c1-12)
		printf '/tmp/nrm-pg-%s\n' "$h"
	else
		printf '%s\n' "$run"
	fi
}

as_pg() {
	runuser -u "$PGUSER_OS" -- "$@"
}

# Fail clearly when the postgres OS user cannot traverse to DIR, naming
# the first directory on the way (from /) that it cannot enter.
check_reachable() {
	local dir=$1 p="" part rest
	if as_pg test -x "$dir" 2>/dev/null; then
		return 0
	fi
	rest=${dir#/}
	while [ -n "$rest" ]; do
		part=${rest%%/*}
		p=$p/$part
		if ! as_pg test -x "$p" 2>/dev/null; then
			die "the postgres OS user cannot reach $dir: directory $p is not traversable for it (chmod o+x $p, or choose a directory elsewhere)"
		fi
		[ "$rest" = "$part" ] && break
		rest=${rest#*/}
	done
	die "the postgres OS user cannot reach $dir"
}

is_running() {
	local data=$1
	[ -f "$data/PG_VERSION" ] || return 1
	as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# Superuser psql on the cluster's socket; extra args passed on.
su_psql() {
	local sock=$1 port=$2
	shift 2
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" \
	    -U postgres "$@"
}

write_conf() {
	local data=$1 sock=$2 port=$3
	# Rewritten on each start so the port and socket follow the arguments.
	{
		cat <<EOF
# Written by scripts/pg.sh on each start; edit pg.sh, not this file.
listen_addresses = ''
port = $port
unix_socket_directories = '$sock'
unix_socket_permissions = 0770
max_connections = 100
shared_buffers = 128MB
effective_cache_size = 512MB
work_mem = 4MB
maintenance_work_mem = 64MB
full_page_writes = on
max_wal_size = 1GB
jit = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
		nrm_server_conf
	} >"$data/nrm.conf"
	chown "$PGUSER_OS:" "$data/nrm.conf"
	chmod 600 "$data/nrm.conf"
}

# The roles nrm_owner / nrm_app and the database nrm owned by nrm_owner,
# on the server at HOST (a socket directory or an address) and PORT,
# as its superuser postgres: created when missing, reasserted otherwise.
ensure_roles() {
	su_psql "$1" "$2" -d postgres <<'EOF'
SET client_min_messages = warning;
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nrm_owner') THEN
		CREATE ROLE nrm_owner LOGIN CREATEROLE;
	END IF;
	-- NOINHERIT: nrm_app holds only its own grants and acts as an API
	-- role only after an explicit role switch inside an api function.
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nrm_app') THEN
		CREATE ROLE nrm_app LOGIN NOINHERIT;
	END IF;
END
$$;
SELECT 'CREATE DATABASE nrm OWNER nrm_owner'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'nrm')
\gexec
REVOKE CONNECT, TEMPORARY ON DATABASE nrm FROM PUBLIC;
GRANT CONNECT ON DATABASE nrm TO nrm_owner, nrm_app;
EOF
	su_psql "$1" "$2" -d postgres -c 'ALTER DATABASE nrm OWNER TO nrm_owner'
}

cmd_start() {
	local dir port data sock
	dir_port "$@"
	dir=$ARG_DIR port=$ARG_PORT
	[ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 is not installed in $PGBIN (run scripts/deps.sh)"
	id "$PGUSER_OS" >/dev/null 2>&1 || die "there is no $PGUSER_OS OS user (run scripts/deps.sh)"
	data=$dir/data
	sock=$(sockdir_of "$dir")

	mkdir -p "$dir"
	chown "$PGUSER_OS:" "$dir"
	check_reachable "$dir"
	for d in "$dir/data" "$dir/log" "$sock"; do
		mkdir -p "$d"
		chown "$PGUSER_OS:" "$d"
	done
	chmod 700 "$dir/data"
	chmod 750 "$sock"

	if [ ! -f "$data/PG_VERSION" ]; then
		echo "pg.sh: initialising cluster in $data" >&2
		as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth-local=trust \
		    --auth-host=reject --no-locale -E UTF8 >"$dir/log/initdb.log" 2>&1 ||
		    die "could not initdb $data (see $dir/log/initdb.log)"
		echo "include_if_exists = 'nrm.conf'" >>"$data/postgresql.conf"
	fi

	if is_running "$data"; then
		:
	else
		write_conf "$data" "$sock" "$port"
		as_pg "$PGBIN/pg_ctl" -D "$data" -l "$dir/log/postgresql.log" \
		    -w -t 60 -s start ||
		    die "could not start the cluster (see $dir/log/postgresql.log)"
	fi

	ensure_roles "$sock" "$port"
}

cmd_stop() {
	local dir data
	[ $# -eq 1 ] || usage
	dir=$(abspath "$1")
	data=$dir/data
	if is_running "$data"; then
		as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 -s stop ||
		    die "could not stop the cluster in $data"
	fi
}

# NAME='value' with single quotes escaped: sourceable by sh and bash.
envline() {
	local v=${2//\'/\'\\\'\'}
	printf "%s='%s'\n" "$1" "$v"
}

cmd_env() {
	local dir port sock q
	[ $# -eq 2 ] || usage
	dir=$(abspath "$1")
	port=$2
	sock=$(sockdir_of "$dir")
	q="host=$sock&port=$port"
	envline NRM_PG_SOCKDIR "$sock"
	envline NRM_PG_PORT "$port"
	envline NRM_OWNER_URL "postgresql://nrm_owner@/nrm?$q"
	envline NRM_DATABASE_URL "postgresql://nrm_app@/nrm?$q"
	envline NRM_SUPERUSER_URL "postgresql://postgres@/nrm?$q"
}

cmd_psql() {
	local dir port
	[ $# -ge 2 ] || usage
	dir=$(abspath "$1")
	port=$2
	shift 2
	exec "$PGBIN/psql" -X -h "$(sockdir_of "$dir")" -p "$port" \
	    -U postgres -d nrm "$@"
}

cmd_drop() {
	local dir sock
	[ $# -eq 1 ] || usage
	dir=$(abspath "$1")
	cmd_stop "$dir"
	sock=$(sockdir_of "$dir")
	case $sock in
	/tmp/nrm-pg-*) rm -rf "$sock" ;;
	esac
	rm -rf "$dir"
}

cmd_roles() {
	[ $# -eq 2 ] || usage
	ensure_roles "$1" "$2"
}

dispatch "$@"
