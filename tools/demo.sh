#!/bin/sh
# SPDX-License-Identifier: MIT
# tools/demo.sh BUILD_DIR: the demo behind `make demo`.
#
# Starts the instrumented example server (examples/demo-server) and its load
# generator (examples/demo-load) with their segments in a private directory,
# then shows them live in scales-top when stdout is a terminal; without a
# terminal it prints a `scales-top -1` snapshot every second for
# DEMO_SECONDS seconds (default 5) instead. Ctrl-C (or q in scales-top)
# stops everything and removes the segments.
#
# Environment: DEMO_SECONDS (snapshots without a terminal), SCALES_DIR (use
# this directory instead of a temporary one; it is then left in place).
set -u

build=${1:-build}
seconds=${DEMO_SECONDS:-5}
server=$build/examples/demo-server
load=$build/examples/demo-load
top=$build/tools/scales-top/scales-top

for f in "$server" "$load" "$top"; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is not built" >&2
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
log=$SCALES_DIR/.demo-server.log
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

# The server prints "listening PORT" then "ready".
"$server" -w 4 >"$log" 2>&1 &
pids="$pids $!"
spid=$!
tries=0
until grep -qx ready "$log" 2>/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -gt 300 ] || ! kill -0 "$spid" 2>/dev/null; then
		echo "demo: $server did not get ready:" >&2
		cat "$log" >&2
		exit 1
	fi
	sleep 0.1
done
port=$(sed -n 's/^listening //p' "$log")

# Load: 4 connections at up to 200 requests per second each.
"$load" -p "$port" -c 4 -r 200 >/dev/null 2>&1 &
pids="$pids $!"

echo "demo: demo-server on 127.0.0.1:$port, segments in $SCALES_DIR"
if [ -t 1 ] && [ -t 0 ]; then
	"$top" -i 1
	exit $?
fi
sleep 1
i=0
while [ "$i" -lt "$seconds" ]; do
	i=$((i + 1))
	echo "---- scales-top -1 ($i/$seconds)"
	"$top" -1 || exit 1
	[ "$i" -lt "$seconds" ] && sleep 1
done
exit 0
