# SPDX-License-Identifier: MIT
# test/http/lib.sh: sourced by the http test scripts (bash). TAP output,
# a private temporary directory (SCALES_DIR points into it), processes
# started in the background and stopped by their pids at exit.
#
# Environment (set by test/http/meson.build): SCALES_HTTP (the standalone
# server), SCALES_XSS_WRITER, SCALES_SEED_TOUR, SCALES_EXPORT (optional),
# SCALES_HTTP_ARTIFACTS (where artifacts such as screenshots are kept).

set -u

tap_n=0
tap_failed=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# check DESCRIPTION COMMAND...: ok if the command succeeds
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
bail() { echo "Bail out! $*"; exit 1; }

for v in SCALES_HTTP SCALES_XSS_WRITER; do
	[ -x "${!v:-}" ] || bail "$v is not set to an executable"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scales-http-test.XXXXXX") || bail mktemp
export SCALES_DIR=$tmp/segments
mkdir -p "$SCALES_DIR"
export HOME=$tmp/home # chromium and promtool write nothing elsewhere
mkdir -p "$HOME"
started=()

stop_pid() {
	kill -TERM "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

cleanup() {
	local p
	for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${started[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# wait_for FILE REGEX PID [SECONDS]: until a line of FILE matches REGEX.
# Fails if PID exits first, or after SECONDS (default 60): a deadline for
# a hung process, not a timing assertion.
wait_for() {
	local f=$1 re=$2 pid=$3 secs=${4:-60} i=0
	while ! grep -Eq -- "$re" "$f" 2>/dev/null; do
		kill -0 "$pid" 2>/dev/null || return 1
		i=$((i + 1))
		[ "$i" -gt $((secs * 20)) ] && return 1
		sleep 0.05
	done
}

# start_writer NAME CMD...: runs CMD in the background (SCALES_DIR as
# exported) and waits for its "ready" line; sets NAME_pid.
start_writer() {
	local name=$1
	shift
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	local pid=$!
	started+=("$pid")
	wait_for "$tmp/$name.out" '^ready$' "$pid" ||
		bail "$name did not get ready: $(cat "$tmp/$name.err")"
	printf -v "${name}_pid" '%s' "$pid"
}

# start_server NAME ARGS...: scales-http ARGS in the background; waits for
# its "listening URL" line; sets NAME_pid and NAME_url (no trailing /).
start_server() {
	local name=$1
	shift
	"$SCALES_HTTP" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	local pid=$!
	started+=("$pid")
	wait_for "$tmp/$name.out" '^listening ' "$pid" ||
		bail "$name did not start: $(cat "$tmp/$name.err")"
	local u
	u=$(sed -n 's/^listening //p' "$tmp/$name.out")
	printf -v "${name}_pid" '%s' "$pid"
	printf -v "${name}_url" '%s' "${u%/}"
}

# start_seed_tour NAME: the lead's examples/seed-tour (issue 3 numbers).
start_seed_tour() {
	[ -x "${SCALES_SEED_TOUR:-}" ] || bail "SCALES_SEED_TOUR is not built"
	start_writer "$1" "$SCALES_SEED_TOUR"
}

# fetch URL [CURL ARGS...]: body in $tmp/body, headers in $tmp/headers;
# prints the status code.
fetch() {
	local u=$1
	shift
	curl -sS --max-time 30 -o "$tmp/body" -D "$tmp/headers" \
		-w '%{http_code}' "$@" "$u"
}

# jq_ [-r] [-e] FILE EXPR: a Python expression over a JSON document
# (test/http/jsonq.py; python3 is there wherever meson is)
jsonq=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/jsonq.py
jq_() { python3 "$jsonq" "$@"; }

# header NAME: the value of a header of the last fetch.
header() {
	grep -i "^$1:" "$tmp/headers" | head -n 1 | tr -d '\r' |
		sed 's/^[^:]*: *//'
}
