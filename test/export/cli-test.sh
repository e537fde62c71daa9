#!/bin/bash
# SPDX-License-Identifier: MIT
# scales-export's command line: outputs and exit codes, --stdout and
# --json-file against a running seed tour, --once against loopback
# listeners that close in order or reset, the periodic loop, the config
# file, and its own metrics. TAP. Needs $SCALES_EXPORT and $SEED_TOUR.
set -u
X=${SCALES_EXPORT:?}
ST=${SEED_TOUR:-}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/export-cli.XXXXXX")
export SCALES_DIR=$T/segs
mkdir -p "$SCALES_DIR"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { # check NAME COMMAND...: ok if the command succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}
status() { # status EXPECTED NAME ARGS...: runs X, checks the exit status
	local want=$1 name=$2
	shift 2
	timeout 20 "$X" "$@" >"$T/out" 2>"$T/err" # a watchdog for a hang
	local rc=$?
	if [ $rc -eq "$want" ]; then ok "$name (exit $rc)"
	else nok "$name: exit $rc, want $want" "$(head -3 "$T/err")"; fi
}

echo "1..40"

status 0 "--help" --help
check "--help lists --graphite and the exit codes" \
	grep -q -- "--graphite HOST:PORT" "$T/out"
status 0 "--version" --version
status 2 "no output option is a usage error"
status 2 "unknown option" --stdout --frobnicate
status 2 "bad period" --stdout --period 0
status 2 "bad destination" --graphite nohost
status 1 "--once with nothing to match" --once --stdout
status 2 "a named segment that does not exist" --once --stdout "$T/nope.seg"

if [ -z "$ST" ] || [ ! -x "$ST" ]; then
	for i in $(seq $((n + 1)) 37); do echo "ok $i # SKIP no seed-tour"; done
	exit 0
fi
"$ST" >"$T/tour.out" 2>&1 &
pids+=($!)
tour=$!
for _ in $(seq 100); do grep -q ready "$T/tour.out" && break; sleep 0.1; done

status 0 "--once --stdout of the seed tour" --once --stdout --prefix t seed-tour
check "exact values under the expected names" \
	grep -qE "^t\.seed-tour\.web\.errors 7 [0-9]+$" "$T/out"
ts=$(awk '$1 == "t.seed-tour.web.success" { print $3 }' "$T/out")
if [ -n "$ts" ] && [ $((ts % 60)) -eq 0 ] &&
	grep -q "^t.seed-tour.web.success 1000 $ts$" "$T/out" &&
	grep -q "^t.seed-tour.processor.finished 60 $ts$" "$T/out" &&
	grep -q "^t.seed-tour.handler.latency.count 100 $ts$" "$T/out" &&
	grep -q "^t.seed-tour.processor.state.~waitingForTask 2 $ts$" "$T/out"; then
	ok "timestamp aligned to the period, seed-tour numbers"
else
	nok "timestamp or numbers" "$(head -5 "$T/out")"
fi

status 0 "--per-process" --once --stdout --prefix "" --per-process "$tour"
check "the pid is a name component" \
	grep -q "^seed-tour\.$tour\.web\.errors 7 " "$T/out"

# the Python seed's Graphite names (one app: no app component)
status 0 "--seed-names" --once --stdout --prefix t --seed-names seed-tour
if grep -qE "^t\.handler\.latency\.median 0\.0[0-9]+ [0-9]+$" "$T/out" &&
	grep -qE "^t\.handler\.latency\.99percentile 0\.0[0-9]+ " "$T/out" &&
	grep -qE "^t\.handler\.latency\.999percentile " "$T/out" &&
	grep -qE "^t\.web\.errors 7 " "$T/out" &&
	! grep -qE "\.p(50|75|95|98|99|999) |^t\.seed-tour\." "$T/out"; then
	ok "--seed-names: t.handler.latency.median, .99percentile; no p50, no app"
else
	nok "--seed-names" "$(grep latency "$T/out" | head -5)"
fi
printf 'seed-names = true\nprefix = c\n' >"$T/seed.conf"
status 0 "seed-names in a config file" --once --stdout --config "$T/seed.conf" seed-tour
check "the config key gives the seed's names" \
	grep -qE "^c\.handler\.latency\.75percentile " "$T/out"

# label rules (issue 14, item 2): a bad one stops scales-export, named
status 2 "a --label-rule with a capture and no name is refused" \
	--once --stdout --label-rule '/handler/*' seed-tour
check "... and the message names it" grep -q "bad --label-rule '/handler/\*'" "$T/err"
printf 'label-rule = /handler/* part\n' >"$T/rule.conf"
status 0 "label-rule in a config file" --once --stdout --config "$T/rule.conf" seed-tour

seg=$(ls "$SCALES_DIR"/seed-tour.*.seg)
ln -s "$seg" "$T/link.seg"
status 2 "a symlinked segment is refused" --once --stdout "$T/link.seg"

status 0 "--json-file" --once --json-file "$T/snap.json" seed-tour
check "the JSON file has the scales-top --json schema and values" \
	$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
p = d["processes"][0]
m = p["metrics"]
assert p["app"] == "seed-tour", p
assert m["/web/errors"]["value"] == 7
assert m["/handler/latency"]["count"] == 100
' "$T/snap.json"

# --once against a listener that reads everything and closes in order, and
# against one that resets the connection
$PY - "$T" <<'EOF' &
import socket, sys, os
d = sys.argv[1]
def serve(name, reset):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
    open(os.path.join(d, name + ".port"), "w").write(str(s.getsockname()[1]))
    return s
good = serve("good", False)
bad = serve("bad", True)
import select
got = b""
end = __import__("time").time() + 60
while __import__("time").time() < end:
    r, _, _ = select.select([good, bad], [], [], 1)
    for l in r:
        c, _ = l.accept()
        if l is bad:
            import struct
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            continue
        while True:
            b = c.recv(65536)
            if not b: break
            got += b
        c.close()
        open(os.path.join(d, "got.txt"), "wb").write(got)
        got = b""
EOF
pids+=($!)
for _ in $(seq 50); do [ -s "$T/bad.port" ] && break; sleep 0.1; done
good=$(cat "$T/good.port") bad=$(cat "$T/bad.port")
status 0 "--once to a listener that closes in order" --once --prefix t \
	--graphite "127.0.0.1:$good" --stdout seed-tour
for _ in $(seq 50); do [ -s "$T/got.txt" ] && break; sleep 0.1; done
check "the listener got exactly the --stdout lines" cmp -s "$T/out" "$T/got.txt"
status 1 "--once to a listener that resets" --once --timeout 2 \
	--graphite "127.0.0.1:$bad" seed-tour
free=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
status 1 "--once to a closed port" --once --timeout 1 \
	--graphite "127.0.0.1:$free" seed-tour

# the periodic loop: period 1, JSON file, config file, own metrics
cat >"$T/x.conf" <<EOF
# a config file
stdout = true
prefix = cfg
period = 1
json-file = $T/loop.json
EOF
"$X" --config "$T/x.conf" --rates >"$T/loop.out" 2>"$T/loop.err" &
loop=$!
pids+=($loop)
sleep 3.5
status 0 "its own metrics are in a segment" --once --stdout --prefix s scales-export
check "scales-export's own metrics (periods, points)" \
	grep -qE "^s\.scales-export\.export\.periods [1-9][0-9]* " "$T/out"
kill -TERM $loop
wait $loop
rc=$?
if [ $rc -eq 0 ]; then ok "SIGTERM stops the loop with status 0"
else nok "SIGTERM: exit $rc" "$(cat "$T/loop.err")"; fi
nts=$(awk '$1 == "cfg.seed-tour.web.errors" && $2 == 7 { print $3 }' "$T/loop.out" | sort -u | wc -l)
if [ "$nts" -ge 2 ] && grep -qE "^cfg\.seed-tour\.web\.errors\.rate 0 " "$T/loop.out"; then
	ok "config file honoured; one push per period ($nts periods), rates"
else
	nok "periodic output" "$(head -5 "$T/loop.out")" "$(cat "$T/loop.err")"
fi
if $PY -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/loop.json" &&
	[ -z "$(ls -A "$T" | grep '^\.loop')" ]; then
	ok "the JSON file is complete and no temporary file is left"
else
	nok "JSON file" "$(ls -la "$T")"
fi

# memory bounds (issue 13, item 18): the buffer holds what --buffer says,
# a --resend that does not fit is refused, and the config file is bounded
status 2 "a --resend that does not fit in --buffer is refused" \
	--graphite "127.0.0.1:$free" --period 1 --buffer 3 --resend 5 seed-tour
check "... and says why" grep -q -- "--resend 5 does not fit in --buffer 3" "$T/err"
# (a watchdog: without the bound this read never ends)
timeout 20 "$X" --config /dev/zero --stdout >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 2 ]; then ok "--config /dev/zero is refused (exit 2)"
else nok "--config /dev/zero: exit $rc, want 2"; fi
check "... as not a regular file" grep -q "not a regular file" "$T/err"
$PY -c 'import sys; sys.stdout.write("# filler\n" * 200000)' >"$T/big.conf"
status 2 "a config file over 1 MiB is refused" --config "$T/big.conf" --stdout
check "... and says why" grep -q "larger than 1048576 bytes" "$T/err"
# to a closed port, period 1, --buffer 3: never more than 3 batches held
"$X" --period 1 --buffer 3 --graphite "127.0.0.1:$free" seed-tour \
	>"$T/buf.out" 2>"$T/buf.err" &
buf=$!
pids+=($buf)
periods=0
for _ in $(seq 100); do # until 6 periods are pushed (a watchdog of 50 s)
	"$X" --once --stdout --prefix s scales-export >"$T/self" 2>/dev/null
	periods=$(awk '$1 == "s.scales-export.export.periods" { print $2 }' "$T/self")
	[ "${periods:-0}" -ge 6 ] && break
	sleep 0.5
done
kill -TERM $buf
wait $buf
held=$(awk '$1 == "s.scales-export.export.buffered_points" { print $2 }' "$T/self")
points=$(awk '$1 == "s.scales-export.export.points" { print $2 }' "$T/self")
if [ "${periods:-0}" -ge 6 ] && [ -n "$held" ] && [ "${points:-0}" -gt 0 ] &&
	[ "$held" -gt 0 ] && [ "$held" -le $((3 * points / periods)) ]; then
	ok "--buffer 3: $held points held after $periods periods of $((points / periods))"
else
	nok "--buffer 3: $held points held after $periods periods ($points points)" \
		"$(head -3 "$T/buf.err")"
fi
