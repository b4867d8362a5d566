# shellcheck shell=bash
# bench-ab.sh - two sides of one nrmd set-up, alternated round by round on
# the same cluster (scripts/bench-seal.sh: with and without sealing;
# scripts/bench-pool.sh: two pool sizes).  Sourced after bench-lib.sh's
# bench_init, never run.
#
# bench_ab_setup makes a cluster (migrated), TOKEN (a reporter's key),
# COORD (a coordinator's of VR13, where bench/body.json routes) and
# nrmd's configuration $TMP/nrmd.conf (bench_nrmd_conf).  The sourcing
# script sets SECS, ROUNDS, READ_SET,
# AB_TAG (a word unique to the script, in the Idempotency-Keys) and
# defines ab_use A|B (what start_nrmd then starts: NRMD_BIN, NRMD_CONF,
# the environment).  bench_ab then:
#   - lets each side store READ_SET signals of its own (bench/body.json),
#     the case ids it reads (a side may open only what it sealed), then
#     turns autovacuum off (ALTER SYSTEM: the cluster is the bench's own);
#   - runs ROUNDS rounds, A then B in odd rounds and B then A in even
#     ones, each side on a fresh nrmd: an
#     untimed warm-up of WARM s of intake, then
#       intake  wrk -t2 -c16 with bench/intake.lua (POST /v1/signals, a
#               new Idempotency-Key each), every answer 201
#       read    wrk -t2 -c16 with bench/case_read.lua (GET /v1/cases/{id}
#               round-robin over the side's ids), every answer 200
#   - fails (fail) on an unexpected answer or a socket error;
#   - starts every measured run right after VACUUM ANALYZE and a
#     CHECKPOINT, so that no run pays for another's dead rows or
#     full-page writes, nor for an autovacuum pass that happens to fall
#     in it, and takes the CPU time of
#     nrmd and PostgreSQL around it (bench-lib.sh's snapshot);
#   - sets AB_RPS[kind-side] (mean req/s over the rounds),
#     AB_LAT[kind-side] (the rounds' "p50/p99" ms), AB_CPU[kind-side]
#     (mean microseconds of CPU of nrmd and PostgreSQL per request: the
#     machine's other load does not count in it) and AB_MED[kind] (the
#     median of the rounds' own A/B ratios: a round's two sides ran
#     minutes apart, the rounds hours of drift apart), and prints the
#     table (bench_ab_table), with the load average before and after
#     (LOAD0, LOAD1: a shared machine blurs throughput).

bench_ab_setup() {
	bench_cluster
	bench_migrate
	TOKEN=$(bench_key --role reporter --agency bench --agency-kind police)
	COORD=$(bench_key --role coordinator --agency bench-care \
	    --agency-kind care_agency --region VR13)
	bench_nrmd_conf "$TMP/nrmd.conf" </dev/null
}

# ab_run KIND SIDE ROUND -> RPS, CPU (us of nrmd + PostgreSQL a request)
ab_run() {
	local kind=$1 b=$2 r=$3 out=$TMP/wrk-$1-$2-$3.out bad before after
	bench_settle
	before=$(snapshot)
	if [ "$kind" = intake ]; then
		BENCH_TOKEN=$TOKEN run_bg wrk -t "$THREADS" -c "$CONNS" \
		    -d "${SECS}s" -s bench/intake.lua "$URL" -- \
		    "$AB_TAG-$b-$r" bench/body.json >"$out" 2>&1 || true
		bad=non201
	else
		BENCH_TOKEN=$COORD run_bg wrk -t "$THREADS" -c "$CONNS" \
		    -d "${SECS}s" -s bench/case_read.lua "$URL" -- \
		    "$TMP/ids-$b" >"$out" 2>&1 || true
		bad=non200
	fi
	after=$(snapshot)
	wrk_result "$out" "$kind $b $r" "$bad"
	CPU=$(cpu_report "$before" "$after" "$I_N" | awk '{ print $6 + $7 }')
	say "round $r $b $kind: $I_N requests, $I_RPS req/s, p50 $I_P50 ms, p99 $I_P99 ms, $CPU us CPU/request, $bad $I_BAD, socket errors $I_ERRS"
	if [ "$I_BAD" != 0 ] || [ "$I_ERRS" != 0 ]; then
		grep '^BENCH_WRK_FIRST_BAD' "$out" >&2 || true
		fail "$kind on $b, round $r: $I_BAD unexpected answers, $I_ERRS socket errors"
	fi
	RPS=$I_RPS
}

declare -A AB_RPS AB_LAT AB_CPU AB_MED
bench_ab() {
	local b i r kind saved
	LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
	for b in A B; do
		ab_use "$b"
		start_nrmd
		: >"$TMP/ids-$b"
		for i in $(seq 1 "$READ_SET"); do
			post "$AB_TAG-set-$b-$i"
			python3 -c 'import json,sys; print(json.load(sys.stdin)["case_id"])' \
			    <"$TMP/post.out" >>"$TMP/ids-$b"
		done
		stop_nrmd
	done
	# Autovacuum off while the runs are measured, each run settled
	# first (bench_autovacuum_off, bench_settle: scripts/bench-lib.sh).
	bench_autovacuum_off
	for kind in intake read; do
		for b in A B; do
			AB_RPS[$kind-$b]=0
			AB_CPU[$kind-$b]=0
			AB_LAT[$kind-$b]=
			: >"$TMP/ab-rps-$kind-$b"
		done
	done
	for r in $(seq 1 "$ROUNDS"); do
		# odd rounds A then B, even rounds B then A
		for b in $( ((r % 2)) && echo A B || echo B A); do
			ab_use "$b"
			start_nrmd
			if [ "$WARM" -gt 0 ]; then
				saved=$SECS
				SECS=$WARM
				ab_run intake "$b" "warm$r" >/dev/null 2>&1 || true
				SECS=$saved
			fi
			for kind in intake read; do
				ab_run "$kind" "$b" "$r"
				AB_RPS[$kind-$b]=$(awk -v s="${AB_RPS[$kind-$b]}" \
				    -v x="$RPS" -v n="$ROUNDS" \
				    'BEGIN { print s + x / n }')
				AB_CPU[$kind-$b]=$(awk -v s="${AB_CPU[$kind-$b]}" \
				    -v x="$CPU" -v n="$ROUNDS" \
				    'BEGIN { print s + x / n }')
				AB_LAT[$kind-$b]+="${AB_LAT[$kind-$b]:+, }$I_P50/$I_P99"
				echo "$RPS" >>"$TMP/ab-rps-$kind-$b"
			done
			stop_nrmd
		done
	done
	LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
	for kind in intake read; do
		# shellcheck disable=SC2016 # awk's own fields
		AB_MED[$kind]=$(paste -d' ' "$TMP/ab-rps-$kind-A" \
		    "$TMP/ab-rps-$kind-B" | awk '{ n++; q[n] = $2 > 0 ? $1 / $2 : 0 }
		END {
			for (i = 2; i <= n; i++) {
				v = q[i]
				for (j = i - 1; j >= 1 && q[j] > v; j--)
					q[j + 1] = q[j]
				q[j + 1] = v
			}
			printf "%.3f\n", n % 2 ? q[(n + 1) / 2] \
			    : (q[n / 2] + q[n / 2 + 1]) / 2
		}')
	done
}

# bench_ab_table: per kind the mean req/s of A and B, A/B, the median of
# the rounds' A/B, the CPU of nrmd and PostgreSQL per request of each
# and B/A, then each round's p50/p99 (ms).
bench_ab_table() {
	local kind
	printf '  %-7s %9s %9s %7s %8s %9s %9s %7s\n' kind "A req/s" \
	    "B req/s" "A/B" "median" "A us CPU" "B us CPU" "B/A"
	for kind in intake read; do
		awk -v k="$kind" -v a="${AB_RPS[$kind-A]}" \
		    -v b="${AB_RPS[$kind-B]}" -v m="${AB_MED[$kind]}" \
		    -v ca="${AB_CPU[$kind-A]}" -v cb="${AB_CPU[$kind-B]}" 'BEGIN {
			printf "  %-7s %9.1f %9.1f %7.3f %8.3f %9.0f %9.0f %7.3f\n",
			    k, a, b, (b > 0 ? a / b : 0), m, ca, cb,
			    (ca > 0 ? cb / ca : 0) }'
	done
	echo "  (median: of the rounds' own A/B; CPU: microseconds of nrmd and PostgreSQL per request)"
	for kind in intake read; do
		echo "  $kind p50/p99 ms per round: A ${AB_LAT[$kind-A]}; B ${AB_LAT[$kind-B]}"
	done
	echo "  load average (1, 5, 15 min) before: $LOAD0; after: $LOAD1 on $NCPU CPUs"
	echo "  (a shared or busy machine blurs throughput more than CPU per request: compare the rounds above)"
}
