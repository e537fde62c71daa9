#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Extracts the Python reader from docs/format.md (between the BEGIN and END
# markers), runs it on a segment written by format-writer, and checks the
# values and the worked bucket example of the document; then computes every
# value from the document's rules (the same reader's --json) and compares
# it with `scales-top -j`, exactly, on the seed tour and on a segment with
# every kind, aggregates and retired-and-reused entries. Prints TAP.
set -u
usage="usage: format-doc-test.sh FORMAT-WRITER FORMAT.MD SCALES-TOP SEED-TOUR COMPARE-JSON.PY"
writer=${1:?$usage}
doc=${2:?$usage}
top=${3:?$usage}
seed=${4:?$usage}
compare=${5:?$usage}
py=/usr/bin/python3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
fails=0
result() { # result OK NAME [DIAGNOSTIC...]
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
		shift 2
		printf '# %s\n' "$@"
	fi
}

echo "1..8"
sed -n '/^<!-- BEGIN read_segment.py -->$/,/^<!-- END read_segment.py -->$/p' \
	"$doc" | sed '1,2d;$d' | sed '$d' >"$tmp/read_segment.py"
lines=$(wc -l <"$tmp/read_segment.py")
[ "$lines" -gt 50 ] && "$py" -m py_compile "$tmp/read_segment.py" 2>"$tmp/err"
result $? "the reader is extracted from docs/format.md ($lines lines)" \
	"$(cat "$tmp/err" 2>/dev/null)"

mkdir "$tmp/seg" && chmod 700 "$tmp/seg"
seg=$("$writer" "$tmp/seg" 2>"$tmp/err")
[ -f "$seg" ]
result $? "libscales wrote a segment" "$(cat "$tmp/err")"

"$py" "$tmp/read_segment.py" "$seg" >"$tmp/out" 2>"$tmp/err"
result $? "the reader parses it" "$(cat "$tmp/err")"

sed 1d "$tmp/out" >"$tmp/metrics"
cat >"$tmp/want" <<'WANT'
/handler/latency count 100 p50 0.049807359 max 0.1
/web/errors counter 7
/web/inflight gauge -3
/web/load gauge_f64 0.25
/web/success counter 1000
/worker/state state waitingForTask
WANT
cmp -s "$tmp/want" "$tmp/metrics"
result $? "values as written (retired entry hidden)" \
	"want:" "$(cat "$tmp/want")" "got:" "$(cat "$tmp/out")"

# Section 9's worked example, and the inverse of every index of the
# default layout against the forward map.
PYTHONPATH=$tmp "$py" - >"$tmp/err" 2>&1 <<'PY'
from read_segment import bucket_range
assert bucket_range(687, 5, 0) == (49283072, 1 << 20), bucket_range(687, 5, 0)
def index(v, s, u, nb):
    w = v >> u
    msb = (w | 1).bit_length() - 1
    shift = msb - s if msb > s else 0
    return min((shift << s) + (w >> shift), nb - 1)
assert index(50000000, 5, 0, 1152) == 687
assert index((1 << 40) - 1, 5, 0, 1 << 20) + 1 == 1152
for s, u in ((5, 0), (7, 3), (10, 32)):
    for b in range(0, 40 << s):
        lo, width = bucket_range(b, s, u)
        assert index(lo, s, u, 1 << 30) == b, (s, u, b)
        assert index(lo + width - 1, s, u, 1 << 30) == b, (s, u, b)
PY
result $? "bucket math of section 9" "$(cat "$tmp/err")"

"$py" - "$seg" >"$tmp/err" 2>&1 <<'PY'
import os, struct, sys
b = open(sys.argv[1], 'rb').read(344)
magic, major, minor, hsize, order, word, esize, nstripes = \
    struct.unpack_from('<8sHHIBBHI', b, 0)
assert (magic, major, hsize, order, word, esize) == \
    (b'SCALESHM', 1, 344, 1, 8, 384), (magic, major, hsize, order, word, esize)
flags, = struct.unpack_from('<I', b, 28)
assert flags & 2, 'SCALES_SHM_F_CLOSED after a kept close'
capacity, dir_offset = struct.unpack_from('<QQ', b, 112)
assert capacity == os.stat(sys.argv[1]).st_size
assert dir_offset == 4096
PY
result $? "header fields of section 4" "$(cat "$tmp/err")"

# Every value of every kind, from the document's rules alone, against
# scales-top -j: a segment with every kind and aggregate (kept, its writer
# gone) ...
mkdir "$tmp/full" && chmod 700 "$tmp/full"
# The writer keeps its scopes (and so their aggregate declarations) to the
# end of its life on purpose, since the segment outlives it: releasing them
# would retire the aggregates this check reads. Under the ASan rerun that
# is a leak by design, of this one test program, so leak checking is off
# for it alone.
full=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	"$writer" "$tmp/full" full 2>"$tmp/err") &&
	"$py" "$tmp/read_segment.py" --json "$full" >"$tmp/full-py.json" \
		2>>"$tmp/err" &&
	"$top" -j "$full" >"$tmp/full-top.json" 2>>"$tmp/err" &&
	"$py" "$compare" "$tmp/full-py.json" "$tmp/full-top.json" \
		>"$tmp/diff" 2>>"$tmp/err"
result $? "every kind, aggregates, retired and reused entries: the document's values are scales-top's" \
	"$(cat "$tmp/err" "$tmp/diff")"

# ... and the seed tour, alive, stopped while both read it (its sampler
# thread would move /web/currentTime between the two reads).
mkdir "$tmp/seed" && chmod 700 "$tmp/seed"
SCALES_DIR=$tmp/seed "$seed" >"$tmp/seed.out" 2>"$tmp/seed.err" &
spid=$!
for _ in $(seq 1 100); do
	grep -q ready "$tmp/seed.out" 2>/dev/null && break
	sleep 0.1
done
kill -STOP "$spid"
sseg=$(ls "$tmp/seed/"*.seg 2>/dev/null | head -1)
[ -n "$sseg" ] &&
	"$py" "$tmp/read_segment.py" --json "$sseg" >"$tmp/seed-py.json" \
		2>"$tmp/err" &&
	"$top" -j "$sseg" >"$tmp/seed-top.json" 2>>"$tmp/err" &&
	"$py" "$compare" "$tmp/seed-py.json" "$tmp/seed-top.json" \
		>"$tmp/diff" 2>>"$tmp/err"
rc=$?
kill -CONT "$spid"
kill -TERM "$spid"
wait "$spid"
result $rc "the seed tour: the document's values are scales-top's" \
	"$(cat "$tmp/seed.err" "$tmp/err" "$tmp/diff" 2>/dev/null)"

[ "$fails" = 0 ]
