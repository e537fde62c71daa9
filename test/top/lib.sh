# SPDX-License-Identifier: MIT
# lib.sh: helpers for the scales-top test scripts (sourced, bash).
#
# TAP: plan N; ok COND-EXIT-STATUS "name"; diag "text". Writers started with
# start_writer are stopped (by pid) and the temporary directory removed on
# exit. Every test runs with SCALES_DIR set to a fresh directory.

set -u

TOP=${SCALES_TOP:?SCALES_TOP is not set}
WRITER=${TOP_WRITER:?TOP_WRITER is not set}
SEED=${SEED_TOUR:-}
[ -x "$SEED" ] || SEED=

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scales-top-test.XXXXXX") || exit 1
export SCALES_DIR=$WORK/segments
mkdir -m 0700 "$SCALES_DIR"

tap_n=0
tap_failed=0
pids=

plan() { echo "1..$1"; }

diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# ok STATUS NAME: STATUS 0 is a pass.
ok() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# check NAME COMMAND...: runs COMMAND; a pass if it exits 0.
check() {
	local name=$1
	shift
	"$@"
	ok $? "$name"
}

cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	[ -n "${TMUX_SOCK:-}" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

# start_writer OUTVAR COMMAND...: starts COMMAND in the background, waits for
# its "ready" line (up to 30 s), and stores its pid in OUTVAR.
start_writer() {
	local var=$1
	shift
	local log
	log=$(mktemp "$WORK/writer.XXXXXX")
	"$@" >"$log" 2>&1 &
	local pid=$!
	pids="$pids $pid"
	local tries=0
	until grep -qx ready "$log" 2>/dev/null; do
		tries=$((tries + 1))
		if [ "$tries" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
			diag "writer $* did not get ready:" "$(cat "$log")"
			return 1
		fi
		sleep 0.1
	done
	printf -v "$var" '%s' "$pid"
}

# stop_writer PID [SIGNAL]: stops a writer started by start_writer.
stop_writer() {
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	local keep=
	for p in $pids; do
		[ "$p" = "$1" ] || keep="$keep $p"
	done
	pids=$keep
}

# wait_until TRIES COMMAND...: retries COMMAND every 0.1 s.
wait_until() {
	local tries=$1
	shift
	while [ "$tries" -gt 0 ]; do
		"$@" && return 0
		tries=$((tries - 1))
		sleep 0.1
	done
	return 1
}

# segment_of PID: the path of PID's segment file in $SCALES_DIR.
segment_of() {
	ls "$SCALES_DIR"/*."$1".*.seg 2>/dev/null | head -n 1
}

finish() {
	[ "$tap_n" -eq "$1" ] || diag "ran $tap_n tests, planned $1"
	[ "$tap_failed" -eq 0 ] && [ "$tap_n" -eq "$1" ]
}
