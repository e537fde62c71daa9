#!/bin/bash
# SPDX-License-Identifier: MIT
# test/http/slowloris.sh: slow clients do not starve the HTTP side (issue
# 13, item 17). 500 connections from 50 loopback addresses (10 each, under
# the per-address limit) send a request line and then one header line every
# 3 s, never finishing their requests; meanwhile GET /metrics must answer
# (curl's --max-time is a watchdog, not a speed measurement). Then 100
# connections from one address: at most the per-address limit (32) are
# kept. The limits are documented in docs/http.md.

. "$(dirname "$0")/lib.sh"

echo "1..5"

start_seed_tour seed
start_server srv
u=$srv_url
port=${u##*:}
diag "serving $u"

# flood ADDRS PER_ADDR NAME: opens the connections, writes "NAME connected
# N" to $tmp/NAME.out, trickles until $tmp/NAME.stop exists, then writes
# "NAME held N" (connections the server had not closed) and exits.
flood() {
	python3 - "$port" "$1" "$2" "$tmp/$3" <<'EOF' &
import os, resource, socket, sys, time
port, addrs, per, base = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < 4096 and (hard == resource.RLIM_INFINITY or hard >= 4096):
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
socks = []
fails = 0  # in a row: a server that stopped accepting hangs connect()
for a in range(addrs):
    for _ in range(per):
        if fails >= 3:
            break
        s = socket.socket()
        s.bind(("127.0.%d.%d" % (a // 200, 10 + a % 200), 0))
        s.settimeout(1)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            s.setblocking(False)  # the trickle never waits for a socket
            socks.append(s)
            fails = 0
        except OSError:
            s.close()
            fails += 1
def alive(s):
    try:
        return s.recv(1, socket.MSG_DONTWAIT | socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
def say(what):
    with open(base + ".out", "a") as f:
        f.write(what + "\n")
say("connected %d" % len(socks))
i = 0
while not os.path.exists(base + ".stop"):
    i += 1
    for s in socks:
        try:
            s.send(b"X-Slow-%d: x\r\n" % i)
        except OSError:
            pass
    for _ in range(30):
        if os.path.exists(base + ".stop"):
            break
        time.sleep(0.1)
time.sleep(0.5)
say("held %d" % sum(1 for s in socks if alive(s)))
EOF
	started+=("$!")
	flood_pid=$!
}

flood 50 10 many
wait_for "$tmp/many.out" '^connected' "$flood_pid" 120 ||
	bail "the flood did not connect"
diag "$(cat "$tmp/many.out")"
sleep 4 # a trickle round or so: every slow client holds its connection
good=0
for i in 1 2 3; do
	st=$(curl -sS --max-time 5 -o "$tmp/body" -w '%{http_code}' "$u/metrics" 2>"$tmp/curl.err")
	[ "$st" = 200 ] && grep -q '^scales_web_errors' "$tmp/body" && good=$((good + 1))
done
check "GET /metrics answers during the flood ($good of 3)" test "$good" = 3
st=$(curl -sS --max-time 5 -o "$tmp/body" -w '%{http_code}' "$u/" 2>>"$tmp/curl.err")
check "GET / answers during the flood ($st)" test "$st" = 200
touch "$tmp/many.stop"
wait "$flood_pid"
held=$(sed -n 's/^held //p' "$tmp/many.out")
diag "$(cat "$tmp/curl.err")"
check "the slow clients really held their connections ($held of 500)" \
	test "${held:-0}" -ge 450

flood 1 100 one
wait_for "$tmp/one.out" '^connected' "$flood_pid" 120 ||
	bail "the second flood did not connect"
sleep 1
touch "$tmp/one.stop"
wait "$flood_pid"
held=$(sed -n 's/^held //p' "$tmp/one.out")
check "one address holds at most 32 connections ($held)" \
	test "${held:-999}" -le 32
st=$(curl -sS --max-time 5 -o /dev/null -w '%{http_code}' "$u/metrics")
check "GET /metrics still answers ($st)" test "$st" = 200
