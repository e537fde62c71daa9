#!/bin/sh
# SPDX-License-Identifier: MIT
# tools/demo.sh BUILD_DIR: the demo behind `make demo`.
#
# Starts the instrumented example server (examples/demo-server) and its load
# generator (examples/demo-load) with their segments in the default
# directory (/dev/shm/scales-<uid>, or $SCALES_DIR), so that `scales-top` or
# `scales-export` in another terminal sees them too, then shows them live in
# scales-top with a banner that says what runs and how to quit. Without a
# terminal it prints a `scales-top -1` snapshot every second for
# DEMO_SECONDS seconds (default 5) instead. Ctrl-C (or q in scales-top)
# stops everything (the processes remove their segments); then it prints
# what to try next.
#
# Environment: DEMO_SECONDS (snapshots without a terminal), SCALES_DIR (the
# segment directory, as for every scales program).
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

segdir=${SCALES_DIR:-/dev/shm/scales-$(id -u)}
pids=
port=
log=$(mktemp "${TMPDIR:-/tmp}/scales-demo.XXXXXX") || exit 1
cleanup() {
	for p in $pids; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -f "$log"
	if [ -n "$pids" ] && [ -n "$port" ]; then
		cat <<EOT
demo: stopped (the processes removed their segments from $segdir).
Try next, with your own instrumented program running:
  $top                      live view of every process (? for the keys)
  $top -1 -m               one snapshot, processes of one app merged
  $build/tools/scales-export/scales-export --http 127.0.0.1:8080
                           then http://127.0.0.1:8080/ (pages) and /metrics
  $build/tools/scales-export/scales-export --once --stdout
                           the Graphite lines once
EOT
	fi
	pids=
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

echo "demo: demo-server on 127.0.0.1:$port (pid $spid) under demo-load, segments in $segdir"
if [ -t 1 ] && [ -t 0 ]; then
	"$top" -i 1 --banner "make demo: demo-server on 127.0.0.1:$port under demo-load (4 connections, 800 req/s). Another terminal's scales-top sees it too. q quits."
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
