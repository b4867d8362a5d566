#!/usr/bin/env bash
# run.sh - `make run`: install what is missing, build, start the private
# cluster in ./var, migrate, make demo keys / demo persons / pseudonym
# key / dev TLS certificate on first run, then run nrmd in the
# foreground.
#
# Ctrl-C (or nrmd exiting) stops nrmd, then the cluster.  A second run
# reuses the cluster, its data and the keys: the demo tokens and the
# demo persons' enrolment codes are printed only when they are created;
# afterwards run.sh says where they are (and how to reset a person).
#
#   var/            the cluster (pg.sh: var/data, var/log, var/run)
#   var/demo-keys.env   demo API tokens, one per role (mode 600)
#   var/demo-persons.env  demo persons' one-time enrolment codes, one
#                   per role, login demo-<role> (mode 600)
#   var/keys/pseudonym.key  HMAC key for subject pseudonyms (mode 600)
#   var/keys/data.kek       key-encryption key of personal data (mode 600)
#   var/tls/{cert,key}.pem  self-signed certificate for localhost
#   build/web/      the console nrmd serves at https://127.0.0.1:8443/
#                   (make web, part of make)
#
# NRM_PG_PORT_RUN overrides the cluster port (default 54329).
set -euo pipefail

cd "$(dirname "$0")/.."
VAR=var
PORT=${NRM_PG_PORT_RUN:-54329}
KEYS_ENV=$VAR/demo-keys.env
PERSONS_ENV=$VAR/demo-persons.env
DEMO_LABEL=make-run-demo

say() {
	printf 'run.sh: %s\n' "$*" >&2
}

scripts/deps.sh
make -j"$(nproc 2>/dev/null || echo 2)"

scripts/pg.sh start "$VAR" "$PORT"
eval "$(scripts/pg.sh env "$VAR" "$PORT")"
APP_URL=$NRM_DATABASE_URL

NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl migrate

umask 077

# demo_listed WHAT TEXT: whether `nrmctl WHAT list` (key, person) shows
# TEXT.
demo_listed() {
	local list
	list=$(NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl "$1" list)
	[[ $list == *"$2"* ]]
}

# demo_secret VAR FILE NRMCTL-ARGS...: run nrmctl as the owner and add
# its output (a token, an enrolment code) to FILE as VAR=output.
# nrmctl's details go to stderr; they are shown only when it fails, and
# then FILE is removed and run.sh stops.
demo_secret() {
	local var=$1 file=$2 out
	shift 2
	if ! out=$(NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl "$@" \
	    2>"$VAR/nrmctl.err"); then
		cat "$VAR/nrmctl.err" >&2
		rm -f "$VAR/nrmctl.err" "$file"
		exit 1
	fi
	rm -f "$VAR/nrmctl.err"
	printf '%s=%s\n' "$var" "$out" >>"$file"
}

# Demo keys: one per API role, created once per cluster.  They are
# recreated when the env file exists but the database has no demo keys
# (a fresh cluster after `make distclean` keeps nothing anyway).
new_key() {
	# new_key VAR ROLE AGENCY KIND [REGION]
	local var=$1 role=$2 agency=$3 kind=$4 region=${5:-}
	demo_secret "$var" "$KEYS_ENV.tmp" key create --role "$role" \
	    --agency "$agency" --agency-kind "$kind" --label "$DEMO_LABEL" \
	    ${region:+--region "$region"}
}

fresh_keys=0
if [ ! -s "$KEYS_ENV" ] || ! demo_listed key "$DEMO_LABEL"; then
	rm -f "$KEYS_ENV.tmp"
	{
		echo "# nrm demo API tokens, made by scripts/run.sh for this"
		echo "# cluster only.  Source it: . $KEYS_ENV"
	} >"$KEYS_ENV.tmp"
	new_key NRM_DEMO_REPORTER reporter "Demo Police" police
	new_key NRM_DEMO_COORDINATOR_VR13 coordinator \
	    "Demo Care Coordination Amsterdam" care_agency VR13
	new_key NRM_DEMO_COORDINATOR_NATIONAL coordinator \
	    "Demo National Coordination Centre" national_centre NATIONAL
	new_key NRM_DEMO_ASSESSOR assessor "Demo Assessment Body" \
	    assessment_body
	new_key NRM_DEMO_INVESTIGATOR investigator "Demo Police" police
	new_key NRM_DEMO_AUDITOR auditor "Demo Privacy Office" other
	new_key NRM_DEMO_ANALYST analyst "Demo National Rapporteur" other
	new_key NRM_DEMO_ADMIN admin "Demo Operations" other
	new_key NRM_DEMO_CHAIN_DIRECTOR chain_director \
	    "Demo National Coordination Centre" national_centre
	chmod 600 "$KEYS_ENV.tmp"
	mv "$KEYS_ENV.tmp" "$KEYS_ENV"
	fresh_keys=1
fi

# Demo persons: one per role, login demo-<role> (the coordinator in
# VR13), in the demo keys' agencies; their one-time enrolment codes go
# to $PERSONS_ENV.  Created once per cluster: when they exist, a second
# run only says how to issue a new code (nrmctl person reset).
new_person() {
	# new_person ROLE AGENCY [REGION]
	local role=$1 agency=$2 region=${3:-}
	demo_secret "NRM_DEMO_ENROL_${role^^}" "$PERSONS_ENV.tmp" person create \
	    --login "demo-$role" --name "Demo ${role^}" --agency "$agency" \
	    --role "$role" ${region:+--region "$region"}
}

fresh_persons=0
if ! demo_listed person "demo-reporter "; then
	rm -f "$PERSONS_ENV.tmp"
	{
		echo "# nrm demo persons' one-time enrolment codes (login"
		echo "# demo-<role>), made by scripts/run.sh for this cluster"
		echo "# only; each works once, for 24 hours."
	} >"$PERSONS_ENV.tmp"
	new_person reporter "Demo Police"
	new_person coordinator "Demo Care Coordination Amsterdam" VR13
	new_person assessor "Demo Assessment Body"
	new_person investigator "Demo Police"
	new_person auditor "Demo Privacy Office"
	new_person analyst "Demo National Rapporteur"
	new_person admin "Demo Operations"
	new_person chain_director "Demo National Coordination Centre"
	chmod 600 "$PERSONS_ENV.tmp"
	mv "$PERSONS_ENV.tmp" "$PERSONS_ENV"
	fresh_persons=1
fi

# The deployment's pseudonym key: 32 random bytes as 64 hex characters.
if [ ! -s "$VAR/keys/pseudonym.key" ]; then
	mkdir -p "$VAR/keys"
	chmod 700 "$VAR/keys"
	openssl rand -hex 32 >"$VAR/keys/pseudonym.key.tmp"
	chmod 600 "$VAR/keys/pseudonym.key.tmp"
	mv "$VAR/keys/pseudonym.key.tmp" "$VAR/keys/pseudonym.key"
	say "created $VAR/keys/pseudonym.key"
fi

# The key-encryption key of personal data at rest: 32 random bytes as 64
# hex characters, mode 600 (docs/data-protection.md).
if [ ! -s "$VAR/keys/data.kek" ]; then
	mkdir -p "$VAR/keys"
	chmod 700 "$VAR/keys"
	(umask 077 && openssl rand -hex 32 >"$VAR/keys/data.kek.tmp")
	mv "$VAR/keys/data.kek.tmp" "$VAR/keys/data.kek"
	say "created $VAR/keys/data.kek"
fi

# The key that signs audit checkpoints (Ed25519), kept outside the
# database with the checkpoints themselves (var/audit).
if [ ! -s "$VAR/keys/audit-signing.pem" ]; then
	mkdir -p "$VAR/keys" "$VAR/audit"
	bin/nrmctl audit keygen --out "$VAR/keys/audit-signing.pem" \
	    >"$VAR/keys/audit-signing.pub.pem"
	say "created $VAR/keys/audit-signing.pem (public key next to it)"
fi
mkdir -p "$VAR/audit"

# A self-signed development certificate for localhost.
if [ ! -s "$VAR/tls/cert.pem" ] || [ ! -s "$VAR/tls/key.pem" ]; then
	mkdir -p "$VAR/tls"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 825 -subj "/CN=localhost" \
	    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	    -keyout "$VAR/tls/key.pem" -out "$VAR/tls/cert.pem" 2>/dev/null
	chmod 600 "$VAR/tls/key.pem"
	chmod 644 "$VAR/tls/cert.pem"
	say "created a self-signed certificate in $VAR/tls"
fi

if [ "$fresh_keys" -eq 1 ]; then
	cat <<EOF

Demo API tokens (shown once; kept in $KEYS_ENV, mode 600):
$(grep '^NRM_DEMO_' "$KEYS_ENV")

Try it (in another terminal):

  . $KEYS_ENV
  curl -sS -X POST http://127.0.0.1:8080/v1/signals \\
    -H "Authorization: Bearer \$NRM_DEMO_REPORTER" \\
    -H "Content-Type: application/json" \\
    -H "Idempotency-Key: demo-\$(date +%s)" \\
    -d '{"observed_at": "$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ)",
         "location": {"municipality_code": "GM0363"},
         "subject": {"given_name": "Demo", "family_name": "Person",
                     "birth_date": "1990-01-01", "gender": "female",
                     "languages": ["en"]},
         "exploitation": ["labour"], "control_means": ["documents_withheld"],
         "urgency": {"immediate_danger": false, "needs_shelter": false},
         "consent": "given"}'

EOF
else
	say "demo tokens are in $KEYS_ENV (. $KEYS_ENV; echo \$NRM_DEMO_REPORTER)"
fi

if [ "$fresh_persons" -eq 1 ]; then
	cat <<EOF
Demo persons' enrolment codes (login demo-<role>; shown once, each works
once within 24 hours; kept in $PERSONS_ENV, mode 600):
$(grep '^NRM_DEMO_ENROL_' "$PERSONS_ENV")

Open the console at https://127.0.0.1:8443/ (the certificate is the
self-signed one in $VAR/tls: accept it once), choose "enrol" and give one
of these codes with a new password; the console shows the QR code for
your authenticator app.  Or by hand: POST https://127.0.0.1:8443/v1/enrol
{"enrolment_code", "password"}, then POST https://127.0.0.1:8443/v1/session.

EOF
else
	say "demo persons (demo-<role>) exist; a new enrolment code for one:"
	say "  NRM_DATABASE_URL=$NRM_OWNER_URL bin/nrmctl person reset demo-coordinator"
fi

NRMD_PID=
# shellcheck disable=SC2317 # invoked by the trap
stop_all() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "$NRMD_PID" ] && kill -0 "$NRMD_PID" 2>/dev/null; then
		kill -TERM "$NRMD_PID" 2>/dev/null || true
		wait "$NRMD_PID" 2>/dev/null || true
	fi
	say "stopping the cluster"
	scripts/pg.sh stop "$VAR" || true
	exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "the console: https://127.0.0.1:8443/ (API document:"
say "  https://127.0.0.1:8443/v1/openapi.yaml)"
say "starting nrmd (Ctrl-C stops nrmd and the cluster)"
NRM_DATABASE_URL=$APP_URL \
NRM_AUDIT_SIGNING_KEY_FILE=$VAR/keys/audit-signing.pem \
NRM_AUDIT_CHECKPOINT_FILE=$VAR/audit/checkpoints.jsonl \
    bin/nrmd --config config/nrmd.conf &
NRMD_PID=$!
set +e
wait "$NRMD_PID"
rc=$?
set -e
NRMD_PID=
exit "$rc"
