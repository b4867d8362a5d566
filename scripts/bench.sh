#!/usr/bin/env bash
# bench.sh - `make bench`: intake throughput of nrmd against pgbench
# running the same SQL on the same database, side by side.
#
#   BENCH_SECONDS=20   length of each measured run
#   BENCH_WARMUP=3     seconds of untimed warm-up of each side first
#   BENCH_ENFORCE=1    also exit non-zero when the mean ratio < 0.7
#   BENCH_POOL=N       nrmd's db_pool_size (default nrmd's own, 2 x
#                      CPUs + 1; other values are for diagnosis)
#
# Set-up (scripts/bench-lib.sh, shared with bench-inbox.sh and
# bench-audit.sh): scripts/deps.sh, make, a throwaway cluster
# (scripts/pg.sh) in a mktemp directory under /tmp on a free port,
# migrations, one reporter key, a pseudonym key, and bin/nrmd on a free
# loopback port (plain HTTP only, log_level warn, db_pool_size as nrmd's default).
#
# Each round runs, one after the other on the same database:
#   intake   wrk -t2 -c16 with bench/intake.lua: POST /v1/signals with
#            bench/body.json and a unique Idempotency-Key per request
#   pgbench  pgbench -j2 -c16 -M prepared with bench/intake.pgbench:
#            the statement nrmd runs for that request
#            (SELECT api.intake($1..$9)) as nrm_app, with the parameter
#            values nrmd sends (captured once from the database's
#            statement log by bench/params.py) and a unique key per
#            transaction
#   floor    pgbench -j2 -c16 -M prepared with bench/floor_intake.pgbench
#            as the superuser: a signal, a case and an audit row in one
#            durable transaction on a plain schema (bench/floor.sql), the
#            physical limit issue 16 measures nrmd against (target
#            intake req/s / floor tps >= 0.5, reported, not enforced)
# Round 1 runs intake, pgbench, floor; round 2 the reverse, after a
# short warm-up of each.  Autovacuum is off while runs are measured, and
# each run starts after VACUUM ANALYZE and a CHECKPOINT (bench_settle,
# scripts/bench-lib.sh).  Then, for diagnosis, pgbench with as many clients as
# nrmd has database connections (half as long).
#
# Checks (any failure: exit status 1): every wrk answer is 201, no socket
# errors, no failed pgbench transaction, each run stored as many new
# signals as it counted (an idempotent replay answers 201 too), and every
# stored signal holds the same content whichever side wrote it.
#
# Output: one line per run, then a table (req/s, tps, ratio, p50/p99 of
# both, mean ratio against the 0.7 target) and the CPU seconds nrmd, the
# cluster, the load generator and everything else used in each run, from
# /proc.  A machine that is not idle disturbs the comparison; the script
# says so when it sees it.  About two minutes with the defaults.
#
# The cluster and everything else live in the mktemp directory, which
# is stopped and removed on every exit, Ctrl-C included.
set -euo pipefail

cd "$(dirname "$0")/.."

SECS=${BENCH_SECONDS:-20}
TARGET=0.7

BENCH_NAME=bench.sh
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
bench_check_ints SECS

bench_init bench

# ---------------------------------------------------------------------
# set-up

bench_cluster
bench_migrate
bench_floor_setup
TOKEN=$(bench_key --role reporter --agency bench --agency-kind police)
TOKEN_HASH="\\x$(printf '%s' "$TOKEN" | sha256sum | cut -c1-64)"
bench_nrmd_conf "$TMP/nrmd.conf" </dev/null

bench_intake_capture

# The nrmd that is measured: new sessions, nothing logged.
start_nrmd
post bench-first
say "nrmd pid $NRMD_PID on $URL (db_pool_size = $POOL, log_level warn)"

# ---------------------------------------------------------------------
# the two sides

# The floor: the same facts, stored with nothing of nrm around them.
FLOOR_SCRIPT=bench/floor_intake.pgbench
FLOOR_DEFS=(-D "facts=$(cat "$TMP/params/6")")


n_signals() {
	sql "SELECT count(*) FROM intake.signal"
}

# run_intake TAG SECONDS -> sets I_RPS I_P50 I_P99 I_N I_CPU
run_intake() {
	local tag=$1 secs=$2 out=$TMP/wrk-$1.out before after n0 rows
	n0=$(n_signals)
	before=$(snapshot)
	BENCH_TOKEN=$TOKEN run_bg wrk -t "$THREADS" -c "$CONNS" -d "${secs}s" \
	    -s bench/intake.lua "$URL" -- "$tag" bench/body.json \
	    >"$out" 2>&1 || true
	after=$(snapshot)
	wrk_result "$out" "$tag" non201
	rows=$(($(n_signals) - n0))
	I_CPU=$(cpu_report "$before" "$after" "$I_N")
	say "intake $tag: $I_N requests, $I_RPS req/s, p50 $I_P50 ms, p99 $I_P99 ms, non-201 $I_BAD, socket errors $I_ERRS, new signals $rows"
	intake_check "$out" "intake $tag" "$rows"
}

# run_pgbench TAG DIGIT SECONDS [CLIENTS] -> sets P_TPS P_P50 P_P99 P_N
# P_CPU (bench_pgbench), and checks that every transaction stored a new
# signal: a 4xx answer ({"status": 409, ...}) is a normal result row to
# pgbench.
run_pgbench() {
	local tag=$1 n0 rows
	n0=$(n_signals)
	bench_pgbench "$1" "$2" "$3" "${4:-$CONNS}"
	rows=$(($(n_signals) - n0))
	say "pgbench $tag (${4:-$CONNS} clients): $P_N transactions, $P_TPS tps, p50 $P_P50 ms, p99 $P_P99 ms, failed $P_FAILED, new signals $rows"
	if [ "$rows" -lt "$P_N" ]; then
		fail "pgbench $tag: $P_N transactions but only $rows new signals"
	fi
}

# ---------------------------------------------------------------------
# warm-up, then two rounds in opposite orders

bench_idle_check

bench_rounds intake run_intake
bench_summary_rounds intake

# ---------------------------------------------------------------------
# same content whichever side wrote it

say "checking that both sides stored the same content"
same=$(sql "
WITH t AS (
	SELECT CASE WHEN s.request_id ~ '^[0-9]+\$' THEN 'pgbench'
		ELSE 'nrmd' END AS side,
	    md5(row(s.observed_at, s.agency_id, s.api_key_id,
		s.municipality_code, s.region_code, s.rule_id,
		s.ruleset_version, s.reporter_reference, s.minor,
		s.age_estimate, s.gender, s.nationality, s.languages,
		s.exploitation, s.control_means, s.immediate_danger,
		s.needs_shelter, s.consent, s.notification_only,
		sub.given_name, sub.family_name, sub.birth_date, sub.phone,
		sub.address, sub.narrative, sub.pseudonym,
		c.region_code, c.priority, c.state, c.version, c.rule_id,
		c.ruleset_version, c.explanation, c.take_by - c.created_at,
		c.first_contact_by - c.created_at, i.request_hash, i.status,
		a.client_addr, a.outcome)::text) AS h
	FROM intake.signal s
	JOIN care.subject sub ON sub.signal_id = s.id
	JOIN care.\"case\" c ON c.signal_id = s.id
	JOIN intake.idempotency i ON i.response->'body'->>'signal_id' = s.id::text
	JOIN audit.event a ON a.action = 'signal.create'
	    AND a.object_id = s.id::text
)
SELECT count(*) FILTER (WHERE side = 'nrmd') || ' ' ||
    count(*) FILTER (WHERE side = 'pgbench') || ' ' ||
    count(DISTINCT h) || ' ' || (SELECT count(*) FROM intake.signal)
FROM t")
read -r n_nrmd n_pgb n_distinct n_all <<<"$same"
say "signals: $n_nrmd by nrmd, $n_pgb by pgbench, $n_all in all; distinct contents: $n_distinct"
if [ "$n_distinct" != 1 ] || [ $((n_nrmd + n_pgb)) != "$n_all" ]; then
	fail "the two sides did not store the same content"
fi
stop_nrmd
bench_nrmd_log_report

# ---------------------------------------------------------------------
# the table

mean=$(awk -v a="${R_I_RPS[1]}" -v b="${R_P_TPS[1]}" -v c="${R_I_RPS[2]}" \
    -v d="${R_P_TPS[2]}" 'BEGIN { printf "%.2f", (a / b + c / d) / 2 }')
echo
printf 'nrm intake benchmark: %s s per run, %d connections, %d threads, nrmd db_pool_size = %d, pgbench -M prepared, %d CPUs\n' \
    "$SECS" "$CONNS" "$THREADS" "$POOL" "$NCPU"
printf '%-6s %-24s %12s %12s %6s %10s %6s %18s %19s %17s\n' round order \
    'intake req/s' 'pgbench tps' ratio 'floor tps' /floor \
    'intake p50/p99 ms' 'pgbench p50/p99 ms' 'floor p50/p99 ms'
for round in 1 2; do
	ratio=$(awk -v a="${R_I_RPS[round]}" -v b="${R_P_TPS[round]}" \
	    'BEGIN { printf "%.2f", a / b }')
	fratio=$(awk -v a="${R_I_RPS[round]}" -v b="${R_F_TPS[round]}" \
	    'BEGIN { printf "%.2f", a / b }')
	printf '%-6s %-24s %12s %12s %6s %10s %6s %18s %19s %17s\n' "$round" \
	    "${R_ORDER[round]}" "${R_I_RPS[round]}" "${R_P_TPS[round]}" \
	    "$ratio" "${R_F_TPS[round]}" "$fratio" "${R_I_LAT[round]}" \
	    "${R_P_LAT[round]}" "${R_F_LAT[round]}"
done
fmean=$(awk -v a="${R_I_RPS[1]}" -v b="${R_F_TPS[1]}" -v c="${R_I_RPS[2]}" \
    -v d="${R_F_TPS[2]}" 'BEGIN { printf "%.2f", (a / b + c / d) / 2 }')
printf '%-6s %-24s %12s %12s %6s %10s %6s\n' mean '' '' '' "$mean" '' "$fmean"
printf '\nfloor = pgbench running bench/floor_intake.pgbench: a signal, a case and an\n'
printf 'audit row in one durable transaction with nothing of nrm around them (issue\n'
printf '16: target intake req/s / floor tps >= 0.5; now %s, reported, not enforced)\n' \
    "$fmean"
if [ -n "${D_TPS:-}" ]; then
	mean_i=$(awk -v a="${R_I_RPS[1]}" -v b="${R_I_RPS[2]}" \
	    'BEGIN { printf "%.1f", (a + b) / 2 }')
	printf '\ndiagnosis: pgbench with %d clients (= db_pool_size): %s tps, p50/p99 %s ms;\n' \
	    "$POOL" "$D_TPS" "$D_LAT"
	printf '  mean intake req/s / that = %s (what HTTP, nrmd and wrk cost at equal database concurrency)\n' \
	    "$(awk -v a="$mean_i" -v b="$D_TPS" 'BEGIN { printf "%.2f", a / b }')"
fi
echo
echo "CPU seconds used during each run (user+system), and per request/transaction:"
cpu_rounds intake
echo "(loadgen = wrk or pgbench itself; other = every other process;"
echo " machine % = busy share of all $NCPU CPUs; us/op = CPU microseconds per"
echo " request or transaction)"
if bench_disturbed "$MAX_OTHER"; then
	echo "WARNING: other processes used up to ${MAX_OTHER} CPU s in a run:" \
	    "the machine was not idle, the numbers are disturbed"
fi
echo
bench_target "$(awk -v m="$mean" -v t="$TARGET" 'BEGIN { print (m >= t) }')" \
    "mean ratio $mean >= $TARGET" "mean ratio $mean < $TARGET"
bench_finish
