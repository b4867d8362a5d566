#!/usr/bin/env bash
# bench-seal.sh - `make bench-seal`, second part: what sealing personal
# data costs in throughput (issue 15, docs/data-protection.md "Cost").
#
#   BENCH_SECONDS=10   length of each measured run
#   BENCH_ROUNDS=2     rounds; each runs both binaries (A B, then B A)
#   BENCH_WARMUP=3     seconds of untimed warm-up before each binary's runs
#   BENCH_ENFORCE=1    also exit non-zero when a ratio is under 0.9
#
# Two binaries of the same source on the same cluster, with the same
# configuration, keys and load: A = bin/nrmd (AES-256-GCM through
# OpenSSL) and B = build/bench-noseal/bin/nrmd (make bench-noseal: the
# same byte layout, the text copied and a zero tag; it refuses to start
# without NRM_BENCH_NOSEAL=1, which only this script sets).  Set-up
# (scripts/bench-lib.sh): a throwaway cluster, migrations, a reporter key
# and a coordinator key of the region bench/body.json routes to; each
# binary first stores 64 signals of its own (bench/body.json), the case
# ids it then reads (a binary opens only what it sealed).  Each round
# runs both binaries, A then B in odd rounds and B then A in even ones,
# each right after a CHECKPOINT (scripts/bench-ab.sh), for:
#   intake  wrk -t2 -c16 with bench/intake.lua (POST /v1/signals, a new
#           Idempotency-Key each)
#   read    wrk -t2 -c16 with bench/case_read.lua (GET /v1/cases/{id},
#           round-robin over the binary's own 64 cases)
# Checks (any failure: exit 1): B refuses to start without the flag;
# every intake answer 201 and every read 200, no socket errors.  Output:
# one line per run (req/s, latency, CPU of nrmd and PostgreSQL per
# request), then per kind the mean req/s of A and B and A/B, the median
# of the rounds' own A/B (what BENCH_ENFORCE judges: the target is that
# sealing costs under 10%, A/B >= 0.9), the CPU per request of each and
# B/A (the share of the work sealing adds, which the machine's other
# load does not blur), and the load average before and after.
set -euo pipefail

cd "$(dirname "$0")/.."

SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
TARGET=0.9
NOSEAL_BIN=build/bench-noseal/bin/nrmd
READ_SET=64

BENCH_NAME=bench-seal.sh
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
bench_check_ints SECS ROUNDS
[ -x "$NOSEAL_BIN" ] || die "$NOSEAL_BIN is missing (make bench-noseal)"

bench_init seal
# B never runs by accident: without the flag it refuses to start
if env -u NRM_BENCH_NOSEAL "$NOSEAL_BIN" --config /dev/null \
    >"$TMP/refused.out" 2>&1 ||
    ! grep -q 'runs only with NRM_BENCH_NOSEAL=1' "$TMP/refused.out"; then
	die "$NOSEAL_BIN started without NRM_BENCH_NOSEAL=1"
fi
# shellcheck source=scripts/bench-ab.sh
. scripts/bench-ab.sh
bench_ab_setup

# ab_use A|B: which nrmd start_nrmd runs
ab_use() {
	if [ "$1" = A ]; then
		NRMD_BIN=bin/nrmd
		unset NRM_BENCH_NOSEAL
	else
		NRMD_BIN=$NOSEAL_BIN
		export NRM_BENCH_NOSEAL=1
	fi
}

AB_TAG=seal
bench_ab
unset NRM_BENCH_NOSEAL

echo
echo "bench-seal: A = bin/nrmd (AES-256-GCM), B = $NOSEAL_BIN (identity copy),"
echo "  $ROUNDS rounds of ${SECS} s each (A B, then B A), a CHECKPOINT before each run, wrk -t$THREADS -c$CONNS"
bench_ab_table
# The cost of sealing: 1 - the median of the rounds' A/B, and the share
# of a request's CPU (nrmd and PostgreSQL) that sealing adds.
for kind in intake read; do
	awk -v k="$kind" -v m="${AB_MED[$kind]}" -v ca="${AB_CPU[$kind-A]}" \
	    -v cb="${AB_CPU[$kind-B]}" -v t="$TARGET" 'BEGIN {
		printf "  %-7s cost %.1f%% of throughput (median of the rounds), %.1f%% of CPU per request; target < %.0f%%\n",
		    k, (1 - m) * 100, (ca > 0 ? (1 - cb / ca) * 100 : 0),
		    (1 - t) * 100 }'
	if [ "$ENFORCE" = 1 ] && awk -v m="${AB_MED[$kind]}" -v t="$TARGET" \
	    'BEGIN { exit !(m < t) }'; then
		fail "$kind: the median A/B is under $TARGET"
	fi
done
[ "$FAILED" = 0 ] || exit 1
