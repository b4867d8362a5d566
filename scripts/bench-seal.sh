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
# runs both binaries, one after the other, each for:
#   intake  wrk -t2 -c16 with bench/intake.lua (POST /v1/signals, a new
#           Idempotency-Key each)
#   read    wrk -t2 -c16 with bench/case_read.lua (GET /v1/cases/{id},
#           round-robin over the binary's own 64 cases)
# Odd rounds run A then B, even rounds B then A; every measured run
# starts right after a CHECKPOINT.  Checks (any failure: exit 1): B
# refuses to start without the flag; every intake answer 201 and every
# read 200, no socket errors.  Output: one line per run (req/s,
# latency, CPU of nrmd and PostgreSQL per request), then per kind the
# mean req/s of A and B and their ratio, the median of the rounds' own
# A/B ratios (the figure BENCH_ENFORCE judges: the target is that
# sealing costs under 10%, A/B >= 0.9), the CPU per request of each and
# B/A (what share of the work sealing adds, which the machine's other
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
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
bench_cluster
bench_migrate
TOKEN=$(bench_key --role reporter --agency bench --agency-kind police)
COORD=$(bench_key --role coordinator --agency bench-care \
    --agency-kind care_agency --region VR13)
bench_nrmd_conf "$TMP/nrmd.conf" </dev/null

# use_binary A|B: which nrmd start_nrmd runs
use_binary() {
	if [ "$1" = A ]; then
		NRMD_BIN=bin/nrmd
		unset NRM_BENCH_NOSEAL
	else
		NRMD_BIN=$NOSEAL_BIN
		export NRM_BENCH_NOSEAL=1
	fi
}

# The case ids each binary reads: 64 signals of its own.
for b in A B; do
	use_binary "$b"
	start_nrmd
	: >"$TMP/ids-$b"
	for i in $(seq 1 "$READ_SET"); do
		post "seal-set-$b-$i"
		python3 -c 'import json,sys; print(json.load(sys.stdin)["case_id"])' \
		    <"$TMP/post.out" >>"$TMP/ids-$b"
	done
	stop_nrmd
done

# run KIND BINARY ROUND -> RPS, and CPU: the microseconds of CPU
# (nrmd and PostgreSQL together) per request.  Each measured run starts
# right after a CHECKPOINT, so none pays for another's full-page writes.
run() {
	local kind=$1 b=$2 r=$3 out=$TMP/wrk-$1-$2-$3.out bad before after
	sql "CHECKPOINT" >/dev/null
	before=$(snapshot)
	if [ "$kind" = intake ]; then
		BENCH_TOKEN=$TOKEN run_bg wrk -t "$THREADS" -c "$CONNS" \
		    -d "${SECS}s" -s bench/intake.lua "$URL" -- \
		    "seal-$b-$r" bench/body.json >"$out" 2>&1 || true
		bad=non201
	else
		BENCH_TOKEN=$COORD run_bg wrk -t "$THREADS" -c "$CONNS" \
		    -d "${SECS}s" -s bench/case_read.lua "$URL" -- \
		    "$TMP/ids-$b" >"$out" 2>&1 || true
		bad=non200
	fi
	after=$(snapshot)
	wrk_result "$out" "$kind $b $r" "$bad"
	CPU=$(cpu_report "$before" "$after" "$I_N" |
	    awk '{ print $6 + $7 }')
	say "round $r $b $kind: $I_N requests, $I_RPS req/s, p50 $I_P50 ms, p99 $I_P99 ms, ${CPU} us CPU/request, $bad $I_BAD, socket errors $I_ERRS"
	if [ "$I_BAD" != 0 ] || [ "$I_ERRS" != 0 ]; then
		grep '^BENCH_WRK_FIRST_BAD' "$out" >&2 || true
		fail "$kind on $b, round $r: $I_BAD unexpected answers, $I_ERRS socket errors"
	fi
	RPS=$I_RPS
}

# Per kind and binary, one line per round: "req/s cpu_us_per_request".
for k in intake-A intake-B read-A read-B; do : >"$TMP/res-$k"; done
for r in $(seq 1 "$ROUNDS"); do
	# A B in odd rounds, B A in even ones: a drift of the machine
	# (a table growing, a neighbour starting) weighs on both alike.
	order="A B"
	[ $((r % 2)) = 0 ] && order="B A"
	for b in $order; do
		use_binary "$b"
		start_nrmd
		if [ "$WARM" -gt 0 ]; then
			SECS_SAVED=$SECS
			SECS=$WARM
			run intake "$b" "warm$r" >/dev/null 2>&1 || true
			SECS=$SECS_SAVED
		fi
		for kind in intake read; do
			run "$kind" "$b" "$r"
			echo "$RPS $CPU" >>"$TMP/res-$kind-$b"
		done
		stop_nrmd
	done
done
unset NRM_BENCH_NOSEAL
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "bench-seal: A = bin/nrmd (AES-256-GCM), B = $NOSEAL_BIN (identity copy),"
echo "  $ROUNDS rounds of ${SECS} s each (A B, then B A), a CHECKPOINT before each run, wrk -t$THREADS -c$CONNS"
echo "  throughput: mean req/s of each binary, their ratio, and the median of the rounds' own ratios;"
echo "  CPU: microseconds of CPU (nrmd + PostgreSQL) per request, which other load on the machine does not count"
printf '  %-7s %9s %9s %7s %13s %11s %11s %7s\n' kind "A req/s" "B req/s" "A/B" "median A/B" "A us CPU" "B us CPU" "B/A"
for kind in intake read; do
	# shellcheck disable=SC2016 # awk's own $1
	line=$(paste -d' ' "$TMP/res-$kind-A" "$TMP/res-$kind-B" |
	    awk -v t="$TARGET" '{
		ra += $1; ca += $2; rb += $3; cb += $4; n++
		q[n] = $3 > 0 ? $1 / $3 : 0
	} END {
		# median of the rounds ratios (insertion sort: a few rounds)
		for (i = 2; i <= n; i++) {
			v = q[i]
			for (j = i - 1; j >= 1 && q[j] > v; j--) q[j + 1] = q[j]
			q[j + 1] = v
		}
		med = n % 2 ? q[(n + 1) / 2] : (q[n / 2] + q[n / 2 + 1]) / 2
		ra /= n; rb /= n; ca /= n; cb /= n
		printf "%.1f %.1f %.3f %.3f %.0f %.0f %.3f\n", ra, rb,
		    rb > 0 ? ra / rb : 0, med, ca, cb, ca > 0 ? cb / ca : 0
	}')
	read -r ra rb qm qmed ca cb qc <<<"$line"
	printf '  %-7s %9s %9s %7s %13s %11s %11s %7s\n' "$kind" "$ra" "$rb" \
	    "$qm" "$qmed" "$ca" "$cb" "$qc"
	awk -v m="$qmed" -v c="$qc" -v t="$TARGET" 'BEGIN {
		printf "          cost of sealing: %.1f%% of throughput (median of rounds), %.1f%% of CPU per request; target < %.0f%%\n",
		    (1 - m) * 100, (1 - c) * 100, (1 - t) * 100 }'
	if [ "$ENFORCE" = 1 ] && awk -v m="$qmed" -v t="$TARGET" \
	    'BEGIN { exit !(m < t) }'; then
		fail "$kind: median A/B under $TARGET"
	fi
done
echo "  load average (1, 5, 15 min) before: $LOAD0; after: $LOAD1 on $NCPU CPUs"
echo "  (a shared or busy machine blurs throughput more than CPU per request: compare the rounds above)"
[ "$FAILED" = 0 ] || exit 1
