#!/bin/bash
# SPDX-License-Identifier: MIT
# merge-mode-test.sh: a gauge merges over the processes of an app as its
# writer declares (SCALES_MERGE_MAX, _MIN, _MEAN; none: a sum), in every
# output that merges: scales-top -j -m, scales-export --stdout and
# scales-export --http's /metrics. Two real top-writers, values 7 and 3.
# Prints TAP.

. "$(dirname "$0")/lib.sh"

EXPORT=${SCALES_EXPORT:?SCALES_EXPORT is not set}

plan 4

out=$WORK/out
start_writer a "$WRITER" --app mm --peak 7 || exit 1
start_writer b "$WRITER" --app mm --peak 3 || exit 1

"$TOP" -j -m mm >"$out" 2>"$WORK/err"
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["processes"][0]["metrics"]
got = {k: m[k]["value"] for k in ("/merge/max", "/merge/min",
                                  "/merge/mean", "/merge/sum")}
want = {"/merge/max": 7, "/merge/min": 3, "/merge/mean": 5, "/merge/sum": 10}
print("# got", got)
sys.exit(0 if got == want else 1)
' "$out"
ok $? "scales-top -j -m: max 7, min 3, mean 5, sum 10"

"$EXPORT" --once --stdout --prefix "" mm >"$out" 2>"$WORK/err"
diag "$(grep merge "$out")"
grep -Eq '^mm\.merge\._max 7 ' "$out" && grep -Eq '^mm\.merge\._min 3 ' "$out" &&
	grep -Eq '^mm\.merge\._mean 5 ' "$out" &&
	grep -Eq '^mm\.merge\._sum 10 ' "$out"
ok $? "scales-export --stdout: the same numbers"

if "$EXPORT" --help | grep -q -- '--http '; then
	"$EXPORT" --http 127.0.0.1:0 mm >/dev/null 2>"$WORK/http.err" &
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
	diag "$(grep '^scales_merge' "$out")"
	grep -Eq '^scales_merge_max\{app="mm"\} 7$' "$out" &&
		grep -Eq '^scales_merge_min_seconds\{app="mm"\} 3$' "$out" &&
		grep -Eq '^scales_merge_mean\{app="mm"\} 5$' "$out" &&
		grep -Eq '^scales_merge_sum_value\{app="mm"\} 10$' "$out"
	ok $? "/metrics: the same numbers"
else
	echo "ok $((tap_n += 1)) - /metrics # SKIP built without --http"
fi

stop_writer "$b"
"$TOP" -j -m mm >"$out" 2>"$WORK/err"
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["processes"][0]["metrics"]
sys.exit(0 if m["/merge/max"]["value"] == 7 and
         m["/merge/mean"]["value"] == 7 else 1)
' "$out"
ok $? "one process left: its own values"
[ "$tap_failed" -eq 0 ]
