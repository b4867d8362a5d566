# tap.sh - the TAP helpers of the shell tests in tests/db (sourced by
# lib.sh, and alone by the tests that need no database): ok, fail and
# expect.  The test sets $T, a scratch directory, before calling expect.

# TAP: "ok N - ...", or "not ok N - ..." and exit 1 (the first failure
# ends the test); the test prints "1..$n" at its end.
n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
fail() {
	n=$((n + 1))
	echo "not ok $n - $*"
	exit 1
}
# expect STATUS CMD...: run, keep stdout in $T/out and stderr in $T/err.
expect() {
	local want=$1 got=0
	shift
	"$@" >"$T/out" 2>"$T/err" || got=$?
	if [ "$got" != "$want" ]; then
		echo "# exit $got, wanted $want: $*" >&2
		sed 's/^/# out: /' "$T/out" >&2
		sed 's/^/# err: /' "$T/err" >&2
		return 1
	fi
}
