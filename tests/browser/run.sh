#!/usr/bin/env bash
# run.sh - the browser tier (make browser, scripts/check.sh): one private
# cluster and one nrmd (release build, or $NRM_NRMD) with TLS, then
# `node --test` over tests/browser/*.test.mjs (Playwright driving
# Debian's chromium).  Stops everything on exit, Ctrl-C included.
#
# What the tests get (docs/console.md):
#   NRM_URL       https://127.0.0.1:PORT (public_origin is set to it)
#   NRM_FIXTURE   a JSON file: {"url", "cert", "keys": {role: token},
#                 "persons": {name: {login, role, agency, regions,
#                 enrolment_code}}}; the harness adds each person's
#                 password and TOTP secret once it enrolled
#   NRM_SHOTS     build/screenshots (the screenshots of every screen)
#   NRM_WEB_ROOT  the tree nrmd serves (default build/web)
#
# The persons: coordinator_vr13, coordinator_vr13b (a second one of the
# same region, for conflicts), coordinator_vr09, coordinator_national,
# reporter, assessor, auditor, analyst, admin, chain_director,
# privacy_officer; one API
# key per role as well (tests that set up data through the API use
# them), investigator included (its agency, Recherche Browser, is one a
# case may be shared with).
#
# Arguments are test files (default: every tests/browser/*.test.mjs).
# NRM_BROWSER_KEEP=1 keeps the temporary directory (nrmd's log) after.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd -P)
NRMD=${NRM_NRMD:-$ROOT/bin/nrmd}
NRMCTL=$ROOT/bin/nrmctl
export NRM_SHOTS=${NRM_SHOTS:-$ROOT/build/screenshots}
export NRM_WEB_ROOT=${NRM_WEB_ROOT:-$ROOT/build/web}

say() {
	printf 'browser: %s\n' "$*" >&2
}

for f in "$NRMD" "$NRMCTL" "$NRM_WEB_ROOT/index.html" \
    web/node_modules/playwright-core/package.json /usr/bin/chromium; do
	if [ ! -e "$f" ]; then
		say "$f is missing (make, make web, scripts/deps.sh)"
		exit 1
	fi
done

TMP=$(mktemp -d /tmp/nrm-browser.XXXXXX)
chmod 755 "$TMP" # the cluster runs as the postgres OS user
NRMD_PID=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$NRMD_PID" ] && kill -0 "$NRMD_PID" 2>/dev/null; then
		kill -TERM "$NRMD_PID" 2>/dev/null
		wait "$NRMD_PID" 2>/dev/null
	fi
	scripts/pg.sh drop "$TMP/pg" >/dev/null 2>&1
	if [ "${NRM_BROWSER_KEEP:-0}" = 1 ]; then
		say "kept $TMP"
	else
		rm -rf "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$(shuf -i "$1" -n 1)
		[ -e "/tmp/.s.PGSQL.$p" ] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

PGPORT=$(free_port 52000-52999) || exit 1
scripts/pg.sh start "$TMP/pg" "$PGPORT" >"$TMP/pg.log" 2>&1 || {
	cat "$TMP/pg.log" >&2
	exit 1
}
eval "$(scripts/pg.sh env "$TMP/pg" "$PGPORT")"
ctl() {
	NRM_DATABASE_URL=$NRM_OWNER_URL "$NRMCTL" "$@" 2>>"$TMP/nrmctl.log"
}
ctl migrate >/dev/null || {
	cat "$TMP/nrmctl.log" >&2
	exit 1
}

# Agencies come with their first key; persons join them.
declare -A KEYS
key() {
	# key NAME ROLE AGENCY KIND [REGION]
	local name=$1 role=$2 agency=$3 kind=$4 region=${5:-}
	local args=(key create --role "$role" --agency "$agency"
	    --agency-kind "$kind" --label browser)
	[ -n "$region" ] && args+=(--region "$region")
	KEYS[$name]=$(ctl "${args[@]}") || {
		cat "$TMP/nrmctl.log" >&2
		exit 1
	}
}
key reporter reporter "Politie Browser" police
key coordinator_vr13 coordinator "Zorgcoordinatie Amsterdam Browser" \
    care_agency VR13
key coordinator_vr09 coordinator "Zorgcoordinatie Utrecht Browser" \
    care_agency VR09
key coordinator_national coordinator "Landelijk Coordinatiecentrum Browser" \
    national_centre NATIONAL
key assessor assessor "Beoordelingsinstantie Browser" assessment_body
key auditor auditor "Privacybureau Browser" other
key analyst analyst "Nationaal Rapporteur Browser" other
key admin admin "Beheer Browser" other
key chain_director chain_director "Ketenregie Browser" national_centre
key privacy_officer privacy_officer "Gegevensbescherming Browser" \
    national_centre
# An investigating agency (a case may be shared with it).
key investigator investigator "Recherche Browser" kmar

PERSONS=()
person() {
	# person NAME ROLE AGENCY DISPLAY [REGION]
	local name=$1 role=$2 agency=$3 display=$4 region=${5:-} code
	local login="b-${name//_/-}"
	local args=(person create --login "$login" --name "$display"
	    --agency "$agency" --role "$role")
	[ -n "$region" ] && args+=(--region "$region")
	code=$(ctl "${args[@]}" | tail -n 1) || {
		cat "$TMP/nrmctl.log" >&2
		exit 1
	}
	PERSONS+=("$name|$login|$role|$agency|$region|$code|$display")
}
person reporter reporter "Politie Browser" "Rita Reporter"
person coordinator_vr13 coordinator "Zorgcoordinatie Amsterdam Browser" \
    "Cor Amsterdam" VR13
person coordinator_vr13b coordinator "Zorgcoordinatie Amsterdam Browser" \
    "Coby Amsterdam" VR13
person coordinator_vr09 coordinator "Zorgcoordinatie Utrecht Browser" \
    "Cees Utrecht" VR09
person coordinator_national coordinator \
    "Landelijk Coordinatiecentrum Browser" "Nina Landelijk" NATIONAL
person assessor assessor "Beoordelingsinstantie Browser" "Bea Beoordelaar"
person auditor auditor "Privacybureau Browser" "Ad Auditor"
person analyst analyst "Nationaal Rapporteur Browser" "Ana Analist"
person admin admin "Beheer Browser" "Bert Beheer"
person chain_director chain_director "Ketenregie Browser" "Kees Ketenregie"
person privacy_officer privacy_officer "Gegevensbescherming Browser" \
    "Petra Privacy"
# an identification panel (issue 19, panels.test.mjs): three assessors
person panel_chair assessor "Beoordelingsinstantie Browser" "Paula Paneel"
person panel_care assessor "Beoordelingsinstantie Browser" "Piet Zorg"
person panel_med assessor "Beoordelingsinstantie Browser" "Pim Arts"

# The audit signing key: checkpoints, and the signature of publications.
ctl audit keygen --out "$TMP/audit-key.pem" >"$TMP/audit-pub.pem" || {
	cat "$TMP/nrmctl.log" >&2
	exit 1
}

# TLS material and the pseudonym key.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || exit 1
openssl rand -hex 32 >"$TMP/pseudonym.key"
openssl rand -hex 32 >"$TMP/data.kek"
chmod 600 "$TMP/key.pem" "$TMP/pseudonym.key" "$TMP/data.kek"

# Below the kernel's ephemeral ports (32768-60999): a port drawn there
# can be taken as the local port of an outgoing connection (the e2e
# tier's, PostgreSQL's) between the check and nrmd's bind, and nrmd
# then could not listen (CI saw it twice).  Above the e2e workers'
# ranges (20000-31999, tests/e2e/nrm_e2e/env.py) and the chaos
# battery's (27000-31992), which may run beside this tier.
PORT=$(free_port 32000-32383) || exit 1
TLS_PORT=$(free_port 32384-32767) || exit 1
export NRM_URL="https://127.0.0.1:$TLS_PORT"
cat >"$TMP/nrmd.conf" <<EOF
# generated by tests/browser/run.sh
listen = 127.0.0.1:$PORT
listen_tls = 127.0.0.1:$TLS_PORT
tls_cert_file = $TMP/cert.pem
tls_key_file = $TMP/key.pem
public_origin = $NRM_URL
database_url = $NRM_DATABASE_URL
routing_dir = $ROOT/config/routing
indicators_file = $ROOT/config/indicators.json
pseudonym_key_file = $TMP/pseudonym.key
data_kek_file = $TMP/data.kek
web_root = $NRM_WEB_ROOT
audit_signing_key_file = $TMP/audit-key.pem
audit_checkpoint_file = $TMP/audit-checkpoints.jsonl
log_level = info
EOF

export NRM_FIXTURE=$TMP/fixture.json
# The keys go through a file (mode 600): the program itself is python's
# stdin (the here-document), so the keys cannot come that way too.
(umask 077 && for k in "${!KEYS[@]}"; do
	printf '%s=%s\n' "$k" "${KEYS[$k]}"
done >"$TMP/keys.txt") || exit 1
python3 - "$NRM_URL" "$TMP/cert.pem" "$TMP/keys.txt" "${#KEYS[@]}" \
    "${PERSONS[@]}" \
    >"$NRM_FIXTURE" <<'PY' || exit 1
import json, sys
url, cert, keyfile, nkeys = sys.argv[1:5]
rows = sys.argv[5:]
with open(keyfile) as f:
    keys = dict(line.split("=", 1) for line in f.read().split())
if len(keys) != int(nkeys):
    sys.exit("run.sh: %d keys made, %d in the fixture" % (int(nkeys), len(keys)))
persons = {}
for row in rows:
    name, login, role, agency, region, code, display = row.split("|")
    persons[name] = {"login": login, "role": role, "agency": agency,
                     "regions": [region] if region else [],
                     "display_name": display, "enrolment_code": code}
print(json.dumps({"url": url, "cert": cert, "keys": keys,
                  "persons": persons}, indent=1))
PY

"$NRMD" --config "$TMP/nrmd.conf" >"$TMP/nrmd.log" 2>&1 &
NRMD_PID=$!
for _ in $(seq 1 200); do
	if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/readyz" 2>/dev/null
	then
		break
	fi
	if ! kill -0 "$NRMD_PID" 2>/dev/null; then
		say "nrmd exited:"
		tail -n 30 "$TMP/nrmd.log" >&2
		exit 1
	fi
	sleep 0.1
done
say "nrmd ready at $NRM_URL (fixture $NRM_FIXTURE)"
mkdir -p "$NRM_SHOTS"

if [ $# -gt 0 ]; then
	FILES=("$@")
else
	FILES=(tests/browser/*.test.mjs)
fi
# One file at a time (they share the persons); the reporter prints one
# TAP line per test, which scripts/check.sh counts.
node --test --test-concurrency=1 \
    --test-reporter="$ROOT/tests/browser/reporter.mjs" \
    --test-reporter-destination=stdout "${FILES[@]}"
rc=$?
if ! kill -0 "$NRMD_PID" 2>/dev/null; then
	say "nrmd died during the tests:"
	tail -n 30 "$TMP/nrmd.log" >&2
	rc=1
fi
exit "$rc"
