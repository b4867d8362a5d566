#!/usr/bin/env bash
# bench-table.sh FILE - the one table of `make bench` (issue 16): what
# scripts/bench.sh and scripts/bench-inbox.sh measured side by side in
# this run (their "KEY VALUE" lines in FILE, written through
# BENCH_SUMMARY), each with its target.
#
#   intake req/s / floor tps   nrmd's intake over pgbench running
#                              bench/floor_intake.pgbench (a signal, a
#                              case and an audit row, one durable
#                              transaction, prepared) on the same
#                              cluster, alternating; mean of the rounds'
#                              ratios; target >= 0.5
#   inbox pages/s / floor tps  GET /v1/inbox?limit=50 over
#                              bench/floor_inbox.pgbench (50 rows by
#                              keyset on an index, one audit row); >= 0.5
#   intake, inbox p99          the worst round's, 16 connections; < 20 ms
#   wake-up p50 / p99          1,000 long-polls spread over ten regions,
#                              and 991 in one region: from the commit
#                              timestamp (an upper bound, the WAL flush
#                              included) and from the 201 (a lower
#                              bound); target p99 <= 10 ms
#   RSS per idle long-poll     10,000 held; target <= 8 KiB
#
# A measure whose benchmark did not run (BENCH_INBOX_PHASES, or a failed
# benchmark) is shown as "-", never guessed.  Exit status: 0; with
# BENCH_ENFORCE=1, 1 when a target is missed or a measure is missing.
set -uo pipefail

FILE=${1:?usage: bench-table.sh FILE}
[ -r "$FILE" ] || { echo "bench-table.sh: no $FILE" >&2; exit 1; }

get() { awk -v k="$1" '$1 == k { v = $2 } END { print v }' "$FILE"; }

MISSED=0
row() { # MEASURE VALUE TARGET OP LIMIT
	local v=$2 verdict
	if [ -z "$v" ]; then
		v=- verdict="not measured"
		MISSED=1
	elif awk -v v="$v" -v op="$4" -v t="$5" 'BEGIN {
	    exit !((op == ">=" && v >= t) || (op == "<=" && v <= t) ||
		(op == "<" && v < t)) }'; then
		verdict=met
	else
		verdict="NOT met"
		MISSED=1
	fi
	printf '%-60s %-12s %-8s %s\n' "$1" "$v" "$3" "$verdict"
}
info() { printf '%-60s %s\n' "$1" "$2"; }

echo
echo "nrm, issue 16: measured side by side in one run ($(nproc) CPUs)"
printf '%-60s %-12s %-8s %s\n' measure result target verdict
for side in intake inbox; do
	what=$([ "$side" = intake ] && echo "intake req/s" || echo "inbox pages/s")
	row "$what / floor tps" "$(get "${side}_floor_ratio")" '>= 0.5' '>=' 0.5
	info "  $what; floor tps; load average" \
	    "$(get "${side}_rps"); $(get "${side}_floor_tps"); $(get "${side}_load")"
	row "$side p99 at 16 connections (ms)" "$(get "${side}_p99")" '< 20' '<' 20
	info "  floor p99 (ms)" "$(get "${side}_floor_p99")"
done
for c in 100 1; do
	n=$(get "wake_${c}_waiters")
	if [ "$c" = 100 ]; then
		what="wake-up, 1,000 spread over ten regions"
	else
		what="wake-up, 1,000 with ${n:-?} in one region"
	fi
	row "$what: p99 from commit (ms)" "$(get "wake_${c}_p99_commit")" \
	    '<= 10' '<=' 10
	info "  p50 from commit; p50 / p99 from the 201 (ms)" \
	    "$(get "wake_${c}_p50_commit"); $(get "wake_${c}_hot_p50") / $(get "wake_${c}_hot_p99"); load $(get "wake_${c}_load")"
done
row "RSS per idle long-poll (KiB, 10,000 held)" "$(get idle_longpoll_kib)" \
    '<= 8' '<=' 8
if [ "$MISSED" = 1 ] && [ "${BENCH_ENFORCE:-0}" = 1 ]; then
	exit 1
fi
exit 0
