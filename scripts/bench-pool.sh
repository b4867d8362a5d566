#!/usr/bin/env bash
# bench-pool.sh - `make bench-pool`: nrmd with a pool of BENCH_POOL_A
# connections (default 4, the old fixed default) against nrmd with its
# default pool, 2 x the online CPUs + 1 (issue 16; docs/operations.md,
# "Sizing the pool"), side by side on one cluster.
#
#   BENCH_SECONDS=10   length of each measured run
#   BENCH_ROUNDS=2     rounds; each runs both pools (A then B)
#   BENCH_WARMUP=3     seconds of untimed warm-up before each side's runs
#   BENCH_POOL_A=4     side A's db_pool_size
#
# Set-up (scripts/bench-lib.sh): a throwaway cluster, migrations, a
# reporter key and a coordinator key of VR13 (where bench/body.json
# routes); one configuration (bench_nrmd_conf), side A with
# db_pool_size = BENCH_POOL_A, side B without the key (nrmd's default;
# its start-up line says which value it took).  Each round runs A then B
# (scripts/bench-ab.sh): intake (POST /v1/signals) and case reads (GET
# /v1/cases/{id}), wrk -t2 -c16.  Checks (exit 1): every intake 201,
# every read 200, no socket errors, side B's pool is the formula's.
# Output: one line per run, then the mean req/s per side and kind, A/B,
# each round's p50/p99, and the load average before and after.
set -euo pipefail

cd "$(dirname "$0")/.."

SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-2}
POOL_A=${BENCH_POOL_A:-4}
READ_SET=64

BENCH_NAME=bench-pool.sh
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
bench_check_ints SECS ROUNDS POOL_A

bench_init pool
# shellcheck source=scripts/bench-ab.sh
. scripts/bench-ab.sh
bench_ab_setup
grep -v '^db_pool_size' "$TMP/nrmd.conf" >"$TMP/nrmd-B.conf"
sed "s/^db_pool_size = .*/db_pool_size = $POOL_A/" "$TMP/nrmd.conf" \
    >"$TMP/nrmd-A.conf"
CPUS=$(getconf _NPROCESSORS_ONLN)
POOL_B=$((2 * CPUS + 1 > 64 ? 64 : 2 * CPUS + 1))

# ab_use A|B: which configuration start_nrmd runs
ab_use() {
	NRMD_CONF=$TMP/nrmd-$1.conf
}

# Side B's pool is the formula's: nrmd says so on /metrics.
ab_use B
start_nrmd
got=$(curl -fsS "$URL/metrics" | sed -n 's/^nrm_db_pool_size //p')
stop_nrmd
[ "$got" = "$POOL_B" ] ||
	die "nrmd's default pool is $got, not 2 x $CPUS + 1 = $POOL_B"

AB_TAG=pool
bench_ab

echo
echo "bench-pool: A = db_pool_size $POOL_A, B = nrmd's default, 2 x $CPUS CPUs + 1 = $POOL_B,"
echo "  $ROUNDS rounds of ${SECS} s each, A and B alternated, wrk -t$THREADS -c$CONNS"
bench_ab_table
[ "$FAILED" = 0 ] || exit 1
