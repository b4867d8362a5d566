#!/usr/bin/env bash
# indicators_cli.sh - shell-level tests of nrmctl indicators check
# (issue 13): the shipped register passes with a one-line summary, a
# broken one fails with every problem named (path and message), usage
# and help.  Needs no database (it lives beside the other nrmctl tier
# tests; scripts/check.sh runs it after the unit tier).
#
#   tests/db/indicators_cli.sh
#
# Prints "ok N - ..." lines; exits 1 on the first failure.
set -euo pipefail

cd "$(dirname "$0")/../.."
NRMCTL=${NRMCTL:-bin/nrmctl}
[ -x "$NRMCTL" ] || { echo "$NRMCTL is not built (run make)" >&2; exit 2; }
T=$(mktemp -d /tmp/nrm_indcli.XXXXXX)
trap 'rm -rf "$T"' EXIT

. tests/db/tap.sh
# has FILE TEXT: FILE holds the line TEXT exactly.
has() { grep -qxF -- "$2" "$1"; }

count=$(python3 -c 'import json; print(len(json.load(open("config/indicators.json"))["indicators"]))')
summary="indicators register config/indicators.json: $count indicators, 0 warnings"

expect 0 "$NRMCTL" indicators check || fail "the shipped register passes"
[ "$(cat "$T/out")" = "$summary" ] && [ ! -s "$T/err" ] ||
    fail "the shipped register: one summary line, nothing on stderr"
ok "the shipped register passes with one summary line ($count indicators)"

expect 0 "$NRMCTL" indicators check config/indicators.json &&
    [ "$(cat "$T/out")" = "$summary" ] || fail "an explicit FILE"
ok "an explicit FILE is checked the same way"

# A register with a fault of every kind: each is named, none is left out.
python3 - "$T/broken.json" <<'PY'
import json, sys
d = json.load(open("config/indicators.json"))
e = d["indicators"]
e[0]["colour"] = "red"                       # unknown key
e[1]["id"] = "Share-Of-Minors"               # bad id
e[2]["measure"] = "victims"                  # unknown measure
e[3]["by"] = ["city"]                        # unknown dimension
e[4]["by"] = ["verdict"]                     # not allowed (cases_by_region: cases)
e[5]["by"] = ["region", "minor", "gender"]   # more than two
del e[6]["title"]["nl"]                      # missing Dutch text
e[7]["id"] = e[0]["id"]                      # duplicate id
json.dump(d, open(sys.argv[1], "w"), ensure_ascii=False)
PY
first=$(python3 -c 'import json; print(json.load(open("config/indicators.json"))["indicators"][0]["id"])')
expect 1 "$NRMCTL" indicators check "$T/broken.json" ||
    fail "a broken register fails with exit 1"
[ ! -s "$T/out" ] || fail "a broken register prints nothing on stdout"
ok "a broken register fails with exit 1, nothing on stdout"
while IFS= read -r want; do
	grep -qF -- "$want" "$T/err" || fail "names: $want"
	ok "names: $want"
done <<EOF2
error: indicators.json: indicators[0].colour: unknown key (expected one of id, title, definition, measure, by, unit, how, when, by_whom, goal)
error: indicators.json: indicators[1].id: "Share-Of-Minors" is not an indicator id
error: indicators.json: indicators[2].measure: unknown measure "victims"
error: indicators.json: indicators[3].by[0]: unknown dimension "city"
error: indicators.json: indicators[4].by[0]: measure cases cannot be broken down by verdict
error: indicators.json: indicators[5].by: at most 2 dimensions (3 given)
error: indicators.json: indicators[6].title: missing key nl
error: indicators.json: indicators[7].id: duplicate id $first (also indicators[0])
EOF2
has "$T/err" "8 errors, 0 warnings" &&
    has "$T/err" "nrmctl: $T/broken.json refused: 8 error(s)" ||
    fail "the count: 8 errors, all of them shown"
ok "the count: 8 errors, all of them shown"

printf '{"indicators":\n  [}\n' >"$T/malformed.json"
expect 1 "$NRMCTL" indicators check "$T/malformed.json" &&
    grep -q 'indicators.json line 2, column 4: malformed JSON' "$T/err" ||
    fail "malformed JSON: line and column"
ok "malformed JSON: line and column"

expect 1 "$NRMCTL" indicators check "$T/absent.json" &&
    grep -q "could not open $T/absent.json" "$T/err" ||
    fail "a missing file fails"
ok "a missing file fails with exit 1"

for c in "indicators --help" "indicators check --help" "indicators check -h"; do
	# shellcheck disable=SC2086
	expect 0 "$NRMCTL" $c && grep -q '^usage: nrmctl indicators check' "$T/out" ||
	    fail "nrmctl $c prints its usage"
	ok "nrmctl $c prints its usage"
done
expect 0 "$NRMCTL" --help && grep -q '^  indicators check' "$T/out" ||
    fail "nrmctl --help lists indicators check"
ok "nrmctl --help lists indicators check"
expect 2 "$NRMCTL" indicators check a b || fail "two files: usage error"
ok "two files: usage error, exit 2"
expect 2 "$NRMCTL" indicators list || fail "an unknown subcommand"
ok "an unknown indicators command: usage error, exit 2"

echo "1..$n"
