#!/bin/bash
# SPDX-License-Identifier: MIT
# scales-export --textfile PATH (issue 14 item 5): the /metrics text for
# node_exporter's textfile collector, written atomically every period.
#  - --once: the file holds the seed tour's values; promtool check metrics
#    finds nothing to say (skipped without promtool);
#  - a reader that reads it over and over while it is rewritten (a 10,000
#    counter writer, period 1) never sees a partial file;
#  - write errors (a missing directory, a directory in the way, a
#    read-only directory unless root) are reported once with the path and
#    the reason, counted in /export/textfile_errors, and never stop the
#    other outputs; the file is written again once the directory exists.
# TAP. Needs $SCALES_EXPORT, $SEED_TOUR and $EXACT_WRITER.
set -u
X=${SCALES_EXPORT:?}
ST=${SEED_TOUR:?}
EW=${EXACT_WRITER:?}
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/export-textfile.XXXXXX")
export SCALES_DIR=$T/segs
mkdir -p "$SCALES_DIR"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	chmod -R u+w "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# wait_grep FILE REGEX: until FILE has a matching line (60 s: a watchdog
# for a hang, not a timing assertion)
wait_grep() {
	for _ in $(seq 600); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

echo "1..10"

"$ST" >"$T/tour.out" 2>&1 &
pids+=($!)
wait_grep "$T/tour.out" ready || { echo "Bail out! seed-tour did not start"; exit 1; }

# ------------------------------------------------------------- --once
"$X" --once --textfile "$T/tour.prom" seed-tour 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -qE '^scales_web_errors_total\{app="seed-tour"\} 7$' "$T/tour.prom" &&
	grep -q '^# TYPE scales_web_errors_total counter$' "$T/tour.prom"; then
	ok "--once --textfile writes the /metrics text of the seed tour"
else
	nok "--once --textfile: exit $rc" "$(cat "$T/err")" "$(head -5 "$T/tour.prom" 2>/dev/null)"
fi
if [ -z "$(ls -A "$T" | grep -v -e '^segs$' -e '^tour' -e '^err$')" ]; then
	ok "no temporary file is left beside it"
else
	nok "files left: $(ls -A "$T")"
fi
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <"$T/tour.prom" 2>&1); then
		ok "promtool check metrics: clean"
	else
		nok "promtool check metrics" "$out"
	fi
else
	skip "promtool check metrics" "promtool is not installed"
fi

# ------------------------------------------ read while it is rewritten
"$EW" 10000 >"$T/many.out" 2>&1 &
pids+=($!)
wait_grep "$T/many.out" ready || { echo "Bail out! exact-writer did not start"; exit 1; }
"$X" --period 1 --textfile "$T/many.prom" --no-self-metrics exact 2>"$T/loop.err" &
loop=$!
pids+=($loop)
# reads until it has seen 5 versions (inodes: each rewrite is a rename),
# at most 120 s; each read must be the whole text: every one of the
# 10,000 counters, and the last family's sample at the end
$PY - "$T/many.prom" <<'EOF' >"$T/reads" 2>&1
import os, re, sys, time
path = sys.argv[1]
seen, reads, bad = set(), 0, []
deadline = time.monotonic() + 120
while len(seen) < 5 and time.monotonic() < deadline:
    try:
        with open(path, "rb") as f:
            ino = os.fstat(f.fileno()).st_ino
            data = f.read()
    except FileNotFoundError:
        continue
    reads += 1
    seen.add(ino)
    many = len(re.findall(rb"^scales_many_c\d+_total\{", data, re.M))
    last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    if not data.endswith(b"\n") or many != 10000 or \
            not last.startswith(b"scales__refused_registrations{"):
        bad.append("read %d: %d bytes, %d counters, ends %r" %
                   (reads, len(data), many, data[-60:]))
print(len(seen), reads, len(bad))
for b in bad[:5]:
    print(b)
EOF
read -r versions reads nbad <"$T/reads"
if [ "${versions:-0}" -ge 5 ] && [ "${nbad:-1}" -eq 0 ]; then
	ok "$reads reads during $versions rewrites: every one the whole text"
else
	nok "partial reads or too few rewrites" "$(cat "$T/reads")" "$(cat "$T/loop.err")"
fi
if command -v promtool >/dev/null; then
	if out=$(promtool check metrics <"$T/many.prom" 2>&1); then
		ok "promtool check metrics on the large file: clean"
	else
		nok "promtool check metrics (large)" "$(head -5 <<<"$out")"
	fi
else
	skip "promtool check metrics (large)" "promtool is not installed"
fi
kill -TERM $loop
wait $loop 2>/dev/null

# ----------------------------------------------------------- errors
# a directory that does not exist yet: reported once, counted, and the
# other outputs (--stdout) go on; once it exists, the file is written
"$X" --period 1 --stdout --prefix s --textfile "$T/later/x.prom" seed-tour \
	>"$T/err-loop.out" 2>"$T/err-loop.err" &
eloop=$!
pids+=($eloop)
if wait_grep "$T/err-loop.err" "textfile $T/later/x.prom: cannot create a temporary file: No such file or directory" &&
	wait_grep "$T/err-loop.out" '^s\.seed-tour\.web\.errors 7 '; then
	ok "a missing directory: a clear message, and --stdout goes on"
else
	nok "missing directory" "$(cat "$T/err-loop.err")" "$(head -3 "$T/err-loop.out")"
fi
# its own metrics count the failed writes
"$X" --once --stdout --prefix m scales-export >"$T/self" 2>/dev/null
if grep -qE '^m\.scales-export\.export\.textfile_errors [1-9][0-9]* ' "$T/self"; then
	ok "failed writes counted in /export/textfile_errors ($(awk '$1 ~ /textfile_errors$/ { print $2 }' "$T/self"))"
else
	nok "no textfile_errors count" "$(grep -i textfile "$T/self")"
fi
mkdir "$T/later"
if wait_grep "$T/err-loop.err" "textfile $T/later/x.prom: written again" &&
	[ -s "$T/later/x.prom" ] &&
	[ "$(grep -c 'cannot create a temporary file' "$T/err-loop.err")" -eq 1 ]; then
	ok "reported once, then written again once the directory exists"
else
	nok "recovery" "$(cat "$T/err-loop.err")"
fi
kill -TERM $eloop
wait $eloop 2>/dev/null

# a directory where the file should be: --once fails (status 1) with the
# reason, and --stdout still printed every line
mkdir "$T/adir"
"$X" --once --stdout --prefix s --textfile "$T/adir" seed-tour >"$T/dir.out" 2>"$T/dir.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "textfile $T/adir: cannot write: Is a directory" "$T/dir.err" &&
	grep -qE '^s\.seed-tour\.web\.errors 7 ' "$T/dir.out" && [ -z "$(ls -A "$T/adir")" ]; then
	ok "a directory in the way: exit 1, the reason, --stdout intact, no temporary file left"
else
	nok "directory in the way: exit $rc" "$(cat "$T/dir.err")"
fi

# a read-only directory (root writes anyway)
mkdir "$T/ro"
chmod 555 "$T/ro"
if [ "$(id -u)" -eq 0 ]; then
	skip "a read-only directory" "running as root"
else
	"$X" --once --textfile "$T/ro/x.prom" seed-tour 2>"$T/ro.err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "cannot create a temporary file: Permission denied" "$T/ro.err"; then
		ok "a read-only directory: exit 1, Permission denied"
	else
		nok "read-only directory: exit $rc" "$(cat "$T/ro.err")"
	fi
fi
