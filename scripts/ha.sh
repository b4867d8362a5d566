#!/usr/bin/env bash
# ha.sh - a local high-availability formation for nrm on pg_auto_failover
# (Debian's postgresql-15-auto-failover): a monitor, a primary and a
# synchronous standby on loopback ports, under a project folder.
#
#   scripts/ha.sh up DIR PORT      monitor on PORT, nodes on PORT+1 and
#                                  PORT+2; roles, database nrm, migrations
#   scripts/ha.sh down DIR         stop the daemons, the keepers and
#                                  their servers
#   scripts/ha.sh run DIR PORT HTTP  up, then two nrmd daemons on
#                                  127.0.0.1:HTTP and HTTP+1 (make ha)
#   scripts/ha.sh env DIR PORT     print sourceable NRM_* connection lines
#                                  (multi-host, target_session_attrs)
#   scripts/ha.sh state DIR        pg_autoctl show state
#   scripts/ha.sh failover DIR     pg_autoctl perform failover
#   scripts/ha.sh primary-pid DIR  the postmaster pid of the current primary
#   scripts/ha.sh drop DIR         down, then remove DIR
#
# Every server runs as the postgres OS user (through runuser, as
# scripts/pg.sh does), each under a `pg_autoctl run` keeper that restarts
# it and follows the monitor's orders; DIR/log holds their output.  The
# formation listens on 127.0.0.1 only and trusts loopback connections
# (--auth trust --no-ssl): a development formation, not a deployment
# (docs/operations.md, "High availability").
set -euo pipefail

PGBIN=${NRM_PGBIN:-/usr/lib/postgresql/15/bin}
PGUSER_OS=postgres
AUTOCTL=${NRM_PG_AUTOCTL:-pg_autoctl}
HOST=127.0.0.1
HERE=$(cd "$(dirname "$0")" && pwd -P)
ME=ha.sh
USAGE_END=17
COMMANDS="up run down env state failover primary-pid settled drop"
# shellcheck source=scripts/cluster-lib.sh
. "$HERE/cluster-lib.sh"

say() {
	printf 'ha.sh: %s\n' "$*" >&2
}

# pg_autoctl as the postgres OS user, its configuration and state kept
# under DIR (XDG_*), not in the postgres user's home.
autoctl() {
	runuser -u "$PGUSER_OS" -- env PATH="$PGBIN:$PATH" \
	    XDG_CONFIG_HOME="$DIR/xdg/config" XDG_DATA_HOME="$DIR/xdg/data" \
	    XDG_RUNTIME_DIR="$DIR/xdg/run" PG_CONFIG="$PGBIN/pg_config" \
	    "$AUTOCTL" "$@"
}

# Start the keeper of DIR/NAME in the background (its own session, so
# that a terminal's Ctrl-C does not reach it), pid in DIR/NAME.pid.
keeper_start() {
	local name=$1
	if [ -f "$DIR/$name.pid" ] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then
		return 0
	fi
	setsid runuser -u "$PGUSER_OS" -- env PATH="$PGBIN:$PATH" \
	    XDG_CONFIG_HOME="$DIR/xdg/config" XDG_DATA_HOME="$DIR/xdg/data" \
	    XDG_RUNTIME_DIR="$DIR/xdg/run" \
	    "$AUTOCTL" run --pgdata "$DIR/$name" \
	    >>"$DIR/log/$name.log" 2>&1 </dev/null &
	echo $! >"$DIR/$name.pid"
}

monitor_uri() {
	printf 'postgres://autoctl_node@%s:%s/pg_auto_failover?sslmode=disable\n' \
	    "$HOST" "$1"
}

# wait_for SECONDS WHAT COMMAND...: until COMMAND succeeds.
wait_for() {
	local t=$1 what=$2 i
	shift 2
	for ((i = 0; i < t * 5; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	die "timed out after ${t}s waiting for $what (see $DIR/log)"
}

# The state the monitor gives node NAME ("primary", "secondary", ...).
node_state() {
	autoctl show state --pgdata "$DIR/monitor" --json 2>/dev/null |
	    /usr/bin/python3 -c 'import json,sys
for n in json.load(sys.stdin):
    if n.get("nodename") == sys.argv[1]:
        print(n.get("current_group_state", "")); break' "$1"
}

# "current assigned" of both nodes, one line.
nodes_states() {
	autoctl show state --pgdata "$DIR/monitor" --json 2>/dev/null |
	    /usr/bin/python3 -c 'import json,sys
s = {n.get("nodename"): n for n in json.load(sys.stdin)}
print(" ".join("%s %s" % (s.get(k, {}).get("current_group_state", "-"),
    s.get(k, {}).get("assigned_group_state", "-"))
    for k in ("node1", "node2")))'
}

is_state() {
	[ "$(node_state "$1")" = "$2" ]
}

# The primary and the secondary both settled (each node is in the state
# the monitor assigned it, no transition under way): a failover may be
# asked.
formation_settled() {
	local a1 g1 a2 g2
	read -r a1 g1 a2 g2 <<<"$(nodes_states)"
	[ "$a1" = "$g1" ] && [ "$a2" = "$g2" ] || return 1
	case "$a1/$a2" in
	primary/secondary | secondary/primary) return 0 ;;
	esac
	return 1
}

# Settings nrm wants on every node (nrm_server_conf, as pg.sh's), kept
# in a file the nodes include.  Acknowledged means committed on the
# primary and the standby: the monitor sets synchronous_standby_names;
# commits wait for it.
node_conf() {
	local data=$1
	{
		echo "# Written by scripts/ha.sh; edit ha.sh, not this file."
		nrm_server_conf
	} >"$data/nrm.conf"
	chown "$PGUSER_OS:" "$data/nrm.conf"
	grep -q "include_if_exists = 'nrm.conf'" "$data/postgresql.conf" ||
	    echo "include_if_exists = 'nrm.conf'" >>"$data/postgresql.conf"
}

# The test formation's timings (docs/operations.md, "Test-formation
# timings": for a loopback formation, not production advice).  The
# monitor checks health every second and acts on a silent node after
# 8 s; a primary cut off from the monitor and the standby demotes itself
# after network_partition_timeout (8 s), before the monitor may promote
# the standby (primary_demote_timeout, 15 s): never two primaries.
monitor_conf() {
	local data=$1
	cat >"$data/nrm-monitor.conf" <<'EOF'
# Written by scripts/ha.sh; edit ha.sh, not this file.  Test-formation
# timings (loopback); pg_auto_failover's defaults are in comments.
pgautofailover.health_check_period = 1000		# 5000
pgautofailover.health_check_timeout = 2000		# 5000
pgautofailover.health_check_max_retries = 2		# 2
pgautofailover.health_check_retry_delay = 500		# 2000
pgautofailover.node_considered_unhealthy_timeout = 8000	# 20000
pgautofailover.startup_grace_period = 5000		# 10000
pgautofailover.primary_demote_timeout = 15000		# 30000
EOF
	chown "$PGUSER_OS:" "$data/nrm-monitor.conf"
	grep -q "include_if_exists = 'nrm-monitor.conf'" "$data/postgresql.conf" ||
	    echo "include_if_exists = 'nrm-monitor.conf'" >>"$data/postgresql.conf"
}

# The keeper's side of the same timings (defaults: 20, 30, 5, 20).
keeper_conf() {
	local data=$1 kv
	for kv in network_partition_timeout=8 prepare_promotion_catchup=15 \
	    prepare_promotion_walreceiver=2 \
	    postgresql_restart_failure_timeout=10; do
		autoctl config set --pgdata "$data" "timeout.${kv%%=*}" \
		    "${kv#*=}" >/dev/null 2>&1 ||
		    die "could not set timeout.${kv%%=*} in $data"
	done
}

create_node() {
	local name=$1 port=$2 mport=$3 try
	if [ ! -f "$DIR/$name/PG_VERSION" ]; then
		say "creating $name on $HOST:$port"
		# pg_autoctl create resumes a failed attempt: on a loaded
		# machine its own Postgres start may race the node-init
		# service's, once
		for try in 1 2; do
			autoctl create postgres --pgdata "$DIR/$name" \
			    --pgport "$port" --pgctl "$PGBIN/pg_ctl" \
			    --hostname "$HOST" --listen "$HOST" --name "$name" \
			    --dbname nrm --monitor "$(monitor_uri "$mport")" \
			    --auth trust --no-ssl \
			    >>"$DIR/log/create-$name.log" 2>&1 && break
			[ "$try" = 2 ] &&
			    die "could not create $name (see $DIR/log/create-$name.log)"
			say "creating $name again (see $DIR/log/create-$name.log)"
		done
		node_conf "$DIR/$name"
		keeper_conf "$DIR/$name"
	fi
	keeper_start "$name"
}

cmd_up() {
	local port mport p1 p2
	dir_port "$@"
	DIR=$ARG_DIR port=$ARG_PORT
	command -v "$AUTOCTL" >/dev/null 2>&1 ||
	    die "pg_autoctl is not installed (run scripts/deps.sh)"
	mport=$port
	p1=$((port + 1))
	p2=$((port + 2))
	mkdir -p "$DIR/log" "$DIR/xdg/config" "$DIR/xdg/data" "$DIR/xdg/run"
	chown -R "$PGUSER_OS:" "$DIR"
	chmod 700 "$DIR/xdg/run"

	if [ ! -f "$DIR/monitor/PG_VERSION" ]; then
		say "creating the monitor on $HOST:$mport"
		autoctl create monitor --pgdata "$DIR/monitor" --pgport "$mport" \
		    --pgctl "$PGBIN/pg_ctl" --hostname "$HOST" --listen "$HOST" \
		    --auth trust \
		    --no-ssl >>"$DIR/log/create-monitor.log" 2>&1 ||
		    die "could not create the monitor (see $DIR/log/create-monitor.log)"
		monitor_conf "$DIR/monitor"
	fi
	keeper_start monitor
	wait_for 60 "the monitor" "$PGBIN/pg_isready" -q -h "$HOST" -p "$mport"
	# nrm-monitor.conf, also when the monitor was already running
	"$PGBIN/psql" -X -q -h "$HOST" -p "$mport" -U postgres -d postgres \
	    -c 'select pg_reload_conf()' >/dev/null

	create_node node1 "$p1" "$mport"
	wait_for 120 "node1 to be primary" formation_has_primary
	# the keeper may still be restarting it: roles once it accepts
	wait_for 120 "node1 to accept connections" primary_accepts
	"$HERE/pg.sh" roles "$HOST" "$(primary_port)"
	create_node node2 "$p2" "$mport"
	wait_for 180 "node2 to be a synchronous secondary" formation_settled
	say "formation up: $(autoctl show uri --pgdata "$DIR/monitor" --formation default 2>/dev/null)"
}

formation_has_primary() {
	local a b
	a=$(node_state node1)
	b=$(node_state node2)
	[ "$a" = primary ] || [ "$a" = single ] || [ "$a" = wait_primary ] ||
	    [ "$b" = primary ] || [ "$b" = wait_primary ]
}

primary_accepts() {
	local p
	p=$(primary_port)
	[ -n "$p" ] && "$PGBIN/psql" -X -q -h "$HOST" -p "$p" -U postgres \
	    -d postgres -c 'select 1'
}

# The port of the node the monitor names primary (or single).
primary_port() {
	autoctl show state --pgdata "$DIR/monitor" --json 2>/dev/null |
	    /usr/bin/python3 -c 'import json,sys
for n in json.load(sys.stdin):
    if n.get("current_group_state") in ("single", "primary",
                                        "wait_primary"):
        print(n["nodeport"]); break'
}

# A key file of 32 random bytes as 64 hex characters, mode 600.
key_file() {
	[ -s "$1" ] && return 0
	(umask 077 && openssl rand -hex 32 >"$1.tmp")
	mv "$1.tmp" "$1"
}

# up, then two nrmd daemons on the formation (db_synchronous = require),
# in the background, their logs in DIR/log/nrmd-N.log.
cmd_run() {
	local port=$2 http=$3 n url
	[ $# -eq 3 ] || usage
	cmd_up "$1" "$port"
	eval "$(cmd_env "$1" "$port")"
	NRM_DATABASE_URL=$NRM_OWNER_URL "$HERE/../bin/nrmctl" migrate >&2
	mkdir -p "$DIR/keys"
	chmod 700 "$DIR/keys"
	key_file "$DIR/keys/pseudonym.key"
	key_file "$DIR/keys/data.kek"
	for n in 1 2; do
		if [ -f "$DIR/nrmd-$n.pid" ] &&
		    kill -0 "$(cat "$DIR/nrmd-$n.pid")" 2>/dev/null; then
			continue
		fi
		NRM_LISTEN="127.0.0.1:$((http + n - 1))" NRM_LISTEN_TLS='' \
		NRM_DATABASE_URL=$NRM_DATABASE_URL NRM_DB_SYNCHRONOUS=require \
		NRM_DB_CONNECT_TIMEOUT=2 NRM_DB_RECONNECT_MAX=1 \
		NRM_PSEUDONYM_KEY_FILE="$DIR/keys/pseudonym.key" \
		NRM_DATA_KEK_FILE="$DIR/keys/data.kek" \
		    setsid "$HERE/../bin/nrmd" --config "$HERE/../config/nrmd.conf" \
		    >>"$DIR/log/nrmd-$n.log" 2>&1 </dev/null &
		echo $! >"$DIR/nrmd-$n.pid"
	done
	for n in 1 2; do
		url="http://127.0.0.1:$((http + n - 1))"
		wait_for 60 "nrmd $n at $url/readyz" curl -fsS "$url/readyz"
		printf 'nrmd %d: %s (log %s)\n' "$n" "$url" "$DIR/log/nrmd-$n.log"
	done
	printf 'database_url: %s\n' "$NRM_DATABASE_URL"
	printf 'state: scripts/ha.sh state %s; failover: scripts/ha.sh failover %s\n' \
	    "$DIR" "$DIR"
}

cmd_down() {
	local name pid
	[ $# -eq 1 ] || usage
	DIR=$(abspath "$1")
	[ -d "$DIR" ] || return 0
	for name in nrmd-1 nrmd-2; do
		[ -f "$DIR/$name.pid" ] || continue
		kill -TERM "$(cat "$DIR/$name.pid")" 2>/dev/null || true
		rm -f "$DIR/$name.pid"
	done
	for name in node2 node1 monitor; do
		[ -f "$DIR/$name/PG_VERSION" ] || continue
		autoctl stop --pgdata "$DIR/$name" >/dev/null 2>&1 || true
	done
	for name in node2 node1 monitor; do
		[ -f "$DIR/$name.pid" ] || continue
		pid=$(cat "$DIR/$name.pid")
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM "$pid" 2>/dev/null || true
		rm -f "$DIR/$name.pid"
	done
	for name in node2 node1 monitor; do
		[ -f "$DIR/$name/PG_VERSION" ] || continue
		runuser -u "$PGUSER_OS" -- "$PGBIN/pg_ctl" -D "$DIR/$name" \
		    status >/dev/null 2>&1 || continue
		runuser -u "$PGUSER_OS" -- "$PGBIN/pg_ctl" -D "$DIR/$name" \
		    -m fast -w -t 60 -s stop || true
	done
}

cmd_env() {
	local port
	[ $# -eq 2 ] || usage
	port=$2
	local hosts="$HOST,$HOST" ports="$((port + 1)),$((port + 2))"
	local q="host=$hosts port=$ports dbname=nrm target_session_attrs=read-write connect_timeout=2"
	printf "NRM_OWNER_URL='%s user=nrm_owner'\n" "$q"
	printf "NRM_DATABASE_URL='%s user=nrm_app'\n" "$q"
	printf "NRM_SUPERUSER_URL='%s user=postgres'\n" "$q"
	printf "NRM_MONITOR_URL='%s'\n" "$(monitor_uri "$port")"
}

cmd_state() {
	[ $# -eq 1 ] || usage
	DIR=$(abspath "$1")
	autoctl show state --pgdata "$DIR/monitor"
}

cmd_failover() {
	[ $# -eq 1 ] || usage
	DIR=$(abspath "$1")
	# The monitor's perform_failover may meet a deadlock with a keeper's
	# report (seen under load: "deadlock detected" on pgautofailover.node):
	# its transaction rolled back and nothing changed, so it is asked
	# again, at most three times in all.
	for try in 1 2 3; do
		if autoctl perform failover --pgdata "$DIR/monitor" --wait 120 \
		    2>"$DIR/failover.err"; then
			cat "$DIR/failover.err" >&2
			exit 0
		fi
		cat "$DIR/failover.err" >&2
		grep -q 'deadlock detected' "$DIR/failover.err" || exit 1
		[ "$try" -lt 3 ] &&
		    echo "ha.sh: the monitor's failover met a deadlock and rolled back: asking again" >&2
		sleep 2
	done
	exit 1
}

cmd_primary_pid() {
	[ $# -eq 1 ] || usage
	DIR=$(abspath "$1")
	p=$(primary_port)
	for name in node1 node2; do
		if grep -q "^port = $p\$\|^port = '$p'\$" \
		    "$DIR/$name/postgresql-auto-failover.conf" 2>/dev/null; then
			head -1 "$DIR/$name/postmaster.pid"
			exit 0
		fi
	done
	die "no primary found"
}

cmd_settled() {
	[ $# -eq 1 ] || usage
	DIR=$(abspath "$1")
	formation_settled
}

cmd_drop() {
	[ $# -eq 1 ] || usage
	cmd_down "$1"
	rm -rf "$(abspath "$1")"
}

dispatch "$@"
