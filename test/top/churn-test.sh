#!/bin/bash
# SPDX-License-Identifier: MIT
# churn-test.sh: scales-top -1, scales-top -1 --json and scales-export
# --once over writers that start, crash (SIGKILL: the segment stays, dead)
# and exit cleanly (the segment goes) while the tools read them (issue 17
# item 2: processes starting and dying during a pass cost no error). The
# writers are bench/crowd.c's. Prints TAP.

. "$(dirname "$0")/lib.sh"

CROWD=${TOP_CROWD:?TOP_CROWD is not set}
EXPORT=${SCALES_EXPORT:?SCALES_EXPORT is not set}
PASSES=6

plan 7

# the crowd runs until its standard input ends: a FIFO held open on fd 3
mkfifo "$WORK/in"
"$CROWD" --churn --counters 40 --histograms 10 20 <"$WORK/in" \
	>"$WORK/crowd.log" 2>&1 &
crowd=$!
pids="$pids $crowd"
exec 3>"$WORK/in"
wait_until 600 grep -q '^ready 20$' "$WORK/crowd.log"
ok $? "20 writers ready, churning"

out=$WORK/out
err=$WORK/err
# pass NAME COMMAND...: runs COMMAND PASSES times; every run must exit 0
# with nothing on stderr; CHECK (if set) must accept each output.
pass() {
	local name=$1 bad=0
	shift
	for ((i = 0; i < PASSES; i++)); do
		"$@" >"$out" 2>"$err"
		local rc=$?
		if [ "$rc" -ne 0 ] || [ -s "$err" ]; then
			diag "$name, pass $i: exit $rc, stderr:" "$(head -5 "$err")"
			bad=1
		elif [ -n "${CHECK:-}" ] && ! $CHECK; then
			diag "$name, pass $i: bad output:" "$(head -c 300 "$out")"
			bad=1
		fi
		cp "$out" "$WORK/out.$name.$i"
	done
	ok $bad "$name: $PASSES passes during the churn, no error"
}

json_ok() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["processes"]:
    assert p["app"] == "crowd", p["app"]
    for path, m in p["metrics"].items():
        assert path.startswith("/crowd/"), path
        if m["kind"] == "histogram":
            assert m["count"] >= 0
' "$out"
}

CHECK=json_ok pass "scales-top -1 --json" "$TOP" -1 --json
CHECK= pass "scales-top -1" "$TOP" -1
CHECK= pass "scales-export --once" "$EXPORT" --once --stdout -p t

# the churn was real: the passes saw more processes than were alive at once
python3 -c '
import glob, json, sys
pids = set()
for f in glob.glob(sys.argv[1] + "/out.scales-top -1 --json.*"):
    for p in json.load(open(f))["processes"]:
        pids.add(p["pid"])
sys.exit(0 if len(pids) > 20 else 1)
' "$WORK"
ok $? "the passes saw processes come and go"

# dead segments were left behind (SIGKILL) and shown, not an error
ls "$SCALES_DIR" | grep -q '\.seg$'
ok $? "segments present after the passes"

exec 3>&-
wait "$crowd"
ok $? "every writer ended cleanly"
pids=
finish 7
