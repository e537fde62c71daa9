#!/bin/sh
# SPDX-License-Identifier: MIT
# test/demo: `make demo`'s script without a terminal (what CI and a pipe
# see): demo-server under demo-load, printed by scales-top -1 each second;
# at the end every process is stopped and the segments are removed.
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
echo "1..7"
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
check "every process stopped and the segment directory removed" \
	'[ -z "$(ls -A "$base")" ]'
[ "$fail" -eq 0 ] || { echo "# output:"; sed 's/^/# /' "$out"; }
exit 0
