#!/bin/bash
# SPDX-License-Identifier: MIT
# test/http/chromium.sh: a real headless Chromium (Debian package chromium)
# loads the stats page of a running seed tour and of the script-tag writer
# from scales-http on loopback. Nothing is fetched from anywhere else: the
# page has no external assets, and Chromium runs with a fresh profile and
# its background networking off. Checks the DOM after the page's scripts
# ran (--dump-dom): the seed tour's values in data-value, hostile strings
# shown as text with no script run, the auto-refresh polling; keeps a
# screenshot (http-page.png in the build directory) as an artifact.

. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

echo "1..29"

chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || bail "chromium not found (Debian package chromium)"

# browse NAME URL [FLAGS...]: a fresh profile each time; stdout in
# $tmp/NAME.dom, stderr (with the console log) in $tmp/NAME.log
browse() {
	local name=$1 url=$2
	shift 2
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --disable-quic \
		--disable-default-apps --disable-extensions \
		--no-default-browser-check --mute-audio \
		--enable-logging=stderr --v=0 \
		--user-data-dir="$tmp/profile-$name" "$@" "$url" \
		>"$tmp/$name.dom" 2>"$tmp/$name.log"
}

dom() { python3 "$here/dom.py" "$@"; }

# until_ok COMMAND...: until COMMAND succeeds, at most 60 s (a deadline
# for a hung sampler, not a timing assertion; the checks after it fail)
until_ok() {
	local end=$((SECONDS + 60))
	until "$@" 2>/dev/null; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
# points URL SERIES: the data-points of the first chart series SERIES
points() {
	curl -sS "$1" | grep -o "data-series=\"$2\" data-points=\"[0-9]*\"" |
		head -n 1 | tr -dc 0-9
}

start_seed_tour seed
start_writer xss "$SCALES_XSS_WRITER"
start_server srv
u=$srv_url

# 1-3: the page, its values
browse page "$u/" --dump-dom
rc=$?
check "chromium --dump-dom of / exits 0 (exit $rc)" test "$rc" = 0
v=$(dom "$tmp/page.dom" value /web/errors value /web/success | tr '\n' ' ')
check "data-path=/web/errors has data-value 7, /web/success 1000 ($v)" \
	test "$v" = "7 1000 "
v=$(dom "$tmp/page.dom" value /processor/thread-1/finished value /processor/finished value /processor/state/waitingForTask text /web/success | tr '\n' ' ')
check "thread-1 finished 20, processor finished 60, 2 waiting; success shown as 1000 ($v)" \
	test "$v" = "20 60 2 1000 "

# 4-8: hostile strings are text, and no script of theirs ran
v=$(dom "$tmp/page.dom" title)
check "the title is still the page's own ($v)" test "$v" = "scales /"
v=$(dom "$tmp/page.dom" count pwned count img attr body data-pwned | tr '\n' ' ')
check "no <pwned> element, no <img>, no body mark ($v)" test "$v" = "0 0  "
v=$(dom "$tmp/page.dom" text /evil/state)
check "the state value shows as text: $v" test "$v" = "<script>alert(1)</script>"
v=$(dom "$tmp/page.dom" text /evil/title value /evil/title | tr '\n' '|')
check "the other state shows as text, and as data-value ($v)" \
	test "$v" = "<script>document.title='pwned'</script>|<script>document.title='pwned'</script>|"
v=$(dom "$tmp/page.dom" help /evil/state help /evil/quote | tr '\n' '|')
check "the help texts show as text ($v)" \
	test "$v" = "<script>document.body.appendChild(document.createElement('pwned'))</script>|\"><img src=x onerror=\"document.title='pwned-img'\">|"

# 9-10: auto-refresh (?refresh=1 turns it on): the page fetches itself
# again and shows the server's strings (its script formats nothing). Virtual time lets the timers
# run without waiting for them.
before=$(curl -sS "$u/evil/ticks?format=json" | jq_ - 'm("/evil/ticks")["value"]')
browse refresh "$u/?refresh=1" --dump-dom --virtual-time-budget=10000
v=$(dom "$tmp/refresh.dom" attr body data-refreshed status | tr '\n' '|')
check "auto-refresh polled and updated the page ($v)" \
	bash -c '[[ "$1" =~ ^[1-9][0-9]*\|updated ]]' _ "$v"
v=$(dom "$tmp/refresh.dom" value /web/errors text /web/success value /evil/ticks | tr '\n' ' ')
# (the ticks counter may or may not have moved on: no timing assumption)
check "after polling: /web/errors 7, success shown 1000, /evil/ticks >= $before ($v)" \
	bash -c 'b=$2; set -- $1; [ "$1 $2" = "7 1000" ] && [ "$3" -ge "$b" ]' _ "$v" "$before"

# 11: nothing went wrong in the page's own script, and no Content
# Security Policy violation (an injected script would cause one)
if grep -Eq 'Uncaught|CONSOLE.*([Ee]rror|Refused|violates)' "$tmp/page.log" "$tmp/refresh.log"; then
	not_ok "no error or CSP violation in the console"
	diag "$(grep -hE 'CONSOLE|Uncaught' "$tmp/page.log" "$tmp/refresh.log")"
else
	ok "no error or CSP violation in the console"
fi

# 12-13: a screenshot, kept
shot=${SCALES_HTTP_ARTIFACTS:-$tmp}/http-page.png
rm -f "$shot"
browse shot "$u/" --screenshot="$shot" --window-size=1280,1800 \
	--hide-scrollbars
check "chromium --screenshot exits 0" test -s "$shot"
check "the screenshot is a PNG ($shot)" \
	bash -c '[ "$(head -c 8 "$1" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]' _ "$shot"

# 14-18: a metric's own page has a large time chart (issue 15 item 4):
# axes, labels in the unit, the last hour at the sampling interval (1 s
# here: 3600 slots), as many points drawn as samples with a value. Waits
# (with a deadline, not a timing assertion) for 3 samples of the rate.
ticks_ready() { [ "$(points "$u/evil/ticks" rate)" -ge 3 ]; }
until_ok ticks_ready ||
	diag "no 3 samples of /evil/ticks within 60 s"
browse chart "$u/evil/ticks" --dump-dom
v=$(dom "$tmp/chart.dom" chart time data-cap chart time data-interval-ms | tr '\n' ' ')
check "/evil/ticks has a time chart of 3600 slots of 1000 ms ($v)" \
	test "$v" = "3600 1000 "
v=$(dom "$tmp/chart.dom" drawn time rate chart time data-samples | tr '\n' ' ')
check "the rate series draws as many points as it declares, >= 3, <= samples ($v)" \
	bash -c 'set -- $1; [ "$1" = "$2" ] && [ "$1" -ge 3 ] && [ "$1" -le "$3" ]' _ "$v"
v=$(dom "$tmp/chart.dom" labels time)
diag "chart labels: $v"
check "the chart is titled and its y axis says events per second" \
	bash -c '[[ "$1" == "rate over the last 1 h|"* && "$1" == *"|events per second|"* ]]' _ "$v"
check "the y ticks are rates (/s) from 0, the x ticks run to now" \
	bash -c '[[ "$1" == *"|0/s|"* && "$1" == *"|-1 h|"* && "$1" == *"|now|"* && "$1" == *"time (one sample every 1 s)"* ]]' _ "$v"
v=$(dom "$tmp/page.dom" count svg chart time data-cap | tr '\n' ' ')
check "the tree page (/) has no large chart ($v)" \
	bash -c '[[ "$1" == *" <missing> " ]]' _ "$v"

# 19-25: a histogram's page: the distribution (the buckets as bars, p50
# and p99 marked) and the per-interval quantiles over time. The demo
# server, driven by demo-load, records latencies all the time.
demo=${SCALES_BUILD_ROOT:-}/examples
[ -x "$demo/demo-server" ] || bail "examples/demo-server is not built"
start_writer demo "$demo/demo-server" -p 0
port=$(sed -n 's/^listening //p' "$tmp/demo.out")
"$demo/demo-load" -p "$port" -c 1 -r 200 >"$tmp/load.out" 2>&1 &
started+=("$!")
lat=/endpoint/search/latency
lat_ready() { [ "$(points "$u$lat" p50)" -ge 3 ]; }
until_ok lat_ready ||
	diag "no 3 samples of $lat within 60 s"
# the page as the browser shows it, once its quantile lines have 3 points
# (a wait of at most 60 s, not a speed check)
hist_ready() {
	browse hist "$u$lat" --dump-dom
	dom "$tmp/hist.dom" drawn time p50 drawn time p99 drawn time p99.9 |
		awk '$1 < 3 || $2 < 3 { bad = 1 } END { exit bad || NR != 3 }'
}
until_ok hist_ready || diag "the browser saw fewer than 3 quantile points within 60 s"
v=$(dom "$tmp/hist.dom" chart dist data-bars bars dist chart dist data-count | tr '\n' ' ')
check "the distribution has its 48 bars, their counts add up to its count ($v)" \
	bash -c 'set -- $1; [ "$1 $2" = "48 48" ] && [ "$3" = "$4" ] && [ "$3" -gt 0 ]' _ "$v"
v=$(dom "$tmp/hist.dom" labels dist)
diag "distribution labels: $v"
check "its title gives the count, its x axis is in seconds (log scale)" \
	bash -c 'c=$2; [[ "$1" == "distribution of the $c values recorded since the start (log scale)|"* && "$1" == *"|values per bar|"* && "$1" == *"|seconds (log scale)|"* && "$1" =~ [0-9]\ (ms|µs)\| ]]' _ "$v" \
	"$(dom "$tmp/hist.dom" chart dist data-count)"
v=$(dom "$tmp/hist.dom" marks dist stat $lat p50 stat $lat p99 | tr '\n' '|')
check "p50 and p99 are marked with the values the row shows ($v)" \
	bash -c 'IFS="|" read -r m1 m2 a b <<<"$1"; [ "$m1" = "p50 $a" ] && [ "$m2" = "p99 $b" ] && [ -n "$a" ]' _ "$v"
v=$(dom "$tmp/hist.dom" drawn time p50 drawn time p99 drawn time p99.9 | tr '\n' ' ')
check "the quantile lines p50, p99, p99.9 draw what they declare, >= 3 each ($v)" \
	bash -c 'set -- $1; [ "$1" = "$2" ] && [ "$3" = "$4" ] && [ "$5" = "$6" ] && [ "$1" -ge 3 ] && [ "$3" -ge 3 ] && [ "$5" -ge 3 ]' _ "$v"
v=$(dom "$tmp/hist.dom" labels time)
check "the quantile chart is titled, in seconds, with a legend" \
	bash -c '[[ "$1" == "quantiles of each interval over the last 1 h|"* && "$1" == *"|seconds|"* && "$1" == *"|p50|p99|p99.9" ]]' _ "$v"
if grep -Eq 'Uncaught|CONSOLE.*([Ee]rror|Refused|violates)' "$tmp/chart.log" "$tmp/hist.log"; then
	not_ok "no error or CSP violation on the charts' pages"
	diag "$(grep -hE 'CONSOLE|Uncaught' "$tmp/chart.log" "$tmp/hist.log")"
else
	ok "no error or CSP violation on the charts' pages"
fi
shot=${SCALES_HTTP_ARTIFACTS:-$tmp}/http-histogram.png
rm -f "$shot"
browse histshot "$u$lat" --screenshot="$shot" --window-size=1280,1100 \
	--hide-scrollbars
check "a screenshot of the histogram's page ($shot)" \
	bash -c '[ "$(head -c 8 "$1" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]' _ "$shot"

# 26-29: a writer that died (SIGKILL: its segment stays) is listed under
# "Dead processes" with its last values, not among the live ones.
SCALES_APP=gone start_writer gone "$SCALES_NAMES_WRITER"
kill -KILL "$gone_pid"
wait "$gone_pid" 2>/dev/null
dead_listed() { curl -sS "$u/" | grep -q 'class="dead-process" data-app="gone"'; }
until_ok dead_listed || diag "the dead writer is not listed within 60 s"
browse dead "$u/" --dump-dom
v=$(dom "$tmp/dead.dom" section dead-process gone section process gone | tr '\n' ' ')
check "the dead writer (pid $gone_pid) is a dead process, not a live one ($v)" \
	test "$v" = "$gone_pid <missing> "
v=$(dom "$tmp/dead.dom" within dead-process gone /x_y within dead-process gone /fooBar within dead-process gone /HTTPRequests/inFlight | tr '\n' ' ')
check "its last values: /x_y 1, /fooBar 3, /HTTPRequests/inFlight 5 ($v)" \
	test "$v" = "1 3 5 "
v=$(grep -o '<h2>Dead processes <span class="pid">[0-9]*</span>' "$tmp/dead.dom")
check "the page has a Dead processes heading with their number ($v)" \
	test "$v" = '<h2>Dead processes <span class="pid">1</span>'
if grep -Eq 'Uncaught|CONSOLE.*([Ee]rror|Refused|violates)' "$tmp/dead.log"; then
	not_ok "no error or CSP violation on the page with dead processes"
	diag "$(grep -hE 'CONSOLE|Uncaught' "$tmp/dead.log")"
else
	ok "no error or CSP violation on the page with dead processes"
fi

exit $((tap_failed > 0))
