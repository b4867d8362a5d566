#!/usr/bin/env bash
# audit_cli.sh - shell-level tests of nrmctl audit verify / export /
# keygen / checkpoint against a real PostgreSQL (issue 6).
#
#   tests/db/audit_cli.sh DIR PORT      (a cluster from scripts/pg.sh)
#
# Creates database nrm_auditcli (owner nrm_owner), migrates it, seals a
# few hundred events, then runs every scenario on its own copy of that
# database (CREATE DATABASE ... TEMPLATE), so each tampering starts from
# an intact log: a changed field, a deleted event, swapped links, an
# event slipped in behind the triggers, a replaced audit.canonical(), a
# consistent rewrite (caught only by a checkpoint), a cut tail, a forged
# signature, and a purge.  Checkpoints are signed both by nrmctl and by
# the openssl command line (an independent implementation of the
# format); the export is re-hashed by python3 from docs/audit.md alone.
# Prints "ok N - ..." lines; exits 1 on the first failure.
set -euo pipefail

cd "$(dirname "$0")/../.."
DB=nrm_auditcli
. tests/db/lib.sh

# A fresh copy of the sealed database; prints its name.
copy() {
	new_db "${DB}_$1" "$DB"
	echo "${DB}_$1"
}
verify() { # DB [args]
	local db=$1
	shift
	"$NRMCTL" --database-url "$(url "$db")" audit verify "$@"
}
seal() { # DB: seal everything, as nrmd does (as nrm_app)
	"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 \
	    -d "$(url "$1" nrm_app)" -c "SELECT api.audit_seal(10000)" >/dev/null
}
sqlverify() { # DB: the database's own verdict, as JSON
	su_psql "$1" -c "SELECT audit.verify_chain(NULL)"
}
jget() { # JSON PATH (python expression on j)
	python3 -c "import json,sys; j=json.loads(sys.argv[1]); print($2)" "$1"
}

# ---------------------------------------------------------------------
# Setup: a migrated database with 300 sealed events.
# ---------------------------------------------------------------------
new_db $DB
"$NRMCTL" --database-url "$(url $DB)" migrate --dir sql >/dev/null
su_psql $DB -c "GRANT CONNECT ON DATABASE $DB TO nrm_app"
# The events are written through api.audit as its owner's role would (issue
# 14: nrm_app executes only the doors and can no longer write them itself).
"$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$(url $DB)" \
    -o /dev/null <<'EOF'
SET ROLE nrm_gate;
SELECT api.audit(NULL, NULL, NULL, 'case.read', 'case',
    'c' || i, (ARRAY['care', 'identification', 'emergency'])[1 + i % 3],
    (ARRAY['allowed', 'denied', 'failed'])[1 + i % 3],
    CASE WHEN i % 3 = 1 THEN 'out_of_scope' END, 'cli-' || i,
    CASE WHEN i % 2 = 0 THEN '192.0.2.7'::inet ELSE '2001:db8::7' END)
FROM generate_series(1, 300) i;
EOF
seal $DB

# ---------------------------------------------------------------------
# Help and usage.
# ---------------------------------------------------------------------
for c in "audit --help" "audit verify --help" "audit export --help" \
    "audit keygen --help" "audit checkpoint --help"; do
	# shellcheck disable=SC2086
	expect 0 "$NRMCTL" $c && grep -q '^usage: nrmctl audit' "$T/out" ||
	    fail "nrmctl $c prints its usage"
	ok "nrmctl $c prints its usage"
done
expect 2 "$NRMCTL" audit verify --checkpoints x ||
    fail "--checkpoints without --public-key is a usage error"
ok "--checkpoints without --public-key is a usage error"
expect 2 "$NRMCTL" audit export --from 2024-01-01T00:00:00Z ||
    fail "export without --to is a usage error"
ok "export without --to is a usage error"
expect 2 "$NRMCTL" audit export --from yesterday --to 2030-01-01T00:00:00Z ||
    fail "export: a time that is not RFC 3339 is a usage error"
ok "export: a time that is not RFC 3339 is a usage error"
expect 2 "$NRMCTL" audit frobnicate || fail "an unknown audit command: 2"
ok "an unknown audit command: exit 2"

# ---------------------------------------------------------------------
# keygen
# ---------------------------------------------------------------------
expect 0 "$NRMCTL" audit keygen --out "$T/key.pem" ||
    fail "keygen writes a key"
cp "$T/out" "$T/pub.pem"
[ "$(stat -c %a "$T/key.pem")" = 600 ] || fail "the private key is mode 600"
ok "keygen: private key file mode 600"
grep -q 'BEGIN PRIVATE KEY' "$T/key.pem" && grep -q 'BEGIN PUBLIC KEY' \
    "$T/pub.pem" || fail "keygen: PEM private key, PEM public key on stdout"
openssl pkey -in "$T/key.pem" -noout -text 2>/dev/null | grep -q ED25519 ||
    fail "keygen: an Ed25519 key"
[ "$(openssl pkey -in "$T/key.pem" -pubout)" = "$(cat "$T/pub.pem")" ] ||
    fail "keygen: the printed public key belongs to the private key"
ok "keygen: Ed25519, the printed public key is its own"
expect 1 "$NRMCTL" audit keygen --out "$T/key.pem" &&
    grep -q 'File exists' "$T/err" || fail "keygen never overwrites a key"
ok "keygen refuses to overwrite an existing file"

# ---------------------------------------------------------------------
# verify: intact; the same head as the database says.
# ---------------------------------------------------------------------
expect 0 verify $DB || fail "verify: an intact log exits 0"
head=$(su_psql $DB -c "SELECT api.audit_head()->>'hash'")
grep -qx "intact, 300 events, head $head" "$T/out" ||
    fail "verify: prints intact, 300 events, head H"
ok "verify: intact, 300 events, head = api.audit_head()"
[ "$(su_psql $DB -c "SELECT count(*) FROM audit.event
    WHERE action = 'audit.verify' AND purpose = 'audit'")" = 1 ] ||
    fail "verify records its own audit event"
ok "verify records its own audit event (audit.verify)"
seal $DB

# Checkpoints: one by nrmctl, one signed by the openssl command line.
expect 0 "$NRMCTL" --database-url "$(url $DB)" audit checkpoint \
    --key "$T/key.pem" || fail "checkpoint signs the head"
cp "$T/out" "$T/cp.jsonl"
cp_head=$(jget "$(cat "$T/cp.jsonl")" "str(j['pos']) + ' ' + j['hash']")
[ "$cp_head" = "$(su_psql $DB -c "SELECT (api.audit_head()->>'pos') || ' '
    || (api.audit_head()->>'hash')")" ] ||
    fail "checkpoint: the line carries the head"
ok "checkpoint: one JSON line with the chain head"
at=2030-01-01T00:00:00Z
mid=150
mid_hash=$(su_psql $DB -c "SELECT encode(hash, 'hex') FROM audit.chain
    WHERE pos = $mid")
printf 'nrm-audit-checkpoint\n%s\n%s\n%s' $mid "$mid_hash" $at >"$T/msg"
openssl pkeyutl -sign -rawin -inkey "$T/key.pem" -in "$T/msg" -out "$T/sig"
printf '{"pos": %s, "hash": "%s", "at": "%s", "sig": "%s"}\n' $mid \
    "$mid_hash" $at "$(base64 -w0 "$T/sig")" >>"$T/cp.jsonl"
expect 0 verify $DB --checkpoints "$T/cp.jsonl" --public-key "$T/pub.pem" ||
    fail "verify with checkpoints"
grep -q '2 checkpoint(s) verified' "$T/out" ||
    fail "verify: both checkpoints verified"
ok "verify: checkpoints by nrmctl and by openssl pkeyutl both verify"

# --checkpoints: numbered, chained lines appended to a series, one writer.
cpn="$T/cpn.jsonl"
for i in 1 2; do
	expect 0 "$NRMCTL" --database-url "$(url $DB)" audit checkpoint \
	    --key "$T/key.pem" --checkpoints "$cpn" ||
	    fail "checkpoint --checkpoints appends line $i"
	[ "$(jget "$(tail -n 1 "$cpn")" "j['seq']")" = "$i" ] ||
	    fail "checkpoint --checkpoints: line $i carries seq $i"
	cmp -s <(tail -n 1 "$cpn") "$T/out" ||
	    fail "checkpoint --checkpoints prints the line it appended"
done
[ "$(jget "$(tail -n 1 "$cpn")" "j['prev']")" = \
    "$(head -n 1 "$cpn" | tr -d '\n' | sha256sum | cut -c1-64)" ] ||
    fail "checkpoint --checkpoints: line 2's prev is line 1's SHA-256"
expect 0 verify $DB --checkpoints "$cpn" --public-key "$T/pub.pem" ||
    fail "verify the appended series"
ok "checkpoint --checkpoints: seq 1, 2, chained, and it verifies"
flock -n "$cpn" sleep 5 &
holder=$!
sleep 0.5
expect 1 "$NRMCTL" --database-url "$(url $DB)" audit checkpoint \
    --key "$T/key.pem" --checkpoints "$cpn" ||
    fail "checkpoint --checkpoints: refused while the file is locked"
grep -q "is in use" "$T/err" || fail "checkpoint: says the file is in use"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
[ "$(wc -l <"$cpn")" = 2 ] || fail "checkpoint: nothing appended while locked"
ok "checkpoint --checkpoints: refused while another writer holds the file"

# ---------------------------------------------------------------------
# export
# ---------------------------------------------------------------------
from=$(su_psql $DB -c "SELECT to_char(min(at) AT TIME ZONE 'UTC',
    'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM audit.event")
to=$(su_psql $DB -c "SELECT to_char(at AT TIME ZONE 'UTC',
    'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM audit.event
    WHERE request_id = 'cli-100'")
expect 0 "$NRMCTL" --database-url "$(url $DB)" audit export --from "$from" \
    --to "$to" || fail "export a window"
[ "$(wc -l <"$T/out")" = 99 ] || fail "export: 99 events before cli-100"
ok "export: one line per event of the window"
python3 - "$T/out" <<'EOF' || fail "export: lines re-hash from docs alone"
# Recompute every exported link from the documented encoding.
import hashlib, json, struct, sys
def field(v):
    if v is None:
        return b'\xff\xff\xff\xff'
    b = str(v).encode()
    return struct.pack('>I', len(b)) + b
names = ['id', 'at', 'api_key_id', 'agency_id', 'role', 'action',
         'object_type', 'object_id', 'purpose', 'outcome', 'reason',
         'request_id', 'client_addr']
prev = None
for line in open(sys.argv[1]):
    j = json.loads(line)
    e = j['event']
    # person_id: present (and tag v2) only when an event names a person
    person = e.get('person_id')
    assert list(e) == names + (['person_id'] if person else []), list(e)
    canon = (field('nrm.audit.event.v2' if person else 'nrm.audit.event.v1')
             + b''.join(field(e[k]) for k in names)
             + (field(person) if person else b''))
    ph = bytes.fromhex(j['prev_hash'])
    assert hashlib.sha256(ph + canon).hexdigest() == j['hash'], j['pos']
    if prev is not None:
        assert j['pos'] == prev[0] + 1 and j['prev_hash'] == prev[1]
    if j['pos'] == 1:
        assert ph == hashlib.sha256(b'nrm-audit-chain-v1').digest()
    prev = (j['pos'], j['hash'])
EOF
ok "export: every line re-hashes from the documented encoding (python)"
expect 0 "$NRMCTL" --database-url "$(url $DB)" audit export --from "$from" \
    --to "$to" --checkpoints "$T/cp.jsonl" --public-key "$T/pub.pem" ||
    fail "export with the covering checkpoint"
last=$(tail -1 "$T/out")
[ "$(jget "$last" "j['checkpoint']['pos']")" = $mid ] ||
    fail "export: the covering checkpoint is the first at or after the end"
[ "$(wc -l <"$T/out")" = $((mid + 1)) ] ||
    fail "export: the range runs on to the covering checkpoint"
[ "$(tail -2 "$T/out" | head -1 | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["hash"])')" = "$mid_hash" ] ||
    fail "export: the last link is the checkpoint's"
ok "export: runs on to the covering checkpoint and ends with it"
late_from=$(su_psql $DB -c "SELECT to_char(now() AT TIME ZONE 'UTC' -
    interval '1 hour', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
late_to=$(su_psql $DB -c "SELECT to_char(now() AT TIME ZONE 'UTC' +
    interval '1 hour', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
head -1 "$T/cp.jsonl" | sed 's/"pos":[0-9]*/"pos":1/' >"$T/early.jsonl"
expect 1 "$NRMCTL" --database-url "$(url $DB)" audit export \
    --from "$late_from" --to "$late_to" --checkpoints "$T/early.jsonl" &&
    grep -q 'no checkpoint in .* covers position' "$T/err" ||
    fail "export: refuses without a covering checkpoint"
ok "export: no covering checkpoint, no export"

# ---------------------------------------------------------------------
# Tampering, each on its own copy.
# ---------------------------------------------------------------------
behind() { # DB SQL [psql args]: as a superuser behind triggers and keys
	local db=$1 sql=$2
	shift 2
	su_psql "$db" -c "SET session_replication_role = replica" -c "$sql" "$@"
}
# broken DB REASON [checkpoint args]: verify exits 1 naming REASON, and
# for a position the database's own verify agrees.
broken() {
	local db=$1 reason=$2
	shift 2
	expect 1 verify "$db" "$@" || return 1
	grep -q "($reason)\$" "$T/out" || {
		sed 's/^/# /' "$T/out" >&2
		return 1
	}
}

d=$(copy field)
ev=$(su_psql "$d" -c "SELECT event_id FROM audit.chain WHERE pos = 42")
behind "$d" "UPDATE audit.event SET purpose = 'audit' WHERE id = $ev"
broken "$d" 'hash mismatch' || fail "a changed field is caught"
sql=$(sqlverify "$d")
want="broken at position 42 (event $ev): expected $(jget "$sql" \
    "j['first_broken']['expected']"), found $(jget "$sql" \
    "j['first_broken']['found']") (hash mismatch)"
[ "$(cat "$T/out")" = "$want" ] ||
    fail "a changed field: position, expected and found as the database says"
ok "a changed field: broken at position 42 (event E): expected X, found Y"

d=$(copy delete)
ev=$(su_psql "$d" -c "SELECT event_id FROM audit.chain WHERE pos = 7")
behind "$d" "DELETE FROM audit.event WHERE id = $ev"
broken "$d" 'missing event' && grep -q "^broken at position 7 (event $ev)" \
    "$T/out" || fail "a deleted event is caught"
ok "a deleted event: broken at position 7 (missing event)"

d=$(copy gap)
behind "$d" "DELETE FROM audit.event WHERE id = (SELECT event_id
    FROM audit.chain WHERE pos = 9); DELETE FROM audit.chain WHERE pos = 9"
broken "$d" 'missing event' && grep -q "^broken at position 9 (event unknown)" \
    "$T/out" || fail "a deleted event and link are caught"
ok "a deleted event and link: broken at position 9 (missing event)"

d=$(copy swap)
behind "$d" "UPDATE audit.chain SET pos = 999999 WHERE pos = 20;
    UPDATE audit.chain SET pos = 20 WHERE pos = 30;
    UPDATE audit.chain SET pos = 30 WHERE pos = 999999"
broken "$d" 'order' && grep -q "^broken at position 20 " "$T/out" ||
    fail "swapped links are caught"
ok "two links swapped: broken at position 20 (order)"

d=$(copy unchained)
behind "$d" "INSERT INTO audit.event (id, action, outcome)
    OVERRIDING SYSTEM VALUE VALUES (0, 'case.read', 'allowed')"
broken "$d" 'unchained event' && grep -q '^broken: event 0 ' "$T/out" ||
    fail "an event behind the triggers is caught"
ok "an event slipped in behind the triggers: unchained event"

d=$(copy canon)
su_psql "$d" -c "CREATE OR REPLACE FUNCTION audit.canonical(e audit.event)
    RETURNS bytea LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp AS \$\$ SELECT '\\x00'::bytea \$\$"
broken "$d" 'canonical mismatch' ||
    fail "a replaced audit.canonical() is caught"
ok "a replaced audit.canonical(): canonical mismatch"

d=$(copy rewrite)
behind "$d" "UPDATE audit.event SET outcome = 'allowed'
    WHERE id = (SELECT event_id FROM audit.chain WHERE pos = 100)" \
    -f tests/db/rechain.psql -c "SELECT pg_temp.rechain(100)" >/dev/null
expect 0 verify "$d" ||
    fail "a consistent rewrite passes without checkpoints"
ok "a consistent rewrite is not detectable inside the database"
broken "$d" 'checkpoint mismatch' --checkpoints "$T/cp.jsonl" \
    --public-key "$T/pub.pem" &&
    grep -q "^broken at position $mid: the checkpoint on line 2 expected \
$mid_hash" "$T/out" || fail "a consistent rewrite is caught by a checkpoint"
ok "a consistent rewrite: caught by the signed checkpoint"

d=$(copy tail)
behind "$d" "DELETE FROM audit.event WHERE id IN (SELECT event_id
    FROM audit.chain WHERE pos > 200); DELETE FROM audit.chain
    WHERE pos > 200"
broken "$d" 'beyond head' --checkpoints "$T/cp.jsonl" \
    --public-key "$T/pub.pem" || fail "a cut tail is caught by a checkpoint"
ok "a cut tail: beyond head"

sed "2s/\"hash\": \"./\"hash\": \"0/" "$T/cp.jsonl" >"$T/forged.jsonl"
cmp -s "$T/forged.jsonl" "$T/cp.jsonl" && sed -i \
    "2s/\"hash\": \"0/\"hash\": \"1/" "$T/forged.jsonl"
broken $DB 'bad signature' --checkpoints "$T/forged.jsonl" \
    --public-key "$T/pub.pem" || fail "a forged checkpoint is caught"
ok "a checkpoint whose hash was changed: bad signature"
# The shared checkpoint format (nrm-api/common/auditchain.c) is strict:
# a line that could be read two ways is refused, not guessed at.
line2=$(sed -n 2p "$T/cp.jsonl")
for bad in "dup|${line2%\}}, \"pos\": 1}|a member appears twice" \
    "trail|$line2 x|not a JSON object" \
    "extra|${line2%\}}, \"note\": \"x\"}|unknown member" \
    "at|${line2/\"at\": \"$at\"/\"at\": \"2030-01-01\\u00e9\"}|\"at\" is not a time string"; do
	IFS='|' read -r name text why <<<"$bad"
	{ head -1 "$T/cp.jsonl"; printf '%s\n' "$text"; } >"$T/strict-$name.jsonl"
	expect 1 verify $DB --checkpoints "$T/strict-$name.jsonl" \
	    --public-key "$T/pub.pem" &&
	    grep -q "line 2: $why" "$T/err" ||
	    fail "a checkpoints file with a line of kind '$name' is refused"
	ok "a checkpoint line of kind '$name' is refused: $why"
done
"$NRMCTL" audit keygen --out "$T/other.pem" >"$T/other.pub" 2>/dev/null
broken $DB 'bad signature' --checkpoints "$T/cp.jsonl" \
    --public-key "$T/other.pub" || fail "another key's signature is refused"
ok "checkpoints checked with another public key: bad signature"

# ---------------------------------------------------------------------
# Purge: verify continues from the anchor, old checkpoints are skipped.
# ---------------------------------------------------------------------
d=$(copy purge)
behind "$d" "UPDATE audit.event SET at = at - interval '400 days'
    WHERE id IN (SELECT event_id FROM audit.chain WHERE pos <= 120)"
behind "$d" "DO \$r\$
    DECLARE c record; v_prev bytea := audit.genesis();
    BEGIN
        FOR c IN SELECT * FROM audit.chain ORDER BY pos LOOP
            UPDATE audit.chain SET prev_hash = v_prev, hash = sha256(v_prev
                || audit.canonical(e)) FROM audit.event e
            WHERE pos = c.pos AND e.id = c.event_id
            RETURNING hash INTO v_prev;
        END LOOP;
    END \$r\$"
# The events are 400 days old: below 0014's default minimum age.
su_psql "$d" -c "UPDATE audit.retention_policy SET min_age = '1 day'"
d2=${DB}_purge_signed
new_db $d2 "$d"
r=$(su_psql "$d" -c "SET ROLE nrm_owner" \
    -c "SELECT audit.purge_before(now() - interval '1 day')")
[ "$(jget "$r" "j['purged_through_pos']")" = 120 ] ||
    fail "purge_before removes the first 120 links"
expect 0 verify "$d" && grep -q "verified from the retention anchor at position 120" \
    "$T/out" ||
    fail "verify after a purge starts from the anchor"
ok "after purge_before: intact from retention anchor 120"

# ---------------------------------------------------------------------
# Signed anchors (0014).  The database owner may INSERT an anchor; only
# the key makes it one the verifiers trust once it skips a checkpoint.
# ---------------------------------------------------------------------
# sign_anchor KEY POS HASH AT: base64 Ed25519 by the openssl command line
sign_anchor() {
	printf 'nrm-audit-anchor\n%s\n%s\n%s' "$2" "$3" "$4" >"$T/amsg"
	openssl pkeyutl -sign -rawin -inkey "$1" -in "$T/amsg" -out "$T/asig"
	base64 -w0 "$T/asig"
}
d=$(copy forged)
hp=$(su_psql "$d" -c "SELECT max(pos) FROM audit.chain")
hh=$(su_psql "$d" -c "SELECT encode(hash, 'hex') FROM audit.chain
    WHERE pos = $hp")
su_psql "$d" -c "SET ROLE nrm_owner" -c "INSERT INTO audit.retention
    (purged_through_pos, anchor_hash, before, events)
    VALUES ($hp, '\\x$hh', now(), 1)"
behind "$d" "UPDATE audit.event SET purpose = 'audit'
    WHERE id = (SELECT event_id FROM audit.chain WHERE pos = 42)"
expect 0 verify "$d" ||
    fail "a forged anchor at the head hides a rewrite from a bare verify"
ok "a forged anchor at the head: a bare verify starts there (intact)"
broken "$d" 'unsigned anchor' --checkpoints "$T/cp.jsonl" \
    --public-key "$T/pub.pem" && grep -q "^broken at position $hp: the \
retention anchor is not signed" "$T/out" ||
    fail "an unsigned anchor that skips a checkpoint is caught"
ok "a forged unsigned anchor at the head: broken (unsigned anchor)"
sig=$(sign_anchor "$T/other.pem" "$hp" "$hh" 2030-01-01T00:00:00Z)
su_psql "$d" -c "SET ROLE nrm_owner" -c "INSERT INTO audit.anchor_signature
    VALUES ($hp, '2030-01-01T00:00:00Z', '$sig')"
broken "$d" 'bad anchor signature' --checkpoints "$T/cp.jsonl" \
    --public-key "$T/pub.pem" ||
    fail "an anchor signed by another key is caught"
ok "a forged anchor signed by another key: broken (bad anchor signature)"

# nrmctl audit purge: the minimum age, then a signed anchor that verifies.
expect 2 "$NRMCTL" audit purge --before yesterday --key "$T/key.pem" ||
    fail "purge: a time that is not RFC 3339 is a usage error"
ok "purge: --before must be an RFC 3339 time"
d=$(copy young)
expect 1 "$NRMCTL" --database-url "$(url "$d")" audit purge \
    --before "$late_from" --key "$T/key.pem" &&
    grep -q 'younger than the minimum retention age (audit.retention_policy.min_age = 5 years)' \
    "$T/err" || fail "purge: younger than min_age is refused, naming the key"
[ "$(su_psql "$d" -c "SELECT count(*) FROM audit.retention")" = 0 ] ||
    fail "purge: a refused purge removes nothing"
ok "purge younger than audit.retention_policy.min_age: refused, key named"
# $d2: the aged, re-chained copy; a checkpoint before and one after 120.
early=$(su_psql $d2 -c "SELECT encode(hash, 'hex') FROM audit.chain
    WHERE pos = 50")
printf 'nrm-audit-checkpoint\n50\n%s\n%s' "$early" $at >"$T/msg"
openssl pkeyutl -sign -rawin -inkey "$T/key.pem" -in "$T/msg" -out "$T/sig"
printf '{"pos": 50, "hash": "%s", "at": "%s", "sig": "%s"}\n' "$early" \
    $at "$(base64 -w0 "$T/sig")" >"$T/cp2.jsonl"
"$NRMCTL" --database-url "$(url $d2)" audit checkpoint --key "$T/key.pem" \
    >>"$T/cp2.jsonl"
new_db ${DB}_purge_unsigned $d2
old=$(su_psql $DB -c "SELECT to_char(now() AT TIME ZONE 'UTC' -
    interval '2 days', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
expect 0 "$NRMCTL" --database-url "$(url $d2)" audit purge \
    --before "$old" --key "$T/key.pem" ||
    fail "nrmctl audit purge purges and signs"
[ "$(jget "$(cat "$T/out")" "j['purged_through_pos']")" = 120 ] &&
    [ -n "$(jget "$(cat "$T/out")" "j['signed_at']")" ] ||
    fail "purge: prints the answer with signed_at"
ok "nrmctl audit purge: 120 events, anchor signed"
expect 0 verify $d2 --checkpoints "$T/cp2.jsonl" --public-key "$T/pub.pem" &&
    grep -q "verified from the retention anchor at position 120 (signed)" \
    "$T/out" && grep -q "1 checkpoint(s) verified, 1 before the anchor skipped" \
    "$T/out" || fail "a signed purge verifies, skipping the older checkpoint"
ok "a properly signed purge: intact, the skipped checkpoint is vouched for"
su_psql ${DB}_purge_unsigned -c "SET ROLE nrm_owner" \
    -c "SELECT audit.purge_before(now() - interval '1 day')" >/dev/null
broken ${DB}_purge_unsigned 'unsigned anchor' --checkpoints "$T/cp2.jsonl" \
    --public-key "$T/pub.pem" ||
    fail "the same purge without a signature: unsigned anchor"
ok "the same purge unsigned (SQL only): broken once it skips a checkpoint"

# ---------------------------------------------------------------------
# Numbered, chained checkpoint lines (issue 14): written here by python
# (cryptography) from docs/audit.md alone, after the two old-format lines
# of cp.jsonl (a file that starts in the old format carries on).
# ---------------------------------------------------------------------
series() { # OUT POS...: cp.jsonl, then one numbered line per POS
	local out=$1
	shift
	python3 - "$T/key.pem" "$T/cp.jsonl" "$out" "$(url $DB)" "$@" <<'PY'
import hashlib, base64, json, subprocess, sys
from cryptography.hazmat.primitives.serialization import load_pem_private_key
key = load_pem_private_key(open(sys.argv[1], 'rb').read(), None)
lines = [l.rstrip('\n') for l in open(sys.argv[2]) if l.strip()]
for pos in sys.argv[5:]:
    h = subprocess.run(['psql', '-XAtq', '-d', sys.argv[4], '-c',
        "SELECT encode(hash, 'hex') FROM audit.chain WHERE pos = " + pos],
        capture_output=True, text=True, check=True).stdout.strip()
    seq = len(lines) + 1
    prev = hashlib.sha256(lines[-1].encode()).hexdigest() if lines \
        else '0' * 64
    at = '2030-01-02T00:00:%02dZ' % seq
    msg = 'nrm-audit-checkpoint-v2\n%d\n%s\n%s\n%s\n%s' % (
        seq, prev, pos, h, at)
    sig = base64.b64encode(key.sign(msg.encode())).decode()
    lines.append(json.dumps({'seq': seq, 'prev': prev, 'pos': int(pos),
        'hash': h, 'at': at, 'sig': sig}, separators=(',', ':')))
open(sys.argv[3], 'w').write('\n'.join(lines) + '\n')
PY
}
PATH=$PGBIN:$PATH series "$T/s.jsonl" 160 170 180 190 200
expect 0 verify $DB --checkpoints "$T/s.jsonl" --public-key "$T/pub.pem" &&
    grep -q '7 checkpoint(s) verified' "$T/out" ||
    fail "old-format lines followed by numbered ones verify"
ok "a file of old-format lines, then numbered lines: intact (7 verified)"
sed 4d "$T/s.jsonl" >"$T/s-mid.jsonl"
broken $DB 'checkpoint sequence' --checkpoints "$T/s-mid.jsonl" \
    --public-key "$T/pub.pem" && grep -q '^broken: the checkpoint on line 4 ' \
    "$T/out" || fail "a middle line removed is caught"
ok "a middle numbered line removed: broken (checkpoint sequence)"
{ sed -n 1,3p "$T/s.jsonl"; sed -n 5p "$T/s.jsonl"; sed -n 4p "$T/s.jsonl"
    sed -n '6,$p' "$T/s.jsonl"; } >"$T/s-swap.jsonl"
broken $DB 'checkpoint sequence' --checkpoints "$T/s-swap.jsonl" \
    --public-key "$T/pub.pem" || fail "two lines swapped are caught"
ok "two numbered lines swapped: broken (checkpoint sequence)"
{ sed -n 1,3p "$T/s.jsonl"; sed -n 2p "$T/cp.jsonl"; } >"$T/s-old.jsonl"
broken $DB 'old-format line after a numbered one' \
    --checkpoints "$T/s-old.jsonl" --public-key "$T/pub.pem" ||
    fail "an old-format line after a numbered one is caught"
ok "an old-format line spliced in after a numbered one: broken"
# A line from another series (same key, same seq, another prev).
PATH=$PGBIN:$PATH series "$T/s2.jsonl" 165 175
{ sed -n 1,3p "$T/s.jsonl"; sed -n 4p "$T/s2.jsonl"; } >"$T/s-splice.jsonl"
broken $DB 'checkpoint chain' --checkpoints "$T/s-splice.jsonl" \
    --public-key "$T/pub.pem" || fail "a line spliced from another series"
ok "a line spliced in from another series: broken (checkpoint chain)"
sed '$d' "$T/s.jsonl" >"$T/s-last.jsonl"
expect 0 verify $DB --checkpoints "$T/s-last.jsonl" \
    --public-key "$T/pub.pem" ||
    fail "the last line dropped is not detectable from the file alone"
ok "the last line dropped: not detectable from the file alone (documented)"

# ---------------------------------------------------------------------
# The read-only verifier (0014): a LOGIN user in nrm_audit_reader.
# ---------------------------------------------------------------------
su_psql postgres -c "DO \$r\$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nrm_cli_reader')
    THEN CREATE ROLE nrm_cli_reader LOGIN IN ROLE nrm_audit_reader;
    END IF; END \$r\$"
su_psql $DB -c "GRANT CONNECT ON DATABASE $DB TO nrm_cli_reader"
expect 0 "$NRMCTL" --database-url "$(url $DB nrm_cli_reader)" audit verify \
    --checkpoints "$T/cp.jsonl" --public-key "$T/pub.pem" &&
    grep -q '^intact, ' "$T/out" ||
    fail "verify as a login in nrm_audit_reader"
ok "verify runs as a login in nrm_audit_reader (not the owner): intact"
for w in "INSERT INTO audit.event (action, outcome) VALUES ('x', 'allowed')" \
    "DELETE FROM audit.chain" "UPDATE audit.event SET purpose = NULL" \
    "INSERT INTO audit.retention VALUES (1, audit.genesis(), now(), 1)" \
    "SELECT api.audit_seal(1)" "SET ROLE nrm_owner"; do
	if psql_as nrm_cli_reader $DB -c "$w" >"$T/out" 2>"$T/err"; then
		fail "nrm_audit_reader could: $w"
	fi
	grep -q 'permission denied' "$T/err" ||
	    fail "nrm_audit_reader: $w fails for lack of permission"
done
ok "nrm_audit_reader cannot write: insert, delete, update, seal, set role"

echo "1..$n"
