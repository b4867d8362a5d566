#!/usr/bin/env bash
# bench-inbox.sh - the coordinator inbox benchmarks of issue 4 (part of
# `make bench`, run at the end of scripts/bench.sh; also alone).
#
#   BENCH_INBOX_SECONDS=10   length of each measured inbox-page run
#   BENCH_WARMUP=3           seconds of untimed warm-up of each side
#   BENCH_INBOX_WAITERS=1000 long-polls held for the wake-up latency
#   BENCH_INBOX_SIGNALS=30   signals submitted for the wake-up latency
#   BENCH_INBOX_CONNS=10000  idle long-polls held for the memory figure
#   BENCH_INBOX_PHASES="wakeup page memory"   which parts to run
#   BENCH_POOL=4             nrmd's db_pool_size
#   BENCH_ENFORCE=1          also exit non-zero when a target is missed
#
# Set-up (like scripts/bench.sh): scripts/deps.sh, make, a throwaway
# cluster (scripts/pg.sh) in a mktemp directory under /tmp on a free port,
# with track_commit_timestamp = on (for the commit times below),
# migrations, a reporter key and ten coordinator keys (VR13, the busy
# region, and VR01..VR09, one key each), a pseudonym key, and bin/nrmd
# on a free loopback port (plain HTTP, log_level warn, db_pool_size 4,
# max_connections = BENCH_INBOX_CONNS + 200, longpoll_max_wait 300,
# shutdown_timeout 3: nrmd waits that long on SIGTERM when a load
# generator left a request half sent; nothing is measured then).  Each
# part runs on a fresh nrmd.
# The soft descriptor limit of this shell (so of the client too) is
# raised to the hard one.  500 signals are seeded into VR13 and 5 into
# each other region: the busy inbox has more open cases than a page.
#
# 1. wake-up   bench/longpoll.py wakeup: 1,000 long-polls
#              (GET /v1/inbox?wait=60&after=A, one per connection), 910
#              of VR13's coordinator, 10 of each other; 30 times: wait
#              until nrmd holds all of them with an empty database queue,
#              POST one signal (to VR13, every fifth to another region),
#              time the 201 and every answer of that region's waiters
#              (kernel receive timestamps), re-arm them.  Latency of a
#              (waiter, signal) pair, two ways:
#                from the 201  answer - arrival of the 201: the commit
#                              came before the 201, so a lower bound;
#                from commit   answer - pg_xact_commit_timestamp(xmin)
#                              of the signal's row: the commit record's
#                              time, taken just before its WAL flush, so
#                              an upper bound (by the flush).
#              Targets: p50 < 5 ms, p99 < 50 ms.
# 2. page      GET /v1/inbox?limit=50 with VR13's coordinator token
#              (bench/inbox.lua, wrk -t2 -c16) against pgbench -j2 -c16
#              -M prepared with bench/inbox.pgbench: the statement nrmd
#              runs (SELECT api.inbox(...)) as nrm_app with the values it
#              sends.  Both are first checked to return the same page.
#              Warm-up, then two rounds in opposite orders, as in
#              bench.sh.  Target: mean req/s / tps >= 0.6.
#              Then, for diagnosis, pgbench with as many clients as
#              nrmd has database connections (half as long).
# 3. memory    an nrmd with longpoll_recheck = 300 (the backstop re-check
#              runs a full api.inbox query for every held long-poll:
#              10,000 queries, more than nrmd's database queue takes,
#              every 30 s by default; it must not fall inside the
#              measurement); bench/longpoll.py memory: VmRSS, then 10,000
#              connections each with one long-poll (wait=300), opened in
#              batches of 1,000, each batch waited for until nrmd holds
#              it; VmRSS after each batch.  (after - before) / 10,000 in
#              KiB, target < 8 KiB.  Then every connection is closed and
#              nrmd followed (VmRSS, long-polls held, sockets in
#              CLOSE_WAIT, descriptors) until it let them go (at most
#              10 s); /readyz and one more long-poll wake-up must work
#              (its time after the 201 is shown).
# Each part runs on a fresh nrmd (the same cluster).
#
# Checks (any failure: exit status 1): every answer of the expected kind
# (201, 200 with the new case, full pages), no socket errors, no failed
# pgbench transaction, every waiter of the signal's region answered, no
# waiter of another region woken with items, /readyz and a wake-up after
# the 10,000 connections.  A missed target fails only with
# BENCH_ENFORCE=1.  About 2.5 minutes with the defaults (most of it the
# wake-up part: every signal to the busy region costs nrmd ~910 queries
# to answer and ~910 more to re-arm).
#
# Everything lives in the mktemp directory, stopped and removed on every
# exit, Ctrl-C included.
set -euo pipefail

cd "$(dirname "$0")/.."

SECS=${BENCH_INBOX_SECONDS:-10}
WARM=${BENCH_WARMUP:-3}
WAITERS=${BENCH_INBOX_WAITERS:-1000}
SIGNALS=${BENCH_INBOX_SIGNALS:-30}
NCONNS=${BENCH_INBOX_CONNS:-10000}
PHASES=${BENCH_INBOX_PHASES:-wakeup page memory}
POOL=${BENCH_POOL:-4}
ENFORCE=${BENCH_ENFORCE:-0}
CONNS=16
THREADS=2
PGBIN=${NRM_PGBIN:-/usr/lib/postgresql/15/bin}
HOT=VR13
COLD="VR01 VR02 VR03 VR04 VR05 VR06 VR07 VR08 VR09"

for v in SECS WAITERS SIGNALS NCONNS POOL; do
	case ${!v} in '' | *[!0-9]* | 0) echo "bench-inbox.sh: $v must be a positive integer" >&2; exit 2 ;; esac
done
case $WARM in '' | *[!0-9]*) echo "bench-inbox.sh: BENCH_WARMUP must be an integer" >&2; exit 2 ;; esac

# Nothing from the caller's NRM_* environment: nrmd lets NRM_<KEY>
# override its config file.
for v in $(compgen -v NRM_ || true); do
	[ "$v" = NRM_PGBIN ] || unset "$v"
done

T_START=$SECONDS
say() { printf '==> [%3ds] %s\n' "$((SECONDS - T_START))" "$*" >&2; }
die() {
	printf 'bench-inbox.sh: %s\n' "$*" >&2
	exit 1
}
has_phase() { [[ " $PHASES " == *" $1 "* ]]; }

scripts/deps.sh
make -s
for b in wrk curl python3 "$PGBIN/pgbench" "$PGBIN/psql"; do
	command -v "$b" >/dev/null 2>&1 || die "$b is missing (scripts/deps.sh)"
done

# Descriptors: the client holds BENCH_INBOX_CONNS sockets (nrmd raises
# its own limit from max_connections, up to the same hard limit).
NEED_FDS=$((NCONNS + 300))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$NEED_FDS" ]; then
	die "the descriptor limit ($(ulimit -n), hard $(ulimit -Hn)) is below the $NEED_FDS that $NCONNS connections need"
fi

umask 077
TMP=$(mktemp -d /tmp/nrm-bench-inbox.XXXXXX)
chmod 711 "$TMP" # the cluster directory below runs as the postgres user
PGDIR=$TMP/pg
NRMD_PID=
LOADGEN_PID=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$rc" != 0 ] && [ -s "$TMP/nrmd.log" ]; then
		echo "bench-inbox.sh: the last lines nrmd logged:" >&2
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
	if [ -d "$PGDIR" ]; then
		scripts/pg.sh drop "$PGDIR" >/dev/null 2>&1 || true
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "bench-inbox.sh: interrupted" >&2; exit 130' INT TERM

# A TCP port nothing listens on (127.0.0.1), below the ephemeral range
# (32768-60999 by default): the 10,000 client connections below take
# ephemeral ports, which must not collide with a listener's.
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

# Run a load generator in the background and wait for it: a Ctrl-C
# reaches this script (and its clean-up) at once.
run_bg() {
	"$@" &
	LOADGEN_PID=$!
	local rc=0
	wait "$LOADGEN_PID" || rc=$?
	LOADGEN_PID=
	return "$rc"
}

# ---------------------------------------------------------------------
# set-up

PGPORT=$(free_port)
say "cluster in $PGDIR on port $PGPORT"
scripts/pg.sh start "$PGDIR" "$PGPORT" >/dev/null
eval "$(scripts/pg.sh env "$PGDIR" "$PGPORT")" # not exported
PGDATA_DIR=$PGDIR/data

sql() { # SQL as superuser, one unaligned value per line
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$NRM_SUPERUSER_URL" \
	    -c "$1"
}

# Commit timestamps, for the wake-up latency from the commit.
sql "ALTER SYSTEM SET track_commit_timestamp = on" >/dev/null
scripts/pg.sh stop "$PGDIR" >/dev/null
scripts/pg.sh start "$PGDIR" "$PGPORT" >/dev/null
[ "$(sql "SHOW track_commit_timestamp")" = on ] ||
	die "track_commit_timestamp did not take effect"

NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl migrate >/dev/null
key() {
	NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl key create "$@" 2>/dev/null
}
TOKEN=$(key --role reporter --agency bench --agency-kind police)
case $TOKEN in nrm_*) ;; *) die "nrmctl key create printed no token" ;; esac
: >"$TMP/keys"
for r in $HOT $COLD; do
	t=$(key --role coordinator --agency "bench care $r" \
	    --agency-kind care_agency --region "$r")
	case $t in nrm_*) ;; *) die "nrmctl key create printed no token" ;; esac
	echo "$r $t" >>"$TMP/keys"
done
CO_TOKEN=$(awk 'NR == 1 { print $2 }' "$TMP/keys")
CO_HASH="\\x$(printf '%s' "$CO_TOKEN" | sha256sum | cut -c1-64)"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/pseudonym.key"

HTTP_PORT=$(free_port)
URL=http://127.0.0.1:$HTTP_PORT
cat >"$TMP/nrmd.conf" <<EOF
listen = 127.0.0.1:$HTTP_PORT
listen_tls =
database_url = $NRM_DATABASE_URL
db_pool_size = $POOL
log_level = warn
pseudonym_key_file = $TMP/pseudonym.key
max_connections = $((NCONNS + 200))
longpoll_max_wait = 300
shutdown_timeout = 3
EOF

# The memory phase's nrmd: the backstop re-check of every held long-poll
# (longpoll_recheck, 30 s by default) moved out of the measurement.
cp "$TMP/nrmd.conf" "$TMP/nrmd-memory.conf"
echo "longpoll_recheck = 300" >>"$TMP/nrmd-memory.conf"

start_nrmd() { # [CONFIG]
	local _
	bin/nrmd --config "${1:-$TMP/nrmd.conf}" >>"$TMP/nrmd.log" 2>&1 &
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

NRMD_EXIT_BAD=
stop_nrmd() {
	local rc=0
	kill -TERM "$NRMD_PID"
	wait "$NRMD_PID" 2>/dev/null || rc=$?
	NRMD_PID=
	if [ "$rc" != 0 ]; then
		say "WARNING: nrmd exited with status $rc on SIGTERM (expected 0)"
		NRMD_EXIT_BAD=$rc
	fi
}

start_nrmd
say "nrmd pid $NRMD_PID on $URL (db_pool_size = $POOL, max_connections = $((NCONNS + 200)))"
export BENCH_TOKEN=$TOKEN # read by bench/longpoll.py, not in argv
say "seeding 500 signals into $HOT and 5 into each of $COLD"
python3 bench/longpoll.py seed --url "$URL" --count 500 --region "$HOT" --tag hot
# shellcheck disable=SC2046
python3 bench/longpoll.py seed --url "$URL" --count 45 --tag cold \
    $(for r in $COLD; do printf -- '--region %s ' "$r"; done)

FAILED=0
HZ=$(getconf CLK_TCK)
NCPU=$(nproc)
PG_PM=$(head -1 "$PGDATA_DIR/postmaster.pid")

# ---------------------------------------------------------------------
# CPU accounting from /proc (clock ticks), as in bench.sh

proc_ticks() {
	local line f
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || {
		echo 0
		return
	}
	line=${line##*) }
	read -r -a f <<<"$line"
	if [ "${2:-0}" = 1 ]; then
		echo $((f[11] + f[12] + f[13] + f[14]))
	else
		echo $((f[11] + f[12]))
	fi
}
pg_ticks() {
	local sum=0 line f s
	for s in /proc/[0-9]*/stat; do
		{ read -r line <"$s"; } 2>/dev/null || continue
		line=${line##*) }
		read -r -a f <<<"$line"
		[ "${f[1]}" = "$PG_PM" ] && sum=$((sum + f[11] + f[12]))
	done
	echo $((sum + $(proc_ticks "$PG_PM" 1)))
}
machine_ticks() { # busy total
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
idle_b=$(machine_ticks)
sleep 1
idle_a=$(machine_ticks)
BUSY0=$(awk -v b="$idle_b" -v a="$idle_a" 'BEGIN { split(b, x, " ")
	split(a, y, " "); d = y[2] - x[2]
	printf "%.0f", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }')
say "machine busy before the runs: ${BUSY0}% of $NCPU CPUs"
[ "$BUSY0" -le 10 ] ||
	say "WARNING: the machine is not idle; the numbers will be disturbed"

# ---------------------------------------------------------------------
# 1. wake-up latency

W_LINE=
if has_phase wakeup; then
	say "wake-up: $WAITERS long-polls, $SIGNALS signals"
	before=$(snapshot)
	run_bg python3 bench/longpoll.py wakeup --url "$URL" \
	    --keys "$TMP/keys" --out "$TMP/wakeup.json" \
	    --waiters "$WAITERS" --signals "$SIGNALS" ||
		die "the wake-up benchmark failed"
	after=$(snapshot)
	ids=$(python3 -c 'import json, sys
print(",".join(s["signal_id"] for s in json.load(open(sys.argv[1]))["signals"]))' \
	    "$TMP/wakeup.json")
	sql "SELECT id, extract(epoch FROM pg_xact_commit_timestamp(xmin))
	    FROM intake.signal WHERE id = ANY('{$ids}'::uuid[])" \
	    >"$TMP/commits"
	W_LINE=$(python3 bench/longpoll.py summary "$TMP/wakeup.json" \
	    "$TMP/commits")
	echo "$W_LINE" | sed 's/^/    /' >&2
	W_CPU=$(cpu_report "$before" "$after" 0)
	grep -q ' ok=1' <<<"$W_LINE" || FAILED=1
fi

# ---------------------------------------------------------------------
# 2. inbox page: nrmd against pgbench

# field NAME LINE: the value of NAME=value in a key=value line.
field() {
	[[ " $2 " =~ \ $1=([^ ]+)\  ]] || die "no $1 in: $2"
	echo "${BASH_REMATCH[1]}"
}

PGB_ARGS=(-n -M prepared -f bench/inbox.pgbench -D n=0
	-D "token_hash=$CO_HASH" -D client=127.0.0.1 -D state=open -D limit=50)

run_page() { # TAG SECONDS -> I_RPS I_P50 I_P99 I_N I_CPU
	local tag=$1 secs=$2 out=$TMP/wrk-$1.out before after line bad sh errs
	before=$(snapshot)
	BENCH_TOKEN=$CO_TOKEN run_bg wrk -t "$THREADS" -c "$CONNS" \
	    -d "${secs}s" -s bench/inbox.lua "$URL" -- "/v1/inbox?limit=50" \
	    >"$out" 2>&1 || true
	after=$(snapshot)
	line=$(grep '^BENCH_WRK ' "$out" || true)
	if [ -z "$line" ]; then
		cat "$out" >&2
		die "wrk ($tag) printed no result"
	fi
	I_N=$(field requests "$line")
	I_RPS=$(field rps "$line")
	I_P50=$(field p50_ms "$line")
	I_P99=$(field p99_ms "$line")
	bad=$(field non200 "$line")
	sh=$(field short "$line")
	errs=$(field errors "$line")
	I_CPU=$(cpu_report "$before" "$after" "$I_N")
	say "inbox $tag: $I_N requests, $I_RPS req/s, p50 $I_P50 ms, p99 $I_P99 ms, non-200 $bad, short pages $sh, socket errors $errs"
	if [ "$bad" != 0 ] || [ "$sh" != 0 ] || [ "$errs" != 0 ]; then
		grep '^BENCH_WRK_' "$out" >&2 || true
		echo "bench-inbox.sh: inbox $tag: $bad answers not 200, $sh short pages, $errs socket errors" >&2
		FAILED=1
	fi
}

run_pgbench() { # TAG DIGIT SECONDS [CLIENTS] -> P_TPS P_P50 P_P99 P_N P_CPU
	local tag=$1 digit=$2 secs=$3 clients=${4:-$CONNS}
	local out=$TMP/pgbench-$1.out before after failed
	rm -f "$TMP/pgblog-$tag".*
	before=$(snapshot)
	if ! run_bg "$PGBIN/pgbench" "${PGB_ARGS[@]}" -c "$clients" \
	    -j $((clients < THREADS ? clients : THREADS)) -T "$secs" -D "base=${digit}00000000000000" --log \
	    --log-prefix="$TMP/pgblog-$tag" "$NRM_DATABASE_URL" >"$out" 2>&1; then
		cat "$out" >&2
		echo "bench-inbox.sh: pgbench ($tag) failed" >&2
		FAILED=1
	fi
	pgbench_gone
	after=$(snapshot)
	P_TPS=$(sed -n 's/^tps = \([0-9.]*\) (without initial.*/\1/p' "$out")
	P_N=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
	failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$out")
	if [ -z "$P_TPS" ] || [ -z "$P_N" ]; then
		cat "$out" >&2
		die "pgbench ($tag) printed no result"
	fi
	read -r P_P50 P_P99 < <(cat "$TMP/pgblog-$tag".* | awk '{ print $3 }' |
	    sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "0 0"; exit }
		i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
		printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
	rm -f "$TMP/pgblog-$tag".*
	P_CPU=$(cpu_report "$before" "$after" "$P_N")
	P_TPS=$(printf '%.1f' "$P_TPS")
	say "pgbench $tag ($clients clients): $P_N transactions, $P_TPS tps, p50 $P_P50 ms, p99 $P_P99 ms, failed ${failed:-0}"
	if [ "${failed:-0}" != 0 ]; then
		echo "bench-inbox.sh: pgbench $tag: $failed failed transactions" >&2
		FAILED=1
	fi
}

if has_phase page; then
	# A fresh nrmd: the wake-up phase's long-polls, closed by the client,
	# are still held by the first one (see the report) and re-queried by
	# every backstop re-check.
	if has_phase wakeup; then
		stop_nrmd
		start_nrmd
	fi
	# Both sides return the same page (the case ids, in order).
	a=$(curl -fsS -H "Authorization: Bearer $CO_TOKEN" \
	    "$URL/v1/inbox?limit=50" | python3 -c 'import json, sys
print(" ".join(i["case_id"] for i in json.load(sys.stdin)["items"]))')
	b=$("$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$NRM_DATABASE_URL" \
	    -c "SELECT api.inbox('$CO_HASH', 'bench-check', '127.0.0.1', 'open', NULL, NULL::jsonb, NULL::bigint, 50)" |
	    python3 -c 'import json, sys
d = json.load(sys.stdin); assert d["status"] == 200, d
print(" ".join(i["case_id"] for i in d["body"]["items"]))')
	[ "$a" = "$b" ] || die "GET /v1/inbox and api.inbox() returned different pages"
	[ "$(wc -w <<<"$a")" = 50 ] || die "the inbox page holds $(wc -w <<<"$a") cases, not 50"
	if [ "$WARM" -gt 0 ]; then
		say "inbox page: warm-up, $WARM s of each side"
		run_page w0 "$WARM"
		run_pgbench p0 9 "$WARM"
	fi
	declare -a R_I_RPS R_I_LAT R_P_TPS R_P_LAT R_I_CPU R_P_CPU
	for round in 1 2; do
		say "inbox page round $round: $SECS s each, $CONNS connections"
		if [ "$round" = 1 ]; then
			run_page "w$round" "$SECS"
			run_pgbench "p$round" "$round" "$SECS"
		else
			run_pgbench "p$round" "$round" "$SECS"
			run_page "w$round" "$SECS"
		fi
		R_I_RPS[round]=$I_RPS
		R_I_LAT[round]="$I_P50 / $I_P99"
		R_I_CPU[round]=$I_CPU
		R_P_TPS[round]=$P_TPS
		R_P_LAT[round]="$P_P50 / $P_P99"
		R_P_CPU[round]=$P_CPU
	done
	# Diagnosis, as in bench.sh: pgbench with as many clients as nrmd
	# has database connections.
	DIAG_SECS=$(((SECS + 1) / 2))
	if [ "$POOL" != "$CONNS" ]; then
		say "diagnosis: pgbench with $POOL clients (nrmd's db_pool_size), $DIAG_SECS s"
		run_pgbench p3 3 "$DIAG_SECS" "$POOL"
		D_TPS=$P_TPS D_LAT="$P_P50 / $P_P99" D_CPU=$P_CPU
	fi
fi

# ---------------------------------------------------------------------
# 3. memory of idle long-polls

M_LINE=
if has_phase memory; then
	stop_nrmd
	start_nrmd "$TMP/nrmd-memory.conf"
	say "memory: a fresh nrmd (pid $NRMD_PID, longpoll_recheck = 300), $NCONNS idle long-polls (wait=300)"
	curl -fsS -o /dev/null -H "Authorization: Bearer $CO_TOKEN" \
	    "$URL/v1/inbox?limit=50" || die "GET /v1/inbox failed"
	run_bg python3 bench/longpoll.py memory --url "$URL" \
	    --keys "$TMP/keys" --pid "$NRMD_PID" --out "$TMP/memory.json" \
	    --conns "$NCONNS" ||
		die "the memory benchmark failed"
	M_LINE=$(python3 bench/longpoll.py memsummary "$TMP/memory.json")
	echo "$M_LINE" | sed 's/^/    /' >&2
	grep -q ' ok=1' <<<"$M_LINE" || FAILED=1
	kill -0 "$NRMD_PID" 2>/dev/null || die "nrmd is gone"
fi

stop_nrmd
warns=$(grep -c . "$TMP/nrmd.log" || true)
if [ "$warns" != 0 ]; then
	say "nrmd logged $warns lines at warn or above; the first ones:"
	head -5 "$TMP/nrmd.log" >&2
fi

# ---------------------------------------------------------------------
# the table

MISSED=
verdict() { # VALUE OP TARGET -> V = met / NOT met (MISSED=1)
	if awk -v v="$1" -v t="$3" -v op="$2" \
	    'BEGIN { exit !((op == "<" && v < t) || (op == ">=" && v >= t)) }'; then
		V=met
	else
		V="NOT met"
		MISSED=1
	fi
}

echo
printf 'nrm inbox benchmarks (issue 4): nrmd db_pool_size = %d, %d CPUs\n' "$POOL" "$NCPU"
printf '%-44s %-26s %-12s %s\n' measure result target verdict
if [ -n "$W_LINE" ]; then
	p50=$(field p50_201 "$W_LINE")
	p99=$(field p99_201 "$W_LINE")
	verdict "$p50" '<' 5
	printf '%-44s %-26s %-12s %s\n' \
	    "wake-up p50, from the 201 (lower bound)" "$p50 ms" '< 5 ms' "$V"
	verdict "$p99" '<' 50
	printf '%-44s %-26s %-12s %s\n' \
	    "wake-up p99, from the 201 (lower bound)" "$p99 ms" '< 50 ms' "$V"
	printf '%-44s %-26s\n' "wake-up p50 / p99, from the commit timestamp" \
	    "$(field p50_commit "$W_LINE") / $(field p99_commit "$W_LINE") ms"
	printf '%-44s %-26s\n' "  pairs; max from the 201" \
	    "$(field pairs "$W_LINE"); $(field max_201 "$W_LINE") ms"
	printf '%-44s %-26s\n' "  busy region ($(field hot_waiters "$W_LINE") waiters) p50 / p99" \
	    "$(field hot_p50 "$W_LINE") / $(field hot_p99 "$W_LINE") ms"
	printf '%-44s %-26s\n' "  quiet regions (10 waiters) p50 / p99" \
	    "$(field cold_p50 "$W_LINE") / $(field cold_p99 "$W_LINE") ms"
	printf '%-44s %-26s\n' "  first / last answer per busy signal (med)" \
	    "$(field hot_first "$W_LINE") / $(field hot_last "$W_LINE") ms"
	printf '%-44s %-26s\n' "  nrmd queries per busy signal (median)" \
	    "$(field hot_queries "$W_LINE")"
	printf '%-44s %-26s\n' "  signals overlapped by a backstop re-check" \
	    "$(field recheck_rounds "$W_LINE")"
	read -r nr pg gen other busy _ _ <<<"$W_CPU"
	printf '%-44s %-26s\n' "  CPU s nrmd / postgres / client / other" \
	    "$nr / $pg / $gen / $other (${busy}% busy)"
fi
if has_phase page; then
	mean=$(awk -v a="${R_I_RPS[1]}" -v b="${R_P_TPS[1]}" -v c="${R_I_RPS[2]}" \
	    -v d="${R_P_TPS[2]}" 'BEGIN { printf "%.2f", (a / b + c / d) / 2 }')
	for round in 1 2; do
		ratio=$(awk -v a="${R_I_RPS[round]}" -v b="${R_P_TPS[round]}" \
		    'BEGIN { printf "%.2f", a / b }')
		printf '%-44s %-26s\n' "inbox page round $round: req/s vs tps (ratio)" \
		    "${R_I_RPS[round]} vs ${R_P_TPS[round]} ($ratio)"
		printf '%-44s %-26s\n' "  p50/p99 ms: nrmd; pgbench" \
		    "${R_I_LAT[round]}; ${R_P_LAT[round]}"
	done
	if [ -n "${D_TPS:-}" ]; then
		printf '%-44s %-26s\n' "  diagnosis: pgbench -c $POOL tps, p50/p99 ms" \
		    "$D_TPS, $D_LAT"
	fi
	verdict "$mean" '>=' 0.6
	printf '%-44s %-26s %-12s %s\n' "inbox page: mean ratio req/s / tps" \
	    "$mean" '>= 0.6' "$V"
fi
if [ -n "$M_LINE" ]; then
	per=$(field per_conn_kib "$M_LINE")
	verdict "$per" '<' 8
	printf '%-44s %-26s %-12s %s\n' \
	    "memory per idle long-poll ($(field conns "$M_LINE") held)" \
	    "$per KiB" '< 8 KiB' "$V"
	printf '%-44s %-26s\n' "  VmRSS before / held" \
	    "$(field rss0 "$M_LINE") / $(field rss_held "$M_LINE") KiB"
	printf '%-44s %-26s\n' "  per connection, last half (slope)" \
	    "$(field slope_kib "$M_LINE") KiB"
	printf '%-44s %-26s\n' "  after closing: VmRSS; released in" \
	    "$(field rss_end "$M_LINE") KiB; $(field released_s "$M_LINE") s"
	printf '%-44s %-26s\n' "  after closing: long-polls held; CLOSE_WAIT" \
	    "$(field waiting_end "$M_LINE"); $(field close_wait_end "$M_LINE")"
	printf '%-44s %-26s\n' "  after closing: nrmd fds (before)" \
	    "$(field fds_end "$M_LINE") ($(field fds0 "$M_LINE"))"
	printf '%-44s %-26s\n' "  then /readyz; a long-poll wake-up (ms)" \
	    "$(field readyz "$M_LINE"); $(field wake "$M_LINE") ($(field wake_ms "$M_LINE"))"
fi
if has_phase page; then
	echo
	echo "inbox page, CPU seconds used during each run (user+system), and per request/transaction:"
	printf '%-6s %-8s %6s %9s %8s %6s %10s %11s %15s\n' round side nrmd \
	    postgres loadgen other 'machine %' 'nrmd us/op' 'postgres us/op'
	for round in 1 2; do
		for side in nrmd pgbench; do
			if [ "$side" = nrmd ]; then c=${R_I_CPU[round]}; else c=${R_P_CPU[round]}; fi
			read -r nr pg gen other busy nrop pgop <<<"$c"
			printf '%-6s %-8s %6s %9s %8s %6s %10s %11s %15s\n' "$round" \
			    "$side" "$nr" "$pg" "$gen" "$other" "$busy" "$nrop" "$pgop"
		done
	done
	if [ -n "${D_CPU:-}" ]; then
		read -r nr pg gen other busy nrop pgop <<<"$D_CPU"
		printf '%-6s %-8s %6s %9s %8s %6s %10s %11s %15s\n' diag \
		    "pgb-c$POOL" "$nr" "$pg" "$gen" "$other" "$busy" "$nrop" "$pgop"
	fi
fi
if [ -n "$NRMD_EXIT_BAD" ]; then
	echo "WARNING: nrmd exited with status $NRMD_EXIT_BAD on SIGTERM (a daemon bug; the figures stand)"
fi
if [ -n "$MISSED" ] && [ "$ENFORCE" = 1 ]; then
	FAILED=1
fi
if [ "$FAILED" != 0 ]; then
	echo "bench-inbox.sh: FAILED (see the messages above)" >&2
	exit 1
fi
