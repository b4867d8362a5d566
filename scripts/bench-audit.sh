#!/usr/bin/env bash
# bench-audit.sh - what the audit hash chain costs intake (issue 6: at
# most 10% of intake throughput).  Part of `make bench`, after
# scripts/bench.sh and bench-inbox.sh; also alone.
#
#   BENCH_SECONDS=10       length of each measured run (bench.sh reads it
#                          too; its default there is 20)
#   BENCH_WARMUP=3         seconds of untimed warm-up of each mode first
#   BENCH_AUDIT_BLOCKS=4   blocks of four runs (see below)
#   BENCH_POOL=N           nrmd's db_pool_size (default 2 x CPUs + 1)
#   BENCH_ENFORCE=1        also exit non-zero when the cost is above 10%
#
# Set-up (scripts/bench-lib.sh, as bench.sh): scripts/deps.sh, make, a
# throwaway cluster in a mktemp directory under /tmp on a free port,
# with track_functions = 'pl' (for the time spent in audit.seal and
# audit.enqueue, from pg_stat_user_functions; it costs every run alike),
# migrations, one reporter key, a pseudonym key, an Ed25519 checkpoint
# key (nrmctl audit keygen), and bin/nrmd on a free loopback port (plain
# HTTP, log_level warn, db_pool_size 2 x CPUs + 1, audit_seal_interval 1: the
# default; checkpoints every 60 s into $TMP, the default interval).
#
# The load is bench.sh's: wrk -t2 -c16 with bench/intake.lua, POST
# /v1/signals with bench/body.json and a unique Idempotency-Key per
# request, against that one nrmd.  Each run uses one of two modes:
#
#   chain on    as deployed: the AFTER INSERT trigger event_enqueue on
#               audit.event queues every new event in audit.unsealed (in
#               the inserting transaction), and nrmd's sealer
#               (api.audit_seal, every audit_seal_interval = 1 s, in
#               batches of up to 5,000) chains them into audit.chain
#               while the load runs.  After the run the script waits
#               until audit.unsealed is empty (the catch-up).
#   chain off   the same, with the queueing switched off by the database
#               owner for the run:
#                   ALTER TABLE audit.event DISABLE TRIGGER event_enqueue
#               (and ENABLE TRIGGER before every "on" run and at the
#               end).  Events are still written, in the same
#               transactions; nothing is queued, so the sealer (still
#               called every second) finds nothing and chains nothing.
#               This is the "config that skips chaining" of the issue:
#               no build without the chain is needed, and nothing else
#               changes between the modes.
#
# Before every run, untimed: VACUUM (ANALYZE) and CHECKPOINT, so that no
# run inherits the dead rows, statistics or dirty buffers of the one
# before (autovacuum stays on; the chain's own dead rows, a queue row
# per event, are vacuumed there too, a cost far below the noise).
#
# The modes alternate in blocks of four runs, on off off on (ABBA), the
# even blocks off on on off, so that a drift of the machine (other work,
# the tables growing) falls on both modes alike; many short runs pair
# better than a few long ones on a shared machine.  Before the blocks: a
# warm-up of each mode.  Each block's cost is 1 - (mean req/s of its
# two "on" runs) / (mean req/s of its two "off" runs), in percent; the
# result is the mean over the blocks (with its standard error, the
# noise), target <= 10%.  A second opinion that other work on the
# machine disturbs less: the CPU nrmd and the cluster spent per request
# in each mode (from /proc, sealing included).
#
# Checks (any failure: exit status 1): every answer 201, no socket
# errors, as many new signals as 201s; every run wrote exactly K audit
# events per new signal (K measured on one request before the runs, the
# actions shown); in an "on" run every event was chained or is still
# queued, in an "off" run nothing was queued or chained; over the
# blocks audit.enqueue ran exactly once per event of the "on" runs (so
# never in an "off" one); the queue empties after every "on" run
# (within 120 s).  At the end:
#   1. the events of the "off" runs are neither chained nor queued:
#      nrmctl audit verify must say so (exit 1, "unchained event", with
#      exactly their number): that is what verify reports for an event
#      that was never queued;
#   2. back-fill, as the owner:
#          INSERT INTO audit.unsealed (event_id) SELECT id FROM
#          audit.event e WHERE NOT EXISTS (chained) AND NOT EXISTS
#          (queued)
#      (exactly what migration 0005 does for events older than the
#      chain); nrmd's sealer chains them at later positions (positions
#      follow sealing order, docs/audit.md); the time until the queue
#      is empty and the cluster's CPU meanwhile give the sealer's rate
#      and its CPU per event with nothing else running;
#   3. nrmctl audit verify --checkpoints (nrmd's file) --public-key must
#      say "intact", with every event chained.
#
# Output: one line per run, then a table per block (req/s, p50/p99,
# events, queue left at the end of the run and catch-up time), the cost
# per block and its mean against the 10% target, the sealer's figures
# (time in audit.seal and audit.enqueue, back-fill rate and CPU per
# event), and the CPU seconds per run from /proc.  A machine that is not
# idle disturbs the figures; the script says so when it sees it.  About
# 4 minutes with the defaults.
#
# Everything lives in the mktemp directory, stopped and removed on every
# exit, Ctrl-C included.
set -euo pipefail

cd "$(dirname "$0")/.."

SECS=${BENCH_SECONDS:-10}
BLOCKS=${BENCH_AUDIT_BLOCKS:-4}
TARGET=10 # percent
CATCHUP_MAX=120

BENCH_NAME=bench-audit.sh
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
bench_check_ints SECS BLOCKS

bench_init bench-audit

# ---------------------------------------------------------------------
# set-up

bench_cluster
sql "ALTER SYSTEM SET track_functions = 'pl'" >/dev/null
sql "SELECT pg_reload_conf()" >/dev/null
bench_migrate
TOKEN=$(bench_key --role reporter --agency bench --agency-kind police)
bin/nrmctl audit keygen --out "$TMP/audit.pem" >"$TMP/audit.pub"
bench_nrmd_conf "$TMP/nrmd.conf" <<EOF
audit_seal_interval = 1
audit_signing_key_file = $TMP/audit.pem
audit_checkpoint_file = $TMP/checkpoints.jsonl
EOF
[ "$(sql "SHOW track_functions")" = pl ] ||
	die "track_functions did not take effect"

owner_sql() { # SQL as the database owner (nrm_owner)
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$NRM_OWNER_URL" \
	    -c "$1"
}

now() { date +%s.%N; }

# set_chain on|off: enable or disable the queueing trigger, as the owner.
set_chain() {
	local verb=ENABLE want=O
	if [ "$1" = off ]; then
		verb=DISABLE want=D
	fi
	owner_sql "ALTER TABLE audit.event $verb TRIGGER event_enqueue" \
	    >/dev/null
	[ "$(sql "SELECT tgenabled FROM pg_trigger
	    WHERE tgrelid = 'audit.event'::regclass
	      AND tgname = 'event_enqueue'")" = "$want" ] ||
		die "could not switch event_enqueue $1"
}

# counters -> "signals events chained queued", in one statement (one
# snapshot).
counters() {
	sql "SELECT (SELECT count(*) FROM intake.signal) || ' ' ||
	    (SELECT count(*) FROM audit.event) || ' ' ||
	    (SELECT count(*) FROM audit.chain) || ' ' ||
	    (SELECT count(*) FROM audit.unsealed)"
}

# fn_stats -> "seal_calls seal_ms enqueue_calls enqueue_ms" from
# pg_stat_user_functions (track_functions = pl).  A backend publishes its
# function statistics at most once a second, and an idle one only 10 s
# after it last did (PostgreSQL 15's PGSTAT_IDLE_INTERVAL): so they are
# read only around all the blocks, each time after 11 s of quiet.
fn_stats() {
	sleep 11
	sql "SELECT coalesce((SELECT calls || ' ' || round(total_time::numeric, 3)
	        FROM pg_stat_user_functions
	        WHERE funcid = 'audit.seal(integer)'::regprocedure), '0 0')
	    || ' ' ||
	    coalesce((SELECT calls || ' ' || round(total_time::numeric, 3)
	        FROM pg_stat_user_functions
	        WHERE funcid = 'audit.enqueue()'::regprocedure), '0 0')"
}

# wait_sealed -> W_LEFT (queued when called) W_SECS (until empty).
wait_sealed() {
	local t0 n
	t0=$(now)
	W_LEFT=$(sql "SELECT count(*) FROM audit.unsealed")
	n=$W_LEFT
	while [ "$n" != 0 ]; do
		if awk -v a="$t0" -v b="$(now)" -v m="$CATCHUP_MAX" \
		    'BEGIN { exit !(b - a > m) }'; then
			die "the sealer did not empty audit.unsealed within $CATCHUP_MAX s ($n left)"
		fi
		sleep 0.1
		n=$(sql "SELECT count(*) FROM audit.unsealed")
	done
	W_SECS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
}

start_nrmd
say "nrmd pid $NRMD_PID on $URL (db_pool_size = $POOL, audit_seal_interval 1 s)"

# K: the audit events one intake writes.
wait_sealed
e0=$(sql "SELECT coalesce(max(id), 0) FROM audit.event")
post bench-first
K=$(sql "SELECT count(*) FROM audit.event WHERE id > $e0")
ACTIONS=$(sql "SELECT string_agg(action || '/' || outcome, ' ' ORDER BY id)
    FROM audit.event WHERE id > $e0")
say "one intake writes $K audit event(s): $ACTIONS"
[ "$K" -ge 1 ] || die "an intake wrote no audit event"

# ---------------------------------------------------------------------
# one run

OFF_EVENTS=0

# run TAG MODE SECONDS -> I_RPS I_P50 I_P99 I_N I_CPU I_LEFT I_CATCH
#   I_EVENTS
run() {
	local tag=$1 mode=$2 secs=$3 out=$TMP/wrk-$1.out before after
	local s0 e0 c0 u0 s1 e1 c1 u1 rows chained queued
	wait_sealed
	set_chain "$mode"
	# Every run starts alike: no dead rows or dirty buffers of the one
	# before (autovacuum stays on, as deployed).
	sql "VACUUM (ANALYZE)" >/dev/null
	sql "CHECKPOINT" >/dev/null
	read -r s0 e0 c0 u0 <<<"$(counters)"
	before=$(snapshot)
	BENCH_TOKEN=$TOKEN run_bg wrk -t "$THREADS" -c "$CONNS" -d "${secs}s" \
	    -s bench/intake.lua "$URL" -- "$tag" bench/body.json \
	    >"$out" 2>&1 || true
	I_LEFT=- I_CATCH=-
	if [ "$mode" = on ]; then
		wait_sealed
		I_LEFT=$W_LEFT I_CATCH=$W_SECS
	fi
	after=$(snapshot)
	sleep 1 # requests in flight when wrk stopped finish
	read -r s1 e1 c1 u1 <<<"$(counters)"
	wrk_result "$out" "$tag" non201
	rows=$((s1 - s0))
	I_EVENTS=$((e1 - e0))
	chained=$((c1 - c0))
	queued=$((u1 - u0))
	I_CPU=$(cpu_report "$before" "$after" "$I_N")
	local extra="nothing queued or chained"
	if [ "$mode" = on ]; then
		extra="queued at the end $I_LEFT, caught up in $I_CATCH s"
	fi
	say "$tag chain $mode: $I_N requests, $I_RPS req/s, p50 $I_P50 ms, p99 $I_P99 ms, non-201 $I_BAD, socket errors $I_ERRS, new signals $rows, audit events $I_EVENTS, $extra"
	intake_check "$out" "$tag" "$rows"
	if [ "$I_EVENTS" != $((K * rows)) ]; then
		fail "$tag: $rows new signals wrote $I_EVENTS audit events, not $((K * rows))"
	fi
	if [ "$mode" = on ]; then
		[ $((chained + queued)) = "$I_EVENTS" ] ||
			fail "$tag: $I_EVENTS events, but $chained chained and $queued queued"
	else
		if [ "$chained" != 0 ] || [ "$queued" != 0 ]; then
			fail "$tag: chain off, yet $chained chained and $queued queued"
		fi
		OFF_EVENTS=$((OFF_EVENTS + I_EVENTS))
	fi
}

# ---------------------------------------------------------------------
# warm-up, then the blocks

bench_idle_check

if [ "$WARM" -gt 0 ]; then
	say "warm-up: $WARM s of each mode"
	run w-on on "$WARM"
	run w-off off "$WARM"
fi

say "function statistics before the blocks (after 11 s of quiet)"
read -r sc0 sm0 ec0 em0 <<<"$(fn_stats)"

declare -a R_MODE R_BLOCK R_RPS R_LAT R_CPU R_LEFT R_CATCH R_EVENTS
i=0
for block in $(seq 1 "$BLOCKS"); do
	if [ $((block % 2)) = 1 ]; then
		order="on off off on"
	else
		order="off on on off"
	fi
	say "block $block: $order, $SECS s each, $CONNS connections, $THREADS threads"
	for mode in $order; do
		i=$((i + 1))
		run "b$block-r$i-$mode" "$mode" "$SECS"
		R_MODE[i]=$mode
		R_BLOCK[i]=$block
		R_RPS[i]=$I_RPS
		R_LAT[i]="$I_P50 / $I_P99"
		R_CPU[i]=$I_CPU
		R_LEFT[i]=$I_LEFT
		R_CATCH[i]=$I_CATCH
		R_EVENTS[i]=$I_EVENTS
	done
done
NRUNS=$i

# ---------------------------------------------------------------------
# the events of the "off" runs, verify, back-fill, verify

set_chain on
wait_sealed
say "function statistics after the blocks (after 11 s of quiet)"
read -r sc1 sm1 ec1 em1 <<<"$(fn_stats)"
# Every event of an "on" run queued once, none of an "off" run.
ON_EVENTS=0
for j in $(seq 1 "$NRUNS"); do
	[ "${R_MODE[j]}" = off ] || ON_EVENTS=$((ON_EVENTS + R_EVENTS[j]))
done
[ $((ec1 - ec0)) = "$ON_EVENTS" ] ||
	fail "audit.enqueue ran $((ec1 - ec0)) times in the blocks, for $ON_EVENTS events of the on runs"

UNCHAINED=$(sql "SELECT count(*) FROM audit.event e
    WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = e.id)
      AND NOT EXISTS (SELECT 1 FROM audit.unsealed u WHERE u.event_id = e.id)")
say "events neither chained nor queued: $UNCHAINED (written by the off runs: $OFF_EVENTS)"
[ "$UNCHAINED" = "$OFF_EVENTS" ] ||
	fail "$UNCHAINED unchained events, but the off runs wrote $OFF_EVENTS"

verify() { # -> V_OUT, V_RC
	V_RC=0
	V_OUT=$(NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl audit verify "$@" \
	    2>&1) || V_RC=$?
	indent <<<"$V_OUT" >&2
}

say "nrmctl audit verify before the back-fill (expected: unchained event)"
verify
if [ "$UNCHAINED" -gt 0 ]; then
	if [ "$V_RC" != 1 ] ||
	    [[ $V_OUT != *"$UNCHAINED such event(s) (unchained event)"* ]]; then
		fail "verify did not report the $UNCHAINED unchained events (exit $V_RC)"
	fi
fi

say "back-fill: queueing the $UNCHAINED events of the off runs (as the owner)"
before=$(snapshot)
t0=$(now)
B_N=$(owner_sql "WITH q AS (
    INSERT INTO audit.unsealed (event_id)
    SELECT e.id FROM audit.event e
    WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.event_id = e.id)
      AND NOT EXISTS (SELECT 1 FROM audit.unsealed u WHERE u.event_id = e.id)
    RETURNING 1)
SELECT count(*) FROM q")
wait_sealed
after=$(snapshot)
B_SECS=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
B_CPU=$(cpu_report "$before" "$after" "$B_N")
read -r _ B_PG _ _ _ _ B_PG_US <<<"$B_CPU"
B_RATE=$(awk -v n="$B_N" -v s="$B_SECS" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
# From the queueing to an empty queue: includes up to 1 s until the next
# seal tick.
say "back-fill: $B_N events sealed in $B_SECS s ($B_RATE events/s);" \
    "cluster CPU $B_PG s, $B_PG_US us per event"

say "nrmctl audit verify --checkpoints (expected: intact)"
ckpt=()
if [ -s "$TMP/checkpoints.jsonl" ]; then
	ckpt=(--checkpoints "$TMP/checkpoints.jsonl" --public-key "$TMP/audit.pub")
fi
verify "${ckpt[@]}"
N_EVENTS=$(sql "SELECT count(*) FROM audit.event")
N_CHAINED=$(sql "SELECT count(*) FROM audit.chain")
if [ "$V_RC" != 0 ] || [[ $V_OUT != intact,* ]]; then
	fail "nrmctl audit verify did not say intact (exit $V_RC)"
fi
# verify's own audit.verify event is queued, not chained yet.
[ $((N_EVENTS - N_CHAINED)) -le 1 ] ||
	fail "$N_EVENTS events but $N_CHAINED chained"
N_CKPT=0
[ ! -s "$TMP/checkpoints.jsonl" ] || N_CKPT=$(wc -l <"$TMP/checkpoints.jsonl")

stop_nrmd
bench_nrmd_log_report

# ---------------------------------------------------------------------
# the table

# mean_of MODE BLOCK FIELD-ARRAY-NAME: mean over the runs of MODE in
# BLOCK (BLOCK 0: all blocks).
mean_of() {
	local mode=$1 block=$2 j sum=0 n=0
	local -n arr=$3
	for j in $(seq 1 "$NRUNS"); do
		[ "${R_MODE[j]}" = "$mode" ] || continue
		[ "$block" = 0 ] || [ "${R_BLOCK[j]}" = "$block" ] || continue
		sum=$(awk -v a="$sum" -v b="${arr[j]}" 'BEGIN { print a + b }')
		n=$((n + 1))
	done
	awk -v s="$sum" -v n="$n" 'BEGIN { printf "%.1f", (n > 0 ? s / n : 0) }'
}

echo
printf 'nrm audit chain benchmark (issue 6): %s s per run, %d connections, %d threads, nrmd db_pool_size = %d, audit_seal_interval 1 s, %d CPUs\n' \
    "$SECS" "$CONNS" "$THREADS" "$POOL" "$NCPU"
printf '%-6s %-4s %-6s %10s %18s %8s %12s %10s\n' block run chain req/s \
    'p50/p99 ms' events 'queue at end' 'caught up'
costs=()
for block in $(seq 1 "$BLOCKS"); do
	for j in $(seq 1 "$NRUNS"); do
		[ "${R_BLOCK[j]}" = "$block" ] || continue
		c=-
		[ "${R_CATCH[j]}" = - ] || c="${R_CATCH[j]} s"
		printf '%-6s %-4s %-6s %10s %18s %8s %12s %10s\n' "$block" "$j" \
		    "${R_MODE[j]}" "${R_RPS[j]}" "${R_LAT[j]}" "${R_EVENTS[j]}" \
		    "${R_LEFT[j]}" "$c"
	done
	on=$(mean_of on "$block" R_RPS)
	off=$(mean_of off "$block" R_RPS)
	cost=$(awk -v on="$on" -v off="$off" \
	    'BEGIN { printf "%.1f", (off > 0 ? 100 * (1 - on / off) : 0) }')
	costs+=("$cost")
	printf '  block %s: on %s req/s, off %s req/s: chain cost %s%%\n' \
	    "$block" "$on" "$off" "$cost"
done
read -r COST COST_SE < <(printf '%s\n' "${costs[@]}" | awk '
	{ v[NR] = $1; s += $1 }
	END {
		m = s / NR
		for (k = 1; k <= NR; k++) q += (v[k] - m) ^ 2
		if (NR > 1)
			printf "%.1f %.1f\n", m, sqrt(q / (NR - 1) / NR)
		else
			printf "%.1f -\n", m
	}')
printf 'mean chain cost over %d blocks: %s%% (standard error %s points: the noise of this machine)\n' \
    "$BLOCKS" "$COST" "$COST_SE"
ON=$(mean_of on 0 R_RPS)
OFF=$(mean_of off 0 R_RPS)
printf 'all runs: on %s req/s, off %s req/s (%.1f%%)\n' "$ON" "$OFF" \
    "$(awk -v on="$ON" -v off="$OFF" 'BEGIN { print (off > 0 ? 100 * (1 - on / off) : 0) }')"
lat() { # MODE -> mean p50 / mean p99
	local j s50=0 s99=0 n=0 p50 p99
	for j in $(seq 1 "$NRUNS"); do
		[ "${R_MODE[j]}" = "$1" ] || continue
		read -r p50 _ p99 <<<"${R_LAT[j]}"
		s50=$(awk -v a="$s50" -v b="$p50" 'BEGIN { print a + b }')
		s99=$(awk -v a="$s99" -v b="$p99" 'BEGIN { print a + b }')
		n=$((n + 1))
	done
	awk -v a="$s50" -v b="$s99" -v n="$n" \
	    'BEGIN { printf "%.1f / %.1f", a / n, b / n }'
}
printf 'mean p50 / p99 ms: on %s, off %s\n' "$(lat on)" "$(lat off)"

# The sealer: time inside audit.seal (wall time, includes waiting for a
# CPU under load; the "off" runs' calls find nothing) and audit.enqueue,
# over the blocks.
ON_SECS=0
MAXC=0
for j in $(seq 1 "$NRUNS"); do
	[ "${R_MODE[j]}" = on ] || continue
	ON_SECS=$((ON_SECS + SECS))
	MAXC=$(awk -v a="$MAXC" -v b="${R_CATCH[j]}" 'BEGIN { print (b > a ? b : a) }')
done
echo
echo "sealer, over the blocks ($ON_SECS s of on runs, $ON_EVENTS events chained):"
awk -v ev="$ON_EVENTS" -v calls="$((sc1 - sc0))" -v ms="$(awk -v a="$sm0" -v b="$sm1" 'BEGIN { print b - a }')" \
    -v ecalls="$((ec1 - ec0))" -v enq="$(awk -v a="$em0" -v b="$em1" 'BEGIN { print b - a }')" \
    -v s="$ON_SECS" -v maxc="$MAXC" -v us="$B_PG_US" 'BEGIN {
	printf "  audit.seal: %d calls, %.0f ms in all = %.1f%% of one core over the on runs (wall time in the function: an upper bound of its CPU)\n", calls, ms, ms / (10 * s)
	if (ev > 0 && ms > 0)
		printf "    %.0f us per chained event (%.0f events per second of seal time)\n", 1000 * ms / ev, ev / (ms / 1000)
	printf "  chained %.0f events/s while the load ran; the queue was empty at most %.2f s after a run ended\n", ev / s, maxc
	if (ecalls > 0)
		printf "  audit.enqueue (the trigger): %d calls, %.0f us per event (wall time)\n", ecalls, 1000 * enq / ecalls
	printf "  sealer CPU estimated from the back-fill (%s us of cluster CPU per event): %.1f%% of one core during the on runs\n", us, us * ev / (1e4 * s)
}'
echo "  back-fill with nothing else running: $B_N events in $B_SECS s ($B_RATE events/s), cluster CPU $B_PG s ($B_PG_US us per event)"
echo "  nrmctl audit verify --checkpoints ($N_CKPT checkpoint(s)) at the end: ${V_OUT%%$'\n'*}"

echo
echo "CPU seconds used during each run (user+system; on runs include the catch-up), and per request:"
cpu_header run chain
for j in $(seq 1 "$NRUNS"); do
	cpu_row "$j" "${R_MODE[j]}" "${R_CPU[j]}"
done
cpuus() { # MODE -> mean nrmd + postgres CPU us per request
	local j s=0 n=0 nrop pgop
	for j in $(seq 1 "$NRUNS"); do
		[ "${R_MODE[j]}" = "$1" ] || continue
		read -r _ _ _ _ _ nrop pgop <<<"${R_CPU[j]}"
		s=$((s + nrop + pgop))
		n=$((n + 1))
	done
	echo $((s / n))
}
CPU_ON=$(cpuus on)
CPU_OFF=$(cpuus off)
printf 'mean nrmd + postgres CPU per request: on %s us, off %s us (%+.1f%%: the CPU the chain costs, sealing included)\n' \
    "$CPU_ON" "$CPU_OFF" \
    "$(awk -v a="$CPU_ON" -v b="$CPU_OFF" 'BEGIN { print (b > 0 ? 100 * (a / b - 1) : 0) }')"
if bench_disturbed "$MAX_OTHER" || [ "$BUSY0" -gt 10 ]; then
	echo "WARNING: other processes used up to ${MAX_OTHER} CPU s in a run" \
	    "(${BUSY0}% busy before the runs): the machine was not idle, the" \
	    "numbers are disturbed"
fi
echo
bench_target "$(awk -v c="$COST" -v t="$TARGET" 'BEGIN { print (c <= t) }')" \
    "mean chain cost ${COST}% (standard error $COST_SE) <= ${TARGET}%" \
    "mean chain cost ${COST}% (standard error $COST_SE) > ${TARGET}%"
bench_finish
