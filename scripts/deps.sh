#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages nrm needs to build, run and
# test, when they are missing.  Quiet when nothing is missing; runs
# `apt-get update` only when something is.  Needs root (or sudo).
#
# Installing postgresql-15 must not leave a system cluster running: nrm
# uses its own private cluster (scripts/pg.sh).  policy-rc.d keeps the
# package's service from starting during the install.
set -euo pipefail

# The console's build and browser tests need Node.js 20+ with npm (web/);
# they come with the machine, never from Debian's nodejs/npm packages.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "deps.sh: node and npm (Node.js 20 or later) are needed for web/" >&2
	exit 1
fi

PKGS=(
	build-essential clang pkg-config
	libevent-dev libpq-dev libssl-dev libcjson-dev libcmocka-dev
	libargon2-dev libcrack2-dev cracklib-runtime
	postgresql-15 postgresql-client-15 postgresql-15-pgtap
	# pg_autoctl: make ha, make chaos and the ha tier of make check
	# (docs/operations.md, "High availability")
	postgresql-15-auto-failover
	libtap-parser-sourcehandler-pgtap-perl
	python3 python3-pytest python3-requests python3-yaml
	python3-jsonschema python3-pytest-xdist
	wrk docker-compose valgrind openssl ca-certificates
	libclang-rt-14-dev curl clang-format
	libqrencode-dev chromium zbar-tools
	# promtool: make check runs `promtool check rules` on
	# config/prometheus/nrm-rules.yml and `promtool check metrics` on a
	# live scrape (tests/e2e/test_metrics_families.py); Debian ships it
	# only in the whole prometheus package (about 96 MB)
	prometheus
	# the KEK in a PKCS#11 token (issue 15, docs/security.md): the
	# OpenSSL pkcs11 engine nrmd uses, and a software token and its
	# tools for tests/e2e/test_kek_pkcs11.py
	libengine-pkcs11-openssl softhsm2 opensc
)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps.sh: missing packages (${missing[*]}) and not root" >&2
		exit 1
	}
	SUDO=sudo
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	added_policy=1
fi
cleanup() {
	if [ "$added_policy" -eq 1 ]; then
		$SUDO rm -f "$policy"
	fi
}
trap cleanup EXIT

$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done" >&2
