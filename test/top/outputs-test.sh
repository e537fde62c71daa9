#!/bin/bash
# SPDX-License-Identifier: MIT
# outputs-test.sh: one collector, the same numbers in every output (issue
# 12 item 4; issue 13 items 10, 11 and 13). Two real writers of one app
# whose histograms differ in sub-buckets and resolution, plus a cp of one
# segment under another pid's name: scales-top -j -m, scales-export
# --stdout, its --json-file and /metrics give the same merged statistics
# and count the copied writer once. A process of another user (run as
# nobody; skipped unless root) is not merged into ours and carries its
# uid. A writer's refused registrations are shown in every output.

. "$(dirname "$0")/lib.sh"

EXPORT=${SCALES_EXPORT:?SCALES_EXPORT is not set}
PY=${PYTHON:-python3}
plan 7

start_writer w1 "$WRITER" --app shapes --count 3 || w1=0
start_writer w2 "$WRITER" --app shapes --count 4 --shape 7,3,1e-6 --refuse 2 ||
	w2=0
seg1=$(segment_of "$w1")
copy="$SCALES_DIR/shapes.$((w1 + 100000)).$(basename "$seg1" | cut -d. -f3).seg"
cp --sparse=always "$seg1" "$copy"

"$TOP" -j -m shapes >"$WORK/top.json" 2>"$WORK/top.err"
"$EXPORT" --once --stdout --prefix t --json-file "$WORK/exp.json" shapes \
	>"$WORK/exp.txt" 2>"$WORK/exp.err"

# /metrics, if scales-export serves HTTP and curl is here
metrics=
if command -v curl >/dev/null &&
	"$EXPORT" --help 2>&1 | grep -q -- '--http'; then
	"$EXPORT" --http 127.0.0.1:0 --no-self-metrics shapes \
		2>"$WORK/http.err" &
	hp=$!
	pids="$pids $hp"
	if wait_until 100 grep -q 'serving http://' "$WORK/http.err"; then
		url=$(grep -o 'http://[^ ]*' "$WORK/http.err" | head -n 1)
		sleep 1.5 # a sample or two
		curl -fsS "${url%/}/metrics" >"$WORK/metrics.txt" && metrics=1
	fi
	stop_writer "$hp"
fi

# compare.py: the merged /test/lat and /test/count of every output
cat >"$WORK/compare.py" <<'PY'
import json, re, sys
work, metrics = sys.argv[1], sys.argv[2] == "1"
keys = ["count", "sum", "min", "max", "mean", "stddev",
        "p50", "p75", "p95", "p98", "p99", "p999"]
def of_json(path):
    procs = json.load(open(path))["processes"]
    assert len(procs) == 1, [p["pid"] for p in procs]
    m = procs[0]["metrics"]
    return ({k: m["/test/lat"][k] for k in keys}, m["/test/count"]["value"],
            procs[0])
top, topc, tp = of_json(work + "/top.json")
exp, expc, ep = of_json(work + "/exp.json")
g = {}
for line in open(work + "/exp.txt"):
    name, v, _ = line.split()
    g[name] = float(v)
gr = {k: g["t.shapes.test.lat." + k] for k in keys}
out = {"top": top, "json-file": exp, "graphite": gr}
if metrics:
    text = open(work + "/metrics.txt").read()
    def prom(name):
        return float(re.search(r'^%s\{app="shapes"\} (\S+)$' % name,
                               text, re.M).group(1))
    out["/metrics"] = {"count": prom("scales_test_lat_seconds_count"),
                       "sum": prom("scales_test_lat_seconds_sum")}
    assert prom("scales_test_count_total") == 7, "metrics count"
    assert prom("scales__refused_registrations") == 2, "metrics refused"
for name, d in out.items():
    for k, v in d.items():
        assert float(v) == float(top[k]), (name, k, v, top[k])
assert top["count"] == 20, top["count"]
assert topc == expc == g["t.shapes.test._count"] == 7, (topc, expc)
assert tp["refused"] == ep["refused"] == 2, (tp["refused"], ep["refused"])
PY
check "two shapes merged: the same statistics in -j -m, --stdout, --json-file${metrics:+ and /metrics}" \
	$PY "$WORK/compare.py" "$WORK" "${metrics:-0}"
check "the copied segment is skipped with a reason by both tools" \
	grep -q "$(basename "$copy"): its header names shapes pid $w1 .*a copy, skipped" "$WORK/top.err"
check "... and by scales-export" \
	grep -q "$(basename "$copy"): its header names shapes pid $w1 .*a copy, skipped" "$WORK/exp.err"
"$TOP" -l shapes >"$WORK/list.txt" 2>/dev/null
check "-l shows the refused count (2) and the owner" \
	grep -Eq "^shapes +$w2 +alive +[0-9.]+ (s|min|h) +[0-9]+ +2 +$(id -u) " "$WORK/list.txt"
"$TOP" -1 -m shapes >"$WORK/one.txt" 2>/dev/null
check "-1 shows the refused count" \
	grep -Eq "^== shapes merged: .*, uid $(id -u), 2 refused$" "$WORK/one.txt"

# ------------------------------------------------------- another owner
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
	! id nobody >/dev/null 2>&1; then
	echo "ok $((tap_n += 1)) - another user's app is not merged # SKIP not root (needs setpriv to nobody)"
	echo "ok $((tap_n += 1)) - ... # SKIP not root"
else
	nob=$(id -u nobody)
	chmod 711 "$WORK"
	odir="$WORK/other"
	mkdir -m 0700 "$odir" && chown nobody "$odir"
	start_writer wo env SCALES_DIR="$odir" setpriv --reuid=nobody \
		--regid="$(id -g nobody)" --clear-groups \
		"$WRITER" --app shapes --count 100 || wo=0
	oseg=$(ls "$odir"/shapes.*.seg | head -n 1)
	"$EXPORT" --once --stdout --prefix t shapes "$oseg" >"$WORK/own.txt" 2>&1
	"$TOP" -j -m shapes "$oseg" >"$WORK/own.json" 2>/dev/null
	"$EXPORT" --once --stdout --prefix t --all-owners shapes "$oseg" \
		>"$WORK/all.txt" 2>&1
	grep -q "^t.shapes.test._count 7 " "$WORK/own.txt" &&
		grep -q "^t.shapes@$nob.test._count 100 " "$WORK/own.txt" &&
		grep -q "^t.shapes.test._count 107 " "$WORK/all.txt"
	ok $? "another user's app is not merged into ours (7, and 100 as shapes@$nob) unless --all-owners (107)"
	check "... and in scales-top -j -m, each with its uid" \
		$PY -c '
import json, sys
p = json.load(open(sys.argv[1]))["processes"]
v = sorted((x["uid"], x["metrics"]["/test/count"]["value"]) for x in p)
assert v == [(0, 7), (int(sys.argv[2]), 100)], v' "$WORK/own.json" "$nob"
	stop_writer "$wo"
fi
finish 7
