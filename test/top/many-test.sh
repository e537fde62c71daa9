#!/bin/bash
# SPDX-License-Identifier: MIT
# many-test.sh: scales-top -1 --json over many processes holds one of them
# at a time (issue 17.2). 120 writers of bench/crowd.c's (80 counters and
# 20 default histograms each, 9 KB of buckets a histogram in a snapshot:
# some 30 MB if every snapshot were held to the end, plus the document)
# are read with the private memory limited to 16 MiB (RLIMIT_DATA, which
# the shared segment mappings do not count): the pass must exit 0 with
# the whole document. Also -1 --merge --json under the same limit.
# Prints TAP.

. "$(dirname "$0")/lib.sh"

CROWD=${TOP_CROWD:?TOP_CROWD is not set}
N=120
LIMIT_KIB=16384

# Under AddressSanitizer the limit cannot apply (its shadow memory and
# allocator regions count as data, and it fails to start within 16 MiB):
# the sanitizer rerun checks the documents, the plain run the memory.
within="within $LIMIT_KIB KiB of private memory"
if ldd "$TOP" 2>/dev/null | grep -q libasan; then
	within="(ASan: no memory limit)"
fi
limit_data() {
	case $within in
	'(ASan'*) "$@" ;;
	*) (ulimit -d $LIMIT_KIB && exec "$@") ;;
	esac
}

plan 4

mkfifo "$WORK/in"
"$CROWD" $N <"$WORK/in" >"$WORK/crowd.log" 2>&1 &
crowd=$!
pids="$pids $crowd"
exec 3>"$WORK/in"
wait_until 600 grep -q "^ready $N\$" "$WORK/crowd.log"
ok $? "$N writers ready"

# count MODE: the processes (or merged groups) of the document and their
# metrics, "P M"
count() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(len(d["processes"]), sum(len(p["metrics"]) for p in d["processes"]))
' "$WORK/out"
}

limit_data "$TOP" -1 --json >"$WORK/out" 2>"$WORK/err"
rc=$?
got=$(count 2>/dev/null)
[ $rc -eq 0 ] && [ ! -s "$WORK/err" ] && [ "${got%% *}" = $N ] &&
	[ "${got##* }" -ge $((N * 100)) ]
st=$?
[ $st -eq 0 ] || diag "exit $rc, got '$got', stderr:" "$(head -3 "$WORK/err")"
ok $st "-1 --json over $N processes $within"

limit_data "$TOP" -1 --merge --json >"$WORK/out" 2>"$WORK/err"
rc=$?
got=$(count 2>/dev/null)
[ $rc -eq 0 ] && [ ! -s "$WORK/err" ] && [ "${got%% *}" = 1 ]
st=$?
[ $st -eq 0 ] || diag "exit $rc, got '$got', stderr:" "$(head -3 "$WORK/err")"
ok $st "-1 --merge --json over $N processes $within"

exec 3>&-
wait "$crowd"
ok $? "every writer ended cleanly"
pids=
finish 4
