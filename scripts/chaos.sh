#!/usr/bin/env bash
# chaos.sh - `make chaos`: the fault battery (tests/chaos/chaos.py) on a
# pg_auto_failover formation of its own (scripts/ha.sh) in a mktemp
# directory, loopback only, bounded in time; the formation is removed on
# every exit.  docs/operations.md, "High availability".
#
#   NRM_CHAOS_SCALE    full (default) or short (the make check tier)
#   NRM_CHAOS_RUNS     battery runs in a row (default 2)
#   NRM_CHAOS_PORT     the monitor's port, nodes +1 and +2 (default 28370:
#                      below the kernel's ephemeral ports, 32768-60999,
#                      which loopback clients may hold when a node binds)
#   NRM_CHAOS_TIMEOUT  seconds for everything (default 1800)
#   NRM_CHAOS_COUNTS   JSON overriding the scale's fault counts, e.g.
#                      '{"pg_restart": 6, "failover": [3, 2]}'
#   NRM_CHAOS_README   where the table goes (default README.md; empty:
#                      nowhere)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
SCALE=${NRM_CHAOS_SCALE:-full}
RUNS=${NRM_CHAOS_RUNS:-2}
PORT=${NRM_CHAOS_PORT:-28370}
LIMIT=${NRM_CHAOS_TIMEOUT:-1800}
README=${NRM_CHAOS_README-README.md}

TMP=$(mktemp -d /tmp/nrm-chaos.XXXXXX)
chmod 755 "$TMP" # the formation runs as the postgres OS user
# On a failure the logs (each nrmd's, the keepers', each server's) are
# kept in a directory of their own, named on stderr; the formation goes.
cleanup() {
	local rc=$? d run keep
	if [ "$rc" -ne 0 ]; then
		keep=$(mktemp -d /tmp/nrm-chaos-logs.XXXXXX)
		for run in "$TMP"/run-*; do
			[ -d "$run" ] || continue
			d=$keep/${run##*/}
			mkdir -p "$d"
			cp "$run"/*.log "$d"/ 2>/dev/null
			cp -r "$run/ha/log" "$d/ha" 2>/dev/null
			for n in monitor node1 node2; do
				cp -r "$run/ha/$n/log" "$d/ha/$n" 2>/dev/null
			done
		done
		printf 'chaos.sh: exit %d; logs kept in %s\n' "$rc" "$keep" >&2
	fi
	for d in "$TMP"/run-*/ha; do
		[ -d "$d" ] && scripts/ha.sh drop "$d" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# 10,000 long-polls need their descriptors (chaos.py raises the soft
# limit to the hard one, up to 65536, and says so when that is short).
ulimit -n 65536 2>/dev/null || true

args=(--dir "$TMP" --port "$PORT" --scale "$SCALE" --runs "$RUNS")
[ -n "$README" ] && args+=(--readme "$README")
[ -n "${NRM_CHAOS_COUNTS:-}" ] && args+=(--counts "$NRM_CHAOS_COUNTS")
timeout --kill-after=30 "$LIMIT" /usr/bin/python3 tests/chaos/chaos.py \
    "${args[@]}"
