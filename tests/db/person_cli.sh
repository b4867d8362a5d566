#!/usr/bin/env bash
# person_cli.sh - shell-level tests of nrmctl person create / list /
# disable / enable / reset against a real PostgreSQL (issue 11).
#
#   tests/db/person_cli.sh DIR PORT     (a cluster from scripts/pg.sh)
#
# Creates database nrm_personcli (owner nrm_owner), migrates it, and
# checks: the enrolment code alone on the last line of stdout, only its
# SHA-256 in the database (the code is nowhere in a dump), the code
# works with api.enrol_lookup, each change audited as the operator,
# refusals with their exit status, list without secrets, disable and
# enable, reset with a new code that replaces the old one, and the
# --help texts.  Prints "ok N - ..." lines; exits 1 on the first failure.
set -euo pipefail

cd "$(dirname "$0")/../.."
DB=nrm_personcli
. tests/db/lib.sh

ctl() { "$NRMCTL" --database-url "$(url $DB)" "$@"; }
sql() { su_psql "$DB" -c "$1"; }
# code_ok FILE: stdout is exactly one line, a 32-character base32 code.
code_ok() { [ "$(wc -l <"$1")" = 1 ] && grep -Eqx '[A-Z2-7]{32}' "$1"; }

new_db $DB
ctl migrate --dir sql >/dev/null
sql "INSERT INTO auth.agency (name, kind) VALUES ('Cli Care', 'care_agency')"

expect 0 ctl person create --login cli.coord --name "Cli Coordinator" \
    --agency "Cli Care" --role coordinator --region VR13 ||
    fail "person create"
code_ok "$T/out" || fail "create: stdout is the code alone"
code=$(cat "$T/out")
ok "create prints the enrolment code alone on stdout"
grep -q 'shown once' "$T/err" || fail "create: stderr says shown once"
ok "details on stderr"
[ "$(sql "SELECT count(*) FROM auth.enrolment e JOIN auth.person p
    ON p.id = e.person_id WHERE p.login = 'cli.coord'
      AND e.code_hash = sha256('$code'::bytea)")" = 1 ] ||
    fail "the database stores SHA-256 of the code"
ok "the database stores SHA-256 of the code"
"$PGBIN/pg_dump" -h "$NRM_PG_SOCKDIR" -p "$NRM_PG_PORT" -U postgres "$DB" \
    >"$T/dump"
if grep -q "$code" "$T/dump"; then fail "the code is in a dump"; fi
ok "the code itself is nowhere in the database"
[ "$(psql_as nrm_app "$DB" -c "SELECT api.enrol_lookup('r', NULL,
    sha256('$code'::bytea))->'body'->>'login'")" = cli.coord ] ||
    fail "the code enrols"
ok "the printed code works with api.enrol_lookup"
[ "$(sql "SELECT action || ' ' || object_type || ' '
    || (api_key_id IS NULL) || ' ' || (person_id IS NULL) || ' ' || purpose
    FROM audit.event WHERE object_id = (SELECT id::text FROM auth.person
        WHERE login = 'cli.coord')")" = "person.create person true true nrmctl" ] ||
    fail "create is audited as the operator"
ok "create is audited as the operator (no key, no person)"

expect 1 ctl person create --login cli.coord --name "Again" \
    --agency "Cli Care" --role analyst || fail "a taken login"
[ ! -s "$T/out" ] && grep -q 'taken' "$T/err" || fail "taken: no code"
ok "a taken login: exit 1, no code printed"
expect 1 ctl person create --login cli.other --name "Other" \
    --agency "No Such Agency" --role analyst || fail "an unknown agency"
ok "an unknown agency: exit 1"
expect 1 ctl person create --login cli.other --name "Other" \
    --agency "Cli Care" --role coordinator || fail "no region"
grep -q 'regions' "$T/err" || fail "no region: says regions"
ok "a coordinator without --region: exit 1, the database says why"
expect 2 ctl person create --login cli.other --name "Other" \
    --agency "Cli Care" --role boss || fail "an unknown role"
ok "an unknown role: usage error, exit 2"
expect 2 ctl person create --login cli.other --name "Other" \
    --agency "Cli Care" --role analyst --valid 10 || fail "--valid 10"
ok "--valid below 60: usage error, exit 2"
expect 2 ctl person create --name "Other" --agency "Cli Care" \
    --role analyst || fail "missing --login"
ok "missing --login: usage error, exit 2"
[ "$(sql "SELECT count(*) FROM auth.person")" = 1 ] ||
    fail "refusals stored nothing"
ok "refusals stored nothing"

expect 0 ctl person list || fail "person list"
head -1 "$T/out" | grep -q '^login  *role  *agency  *regions  *status  *enrolled' ||
    fail "list: header"
grep -q '^cli\.coord  *coordinator  *Cli Care  *VR13  *active  *no ' \
    "$T/out" || fail "list: the person"
if grep -q "$code" "$T/out"; then fail "list shows the code"; fi
ok "list: a table of persons without secrets"

expect 0 ctl person disable cli.coord || fail "disable"
[ "$(sql "SELECT status FROM auth.person WHERE login = 'cli.coord'")" = \
    disabled ] || fail "disabled"
ok "disable"
expect 0 ctl person enable cli.coord || fail "enable"
[ "$(sql "SELECT status FROM auth.person WHERE login = 'cli.coord'")" = \
    active ] || fail "enabled"
ok "enable"
expect 0 ctl person reset --valid 600 cli.coord || fail "reset"
code_ok "$T/out" || fail "reset: stdout is the code alone"
code2=$(cat "$T/out")
[ "$code2" != "$code" ] || fail "reset: a new code"
[ "$(sql "SELECT count(*) FROM auth.enrolment WHERE used_at IS NULL
    AND code_hash = sha256('$code'::bytea)")" = 0 ] ||
    fail "reset: the old code is gone"
[ "$(sql "SELECT round(extract(epoch FROM expires_at - created_at))
    FROM auth.enrolment WHERE code_hash = sha256('$code2'::bytea)")" = \
    600 ] || fail "reset: --valid 600"
ok "reset prints a new code, valid 600 s; the old one stops working"
[ "$(sql "SELECT string_agg(action, ',' ORDER BY id) FROM audit.event
    WHERE action LIKE 'person.%' AND purpose = 'nrmctl'")" = \
    "person.create,person.disable,person.enable,person.reset" ] ||
    fail "every change audited"
ok "disable, enable, reset audited as the operator"
expect 1 ctl person disable cli.nobody || fail "an unknown login"
grep -q 'no person with this login' "$T/err" || fail "unknown: says so"
ok "an unknown login: exit 1"
expect 2 ctl person disable || fail "disable without a login"
ok "disable without a login: usage error, exit 2"

# The audit chain with an event that names a person (format v2) still
# verifies with nrmctl's own encoding, and the export carries person_id.
sql "INSERT INTO audit.event (action, object_type, outcome, person_id)
    SELECT 'case.read', 'case', 'allowed', id FROM auth.person
    WHERE login = 'cli.coord'"
psql_as nrm_app "$DB" -c "SELECT api.audit_seal(1000)" >/dev/null
expect 0 ctl audit verify || fail "audit verify with a person's event"
grep -q '^intact' "$T/out" || fail "verify: intact"
ok "nrmctl audit verify: intact with an event naming a person (v2)"
expect 0 ctl audit export --from 2000-01-01T00:00:00Z \
    --to 2100-01-01T00:00:00Z || fail "audit export"
pid=$(sql "SELECT id FROM auth.person WHERE login = 'cli.coord'")
grep -q "\"person_id\":\"$pid\"" "$T/out" ||
    fail "export: person_id of the person's event"
[ "$(grep -c '"person_id"' "$T/out")" = 1 ] ||
    fail "export: person_id only where set"
ok "nrmctl audit export: person_id only on the event that names one"

for c in create list disable enable reset; do
	expect 0 "$NRMCTL" person "$c" --help || fail "person $c --help"
	grep -q "usage: nrmctl person $c" "$T/out" "$T/err" ||
	    fail "person $c --help: usage"
done
ok "every person command has a --help text"

echo "1..$n"
