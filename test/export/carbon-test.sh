#!/bin/bash
# SPDX-License-Identifier: MIT
# scales-export against a REAL carbon-cache (Debian graphite-carbon),
# configured in a temporary directory (1 s retention, tags off, every port
# on 127.0.0.1 and free), run in the foreground with /usr/bin/python3 and
# stopped by its pid. whisper-fetch (python3-whisper) reads what arrived.
#
#  - the seed tour's values arrive exactly under the expected names;
#  - names built from hostile app names and state values (newline, space,
#    dot, ";", "=", non-ASCII, invalid UTF-8) cannot inject a line or a tag:
#    exactly the expected whisper files appear, carbon logs no bad line;
#  - carbon-cache SIGKILLed during a run with a 1 s period, then restarted:
#    every period's points are in whisper afterwards.
# TAP. Needs $SCALES_EXPORT, $SEED_TOUR and $EXPORT_SEGWRITER.
set -u
X=${SCALES_EXPORT:?}
ST=${SEED_TOUR:-}
SW=${EXPORT_SEGWRITER:-}
PY=/usr/bin/python3
CARBON=/usr/bin/carbon-cache
FETCH=/usr/bin/whisper-fetch

if [ ! -x "$CARBON" ] || [ ! -x "$FETCH" ] || [ ! -x "$PY" ]; then
	echo "1..0 # SKIP graphite-carbon or python3-whisper not installed"
	exit 0
fi
if [ -z "$ST" ] || [ ! -x "$ST" ] || [ -z "$SW" ] || [ ! -x "$SW" ]; then
	echo "1..0 # SKIP seed-tour or export-segwriter not built"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/export-carbon.XXXXXX")
export SCALES_DIR=$T/segs
mkdir -p "$SCALES_DIR" "$T/conf" "$T/storage"
W=$T/storage/whisper
carbon_pid=
pids=()
cleanup() {
	[ -n "$carbon_pid" ] && kill -TERM "$carbon_pid" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)

cat >"$T/conf/carbon.conf" <<EOF
[cache]
STORAGE_DIR = $T/storage
LOCAL_DATA_DIR = $W
WHITELISTS_DIR = $T/storage/lists
LOG_DIR = $T/storage/log
PID_DIR = $T/storage
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $port
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $(free_port)
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $(free_port)
ENABLE_MANHOLE = False
LOG_UPDATES = False
LOG_LISTENER_CONN_SUCCESS = True
ENABLE_TAGS = False
WHISPER_AUTOFLUSH = False
# keep every point in carbon's cache for 3 s before writing it: a SIGKILL
# then loses the points received in the last 3 s, and only scales-export's
# resend after the reconnect brings them back
CACHE_WRITE_STRATEGY = timesorted
MIN_TIMESTAMP_LAG = 3
EOF
cat >"$T/conf/storage-schemas.conf" <<EOF
[all]
pattern = .*
retentions = 1s:1h
EOF

# Starts carbon-cache in the foreground; waits until it accepts.
start_carbon() {
	(cd "$T" && exec env GRAPHITE_ROOT="$T" "$PY" "$CARBON" \
		--config="$T/conf/carbon.conf" --debug start) \
		>>"$T/carbon.log" 2>&1 &
	carbon_pid=$!
	for _ in $(seq 300); do
		if $PY -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null; then
			return 0
		fi
		kill -0 "$carbon_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# value_at FILE TS: the value whisper holds at TS ("None" if none)
fetch() { # fetch FILE: "ts value" lines with a value
	"$FETCH" --from=$(($(date +%s) - 3000)) "$1" 2>/dev/null |
		awk '$2 != "None" { print $1, $2 }'
}

# wait_for FILE: until the whisper file has a value (carbon writes lazily)
wait_for() {
	for _ in $(seq 300); do
		[ -f "$1" ] && [ -n "$(fetch "$1")" ] && return 0
		sleep 0.1
	done
	return 1
}

echo "1..13"

if start_carbon; then ok "carbon-cache listens on 127.0.0.1:$port (pid $carbon_pid)"
else nok "carbon-cache did not start" "$(tail -20 "$T/carbon.log")"; exit 0; fi

"$ST" >"$T/tour.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$T/tour.out" && break; sleep 0.1; done

# ------------------------------------------------------- names and values
"$X" --once --graphite "127.0.0.1:$port" --prefix t seed-tour 2>"$T/x.err"
rc=$?
if [ $rc -eq 0 ]; then ok "--once: carbon accepted every point"
else nok "--once: exit $rc" "$(cat "$T/x.err")"; fi

declare -A want=(
	[web/errors]=7 [web/success]=1000 [handler/requests]=100
	[processor/finished]=60 [processor/thread-0/finished]=10
	[processor/thread-1/finished]=20 [processor/thread-2/finished]=30
	[processor/state/~waitingForTask]=2 [processor/state/~performingTask]=1
	[processor/thread-2/state/~performingTask]=1
	[handler/latency/count]=100 [handler/latency/total_count]=100
	[handler/latency/min]=0.001 [handler/latency/max]=0.1
	[handler/latency/mean]=0.0505 [handler/latency/sum]=5.05
)
bad=
for k in "${!want[@]}"; do
	f=$W/t/seed-tour/$k.wsp
	if ! wait_for "$f"; then bad="$bad $k(missing)"; continue; fi
	read -r ts v <<<"$(fetch "$f" | tail -1)"
	if ! $PY -c 'import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 1e-6)' "$v" "${want[$k]}" ||
		[ $((ts % 60)) -ne 0 ]; then
		bad="$bad $k=$v@$ts"
	fi
done
if [ -z "$bad" ]; then ok "seed tour values in whisper under t.seed-tour.* (${#want[@]} series, timestamps aligned)"
else nok "wrong or missing values:$bad"; fi

f=$W/t/seed-tour/handler/latency/p50.wsp
wait_for "$f"
p50=$(fetch "$f" | tail -1 | cut -d' ' -f2)
if $PY -c 'import sys; sys.exit(abs(float(sys.argv[1]) - 0.05) > 0.001)' "${p50:-0}"; then
	ok "handler.latency.p50 = $p50 (within 2% of 0.050 s)"
else
	nok "handler.latency.p50 = $p50"
fi
if [ -z "$(ls "$W/t/seed-tour/web/currentTime.wsp" 2>/dev/null)" ] ||
	[ -d "$W/t/seed-tour/processor/thread-0/state/~waitingForTask" ]; then
	nok "callback gauge or state layout" "$(find "$W/t" | head)"
else
	ok "gauges and state counts are leaves"
fi

# ------------------------------------------------- the seed's names
"$X" --once --seed-names --graphite "127.0.0.1:$port" --prefix sd seed-tour 2>"$T/x.err"
rc=$?
if [ $rc -eq 0 ]; then ok "--once --seed-names: carbon accepted every point"
else nok "--once --seed-names: exit $rc" "$(cat "$T/x.err")"; fi
bad=
for k in handler/latency/median handler/latency/99percentile \
	handler/latency/999percentile handler/latency/75percentile web/errors; do
	wait_for "$W/sd/$k.wsp" || bad="$bad $k"
done
if [ -z "$bad" ] && [ ! -e "$W/sd/seed-tour" ] && [ ! -e "$W/sd/handler/latency/p50.wsp" ]; then
	ok "--seed-names: sd.handler.latency.median, .99percentile in whisper, no app component"
else
	nok "--seed-names: missing:$bad" "$(cd "$W/sd" 2>/dev/null && find . | head -20)"
fi

# ------------------------------------------------------------- injection
seg=$("$SW" "$T")
"$X" --once --graphite "127.0.0.1:$port" --prefix t "$seg" 2>"$T/x.err"
rc=$?
if [ $rc -eq 0 ]; then ok "--once with hostile names: carbon accepted every point"
else nok "--once hostile: exit $rc" "$(cat "$T/x.err")"; fi
E=$W/t/evil_tag_x_y # the reader reads app names as [A-Za-z0-9_-]
expected="ok.wsp
s/bad/~bad%FF%FE.wsp
s/dot/~a%2Eb.wsp
s/newline/~up%0Aevil%2Einjected%20666%200.wsp
s/sep/~l%E2%80%A8s.wsp
s/space/~two%20words.wsp
s/tag/~x%3Bk%3Dv.wsp
s/utf8/~café.wsp"
for _ in $(seq 300); do
	c=$(cd "$E" 2>/dev/null && find . -name '*.wsp' | wc -l)
	[ "${c:-0}" -ge 8 ] && break
	sleep 0.1
done
got=$(cd "$E" 2>/dev/null && find . -name '*.wsp' | sed 's|^\./||' | LC_ALL=C sort)
top=$(ls "$W/t" | LC_ALL=C sort | tr '\n' ' ')
if [ "$got" = "$(LC_ALL=C sort <<<"$expected")" ] && [ "$top" = "evil_tag_x_y seed-tour " ] &&
	! grep -q "invalid line" "$T/carbon.log" && [ ! -e "$W/evil" ]; then
	ok "hostile names: exactly the 8 expected series, nothing injected, no invalid line"
else
	nok "hostile names" "got: $(echo $got)" "top: $top" "$(grep -a 'invalid line' "$T/carbon.log" | head -3)"
fi
v=$(fetch "$E/s/newline/~up%0Aevil%2Einjected%20666%200.wsp" | tail -1 | cut -d' ' -f2)
if [ "$v" = "1.000000" ]; then ok "the newline state holds its count, 1"
else nok "newline state value '$v'"; fi

# ------------------------------------------- distinct stats, distinct names
# (issue 13, item 12) /a.b and /a-b; histogram /h with counters /h/count
# and /h/p99; state /s = x with gauge /s/x: each its own series and value
seg=$("$SW" "$T" collide)
"$X" --once --graphite "127.0.0.1:$port" --prefix t "$seg" 2>"$T/x.err"
C=$W/t/collide
declare -A cwant=(
	[a%2Eb]=1 [a-b]=2 [h/count]=10 [h/_count]=3 [h/_p99]=4 [s/~x]=1 [s/x]=5
)
bad=
for k in "${!cwant[@]}"; do
	f=$C/$k.wsp
	if ! wait_for "$f"; then bad="$bad $k(missing)"; continue; fi
	v=$(fetch "$f" | tail -1 | cut -d' ' -f2)
	$PY -c 'import sys; sys.exit(float(sys.argv[1]) != float(sys.argv[2]))' "$v" "${cwant[$k]}" ||
		bad="$bad $k=$v"
done
if [ -z "$bad" ]; then ok "distinct stats have distinct series in carbon, each with its own value"
else nok "colliding names:$bad" "$(cd "$C" 2>/dev/null && find . -name '*.wsp')"; fi

# ----------------------------------------------- SIGKILL and restart carbon
"$X" --graphite "127.0.0.1:$port" --stdout --period 1 --prefix k \
	--resend 60 --backoff-max 1 --timeout 5 seed-tour \
	>"$T/loop.out" 2>"$T/loop.err" &
xp=$!
pids+=($xp)
sleep 4
kill -KILL "$carbon_pid"
wait "$carbon_pid" 2>/dev/null
carbon_pid=
sleep 3
if ! start_carbon; then
	nok "carbon-cache did not restart" "$(tail -20 "$T/carbon.log")"
fi
sleep 4
kill -TERM "$xp"
wait "$xp"
rc=$?
stamps=$(awk '$1 == "k.seed-tour.web.errors" { print $3 }' "$T/loop.out" | sort -u)
nst=$(wc -w <<<"$stamps")
if [ $rc -eq 0 ] && [ "$nst" -ge 8 ] && grep -q "connected again" "$T/loop.err"; then
	ok "scales-export lost carbon, reconnected, and stopped with status 0 ($nst periods)"
else
	nok "run: exit $rc, $nst periods" "$(cat "$T/loop.err")"
fi
f=$W/k/seed-tour/web/errors.wsp
missing=
for _ in $(seq 300); do
	have=$(fetch "$f" | awk '$2 == "7.000000" { print $1 }')
	missing=
	for s in $stamps; do grep -qx "$s" <<<"$have" || missing="$missing $s"; done
	[ -z "$missing" ] && break
	sleep 0.1
done
if [ -z "$missing" ]; then
	ok "every period's point is in whisper after the SIGKILL ($nst of $nst)"
else
	nok "periods missing in whisper:$missing" "pushed: $(echo $stamps)" "$(cat "$T/loop.err")"
fi
