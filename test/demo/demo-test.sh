#!/bin/sh
# SPDX-License-Identifier: MIT
# test/demo: `make demo`'s script without a terminal (what CI and a pipe
# see): demo-server under demo-load, in the default segment directory,
# printed by scales-top -1 each second; at the end every process is stopped
# and its segment removed, and the script says what to try next. Then the
# live view in tmux: the banner stays on screen, a second scales-top sees
# the demo's processes, q ends it.
# TAP output. Usage: demo-test.sh SOURCE_ROOT BUILD_ROOT
set -u
src=$1
build=$2
out=$(mktemp)
base=$(mktemp -d)
trap 'rm -f "$out"; rm -rf "$base"' EXIT
n=0
fail=0
check() {
	n=$((n + 1))
	if eval "$2"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1"
		fail=1
	fi
}
echo "1..11"
unset SCALES_DIR
segdir=/dev/shm/scales-$(id -u)
TMPDIR=$base DEMO_SECONDS=3 sh "$src/tools/demo.sh" "$build" >"$out" 2>&1 </dev/null
rc=$?
check "demo.sh exits 0" '[ "$rc" -eq 0 ]'
check "three snapshots printed" '[ "$(grep -c "^---- scales-top -1" "$out")" -eq 3 ]'
check "the server and the load generator are shown alive" \
	'grep -q "^== demo-server pid [0-9]* alive" "$out" && grep -q "^== demo-load pid [0-9]* alive" "$out"'
check "requests were served (reply codes dict)" \
	'grep -Eq "^/server/status/200 +[1-9][0-9]*" "$out"'
check "worker states are aggregated" \
	'grep -Eq "^/workers/state/(idle|reading|handling|writing) +[1-9]" "$out"'
check "endpoint latency histograms have counts" \
	'grep -Eq "^/endpoint/home/latency +count=[1-9]" "$out"'
pids=$(sed -n 's/^== demo-\(server\|load\) pid \([0-9]*\) alive.*/\2/p' "$out" | sort -u)
left=
for p in $pids; do
	for f in "$segdir"/*."$p".*.seg; do
		[ -e "$f" ] && left="$left $f"
	done
	kill -0 "$p" 2>/dev/null && left="$left pid$p"
done
check "segments in the default directory, every process stopped, its segment removed" \
	'grep -q "segments in $segdir\$" "$out" && [ -n "$pids" ] && [ -z "$left" ] && [ -z "$(ls -A "$base")" ]'
check "the end says what to try next" \
	'grep -q "^Try next" "$out" && grep -q "scales-export --http" "$out"'

# The live view, in tmux.
if ! command -v tmux >/dev/null; then
	for i in 9 10 11; do n=$((n + 1)); echo "ok $n - live demo # SKIP no tmux"; done
	exit 0
fi
sock=$base/tmux.sock
tm() { tmux -S "$sock" "$@"; }
tm new-session -d -s demo -x 160 -y 40 "cd '$src' && sh tools/demo.sh '$build'; echo DEMO-EXIT \$?; sleep 30"
screen() { tm capture-pane -p -t demo 2>/dev/null; }
wait_for() { # wait_for REGEX: up to 20 s (a hang becomes a failure)
	i=0
	while [ "$i" -lt 200 ]; do
		screen | grep -Eq "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
wait_for '/server/requests' && sleep 1.5
check "the live view shows the banner above the status line" \
	'wait_for "make demo: demo-server on 127.0.0.1:[0-9]+ under demo-load" &&
	 [ "$(screen | grep -n "make demo: demo-server" | cut -d: -f1)" -ge 30 ]'
others=$("$build/tools/scales-top/scales-top" -l 2>&1)
check "a scales-top in another terminal sees the demo's processes" \
	'printf "%s\n" "$others" | grep -q "^demo-server " && printf "%s\n" "$others" | grep -q "^demo-load "'
tm send-keys -t demo q
check "q ends the demo, which says what to try next" \
	'wait_for "DEMO-EXIT 0" && screen | grep -q "^Try next"'
tm kill-server 2>/dev/null
[ "$fail" -eq 0 ] || { echo "# output:"; sed 's/^/# /' "$out"; }
exit 0
