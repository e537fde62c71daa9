#!/bin/bash
# SPDX-License-Identifier: MIT
# oneshot-test.sh: scales-top's non-interactive modes against real writers
# (examples/seed-tour and test/top/top-writer): text (-1), JSON (-j), -f,
# -l, pid/app/path selectors, exit codes (0, 1, 2), --merge, -1 -i (rates
# and meters), dead writers and --gc. Prints TAP.

. "$(dirname "$0")/lib.sh"

plan 57

out=$WORK/out
err=$WORK/err

# run ARGS...: runs scales-top, stdout in $out, stderr in $err, status in rc.
run() {
	"$TOP" "$@" >"$out" 2>"$err"
	rc=$?
}

# json PYTHON-EXPR: evaluates EXPR with d = the JSON in $out; passes if true.
json() {
	python3 -c '
import json, math, sys
d = json.load(open(sys.argv[1]))
procs = d["processes"]
def metric(path, p=0):
    return procs[p]["metrics"][path]
def near(a, b, rel=0.02):
    return abs(a - b) <= rel * abs(b)
ok = eval("(" + sys.argv[2] + "\n)")
if not ok:
    print("# failed: " + sys.argv[2])
sys.exit(0 if ok else 1)
' "$out" "$1"
}

# has REGEX: $out has a line matching the extended REGEX.
has() { grep -Eq -- "$1" "$out"; }

# ------------------------------------------------------------ usage
run --help
[ $rc -eq 0 ] && has '--json' && has '-1, --once' && has '--merge' &&
	has '--gc' && ! has '--refreshes'
ok $? "--help lists the options (not the hidden one), exit 0"

version=$(sed -n 's/^#define SCALES_VERSION_STRING "\(.*\)"/\1/p' \
	"$SCALES_SOURCE_ROOT/writer/include/scales/scales.h")
run --version
[ $rc -eq 0 ] && [ -n "$version" ] && has "^scales-top $version( |$)"
ok $? "--version prints the SCALES version ($version)"

run --bogus
[ $rc -eq 2 ] && [ "$(wc -l <"$err")" -le 2 ] && grep -q bogus "$err"
ok $? "an unknown option: exit 2 with the reason"

run -1 -i soon
[ $rc -eq 2 ] && grep -q "bad interval" "$err"
ok $? "a bad interval: exit 2"

run -1 -l
ok $([ $rc -eq 2 ]; echo $?) "-1 with -l: exit 2"

# ------------------------------------------------------ nothing there
run -1
[ $rc -eq 1 ] && [ "$(cat "$err")" = "scales-top: no process matched" ]
ok $? "-1 with no process: exit 1 and one line that says so"
run -j
[ $rc -eq 1 ] && json 'procs == []'
ok $? "-j with no process: {\"processes\": []} and exit 1"
run -l
ok $([ $rc -eq 1 ]; echo $?) "-l with no process: exit 1"

# ---------------------------------------------------------- seed tour
if [ -z "$SEED" ] || ! start_writer seed "$SEED"; then
	diag "no seed-tour: using top-writer only"
	seed=
fi

run -1
[ $rc -eq 0 ] && has '^/web/errors +7$' && has '^/web/success +1000$' &&
	has '^/handler/requests +100$' && has '^/processor/finished +60$' &&
	has '^/processor/thread-1/finished +20$' &&
	has '^/processor/state/waitingForTask +2$' &&
	has '^/processor/state/performingTask +1$' &&
	has '^/processor/thread-2/state +performingTask$' &&
	has '^/handler/latency +count=100 .*max=(98|99|100|101|102)\.?[0-9]* ms .*p50=(49|50|51)\.[0-9]+ ms' &&
	has "^== seed-tour pid $seed alive"
ok $? "-1 prints the seed tour's values"

run -j
[ $rc -eq 0 ] && json '
len(procs) == 1 and procs[0]["pid"] == '"${seed:-0}"' and procs[0]["alive"] is True
and procs[0]["app"] == "seed-tour"
and metric("/web/errors")["value"] == 7 and metric("/web/errors")["kind"] == "counter"
and metric("/web/success")["value"] == 1000
and metric("/processor/finished")["value"] == 60
and metric("/processor/state/waitingForTask")["value"] == 2
and metric("/processor/state/performingTask")["value"] == 1
and metric("/handler/latency")["count"] == 100
and metric("/handler/latency")["unit"] == "seconds"
and near(metric("/handler/latency")["p50"], 0.050)
and near(metric("/handler/latency")["max"], 0.100)
and near(metric("/handler/latency")["mean"], 0.0505)
and all(k in metric("/handler/latency") for k in
        ["sum","min","stddev","p75","p95","p98","p99","p999"])
and metric("/web/errors")["rate"] is None and metric("/web/errors")["m1"] is None
and metric("/web/errors")["m15"] is None
and metric("/web/currentTime")["value"] > 1e9'
ok $? "-j: the seed tour's values, rates null in one shot"

run --json -f '/web/*'
[ $rc -eq 0 ] && json 'sorted(procs[0]["metrics"]) ==
	["/web/currentTime", "/web/errors", "/web/success"]'
ok $? "-f /web/* keeps only /web"

run -1 -f '/web/errors' -f '*/thread-0/*'
[ $rc -eq 0 ] && has '^/web/errors +7$' &&
	has '^/processor/thread-0/finished +10$' && ! has '^/web/success' &&
	! has '^/handler'
ok $? "-f twice: the union of the globs"

run -1 -v
[ $rc -eq 0 ] && has '^/web/errors +7  requests that failed$' &&
	has '^/handler/latency +count=100 .* p999=[0-9.]+ ms  time to handle a request$' &&
	has '^/web/currentTime +20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z  wall-clock time$' &&
	has '^/processor/state/performingTask +1$' &&
	"$TOP" -1 | grep -Eq '^/web/errors +7$'
ok $? "-1 -v: each metric's help text at the end of its line (as varnishstat -1)"

run -1 -f '/nothing/*'
[ $rc -eq 1 ] && [ "$(cat "$err")" = "scales-top: no metric matched: -f /nothing/*" ]
ok $? "-f matching nothing: exit 1 and one line that says so"

# ------------------------------------------------- a second app, selectors
start_writer alpha "$WRITER" --app alpha --count 42 || alpha=0

run -l
[ $rc -eq 0 ] &&
	has "^alpha +$alpha +alive +[0-9.]+ (s|min) +[0-9]+ +0 +$(id -u) +[0-9.]+ [KMG]iB +$SCALES_DIR/alpha\.$alpha\.[0-9]+\.seg$" &&
	has "^seed-tour +$seed +alive +[0-9.]+ (s|min) +1[0-9] +0 +[0-9]+ +[0-9.]+ [KMG]iB "
ok $? "-l lists app, pid, alive, uptime, metrics, refused, owner and segment size"

# SIZE is what the sparse file occupies (du: st_blocks), not its st_size;
# METRICS is what -1 (and the live tree) shows, aggregates included
seed_seg=$(segment_of "$seed")
seed_shown=$("$TOP" -1 "$seed" | grep -vc '^==')
python3 - "$out" "$seed" "$seed_seg" "$seed_shown" <<'PY'
import os, re, sys
out, pid, seg, shown = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
st = os.stat(seg)
resident, apparent = st.st_blocks * 512, st.st_size
line = [l for l in open(out) if re.match(r"^seed-tour +%s " % pid, l)][0]
# APP PID STATE UPTIME ("12 s") METRICS REFUSED UID SIZE ("280 KiB")
m = re.match(r"^\S+ +\d+ +\S+ +[0-9.]+ \S+ +(\d+) +\d+ +\d+ +([0-9.]+) (B|KiB|MiB|GiB) ", line)
metrics = int(m.group(1))
mult = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}[m.group(3)]
got = float(m.group(2)) * mult
ok = abs(got - resident) <= resident * 0.006 and metrics == shown
ok = ok and (apparent < 2 * resident or abs(got - apparent) > apparent / 2)
if not ok:
    print("# %s: resident %d, st_size %d, -1 shows %d" %
          (line.strip(), resident, apparent, shown))
sys.exit(0 if ok else 1)
PY
ok $? "-l: SIZE is the resident size (du), METRICS what -1 shows"

run -1 "$alpha"
[ $rc -eq 0 ] && has '^/test/count +42$' && ! has '^/web/errors' &&
	[ "$(grep -c '^==' "$out")" -eq 1 ]
ok $? "a pid selector shows that process only"

run -1 alpha
[ $rc -eq 0 ] && has '^/test/count +42$' && ! has '^/web/errors'
ok $? "an app selector shows that app only"

run -j seed-tour alpha
[ $rc -eq 0 ] && json 'len(procs) == 2 and procs[0]["app"] == "alpha"
	and procs[1]["app"] == "seed-tour"'
ok $? "two app selectors: both, sorted by app"

run -1 999999999
ok $([ $rc -eq 1 ]; echo $?) "a pid with no segment: exit 1"

run -1 no-such-app
[ $rc -eq 1 ] && [ "$(cat "$err")" = "scales-top: no process matched: no-such-app" ]
ok $? "an app with no segment: exit 1 and one line that says so"

run -j -f '/test/*' alpha
[ $rc -eq 0 ] && json '
metric("/test/count")["value"] == 42 and metric("/test/count")["help"] == "how many times"
and metric("/test/gauge")["value"] == -5 and metric("/test/gauge")["kind"] == "gauge"
and metric("/test/bytes")["unit"] == "bytes" and metric("/test/bytes")["value"] == 3145728
and metric("/test/state")["value"] == "idle" and metric("/test/state")["kind"] == "state"
and metric("/test/lat")["count"] == 10 and near(metric("/test/lat")["max"], 0.010)'
ok $? "-j: each kind (counter, gauge, bytes, state, histogram)"

# paths: the file itself, a copy elsewhere, hostile files
alpha_seg=$(segment_of "$alpha")
run -1 "$alpha_seg"
[ $rc -eq 0 ] && has '^/test/count +42$' && ! has '^/web/'
ok $? "a path selector: that segment file"

mkdir "$WORK/copies"
cp --sparse=always "$alpha_seg" "$WORK/copies/"
copy="$WORK/copies/$(basename "$alpha_seg")"
run -j "$copy"
[ $rc -eq 0 ] && json 'len(procs) == 1 and metric("/test/count")["value"] == 42
	and procs[0]["segment"].startswith("'"$WORK/copies/"'")'
ok $? "a copied segment elsewhere is read by path"

cp --sparse=always "$alpha_seg" "$WORK/copies/renamed-copy"
run -1 "$WORK/copies/renamed-copy"
[ $rc -eq 0 ] && has '^/test/count +42$'
ok $? "a copied segment under any name is read by path"

ln -s "$alpha_seg" "$WORK/copies/link.seg"
run -1 "$WORK/copies/link.seg"
[ $rc -eq 2 ] && [ "$(wc -l <"$err")" -eq 1 ] && grep -q 'link.seg' "$err" &&
	[ ! -s "$out" ]
ok $? "a symlink named on the command line: exit 2, one line on stderr"

head -c 100000 /dev/urandom >"$WORK/copies/garbage.1.2.seg"
run -j "$WORK/copies/garbage.1.2.seg"
[ $rc -eq 2 ] && [ "$(wc -l <"$err")" -eq 1 ] && grep -q 'garbage' "$err"
ok $? "a garbage file named on the command line: exit 2, one line"

: >"$WORK/copies/empty.1.2.seg"
run -1 "$WORK/copies/empty.1.2.seg"
ok $([ $rc -eq 2 ] && [ "$(wc -l <"$err")" -eq 1 ]; echo $?) \
	"an empty file: exit 2"

head -c 4096 "$alpha_seg" >"$WORK/copies/truncated.1.2.seg"
run -1 "$WORK/copies/truncated.1.2.seg"
ok $([ $rc -eq 2 ]; echo $?) "a truncated segment: exit 2"

run -1 "$WORK/copies/missing.1.2.seg"
ok $([ $rc -eq 2 ] && [ "$(wc -l <"$err")" -eq 1 ]; echo $?) \
	"a missing file: exit 2"

chmod 000 "$copy"
if [ "$(id -u)" -ne 0 ]; then
	run -1 "$copy"
	ok $([ $rc -eq 2 ]; echo $?) "an unreadable file: exit 2"
else
	echo "ok $((tap_n += 1)) - an unreadable file: exit 2 # SKIP root reads anything"
fi
chmod 600 "$copy"

# junk in the segment directory: skipped with a message, the rest shown
cp "$WORK/copies/garbage.1.2.seg" "$SCALES_DIR/junk.7.7.seg"
ln -s "$alpha_seg" "$SCALES_DIR/planted.8.8.seg"
mkdir "$SCALES_DIR/adir.9.9.seg"
echo hi >"$SCALES_DIR/notes.txt"
run -1
[ $rc -eq 0 ] && has '^/test/count +42$' && has '^/web/errors +7$' &&
	grep -q 'junk.7.7.seg' "$err" && grep -q 'planted.8.8.seg' "$err"
ok $? "junk in the directory is skipped with a warning"
run -l
[ $rc -eq 0 ] && has "^alpha +$alpha +alive" && ! has 'planted' &&
	! has 'junk' && grep -q 'junk.7.7.seg' "$err"
ok $? "-l lists the real processes, skips junk with a warning (a symlink is not followed)"
# only a file named: the directory is read all the same, for its junk
run -1 "$alpha_seg"
[ $rc -eq 0 ] && has '^/test/count +42$' && grep -q 'planted.8.8.seg' "$err"
ok $? "a file named alone: shown, and the directory's symlink reported"
# hostile names: a newline and an escape sequence never reach the terminal
touch "$SCALES_DIR/nl$(printf '\nx').1.1.seg" "$SCALES_DIR/esc$(printf '\033')[2J.1.1.seg"
cp "$WORK/copies/garbage.1.2.seg" "$SCALES_DIR/bad$(printf '\033')]0;x$(printf '\007').3.3.seg"
run -l
lines_ok=$(grep -cv '^scales-top: warning: ' "$err")
[ $rc -eq 0 ] && [ "$lines_ok" -eq 0 ] && [ "$(wc -l <"$err")" -ge 3 ] &&
	! LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')" "$err" "$out" &&
	grep -q 'esc\\x1b\[2J' "$err"
ok $? "hostile file names are escaped: one printable warning line each"
rm -f "$SCALES_DIR"/nl*.seg "$SCALES_DIR"/esc*.seg "$SCALES_DIR"/bad*.seg
rm -rf "$SCALES_DIR/junk.7.7.seg" "$SCALES_DIR/planted.8.8.seg" \
	"$SCALES_DIR/adir.9.9.seg" "$SCALES_DIR/notes.txt"

run -1 -d "$WORK/no-such-dir" "$alpha_seg"
[ $rc -eq 2 ] && grep -q 'no-such-dir' "$err"
ok $? "a file named alone, -d a missing directory: exit 2, the directory named"
run -1 -d "$WORK/copies" "$alpha"
[ $rc -eq 0 ] && has "^== alpha pid $alpha .*$WORK/copies/" &&
	has '^/test/count +42$'
ok $? "-d DIR reads another directory"

run -1 -d "$WORK/no-such-dir"
ok $([ $rc -eq 2 ]; echo $?) "-d with a missing directory: exit 2"

# ----------------------------------------------------------------- merge
if [ -n "$seed" ] && start_writer seed2 "$SEED"; then
	run -j seed-tour
	[ $rc -eq 0 ] && json 'len(procs) == 2'
	ok $? "two seed tours without --merge: two processes"

	run -j --merge seed-tour
	[ $rc -eq 0 ] && json '
len(procs) == 1 and procs[0]["pid"] == 0 and sorted(procs[0]["pids"]) == sorted(['"$seed, $seed2"'])
and metric("/web/errors")["value"] == 14 and metric("/web/success")["value"] == 2000
and metric("/processor/finished")["value"] == 120
and metric("/processor/thread-1/finished")["value"] == 40
and metric("/processor/state/waitingForTask")["value"] == 4
and metric("/handler/latency")["count"] == 200
and near(metric("/handler/latency")["p50"], 0.050)
and near(metric("/handler/latency")["max"], 0.100)'
	ok $? "--merge sums counters, aggregates and histograms of one app"

	run -1 --merge
	[ $rc -eq 0 ] && has "^== seed-tour merged: .*$seed" &&
		has '^/web/errors +14$' && has '^/test/count +42$' &&
		[ "$(grep -c '^==' "$out")" -eq 2 ]
	ok $? "-1 --merge: one merged block per app"
	stop_writer "$seed2"
else
	for i in 1 2 3; do
		echo "ok $((tap_n += 1)) - merge # SKIP no seed-tour"
	done
fi

# two top-writers of one app, merged
start_writer b1 "$WRITER" --app beta --count 3
start_writer b2 "$WRITER" --app beta --count 4
run -j --merge beta
[ $rc -eq 0 ] && json 'len(procs) == 1 and metric("/test/count")["value"] == 7
	and metric("/test/gauge")["value"] == -10 and metric("/test/lat")["count"] == 20
	and metric("/test/state")["value"] == "idle"'
ok $? "--merge: two writer processes of one app summed (3 + 4 = 7)"

# a copy of a live segment under another pid's name: not a process (issue
# 13 item 10): shown once, not summed in, and said why on stderr
b1_seg=$(segment_of "$b1")
copy_seg="$SCALES_DIR/beta.$((b1 + 100000)).$(basename "$b1_seg" | cut -d. -f3).seg"
cp --sparse=always "$b1_seg" "$copy_seg"
run -j --merge beta
[ $rc -eq 0 ] && json 'len(procs) == 1 and metric("/test/count")["value"] == 7
	and sorted(procs[0]["pids"]) == sorted(['"$b1, $b2"'])' &&
	grep -q "skipping $copy_seg: its header names beta pid $b1 .*a copy, skipped" "$err" &&
	[ "$(grep -c 'a copy' "$err")" -eq 1 ]
ok $? "a cp of a live segment is skipped with a reason: -m sums 3 + 4 = 7"
run -l beta
[ $rc -eq 0 ] && [ "$(grep -Ec "^beta +$b1 " "$out")" -eq 1 ] &&
	! grep -q "$(basename "$copy_seg")" "$out"
ok $? "-l shows the writer of a copied segment once"
rm -f "$copy_seg"
stop_writer "$b1"
stop_writer "$b2"

# ------------------------------------------------------------ -1 -i rates
start_writer busy "$WRITER" --app busy --busy
run -j -i 0.5 busy
[ $rc -eq 0 ] && json '
metric("/test/ticks")["rate"] is not None and metric("/test/ticks")["rate"] > 0
and metric("/test/ticks")["m1"] is not None and metric("/test/ticks")["m1"] > 0
and metric("/test/ticks")["m5"] > 0 and metric("/test/ticks")["m15"] > 0
and metric("/test/count")["rate"] == 0 and metric("/test/count")["m1"] == 0
and metric("/test/lat")["rate"] > 0
and metric("/test/gauge")["rate"] is None'
ok $? "-j -i 0.5: rate and meters filled (busy counter > 0, idle counter 0)"

run -1 -i 0.2 -f '/test/ticks' busy
[ $rc -eq 0 ] && has '^/test/ticks +[0-9.]+k? rate=[0-9.]+k?/s m1=[0-9.]+k?/s m5=[0-9.]+k?/s m15=[0-9.]+k?/s$' &&
	! has 'rate=0/s '
ok $? "-1 -i: the text shows rate and meters"

run -1 -f '/test/ticks' busy
[ $rc -eq 0 ] && ! has 'rate='
ok $? "-1 without -i: no rate"
stop_writer "$busy"

# ----------------------------------------------------- dead writers, --gc
start_writer victim "$WRITER" --app victim --count 9
victim_seg=$(segment_of "$victim")
stop_writer "$victim" KILL
run -l
[ $rc -eq 0 ] && has "^victim +$victim +dead +- +[0-9]+ "
ok $? "-l shows a SIGKILLed writer as dead"

run -j victim
[ $rc -eq 0 ] && json 'procs[0]["alive"] is False and metric("/test/count")["value"] == 9'
ok $? "a dead writer's last values are still read"

run -1 "$victim"
[ $rc -eq 0 ] && has "^== victim pid $victim dead" && has '^/test/count +9$'
ok $? "-1 PID of a dead writer: its last values, marked dead"

# a segment whose pid now belongs to another process (pid reused): same
# pid as alpha, another start time, in its header and its name (a file
# whose name is not its header's is a copy, skipped)
alpha_start=$(basename "$alpha_seg" | cut -d. -f3)
reused="$SCALES_DIR/alpha.$alpha.$((alpha_start + 1)).seg"
cp --sparse=always "$alpha_seg" "$reused"
python3 - "$reused" "$((alpha_start + 1))" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    f.seek(32)  # header start_time (docs/format.md)
    f.write(struct.pack("<Q", int(sys.argv[2])))
PY
run -l
[ $rc -eq 0 ] && has "^alpha +$alpha +dead .*alpha\.$alpha\.$((alpha_start + 1))\.seg +\(pid reused\)$" &&
	has "^alpha +$alpha +alive .*alpha\.$alpha\.$alpha_start\.seg"
ok $? "-l shows a segment whose pid was reused as dead"

live_before=$(ls "$SCALES_DIR" | grep -v -e '^victim' -e "^$(basename "$reused")\$" | sort)
run --gc
[ $rc -eq 0 ] && [ ! -e "$victim_seg" ] && [ ! -e "$reused" ] &&
	has "^removed $victim_seg" && has "^removed $reused"
ok $? "--gc removes the dead writer's and the reused pid's segments"

live_after=$(ls "$SCALES_DIR" | sort)
[ -n "$live_before" ] && [ "$live_before" = "$live_after" ] &&
	[ -e "$alpha_seg" ]
ok $? "--gc leaves every live writer's segment"

run -l
[ $rc -eq 0 ] && ! has '^victim' && has "^alpha +$alpha +alive"
ok $? "after --gc, -l no longer lists the dead"

run --gc
[ $rc -eq 0 ] && [ ! -s "$out" ]
ok $? "--gc with nothing stale: nothing removed, exit 0"

[ -n "$seed" ] && stop_writer "$seed"
run -1 seed-tour
ok $([ $rc -eq 1 ]; echo $?) "a writer that exits cleanly removes its segment: exit 1"

# ---------------------------------------- values that are not finite
# (issue 13, item 15) one rule with the live view: inf, -inf, and - for NaN
start_writer infw "$WRITER" --app infw --inf || infw=0
run -1 infw
[ $rc -eq 0 ] && has '^/inf/plus +inf$' && has '^/inf/minus +-inf$' &&
	has '^/inf/secs +-inf$' && has '^/inf/bytes +inf$' &&
	has '^/inf/nan +-$'
ok $? "-1: +Inf is inf, -Inf is -inf, NaN is -, in any unit"

finish 57
