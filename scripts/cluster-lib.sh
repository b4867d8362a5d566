# shellcheck shell=bash
# cluster-lib.sh - what the cluster scripts (scripts/pg.sh, scripts/ha.sh)
# share; sourced by them after they set ME (the name their messages
# start with), USAGE_END (the last line of their head comment, which
# usage() prints) and COMMANDS (their subcommands, for dispatch()).

die() {
	printf '%s: %s\n' "$ME" "$*" >&2
	exit 1
}

usage() {
	sed -n "2,${USAGE_END}p" "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# Run the sourcing script's subcommand $1 with the other arguments: the
# function cmd_<$1, dashes as underscores> for a name in COMMANDS (set by
# the sourcing script, in the order its messages list them); no command
# or help: usage; another name: die naming the commands.
dispatch() {
	[ $# -ge 1 ] || usage
	local cmd=$1
	shift
	case $cmd in
	-h | --help | help) usage ;;
	*' '*) ;;
	*) case " $COMMANDS " in *" $cmd "*) "cmd_${cmd//-/_}" "$@"; return ;; esac ;;
	esac
	die "unknown command: $cmd (${COMMANDS// /, })"
}

# Absolute path of DIR without requiring it to exist.
abspath() {
	case $1 in
	/*) printf '%s\n' "${1%/}" ;;
	*) printf '%s/%s\n' "$(pwd -P)" "${1%/}" ;;
	esac
}

# The arguments DIR PORT of a command that makes a cluster (exactly
# these two, else usage): DIR made absolute in ARG_DIR, PORT, which must
# be a number, in ARG_PORT.
dir_port() {
	[ $# -eq 2 ] || usage
	# shellcheck disable=SC2034 # read by the sourcing script
	ARG_DIR=$(abspath "$1")
	ARG_PORT=$2
	case $ARG_PORT in
	'' | *[!0-9]*) die "port must be a number: $ARG_PORT" ;;
	esac
}

# The settings of every server nrm runs on (pg.sh's cluster, ha.sh's
# nodes), as postgresql.conf lines: acknowledged means committed
# (durability stays on), times in UTC, and no personal data in the
# server's logs.
nrm_server_conf() {
	cat <<'EOF'
fsync = on
synchronous_commit = on
timezone = 'UTC'
log_timezone = 'UTC'
# No personal data in logs: never log statement text or error detail
# (a failing statement or a constraint's DETAIL can carry its values).
log_min_error_statement = panic
log_error_verbosity = terse
log_statement = 'none'
log_min_duration_statement = -1
EOF
}
