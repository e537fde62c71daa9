#!/bin/bash
# SPDX-License-Identifier: MIT
# scales-export is not stalled by a name resolver that never answers
# (issue 13, item 16): in a private mount namespace /etc/resolv.conf names
# a loopback UDP socket that reads queries and never replies. With one
# Graphite destination under such a name and one reachable by address,
# --stdout and the reachable destination still get a batch every period,
# SIGTERM ends the tool within --timeout plus a second, and --once ends
# within --timeout plus a second. The bounds are watchdogs (the bug took
# tens of seconds), not speed measurements. TAP; needs root for unshare -m
# and the bind mount (skipped otherwise), $SCALES_EXPORT and $SEED_TOUR.
set -u
X=${SCALES_EXPORT:?}
ST=${SEED_TOUR:-}
PY=/usr/bin/python3
N=6

skip_all() {
	for i in $(seq "$N"); do echo "ok $i # SKIP $1"; done
	exit 0
}

if [ -z "${STALL_TEST_NS:-}" ]; then
	echo "1..$N"
	[ -n "$ST" ] && [ -x "$ST" ] || skip_all "no seed-tour"
	unshare -m true 2>/dev/null ||
		skip_all "cannot make a mount namespace (needs root)"
	# util-linux unshare makes the new namespace's mounts private
	exec unshare -m env STALL_TEST_NS=1 "$0"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/export-stall.XXXXXX")
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

# the silent resolver, and a Graphite sink that appends what it gets
NS_ADDR=127.83.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
$PY - "$NS_ADDR" "$T" <<'EOF' &
import socket, sys, threading, os
addr, d = sys.argv[1], sys.argv[2]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((addr, 53))
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
def sink():
    while True:
        c, _ = s.accept()
        with open(os.path.join(d, "sink"), "ab") as f:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                f.write(b); f.flush()
        c.close()
threading.Thread(target=sink, daemon=True).start()
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
while True:
    u.recvfrom(4096)  # and never answer
EOF
pids+=($!)
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port" 2>/dev/null)
[ -n "$port" ] || skip_all "no loopback sockets"
printf 'nameserver %s\noptions timeout:30 attempts:5\n' "$NS_ADDR" >"$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf ||
	skip_all "cannot bind-mount /etc/resolv.conf"
HANG=graphite.stall-test.example
# the fake resolver really hangs (else this test would prove nothing)
timeout 3 getent ahosts "$HANG" >/dev/null 2>&1
[ $? -eq 124 ] || skip_all "the fake resolver did not hang a lookup"

"$ST" >"$T/tour.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$T/tour.out" && break; sleep 0.1; done

# waits up to $2 seconds for pid $1 to end; 0 if it did
ends_within() {
	local i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
stamps() { awk '{ print $3 }' "$1" 2>/dev/null | sort -u | wc -l; }

"$X" --period 1 --timeout 2 --no-self-metrics --stdout --prefix t \
	--graphite "$HANG:2003" --graphite "127.0.0.1:$port" seed-tour \
	>"$T/out" 2>"$T/err" &
xp=$!
pids+=($xp)
sleep 6
s=$(stamps "$T/out")
if [ "$s" -ge 3 ]; then ok "--stdout gets a batch every period ($s in 6 s)"
else nok "--stdout got $s batches in 6 s" "$(head -3 "$T/err")"; fi
s=$(stamps "$T/sink")
if [ "$s" -ge 3 ]; then ok "the reachable destination too ($s in 6 s)"
else nok "the reachable destination got $s batches in 6 s" "$(head -3 "$T/err")"; fi
if grep -q "graphite $HANG:2003: cannot resolve '$HANG': no answer" "$T/err"
then ok "the unresolved destination is reported"
else nok "no report of the unresolved destination" "$(head -3 "$T/err")"; fi
kill -TERM "$xp"
if ends_within "$xp" 3; then ok "SIGTERM: ended within --timeout + 1 s"
else nok "SIGTERM: still running after --timeout + 1 s"; kill -KILL "$xp"; fi
wait "$xp" 2>/dev/null

"$X" --once --timeout 2 --stdout --prefix t --graphite "$HANG:2003" \
	seed-tour >"$T/once" 2>"$T/once.err" &
op=$!
pids+=($op)
if ends_within "$op" 3; then ok "--once: ended within --timeout + 1 s"
else nok "--once: still running after --timeout + 1 s"; kill -KILL "$op"; fi
wait "$op"
rc=$?
if [ $rc -eq 1 ] && grep -q "^t\.seed-tour\.web\.errors 7 " "$T/once"; then
	ok "--once: printed the points, exit 1 (a destination failed)"
else
	nok "--once: exit $rc" "$(head -3 "$T/once.err")"
fi
