#!/bin/bash
# SPDX-License-Identifier: MIT
# dict-keys-test.sh: a dict key is any UTF-8 string (issue 14, item 7). A
# real top-writer (--keys) counts keys that are no path component, among
# them "Mozilla/5.0 (X11; Linux)", the empty key, "a%41" beside "aA" and a
# key named like a Graphite statistic; its refusals of a key that is not
# UTF-8 and of one too long are checked by the writer itself. Every view
# shows each key as written: scales-top -j ("key"), scales-top -1, the
# Graphite names of scales-export --stdout (in Graphite's own escaping),
# the "key" label of /metrics and the HTML tree. Prints TAP.

. "$(dirname "$0")/lib.sh"

EXPORT=${SCALES_EXPORT:?SCALES_EXPORT is not set}

plan 5

out=$WORK/out
start_writer w "$WRITER" --app ka --keys || exit 1
moz='Mozilla/5.0 (X11; Linux)'

"$TOP" -j ka >"$out" 2>"$WORK/err"
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["processes"][0]["metrics"]
got = {v["key"]: v["value"] for p, v in m.items() if "key" in v}
want = {"Mozilla/5.0 (X11; Linux)": 1, "": 2, "count": 3, "aA": 4,
        "a%41": 5, "\u00e9\u65e5": 6, ".": 7, "tab\there": 8}
print("# got", got)
ok = got == want and m["/keys/ua"]["value"] == 36
# each key is one component of the escaped path below the dict
ok = ok and all(p.startswith("/keys/ua/") and "/" not in p[9:]
                for p, v in m.items() if "key" in v)
sys.exit(0 if ok else 1)
' "$out"
ok $? "scales-top -j: every key as written, with its own count"

"$TOP" -1 ka >"$out" 2>"$WORK/err"
diag "$(grep keys "$out")"
grep -Eq "^/keys/ua/Mozilla/5\.0 \(X11; Linux\) +1\$" "$out" &&
	grep -Eq '^/keys/ua/a%41 +5$' "$out" &&
	grep -Eq '^/keys/ua/tab\\x09here +8$' "$out"
ok $? "scales-top -1: keys as written (controls made printable)"

"$EXPORT" --once --stdout --prefix "" ka >"$out" 2>"$WORK/err"
diag "$(grep keys "$out")"
grep -Eq '^ka\.keys\.ua\.Mozilla%2F5%2E0%20\(X11%3B%20Linux\) 1 ' "$out" &&
	grep -Eq '^ka\.keys\.ua\.%00 2 ' "$out" &&
	grep -Eq '^ka\.keys\.ua\._count 3 ' "$out" &&
	grep -Eq '^ka\.keys\.ua\.aA 4 ' "$out" &&
	grep -Eq '^ka\.keys\.ua\.a%2541 5 ' "$out"
ok $? "scales-export --stdout: Graphite names of the keys as written"

if "$EXPORT" --help | grep -q -- '--http '; then
	"$EXPORT" --http 127.0.0.1:0 ka >/dev/null 2>"$WORK/http.err" &
	epid=$!
	pids="$pids $epid"
	u=
	for _ in $(seq 300); do
		u=$(sed -n 's/.*serving \(http:[^ ]*\)\/$/\1/p' "$WORK/http.err" |
			head -n 1)
		[ -n "$u" ] && break
		sleep 0.1
	done
	curl -sS --max-time 30 "$u/metrics" >"$out" 2>"$WORK/err"
	diag "$(grep '^scales_keys' "$out")"
	grep -Fq "scales_keys_ua_total{app=\"ka\",key=\"$moz\"} 1" "$out" &&
		grep -Fq 'scales_keys_ua_total{app="ka",key=""} 2' "$out" &&
		grep -Fq 'scales_keys_ua_total{app="ka",key="a%41"} 5' "$out" &&
		grep -Fq 'scales_keys_ua_total{app="ka",key="aA"} 4' "$out"
	ok $? "/metrics: the key label holds the key as written"
	curl -sS --max-time 30 "$u/keys/ua" >"$out" 2>"$WORK/err"
	grep -Fq ">$moz</a>" "$out" && grep -Fq '>a%41</a>' "$out"
	ok $? "HTML: the tree names each key as written"
else
	echo "ok $((tap_n += 1)) - /metrics # SKIP built without --http"
	echo "ok $((tap_n += 1)) - HTML # SKIP built without --http"
fi
finish 5
