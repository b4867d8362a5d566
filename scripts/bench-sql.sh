#!/usr/bin/env bash
# bench-sql.sh - what a change to the SQL costs or saves, side by side:
# PostgreSQL CPU per call of the statement nrmd sends, in two databases
# of one cluster (issue 16, docs/performance.md).
#
#   scripts/bench-sql.sh intake|inbox|shared|case FILE...
#
#   BENCH_SECONDS=8        length of each measured run
#   BENCH_MODES="A B B A A B"  the runs, in order (A: the database as
#                          migrated from this tree; B: its copy with
#                          FILE... applied)
#   BENCH_CONNS=16         pgbench clients
#   BENCH_READERS=8        shared: the reads one api.inbox_many call answers
#
# Set-up (scripts/bench-lib.sh): a throwaway cluster, migrations, a
# reporter key, a coordinator key of VR13 (where bench/body.json routes);
# for inbox, shared and case, 500 signals stored into VR13 through bin/nrmd
# (bench/longpoll.py seed; case reads the first of their cases, as the
# coordinator; shared is BENCH_READERS reads of the first page by that
# coordinator in one api.inbox_many call, as nrmd sends reads of one
# question that queued: CPU per call / BENCH_READERS is a read's);
# for intake, the parameters of one real intake captured
# from nrmd (bench/params.py, as scripts/bench.sh).
# Then database nrm_b is made from nrm (CREATE DATABASE ... TEMPLATE) and
# FILE... are applied to it with psql as nrm_owner, in order, stopping
# at the first error: the old or new definitions to compare, for example
# `git show REV:sql/api/10_common.sql` saved to a file, followed by
# sql/api/99_doors.sql (a repeatable file re-applied alone re-grants
# only its own functions; the doors' file restores the whole set).
# Each run is pgbench -M prepared (bench/intake.pgbench,
# bench/inbox.pgbench, bench/inbox_many.pgbench or bench/case_get.pgbench,
# -c BENCH_CONNS -j 2) after VACUUM ANALYZE and a
# CHECKPOINT, with the CPU time of the cluster's processes taken around
# it; a failed transaction fails the script.  Output: one line per run
# (RESULT side tps, PostgreSQL CPU per call in microseconds, p50 and
# p99 in ms, machine busy %), then each side's mean CPU per call and
# B/A.  CPU per call is the figure to read: the machine's other load
# does not enter it, where it does enter tps and latency.
set -euo pipefail

cd "$(dirname "$0")/.."

usage() {
	sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-2}"
}
case ${1:-} in
-h | --help) usage 0 ;;
intake | inbox | shared | case) KIND=$1 ;;
*) usage ;;
esac
shift
[ "$#" -ge 1 ] || usage
for f in "$@"; do
	[ -r "$f" ] || { echo "bench-sql.sh: cannot read $f" >&2; exit 2; }
done

SECS=${BENCH_SECONDS:-8}
MODES=${BENCH_MODES:-A B B A A B}
CONNS=${BENCH_CONNS:-16}
READERS=${BENCH_READERS:-8}
for v in SECS CONNS READERS; do
	case ${!v} in '' | *[!0-9]* | 0)
		echo "bench-sql.sh: BENCH_${v/SECS/SECONDS} must be a positive integer" >&2
		exit 2
		;;
	esac
done
BENCH_NAME=bench-sql
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
bench_init benchsql
bench_cluster
bench_migrate
TOKEN=$(bench_key --role reporter --agency bench --agency-kind police)
TOKEN_HASH="\\x$(printf '%s' "$TOKEN" | sha256sum | cut -c1-64)"
CO_TOKEN=$(bench_key --role coordinator --agency "bench care VR13" \
    --agency-kind care_agency --region VR13)
CO_HASH="\\x$(printf '%s' "$CO_TOKEN" | sha256sum | cut -c1-64)"
bench_nrmd_conf "$TMP/nrmd.conf" </dev/null

if [ "$KIND" = intake ]; then
	bench_intake_capture
else
	start_nrmd
	say "storing 500 signals into VR13"
	BENCH_TOKEN=$TOKEN python3 bench/longpoll.py seed --url "$URL" \
	    --count 500 --region VR13 --tag hot >/dev/null
	stop_nrmd
	if [ "$KIND" = inbox ]; then
		PGB_ARGS=(-n -M prepared -f bench/inbox.pgbench -D n=0
			-D "token_hash=$CO_HASH" -D client=127.0.0.1 -D state=open
			-D limit=50)
	elif [ "$KIND" = shared ]; then
		PGB_ARGS=(-n -M prepared -f bench/inbox_many.pgbench -D n=0
			-D "token_hash=$CO_HASH" -D client=127.0.0.1 -D state=open
			-D limit=50 -D "readers=$READERS")
	else
		CASE_ID=$(sql "SELECT id FROM care.case
		    WHERE region_code = 'VR13' ORDER BY inbox_seq LIMIT 1")
		PGB_ARGS=(-n -M prepared -f bench/case_get.pgbench -D n=0
			-D "token_hash=$CO_HASH" -D client=127.0.0.1
			-D "case_id=$CASE_ID")
	fi
fi

sql "CREATE DATABASE nrm_b TEMPLATE nrm" >/dev/null
B_SU=${NRM_SUPERUSER_URL/\/nrm\?/\/nrm_b?}
B_APP=${NRM_DATABASE_URL/\/nrm\?/\/nrm_b?}
B_OWN=${NRM_OWNER_URL/\/nrm\?/\/nrm_b?}
for f in "$@"; do
	say "B: applying $f"
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$B_OWN" -f "$f" >/dev/null ||
		die "applying $f to B failed"
done

settle_both() {
	sql "VACUUM ANALYZE" >/dev/null
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$B_SU" -c "VACUUM ANALYZE" \
	    >/dev/null
	sql "CHECKPOINT" >/dev/null
}

# untimed warm-up of each side (base digits 9 and 8; the runs use 1..7)
settle_both
PGB_URL=$NRM_DATABASE_URL bench_pgbench wa 9 3 "$CONNS"
PGB_URL=$B_APP bench_pgbench wb 8 3 "$CONNS"
declare -A SUM=([A]=0 [B]=0) N=([A]=0 [B]=0)
d=1
for mode in $MODES; do
	[ "$d" -le 7 ] || die "at most 7 runs (BENCH_MODES)"
	case $mode in
	A) url=$NRM_DATABASE_URL ;;
	B) url=$B_APP ;;
	*) die "BENCH_MODES: A or B, not $mode" ;;
	esac
	settle_both
	PGB_URL=$url bench_pgbench "r$d" "$d" "$SECS" "$CONNS"
	read -r _ _ _ _ busy _ pgop <<<"$P_CPU"
	echo "RESULT $mode tps=$P_TPS pg_us_per_call=$pgop p50=$P_P50 p99=$P_P99 busy=$busy%"
	SUM[$mode]=$((SUM[$mode] + pgop))
	N[$mode]=$((N[$mode] + 1))
	d=$((d + 1))
done
for m in A B; do
	if [ "${N[$m]}" -gt 0 ]; then
		echo "MEAN $m pg_us_per_call=$((SUM[$m] / N[$m])) runs=${N[$m]}"
	fi
done
if [ "${N[A]}" -gt 0 ] && [ "${N[B]}" -gt 0 ]; then
	awk -v a="$((SUM[A] / N[A]))" -v b="$((SUM[B] / N[B]))" \
	    'BEGIN { printf "B/A %.3f\n", b / a }'
fi
bench_finish
