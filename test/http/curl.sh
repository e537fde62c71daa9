#!/bin/bash
# SPDX-License-Identifier: MIT
# test/http/curl.sh: status codes, content types, headers and documents of
# the HTTP side (scales-http, and scales-export --http where built), with
# curl, against a running seed tour and the script-tag writer.

. "$(dirname "$0")/lib.sh"

echo "1..37"

start_seed_tour seed
start_writer xss "$SCALES_XSS_WRITER"
start_server srv
u=$srv_url
diag "serving $u, segments in $SCALES_DIR"

html='text/html; charset=utf-8'
json='application/json'

# 1-4: the page
st=$(fetch "$u/")
check "GET / is 200 (got $st)" test "$st" = 200
check "GET / is $html ($(header content-type))" \
	test "$(header content-type)" = "$html"
check "GET / has a data-path=/web/errors element with data-value 7" \
	grep -q 'data-path="/web/errors" data-kind="counter" data-unit="" data-value="7"' "$tmp/body"
csp=$(header content-security-policy)
check "GET / sends a CSP with a script nonce, and nosniff" \
	bash -c '[[ "$1" == *"script-src '"'"'nonce-"* && "$2" == nosniff ]]' _ \
	"$csp" "$(header x-content-type-options)"

# 5-7: JSON
st=$(fetch "$u/?format=json")
check "?format=json is 200 $json ($st, $(header content-type))" \
	test "$st $(header content-type)" = "200 $json"
check "?format=json: seed-tour /web/errors = 7, /web/success = 1000" \
	test "$(jq_ "$tmp/body" '[m("/web/errors", "seed-tour")["value"], m("/web/success", "seed-tour")["value"]]')" = "[7,1000]"
check "?format=json: histogram /handler/latency count 100, p50 within 2% of 0.05" \
	test "$(jq_ "$tmp/body" 'm("/handler/latency", "seed-tour")["count"] == 100 and abs(m("/handler/latency", "seed-tour")["p50"] - 0.05) <= 0.001')" = true

# 8: pretty JSON
st=$(fetch "$u/web?format=prettyjson")
check "?format=prettyjson is 200 $json, indented, valid" \
	bash -c '[ "$1" = "200 application/json" ] && [ "$(wc -l <"$2")" -gt 10 ] && "$3" -e "$2" "m(\"/web/errors\")[\"value\"] == 7" >/dev/null' _ \
	"$st $(header content-type)" "$tmp/body" "$jsonq"

# 9-10: subtrees
fetch "$u/web" >/dev/null
check "/web shows /web/errors and nothing outside /web" \
	bash -c 'grep -q "data-path=\"/web/errors\"" "$1" && ! grep -q "data-path=\"/handler" "$1"' _ "$tmp/body"
fetch "$u/web/errors?format=json" >/dev/null
check "/web/errors?format=json holds that metric only" \
	test "$(jq_ "$tmp/body" keys)" = '["/web/errors"]'

# 11-13: unknown paths
st=$(fetch "$u/no/such/path")
check "unknown path is 404 $html ($st, $(header content-type))" \
	test "$st $(header content-type)" = "404 $html"
st=$(fetch "$u/no/such/path?format=json")
check "unknown path with ?format=json is 404 $json with an error" \
	bash -c '[ "$1" = "404 application/json" ] && "$3" -e "$2" "\"404\" in d[\"error\"]" >/dev/null' _ \
	"$st $(header content-type)" "$tmp/body" "$jsonq"
st=$(fetch "$u/we")
check "a prefix that is not a whole component (/we) is 404 ($st)" test "$st" = 404

# 14-15: /metrics
st=$(fetch "$u/metrics")
check "/metrics is 200 text/plain; version=0.0.4 ($st, $(header content-type))" \
	test "$st $(header content-type)" = "200 text/plain; version=0.0.4; charset=utf-8"
check "/metrics has scales_web_errors_total{app=\"seed-tour\"} 7" \
	grep -qx 'scales_web_errors_total{app="seed-tour"} 7' "$tmp/body"

# 16-18: methods and formats
st=$(fetch "$u/?format=bogus")
check "?format=bogus is 400 ($st)" test "$st" = 400
# a NUL in the path would cut it short ("/web%00x" is not "/web")
st=$(fetch "$u/web%00x")
check "/web%00x is 400, not the /web subtree ($st)" test "$st" = 400
st=$(fetch "$u/web%00x?format=json")
check "/web%00x?format=json is 400 with a JSON error ($st)" \
	bash -c '[ "$1" = 400 ] && python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$2"' _ "$st" "$tmp/body"
st=$(fetch "$u/" -X POST -d x=1)
check "POST is 405 with Allow: GET, HEAD ($st, $(header allow))" \
	test "$st|$(header allow)" = "405|GET, HEAD"
st=$(curl -sS --max-time 30 -I -o /dev/null -D "$tmp/headers" \
	-w '%{http_code} %{size_download}' "$u/")
check "HEAD / is 200 $html with no body ($st, $(header content-type))" \
	test "$st $(header content-type)" = "200 0 $html"

# 19-21: queries
fetch "$u/?format=json&query=%2Fweb%2F*" >/dev/null
check "?query=/web/* keeps /web/* only" \
	test "$(jq_ "$tmp/body" keys)" = '["/web/currentTime","/web/errors","/web/success"]'
fetch "$u/?format=json&query=errors" >/dev/null
check "?query=errors (a word) matches /web/errors only" \
	test "$(jq_ "$tmp/body" keys)" = '["/web/errors"]'
fetch "$u/?query=%2Fweb%2F*" >/dev/null
check "the filter box shows the query, escaped" \
	grep -q 'name="query" id="query" value="/web/\*"' "$tmp/body"

# 22: history
st=$(fetch "$u/web/errors?format=history")
check "?format=history is 200 $json with a series for /web/errors" \
	bash -c '[ "$1" = "200 application/json" ] && "$3" -e "$2" "len(P[0][\"series\"][\"/web/errors\"]) >= 1" >/dev/null' _ \
	"$st $(header content-type)" "$tmp/body" "$jsonq"

# 23-26: hostile strings
fetch "$u/evil" >/dev/null
check "HTML: the state value shows as escaped text" \
	grep -q '>&lt;script&gt;alert(1)&lt;/script&gt;</td>' "$tmp/body"
check "HTML: no segment string lands as markup (<script>alert, <img, <pwned)" \
	bash -c '! grep -Eq "<script>alert|<img|<pwned|<b>bold" "$1"' _ "$tmp/body"
check "HTML: the help text's quote is an entity inside its element" \
	grep -q '&quot;&gt;&lt;img src=x onerror=&quot;document.title=&#39;pwned-img&#39;&quot;&gt;' "$tmp/body"
fetch "$u/evil/state?format=json" >/dev/null
check "JSON: the state value and help round-trip exactly" \
	test "$(jq_ -r "$tmp/body" 'm("/evil/state")["value"] + "|" + m("/evil/state")["help"]')" = "<script>alert(1)</script>|<script>document.body.appendChild(document.createElement('pwned'))</script>"

# 27-28: path spelling
fetch "$u/%77eb/errors?format=json" >/dev/null
check "a percent-encoded path (/%77eb/errors) is decoded" \
	test "$(jq_ "$tmp/body" keys)" = '["/web/errors"]'
st=$(fetch "$u/web/?format=json")
check "a trailing slash (/web/) is the same subtree ($st)" \
	test "$(jq_ "$tmp/body" 'len(keys)')" = 3

# 29: keep-alive (libmicrohttpd answers on the second callback)
conns=$(curl -sS --max-time 30 -o /dev/null -o /dev/null -w '%{num_connects} ' "$u/metrics" "$u/?format=json")
check "two requests share one connection (connects: $conns)" test "$conns" = "1 0 "

# 30-31: loopback only unless asked
"$SCALES_HTTP" --http 0.0.0.0:0 >"$tmp/remote.out" 2>"$tmp/remote.err"
rc=$?
check "--http 0.0.0.0:0 is refused (exit $rc: $(cat "$tmp/remote.err"))" \
	bash -c '[ "$1" = 2 ] && grep -q "not a loopback address" "$2"' _ "$rc" "$tmp/remote.err"
start_server remote --http 0.0.0.0:0 --allow-remote
port=${remote_url##*:}
st=$(fetch "http://127.0.0.1:$port/metrics")
check "--http 0.0.0.0:0 --allow-remote serves ($st)" test "$st" = 200
stop_pid "$remote_pid"

# 32-33: two processes of one app: merged by default, or per process
mkdir -p "$tmp/two"
SCALES_DIR=$tmp/two start_seed_tour seed2a
SCALES_DIR=$tmp/two start_seed_tour seed2b
start_server merged -d "$tmp/two"
fetch "$merged_url/web/errors?format=json" >/dev/null
check "merged: one seed-tour entry, pid 0, pids of both, /web/errors 14" \
	test "$(jq_ "$tmp/body" '[x for p in P for x in (p["pid"], len(p["pids"]), p["metrics"]["/web/errors"]["value"])]')" = "[0,2,14]"
start_server perproc -d "$tmp/two" --per-process
fetch "$perproc_url/web/errors?format=json" >/dev/null
check "--per-process: two entries with their own pids, 7 each" \
	test "$(jq_ "$tmp/body" "[[p['metrics']['/web/errors']['value'] for p in P], sorted(p['pid'] for p in P) == sorted([$seed2a_pid, $seed2b_pid])]")" = "[[7,7],true]"

# 34: a copy of a live segment under another name is not a second process
cp "$(ls "$tmp/two"/seed-tour.*.seg | head -n 1)" "$tmp/two/copy.1.1.seg"
start_server withcopy -d "$tmp/two"
fetch "$withcopy_url/web/errors?format=json" >/dev/null
check "a copied segment (copy.1.1.seg) is left out: still 14 from 2 pids" \
	test "$(jq_ "$tmp/body" '[x for p in P for x in (p["app"], len(p["pids"]), p["metrics"]["/web/errors"]["value"])]')" = '["seed-tour",2,14]'

# 35: the real scales-export --http
if [ -x "${SCALES_EXPORT:-}" ]; then
	"$SCALES_EXPORT" --http 127.0.0.1:0 >"$tmp/export.out" 2>"$tmp/export.err" &
	epid=$!
	started+=("$epid")
	if wait_for "$tmp/export.err" 'serving http://' "$epid" 60; then
		eu=$(sed -n 's/.*serving \(http:[^ ]*\)\/$/\1/p' "$tmp/export.err" | head -n 1)
		fetch "$eu/web/errors?format=json" >/dev/null
		check "scales-export --http serves /web/errors = 7 ($eu)" \
			test "$(jq_ "$tmp/body" '[p["metrics"]["/web/errors"]["value"] for p in P][0]')" = 7
	else
		not_ok "scales-export --http did not start: $(cat "$tmp/export.err")"
	fi
	stop_pid "$epid"
else
	skip "scales-export --http" "scales-export is not built"
fi

exit $((tap_failed > 0))
