# shellcheck shell=bash
# bench-lib.sh - what scripts/bench.sh, bench-inbox.sh and bench-audit.sh
# share: their settings, the set-up and clean-up of a throwaway cluster
# and one nrmd, reading wrk and pgbench results, the rounds of nrmd
# against pgbench, CPU accounting from /proc, the idle-machine check and
# the end of the report.  Sourced (after `set -euo pipefail` and a cd to
# the repository), never run.
#
# The sourcing script sets BENCH_NAME (the prefix of its messages) and
# SECS (the length of a measured run); this file sets what every
# benchmark shares: WARM (BENCH_WARMUP, default 3 s of warm-up), POOL
# (BENCH_POOL, nrmd's db_pool_size, default nrmd's own: 2 x CPUs + 1),
# ENFORCE (BENCH_ENFORCE=1:
# a target not met fails the run), CONNS (16 client connections) and
# THREADS (2 load generator threads).  The script then calls, in order:
#
#   bench_check_ints VAR...   each VAR (and POOL) is a positive integer,
#                        WARM a whole number; exit 2 when one is not
#   bench_init TAG       unset the caller's NRM_* variables (nrmd lets
#                        NRM_<KEY> override its config file), run
#                        scripts/deps.sh and make, check the tools, make
#                        $TMP (mktemp -d /tmp/nrm-TAG.XXXXXX) and install
#                        the clean-up: on every exit, Ctrl-C included,
#                        the load generator and nrmd are stopped and the
#                        cluster and $TMP removed
#   bench_cluster        start a cluster (scripts/pg.sh) in $TMP/pg on a
#                        free port; sets PGDIR PGPORT PGDATA_DIR and the
#                        NRM_*_URL variables of `pg.sh env` (not exported)
#   bench_cluster_restart   after an ALTER SYSTEM that needs it
#   bench_migrate        bin/nrmctl migrate as the owner
#   bench_key ARGS...    bin/nrmctl key create ARGS as the owner; prints
#                        the token, dies when there is none
#   bench_nrmd_conf FILE a pseudonym key ($TMP/pseudonym.key) and nrmd's
#                        config: plain HTTP on a free loopback port ($URL),
#                        db_pool_size $POOL, log_level warn; lines on
#                        stdin are appended; sets NRMD_CONF to FILE
#   start_nrmd           bin/nrmd (or $NRMD_BIN) --config $NRMD_CONF in
#                        the background (NRMD_PID), logging to
#                        $TMP/nrmd.log, until /readyz answers
#   stop_nrmd            SIGTERM; a non-zero exit sets NRMD_EXIT_BAD
#
# and during the runs: sql (as superuser), post (one intake with
# $TOKEN), run_bg (a load generator in the background, waited for, so
# that a Ctrl-C reaches the script at once), field (NAME=value out of a
# result line), wrk_result (the BENCH_WRK line of a wrk run), bench_pgbench
# (one timed pgbench run), bench_rounds (nrmd against pgbench), snapshot and cpu_report (CPU seconds from
# /proc), cpu_header and cpu_row (the table of them), pgbench_gone,
# bench_idle_check (BUSY0, a warning when the machine is busy),
# bench_disturbed, bench_nrmd_log_report, indent; fail records a failure
# in FAILED, and bench_finish ends the report (exit 1 when FAILED).

PGBIN=${NRM_PGBIN:-/usr/lib/postgresql/15/bin}
WARM=${BENCH_WARMUP:-3}
# nrmd's own default pool (config.h: 2 x online CPUs + 1, at most 64),
# written out so that every report says what it ran with
NCPU_ONLN=$(getconf _NPROCESSORS_ONLN)
POOL=${BENCH_POOL:-$((2 * NCPU_ONLN + 1 > 64 ? 64 : 2 * NCPU_ONLN + 1))}
ENFORCE=${BENCH_ENFORCE:-0}
CONNS=16
THREADS=2
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
T_START=$SECONDS
TMP=
PGDIR=
NRMD_PID=
NRMD_EXIT_BAD=
LOADGEN_PID=
FAILED=0
declare -a R_ORDER R_I_RPS R_I_LAT R_I_CPU R_P_TPS R_P_LAT R_P_CPU R_F_TPS \
    R_F_LAT
D_TPS='' D_LAT='' D_CPU=''

say() { printf '==> [%3ds] %s\n' "$((SECONDS - T_START))" "$*" >&2; }
die() {
	printf '%s: %s\n' "$BENCH_NAME" "$*" >&2
	exit 1
}
# A failed check: said now, the exit status at the end (bench_finish).
fail() {
	printf '%s: %s\n' "$BENCH_NAME" "$*" >&2
	FAILED=1
}

bench_check_ints() { # VAR...
	local v
	for v in "$@" POOL; do
		case ${!v} in '' | *[!0-9]* | 0)
			echo "$BENCH_NAME: $v must be a positive integer" >&2
			exit 2
			;;
		esac
	done
	case $WARM in '' | *[!0-9]*)
		echo "$BENCH_NAME: BENCH_WARMUP must be an integer" >&2
		exit 2
		;;
	esac
}

# shellcheck disable=SC2317 # invoked by the trap
bench_cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$rc" != 0 ] && [ -s "$TMP/nrmd.log" ]; then
		echo "$BENCH_NAME: the last lines nrmd logged:" >&2
		tail -5 "$TMP/nrmd.log" >&2
	fi
	if [ -n "$LOADGEN_PID" ]; then
		kill -TERM "$LOADGEN_PID" 2>/dev/null || true
		wait "$LOADGEN_PID" 2>/dev/null || true
	fi
	if [ -n "$NRMD_PID" ] && kill -0 "$NRMD_PID" 2>/dev/null; then
		kill -TERM "$NRMD_PID" 2>/dev/null || true
		wait "$NRMD_PID" 2>/dev/null || true
	fi
	if [ -n "$PGDIR" ] && [ -d "$PGDIR" ]; then
		scripts/pg.sh drop "$PGDIR" >/dev/null 2>&1 || true
	fi
	[ -z "$TMP" ] || rm -rf "$TMP"
	exit "$rc"
}

bench_init() { # TAG
	local v b
	for v in $(compgen -v NRM_ || true); do
		[ "$v" = NRM_PGBIN ] || unset "$v"
	done
	scripts/deps.sh
	make -s
	for b in wrk curl python3 "$PGBIN/pgbench" "$PGBIN/psql"; do
		command -v "$b" >/dev/null 2>&1 ||
			die "$b is missing (scripts/deps.sh)"
	done
	umask 077
	TMP=$(mktemp -d "/tmp/nrm-$1.XXXXXX")
	chmod 711 "$TMP" # the cluster directory below runs as the postgres user
	PGDIR=$TMP/pg
	PGDATA_DIR=$PGDIR/data
	trap bench_cleanup EXIT
	trap 'echo "$BENCH_NAME: interrupted" >&2; exit 130' INT TERM
}

# A TCP port nothing listens on (127.0.0.1), below the ephemeral range
# (32768-60999 by default): bench-inbox.sh's 10,000 client connections
# take ephemeral ports, which must not collide with a listener's.
free_port() {
	local p _
	for _ in $(seq 1 200); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

bench_cluster() {
	PGPORT=$(free_port)
	say "cluster in $PGDIR on port $PGPORT"
	scripts/pg.sh start "$PGDIR" "$PGPORT" >/dev/null
	eval "$(scripts/pg.sh env "$PGDIR" "$PGPORT")" # not exported
}

bench_cluster_restart() {
	scripts/pg.sh stop "$PGDIR" >/dev/null
	scripts/pg.sh start "$PGDIR" "$PGPORT" >/dev/null
}

sql() { # SQL as superuser, one unaligned value per line
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$NRM_SUPERUSER_URL" \
	    -c "$1"
}

bench_migrate() {
	NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl migrate >/dev/null
}

# The parameters nrmd sends for bench/body.json, captured once: the
# cluster logs nrm_app's statements with their parameters while a first
# nrmd answers one request, and bench/params.py reads them back into
# $TMP/params.  The log holds only this synthetic body and goes away
# with $TMP.  Needs TOKEN_HASH (the reporter's) and nrmd's configuration;
# sets PGB_ARGS for pgbench of bench/intake.pgbench: $1 the token hash
# (checked equal to what nrmd sent), $3 the client address and $5..$9
# as nrmd sent them; $2 (the request id) and $4 (the Idempotency-Key)
# are unique per transaction (the script).  nrmd is stopped after.
bench_intake_capture() {
	sql "ALTER ROLE nrm_app SET log_statement = 'all'" >/dev/null
	sql "ALTER ROLE nrm_app SET log_error_verbosity = 'default'" >/dev/null
	start_nrmd
	post bench-capture
	stop_nrmd
	sql "ALTER ROLE nrm_app RESET log_statement" >/dev/null
	sql "ALTER ROLE nrm_app RESET log_error_verbosity" >/dev/null
	mkdir "$TMP/params"
	python3 bench/params.py "$PGDIR/log/postgresql.log" "$TMP/params"
	if ls "$TMP/params/"*.null >/dev/null 2>&1; then
		die "nrmd sent a NULL parameter; bench/body.json must create a case"
	fi
	[ "$(cat "$TMP/params/1")" = "$TOKEN_HASH" ] ||
		die "the captured token hash is not the SHA-256 of the token"
	[ "$(cat "$TMP/params/4")" = bench-capture ] ||
		die "the captured Idempotency-Key is not the one sent"
	PGB_ARGS=(-n -M prepared -f bench/intake.pgbench
		-D n=0 -D "token_hash=$TOKEN_HASH"
		-D "client=$(cat "$TMP/params/3")"
		-D "request_hash=$(cat "$TMP/params/5")"
		-D "facts=$(cat "$TMP/params/6")"
		-D "subject=$(cat "$TMP/params/7")"
		-D "pseudonym=$(cat "$TMP/params/8")"
		-D "route=$(cat "$TMP/params/9")")
}

bench_key() { # nrmctl key create ARGS -> the token
	local t
	t=$(NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl key create "$@" \
	    2>/dev/null)
	case $t in nrm_*) ;; *) die "nrmctl key create printed no token" ;; esac
	echo "$t"
}

bench_nrmd_conf() { # FILE, extra lines on stdin
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' \
	    >"$TMP/pseudonym.key"
	(umask 077 && openssl rand -hex 32 >"$TMP/data.kek")
	HTTP_PORT=$(free_port)
	URL=http://127.0.0.1:$HTTP_PORT
	{
		cat <<-EOF
		listen = 127.0.0.1:$HTTP_PORT
		listen_tls =
		database_url = $NRM_DATABASE_URL
		db_pool_size = $POOL
		log_level = warn
		pseudonym_key_file = $TMP/pseudonym.key
		# a benchmark is one address and a few keys at full speed: it
		# measures throughput, not the flood limits (docs/operations.md)
		rate_limit_address = 0
		rate_limit_key = 0
		data_kek_file = $TMP/data.kek
		EOF
		cat
	} >"$1"
	NRMD_CONF=$1
}

start_nrmd() {
	local _
	"${NRMD_BIN:-bin/nrmd}" --config "$NRMD_CONF" >>"$TMP/nrmd.log" 2>&1 &
	NRMD_PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$NRMD_PID" 2>/dev/null || {
			cat "$TMP/nrmd.log" >&2
			die "nrmd exited during start-up"
		}
		if curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	die "nrmd not ready after 20 s"
}

# SIGTERM; a non-zero exit is reported (it does not change the figures).
stop_nrmd() {
	local rc=0
	kill -TERM "$NRMD_PID"
	wait "$NRMD_PID" 2>/dev/null || rc=$?
	NRMD_PID=
	if [ "$rc" != 0 ]; then
		say "WARNING: nrmd exited with status $rc on SIGTERM (expected 0)"
		# shellcheck disable=SC2034 # read by the sourcing script
		NRMD_EXIT_BAD=$rc
	fi
}

# What nrmd logged (at warn or above: the configured level).
bench_nrmd_log_report() {
	local warns
	warns=$(grep -c . "$TMP/nrmd.log" || true)
	if [ "$warns" != 0 ]; then
		say "nrmd logged $warns lines at warn or above; the first ones:"
		head -5 "$TMP/nrmd.log" >&2
	fi
}

# post KEY: one POST /v1/signals of bench/body.json with $TOKEN and
# Idempotency-Key KEY; dies unless the answer is 201.
post() {
	local code
	code=$(curl -sS -o "$TMP/post.out" -w '%{http_code}' -X POST \
	    -H "Authorization: Bearer $TOKEN" \
	    -H 'Content-Type: application/json' -H "Idempotency-Key: $1" \
	    --data-binary @bench/body.json "$URL/v1/signals")
	[ "$code" = 201 ] ||
		die "POST /v1/signals answered $code: $(cat "$TMP/post.out")"
}

# Standard input, each line indented by four spaces.
indent() { sed 's/^/    /'; }

# Run a load generator in the background and wait for it: a Ctrl-C
# reaches this script (and its clean-up) at once, not only the load
# generator.
run_bg() {
	"$@" &
	LOADGEN_PID=$!
	local rc=0
	wait "$LOADGEN_PID" || rc=$?
	LOADGEN_PID=
	return "$rc"
}

# field NAME LINE: the value of NAME=value in a line of key=value words
# (bench/intake.lua's BENCH_WRK line, bench/longpoll.py's summaries).
field() {
	[[ " $2 " =~ \ $1=([^ ]+)\  ]] || die "no $1 in: $2"
	echo "${BASH_REMATCH[1]}"
}

# wrk_result FILE TAG BAD: the BENCH_WRK line that bench/*.lua printed
# into FILE, as WRK_LINE, and its requests, rps, p50, p99, socket errors
# and field BAD (the count of unexpected answers) as I_N I_RPS I_P50
# I_P99 I_ERRS I_BAD; dies (showing FILE) when there is none.
# shellcheck disable=SC2034 # read by the sourcing script
wrk_result() {
	WRK_LINE=$(grep '^BENCH_WRK ' "$1" || true)
	if [ -z "$WRK_LINE" ]; then
		cat "$1" >&2
		die "wrk ($2) printed no result"
	fi
	I_N=$(field requests "$WRK_LINE")
	I_RPS=$(field rps "$WRK_LINE")
	I_P50=$(field p50_ms "$WRK_LINE")
	I_P99=$(field p99_ms "$WRK_LINE")
	I_ERRS=$(field errors "$WRK_LINE")
	I_BAD=$(field "$3" "$WRK_LINE")
}

# intake_check FILE TAG ROWS: the checks of an intake run (wrk with
# bench/intake.lua, output in FILE, read by wrk_result): every answer
# 201, no socket error, and ROWS new signals for every 201 counted: an
# idempotent replay answers 201 too.  Requests still in flight when wrk
# stopped may add up to one per connection.
intake_check() {
	if [ "$I_BAD" != 0 ] || [ "$I_ERRS" != 0 ]; then
		grep '^BENCH_WRK_' "$1" >&2 || true
		fail "$2: $I_BAD answers were not 201, $I_ERRS socket errors"
	fi
	if [ "$3" -lt $((I_N - I_BAD)) ]; then
		fail "$2: $((I_N - I_BAD)) answers 201 but only $3 new signals"
	fi
}

# bench_pgbench TAG DIGIT SECONDS CLIENTS: pgbench "${PGB_ARGS[@]}" (set
# by the sourcing script) against $NRM_DATABASE_URL for SECONDS with
# CLIENTS clients and at most $THREADS threads; keys and request ids are
# DIGIT * 10^14 + client * 10^9 + n.  Sets P_TPS P_P50 P_P99 (ms) P_N
# P_CPU and P_FAILED (failed transactions, each a fail).
bench_pgbench() {
	local tag=$1 digit=$2 secs=$3 clients=$4
	local out=$TMP/pgbench-$1.out before after
	rm -f "$TMP/pgblog-$tag".*
	before=$(snapshot)
	if ! run_bg "$PGBIN/pgbench" "${PGB_ARGS[@]}" -c "$clients" \
	    -j $((clients < THREADS ? clients : THREADS)) -T "$secs" \
	    -D "base=${digit}00000000000000" --log \
	    --log-prefix="$TMP/pgblog-$tag" "${PGB_URL:-$NRM_DATABASE_URL}" \
	    >"$out" 2>&1; then
		cat "$out" >&2
		fail "pgbench ($tag) failed"
	fi
	pgbench_gone
	after=$(snapshot)
	P_TPS=$(sed -n 's/^tps = \([0-9.]*\) (without initial.*/\1/p' "$out")
	P_N=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
	P_FAILED=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	P_FAILED=${P_FAILED:-0}
	if [ -z "$P_TPS" ] || [ -z "$P_N" ]; then
		cat "$out" >&2
		die "pgbench ($tag) printed no result"
	fi
	# Latency: the per-transaction log, microseconds in column 3.
	read -r P_P50 P_P99 < <(cat "$TMP/pgblog-$tag".* | awk '{ print $3 }' |
	    sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "0 0"; exit }
		i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
		printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
	rm -f "$TMP/pgblog-$tag".*
	P_CPU=$(cpu_report "$before" "$after" "$P_N")
	P_TPS=$(printf '%.1f' "$P_TPS")
	if [ "$P_FAILED" != 0 ]; then
		fail "pgbench $tag: $P_FAILED failed transactions"
	fi
}

# ---------------------------------------------------------------------
# CPU accounting from /proc (clock ticks)

# utime+stime of a process ($2 = 1: plus its reaped children's).
proc_ticks() {
	local line f
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || {
		echo 0
		return
	}
	line=${line##*) } # fields from 3 (state) on
	read -r -a f <<<"$line"
	if [ "${2:-0}" = 1 ]; then
		echo $((f[11] + f[12] + f[13] + f[14]))
	else
		echo $((f[11] + f[12]))
	fi
}

# The whole cluster: the postmaster, its live children, and what its
# exited children (pgbench's backends) used.  Children first, the
# postmaster's total for reaped children last: a child that exits in
# between is counted twice rather than lost (and pgbench_gone waits for
# pgbench's backends to be gone before the snapshot after a run).
pg_ticks() {
	local sum=0 line f s pm
	read -r pm <"$PGDATA_DIR/postmaster.pid"
	for s in /proc/[0-9]*/stat; do
		{ read -r line <"$s"; } 2>/dev/null || continue
		line=${line##*) }
		read -r -a f <<<"$line"
		[ "${f[1]}" = "$pm" ] && sum=$((sum + f[11] + f[12]))
	done
	echo $((sum + $(proc_ticks "$pm" 1)))
}

# busy and total ticks of the machine.
machine_ticks() {
	local _ u n s idle io irq sirq steal
	read -r _ u n s idle io irq sirq steal _ </proc/stat
	echo "$((u + n + s + irq + sirq + steal)) $((u + n + s + idle + io + irq + sirq + steal))"
}

# Snapshot: nrmd postgres loadgen(children of this shell) busy total
snapshot() {
	echo "$(proc_ticks "$NRMD_PID") $(pg_ticks) $(proc_ticks $$ 1 |
	    awk -v self="$(proc_ticks $$)" '{ print $1 - self }') $(machine_ticks)"
}

# cpu_report BEFORE AFTER N ->
#   "nrmd_s pg_s gen_s other_s busy% nrmd_us/op pg_us/op"
# other = every other process on the machine (busy minus the three).
cpu_report() {
	awk -v hz="$HZ" -v n="$3" -v b="$1" -v a="$2" 'BEGIN {
		split(b, x, " "); split(a, y, " ")
		nr = (y[1] - x[1]) / hz; pg = (y[2] - x[2]) / hz
		gen = (y[3] - x[3]) / hz
		other = (y[4] - x[4]) / hz - nr - pg - gen
		if (other < 0) other = 0
		busy = (y[5] - x[5]) > 0 ? 100 * (y[4] - x[4]) / (y[5] - x[5]) : 0
		nrop = n > 0 ? 1e6 * nr / n : 0
		pgop = n > 0 ? 1e6 * pg / n : 0
		printf "%.1f %.1f %.1f %.1f %.0f %.0f %.0f\n", nr, pg, gen,
		    other, busy, nrop, pgop
	}'
}

# bench_rounds LABEL RUN: nrmd against pgbench on the same database.  A
# warm-up of $WARM s of each side, then two rounds of $SECS s: RUN TAG
# SECONDS (the nrmd side: sets I_RPS I_P50 I_P99 I_CPU) then run_pgbench
# TAG DIGIT SECONDS [CLIENTS] (the sourcing script's, around
# bench_pgbench), and the reverse.  Sets, per round, R_ORDER R_I_RPS
# R_I_LAT R_I_CPU R_P_TPS R_P_LAT R_P_CPU.  Then, for diagnosis, pgbench
# with as many clients as nrmd has database connections (half as long),
# into D_TPS D_LAT D_CPU: nrmd / that isolates what nrmd itself costs from
# what its pool size costs.
# shellcheck disable=SC2034,SC2153 # set and read by the sourcing script
# The physical floor (issue 16; bench/floor.sql): the same durable
# writes with nothing of nrm around them, run by pgbench as the
# superuser.  bench_floor_setup makes its schema; run_floor TAG SECONDS
# runs FLOOR_SCRIPT (with FLOOR_DEFS, -D arguments) and sets F_TPS,
# F_P50, F_P99, F_N, F_CPU.  bench_rounds runs it as a third side of
# every round when FLOOR_SCRIPT is set.
bench_floor_setup() {
	"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$NRM_SUPERUSER_URL" \
	    -f bench/floor.sql >/dev/null
}
run_floor() {
	local saved=("${PGB_ARGS[@]}") p=("${P_TPS:-}" "${P_P50:-}" \
	    "${P_P99:-}" "${P_N:-}" "${P_CPU:-}" "${P_FAILED:-}")
	PGB_ARGS=(-n -M prepared -f "$FLOOR_SCRIPT" -D n=0 "${FLOOR_DEFS[@]}")
	# keys: base 4, 5, 6 for the warm-up and rounds 1, 2 (unique
	# across runs; the nrm side uses 9, 1, 2, 3)
	PGB_URL=$NRM_SUPERUSER_URL bench_pgbench "f$1" $((4 + $1)) "$2" "$CONNS"
	PGB_ARGS=("${saved[@]}")
	F_TPS=$P_TPS F_P50=$P_P50 F_P99=$P_P99 F_N=$P_N F_CPU=$P_CPU
	if [ "$P_FAILED" != 0 ]; then
		fail "floor pgbench ($1): $P_FAILED failed transactions"
	fi
	# the nrm-statement pgbench's figures stay what they were
	P_TPS=${p[0]} P_P50=${p[1]} P_P99=${p[2]} P_N=${p[3]} P_CPU=${p[4]}
	P_FAILED=${p[5]}
	say "floor $1 ($CONNS clients, $FLOOR_SCRIPT): $F_N transactions, $F_TPS tps, p50 $F_P50 ms, p99 $F_P99 ms"
}

# Measured runs start from a settled database (bench-ab.sh found why):
# autovacuum off while the runs are measured, since its passes over the
# growing tables landed in some runs and not in others (one binary's
# intake at 4.3-4.7 ms of CPU a request in some rounds, 3.1-3.7 ms in the
# others), and each run right after VACUUM ANALYZE and a CHECKPOINT, so
# that no run pays for another's dead rows or full-page writes.  The
# cluster is the bench's own.
bench_autovacuum_off() {
	sql "ALTER SYSTEM SET autovacuum = off" >/dev/null
	sql "SELECT pg_reload_conf()" >/dev/null
}
bench_settle() {
	sql "VACUUM ANALYZE" >/dev/null
	sql "CHECKPOINT" >/dev/null
}

bench_rounds() {
	local label=$1 run=$2 round diag_secs
	bench_autovacuum_off
	if [ "$WARM" -gt 0 ]; then
		say "$label: warm-up, $WARM s of each side"
		"$run" w0 "$WARM"
		run_pgbench p0 9 "$WARM"
	fi
	if [ -n "${FLOOR_SCRIPT:-}" ] && [ "$WARM" -gt 0 ]; then
		run_floor 0 "$WARM"
	fi
	for round in 1 2; do
		say "$label round $round: $SECS s each, $CONNS connections, $THREADS threads"
		if [ "$round" = 1 ]; then
			bench_settle
			"$run" "w$round" "$SECS"
			bench_settle
			run_pgbench "p$round" "$round" "$SECS"
			R_ORDER[round]="$label, pgbench"
			if [ -n "${FLOOR_SCRIPT:-}" ]; then
				bench_settle
				run_floor "$round" "$SECS"
				R_ORDER[round]+=", floor"
			fi
		else
			R_ORDER[round]="pgbench, $label"
			if [ -n "${FLOOR_SCRIPT:-}" ]; then
				bench_settle
				run_floor "$round" "$SECS"
				R_ORDER[round]="floor, ${R_ORDER[round]}"
			fi
			bench_settle
			run_pgbench "p$round" "$round" "$SECS"
			bench_settle
			"$run" "w$round" "$SECS"
		fi
		if [ -n "${FLOOR_SCRIPT:-}" ]; then
			R_F_TPS[round]=$F_TPS
			R_F_LAT[round]="$F_P50 / $F_P99"
		fi
		R_I_RPS[round]=$I_RPS
		R_I_LAT[round]="$I_P50 / $I_P99"
		R_I_CPU[round]=$I_CPU
		R_P_TPS[round]=$P_TPS
		R_P_LAT[round]="$P_P50 / $P_P99"
		R_P_CPU[round]=$P_CPU
	done
	diag_secs=$(((SECS + 1) / 2))
	if [ "$POOL" != "$CONNS" ]; then
		say "diagnosis: pgbench with $POOL clients (nrmd's db_pool_size), $diag_secs s"
		run_pgbench p3 3 "$diag_secs" "$POOL"
		D_TPS=$P_TPS D_LAT="$P_P50 / $P_P99" D_CPU=$P_CPU
	fi
}

# The table of cpu_report figures: cpu_header C1 C2 (the names of the
# first two columns), then cpu_row C1 C2 FIGURES per run, which keeps in
# MAX_OTHER the most CPU seconds other processes used in one run.
cpu_header() {
	printf '%-6s %-8s %6s %9s %8s %6s %10s %11s %15s\n' "$1" "$2" nrmd \
	    postgres loadgen other 'machine %' 'nrmd us/op' 'postgres us/op'
	MAX_OTHER=0
}
cpu_row() {
	local nr pg gen other busy nrop pgop
	read -r nr pg gen other busy nrop pgop <<<"$3"
	printf '%-6s %-8s %6s %9s %8s %6s %10s %11s %15s\n' "$1" "$2" \
	    "$nr" "$pg" "$gen" "$other" "$busy" "$nrop" "$pgop"
	MAX_OTHER=$(awk -v a="$MAX_OTHER" -v b="$other" \
	    'BEGIN { print (b > a ? b : a) }')
}

# cpu_rounds SIDE: the table of bench_rounds' runs, SIDE naming nrmd's.
cpu_rounds() {
	local round
	cpu_header round side
	for round in 1 2; do
		cpu_row "$round" "$1" "${R_I_CPU[round]}"
		cpu_row "$round" pgbench "${R_P_CPU[round]}"
	done
	if [ -n "$D_CPU" ]; then
		cpu_row diag "pgb-c$POOL" "$D_CPU"
	fi
}

# bench_disturbed MAX_OTHER: true when other processes used more than a
# tenth of the machine's CPUs in a run of $SECS seconds.
bench_disturbed() {
	awk -v o="$1" -v s="$SECS" -v c="$NCPU" \
	    'BEGIN { exit !(o > 0.1 * s * c) }'
}

# bench_target MET YES NO: the report's target line, "target: YES: met"
# when MET is 1, else "target: NO: NOT met" (a failure when $ENFORCE is
# 1).
bench_target() {
	if [ "$1" = 1 ]; then
		echo "target: $2: met"
	else
		echo "target: $3: NOT met"
		if [ "$ENFORCE" = 1 ]; then
			FAILED=1
		fi
	fi
}

# The end of every report: nrmd's bad exit said, exit 1 when a check
# failed.
bench_finish() {
	if [ -n "$NRMD_EXIT_BAD" ]; then
		echo "WARNING: nrmd exited with status $NRMD_EXIT_BAD on SIGTERM (a daemon bug; the figures stand)"
	fi
	if [ "$FAILED" != 0 ]; then
		echo "$BENCH_NAME: FAILED (see the messages above)" >&2
		exit 1
	fi
}

# Wait (at most 5 s) until pgbench's backends have exited and been
# reaped, so that their CPU time is in the postmaster's children total.
pgbench_gone() {
	local _
	for _ in $(seq 1 50); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity
		    WHERE application_name = 'pgbench'")" = 0 ] && break
		sleep 0.1
	done
	sleep 0.2
}

# Whatever else runs on the machine disturbs the figures: say so.
# Sets BUSY0 (percent of all CPUs busy over one second).
bench_idle_check() {
	local b a
	b=$(machine_ticks)
	sleep 1
	a=$(machine_ticks)
	BUSY0=$(awk -v b="$b" -v a="$a" 'BEGIN { split(b, x, " ")
		split(a, y, " "); d = y[2] - x[2]
		printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }')
	say "machine busy before the runs: ${BUSY0}% of $NCPU CPUs"
	[ "$BUSY0" -le 10 ] ||
		say "WARNING: the machine is not idle; the numbers will be disturbed"
}

# The one table of `make bench` (issue 16; scripts/bench-table.sh): with
# BENCH_SUMMARY set to a file, each benchmark appends "KEY VALUE" lines.
bench_summary() { # KEY VALUE
	if [ -n "${BENCH_SUMMARY:-}" ]; then
		printf '%s %s\n' "$1" "$2" >>"$BENCH_SUMMARY"
	fi
}
# bench_summary_rounds NAME: bench_rounds' figures under NAME_: the mean
# req/s and floor tps, the mean of the rounds' ratios to the floor, and
# the worst round's p99 of each side.
bench_summary_rounds() {
	local p99a p99b fa fb
	[ -n "${BENCH_SUMMARY:-}" ] || return 0
	p99a=$(awk -F' / ' '{ print $2 }' <<<"${R_I_LAT[1]}")
	p99b=$(awk -F' / ' '{ print $2 }' <<<"${R_I_LAT[2]}")
	bench_summary "$1_rps" "$(awk -v a="${R_I_RPS[1]}" -v b="${R_I_RPS[2]}" \
	    'BEGIN { printf "%.1f", (a + b) / 2 }')"
	bench_summary "$1_p99" "$(awk -v a="$p99a" -v b="$p99b" \
	    'BEGIN { printf "%.2f", (a + 0 > b + 0 ? a : b) }')"
	if [ -n "${R_F_TPS[1]:-}" ]; then
		fa=$(awk -F' / ' '{ print $2 }' <<<"${R_F_LAT[1]}")
		fb=$(awk -F' / ' '{ print $2 }' <<<"${R_F_LAT[2]}")
		bench_summary "$1_floor_tps" "$(awk -v a="${R_F_TPS[1]}" \
		    -v b="${R_F_TPS[2]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')"
		bench_summary "$1_floor_ratio" "$(awk -v a="${R_I_RPS[1]}" \
		    -v b="${R_F_TPS[1]}" -v c="${R_I_RPS[2]}" \
		    -v d="${R_F_TPS[2]}" \
		    'BEGIN { printf "%.3f", (a / b + c / d) / 2 }')"
		bench_summary "$1_floor_p99" "$(awk -v a="$fa" -v b="$fb" \
		    'BEGIN { printf "%.2f", (a + 0 > b + 0 ? a : b) }')"
	fi
	bench_summary "$1_load" "$(cut -d' ' -f1 /proc/loadavg)"
}
