#!/bin/bash
# SPDX-License-Identifier: MIT
# units-test.sh: one value, one string, in every view people read (issue
# 15 item 3). A top-writer with a count of 1234567, bytes, a histogram in
# seconds, a point in time and a ratio: scales-top -1, the live view
# (tmux) and scales-export's HTML page (as served, and as Chromium shows
# it when there) write each value the same way, by scales_human(); rates
# carry their unit. No timing assertions: every wait has a deadline only.

. "$(dirname "$0")/lib.sh"

EXPORT=${SCALES_EXPORT:?SCALES_EXPORT is not set}
DOM="$(cd "$(dirname "$0")/../http" && pwd)/dom.py"
plan 6

if ! command -v tmux >/dev/null || ! command -v curl >/dev/null ||
	! "$EXPORT" --help 2>&1 | grep -q -- '--http'; then
	for i in $(seq 6); do
		echo "ok $i - # SKIP needs tmux, curl and scales-export --http"
	done
	exit 0
fi

when=1796417134.25
start_writer w "$WRITER" --app units --count 1234567 --when "$when" || w=0

# ------------------------------------------------------------------ -1
"$TOP" -1 units >"$WORK/one.txt" 2>&1
# one=PATH=STRING lines: a value, or a histogram's statistics as lat.NAME
python3 - "$WORK/one.txt" >"$WORK/one.kv" <<'PY'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"^(/\S+) +(.*)$", line.rstrip("\n"))
    if not m:
        continue
    path, rest = m.groups()
    if rest.startswith("count="):
        for k, v in re.findall(r"(\w+)=(.*?)(?= \w+=|$)", rest):
            print("%s.%s=%s" % (path, k, v))
    else:
        print("%s=%s" % (path, rest))
PY
v() { sed -n "s|^$1=||p" "$WORK/one.kv"; }
date=$(python3 -c 'import datetime,sys; print(datetime.datetime.fromtimestamp(int(float(sys.argv[1])), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ"))' "$when")
got="$(v /test/count)|$(v /test/sent)|$(v /test/bytes)|$(v /test/when)|$(v /test/ratio)|$(v /test/gauge)|$(v /test/lat.p50)|$(v /test/lat.max)"
want="1.23M|1.5 KiB|3 MiB|$date|0.0505|-5|5.05 ms|10 ms"
[ "$got" = "$want" ] || diag "-1: $got" "want: $want" "$(cat "$WORK/one.txt")"
ok $([ "$got" = "$want" ]; echo $?) "-1 writes counts, bytes, times, a date and a ratio for people"

# ----------------------------------------------------------- the page
"$EXPORT" --http 127.0.0.1:0 --no-self-metrics units 2>"$WORK/http.err" &
hp=$!
pids="$pids $hp"
url=
wait_until 100 grep -q 'serving http://' "$WORK/http.err" &&
	url=$(grep -o 'http://[^ ]*' "$WORK/http.err" | head -n 1)
url=${url%/}
# the page once its rates are there (two samples)
page_ready() {
	curl -fsS "$url/" >"$WORK/page.html" &&
		[ -n "$(python3 "$DOM" "$WORK/page.html" rate /test/sent)" ]
}
wait_until 300 page_ready || diag "no rate on the page within 30 s"
paths="/test/count /test/sent /test/bytes /test/when /test/ratio /test/gauge"
page=$(for p in $paths; do python3 "$DOM" "$WORK/page.html" text "$p"; done
	for s in mean p50 p99 p999 max; do
		python3 "$DOM" "$WORK/page.html" stat /test/lat "$s"
	done)
one=$(for p in $paths; do v "$p"; done
	for s in mean p50 p99 p999 max; do v "/test/lat.$s"; done)
[ "$page" = "$one" ] || diag "page: $(echo $page)" "-1:   $(echo $one)"
ok $([ "$page" = "$one" ]; echo $?) "the HTML page shows every value and statistic as -1 does"

rates=$(python3 "$DOM" "$WORK/page.html" rate /test/count rate /test/sent rate /test/lat | tr '\n' '|')
ok $([ "$rates" = "0/s|0 B/s|0/s|" ]; echo $?) "the page's rates carry their unit ($rates)"

# what a browser shows after the page refreshed itself: the server's
# strings (the script formats nothing)
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$chromium" ]; then
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$WORK/profile" --dump-dom \
		--virtual-time-budget=5000 "$url/?refresh=1" \
		>"$WORK/browser.html" 2>"$WORK/browser.log"
	shown=$(python3 "$DOM" "$WORK/browser.html" attr body data-refreshed
		for p in $paths; do python3 "$DOM" "$WORK/browser.html" text "$p"; done)
	n=${shown%%$'\n'*}
	[ "${shown#*$'\n'}" = "$(for p in $paths; do v "$p"; done)" ] &&
		[ "${n:-0}" -ge 1 ] 2>/dev/null
	ok $? "after a refresh in Chromium the page still shows -1's strings"
else
	ok 0 "# SKIP chromium is not installed"
fi
stop_writer "$hp"

# ------------------------------------------------------ the live view
TMUX_SOCK=$WORK/tmux.sock
pane=$WORK/pane
tm() { tmux -S "$TMUX_SOCK" "$@"; }
tm -f /dev/null new-session -d -s top -x 200 -y 40 \
	"env SCALES_DIR='$SCALES_DIR' LANG=C.UTF-8 '$TOP' units"
# row NAME: the screen's line of the metric whose last component is NAME
row() { grep -E -- "^ +[^ ]* ?$1 " "$pane" | head -n 1; }
# shows NAME STRING...: that row holds each STRING, in order, as cells
shows() {
	local name=$1 re=""
	shift
	for s in "$@"; do re="$re +${s//./\\.}"; done
	row "$name" | grep -Eq -- "^ +[^ ]* ?$name .*${re# }( |$)"
}
live_ok() {
	tm capture-pane -p -t top >"$pane" 2>/dev/null &&
		shows count "$(v /test/count)" 0/s &&
		shows sent "$(v /test/sent)" "0 B/s" &&
		shows bytes "$(v /test/bytes)" && shows when "$(v /test/when)" &&
		shows ratio "$(v /test/ratio)" && shows gauge "$(v /test/gauge)" &&
		shows lat "$(v /test/lat.mean)" "$(v /test/lat.p50)" \
			"$(v /test/lat.p99)" "$(v /test/lat.p999)" \
			"$(v /test/lat.max)"
}
wait_until 300 live_ok
st=$?
[ $st -eq 0 ] || diag "the live view:" "$(cat "$pane")"
ok $st "the live view shows every value, statistic and rate as -1 and the page do"
tm kill-server 2>/dev/null

# the same value, a tenth of a second apart, is not a new string: the
# formatter is deterministic (one table: test/reader/test_human.c)
"$TOP" -1 units >"$WORK/one2.txt" 2>&1
# (but for the header's uptime)
cmp -s <(grep -v '^==' "$WORK/one.txt") <(grep -v '^==' "$WORK/one2.txt")
ok $? "-1 twice: the same text"

finish 6
