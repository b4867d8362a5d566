#!/bin/sh
# node.sh - one member of docker-compose's "ha" profile: the pg_auto_failover
# monitor, or a node (primary or synchronous standby, as the monitor
# decides), created on the first start and then run by `pg_autoctl run`.
# On the compose network only (nothing is published); see
# docs/operations.md, "High availability".
#
#   nrm-ha-node monitor
#   nrm-ha-node node NAME          (needs NRM_HA_MONITOR)
#   nrm-ha-node roles              (creates nrm_owner, nrm_app, database
#                                   nrm on the primary; needs
#                                   NRM_HA_PRIMARY, a multi-host conninfo)
set -eu
PGDATA=/var/lib/postgresql/data
case ${1:-} in
monitor)
	[ -f "$PGDATA/PG_VERSION" ] ||
	    pg_autoctl create monitor --pgdata "$PGDATA" \
	        --hostname "$(hostname)" --auth trust --ssl-self-signed
	exec pg_autoctl run --pgdata "$PGDATA"
	;;
node)
	[ -f "$PGDATA/PG_VERSION" ] ||
	    pg_autoctl create postgres --pgdata "$PGDATA" --name "$2" \
	        --hostname "$(hostname)" --dbname nrm \
	        --monitor "$NRM_HA_MONITOR" --auth trust --ssl-self-signed
	exec pg_autoctl run --pgdata "$PGDATA"
	;;
roles)
	psql -X -v ON_ERROR_STOP=1 -d "$NRM_HA_PRIMARY" <<'SQL'
SELECT 'CREATE ROLE nrm_owner LOGIN CREATEROLE'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nrm_owner')
\gexec
SELECT 'CREATE ROLE nrm_app LOGIN NOINHERIT'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nrm_app')
\gexec
ALTER DATABASE nrm OWNER TO nrm_owner;
REVOKE CONNECT, TEMPORARY ON DATABASE nrm FROM PUBLIC;
GRANT CONNECT ON DATABASE nrm TO nrm_owner, nrm_app;
SQL
	;;
*)
	echo "usage: nrm-ha-node monitor | node NAME | roles" >&2
	exit 2
	;;
esac
