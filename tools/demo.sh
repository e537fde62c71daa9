#!/bin/sh
# SPDX-License-Identifier: MIT
# tools/demo.sh BUILD_DIR: the demo behind `make demo`.
#
# Starts the instrumented example (build/examples/seed-tour for now) with
# its segment in a private directory, waits until it says "ready", then
# prints a `scales-top -1` snapshot every second for DEMO_SECONDS seconds
# (default 5). Ctrl-C (or the end of the demo) stops the example by its pid
# and removes the directory with its segments.
#
# Environment: DEMO_SECONDS (snapshots to print), SCALES_DIR (use this
# directory instead of a temporary one; it is then left in place).
# The lead grows this into the full demo (issue 9): server, load generator
# and the live scales-top when stdout is a terminal.
set -u

build=${1:-build}
seconds=${DEMO_SECONDS:-5}
example=$build/examples/seed-tour
top=$build/tools/scales-top/scales-top

for f in "$example" "$top"; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is not built (yet)" >&2
		exit 1
	fi
done

own_dir=
if [ -z "${SCALES_DIR:-}" ]; then
	SCALES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/scales-demo.XXXXXX") || exit 1
	own_dir=1
fi
export SCALES_DIR

pids=
log=$SCALES_DIR/.demo-example.log
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	pids=
	rm -f "$log"
	[ -z "$own_dir" ] || rm -rf "$SCALES_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start the example; its first line on stdout is "ready" once every update
# is done.
"$example" >"$log" 2>&1 &
pid=$!
pids="$pids $pid"
tries=0
until grep -qx ready "$log" 2>/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -gt 300 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "demo: $example did not get ready:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1
done

echo "demo: segments in $SCALES_DIR"
i=0
while [ "$i" -lt "$seconds" ]; do
	i=$((i + 1))
	echo "---- scales-top -1 ($i/$seconds)"
	"$top" -1 || exit 1
	[ "$i" -lt "$seconds" ] && sleep 1
done
exit 0
