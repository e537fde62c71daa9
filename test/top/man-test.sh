#!/bin/bash
# SPDX-License-Identifier: MIT
# man-test.sh: scales-top.1 and --help against the one option and key table
# (tools/scales-top/options.h, printed by top-optdump): every option and key
# of the table is documented, nothing else is, hidden options are not, and
# the man page renders without groff warnings. Prints TAP.
set -u

TOP=${SCALES_TOP:?}
DUMP=${TOP_OPTDUMP:?}
MAN=${TOP_MAN:?}

echo "1..6"
n=0
result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

"$DUMP" >"$work/table"
"$TOP" --help >"$work/help"
have_groff=0
if command -v groff >/dev/null; then
	have_groff=1
	# plain text, no overstriking
	groff -man -Tascii -P-c -P-b -P-u -rLL=200n "$MAN" 2>"$work/groff-warn" |
		sed 's/\x1b\[[0-9;]*m//g' >"$work/man"
	groff -man -ww -z "$MAN" 2>>"$work/groff-warn"
fi

# check.py SECTION-SOURCE KIND: compares the table with a document.
cat >"$work/check.py" <<'PY'
import re, sys
table, doc, what = sys.argv[1], sys.argv[2], sys.argv[3]
opts, hidden, keys = set(), set(), []
for line in open(table):
    f = line.split()
    if f[0] == "option":
        name = ("-%s, " % f[1] if f[1] != "-" else "") + "--" + f[2]
        (hidden if f[3] == "1" else opts).add(name)
    else:
        keys.append(line.split(None, 1)[1].strip())
text = open(doc).read()
bad = []
if what in ("man-options", "help-options"):
    if what == "man-options":
        sec = text.split("\nOPTIONS\n", 1)[1].split("\nKEYS\n", 1)[0]
    else:
        sec = text.split("Options:\n", 1)[1].split("\nKeys", 1)[0]
    found = set()
    for l in sec.splitlines():
        m = re.match(r"^\s+((?:-\w, )?--[\w-]+)(?: [A-Z]+)?(?:\s{2,}|$)", l)
        if m:
            found.add(m.group(1))
    bad += ["missing: " + o for o in sorted(opts - found)]
    bad += ["not in the table: " + o for o in sorted(found - opts)]
    bad += ["hidden but shown: " + h for h in sorted(hidden)
            if "--" + h.split("--")[1] in text]
else:
    if what == "man-keys":
        sec = text.split("\nKEYS\n", 1)[1].split("\nEXIT STATUS\n", 1)[0]
    else:
        sec = text.split("Keys (live mode):\n", 1)[1].split("\n\n", 1)[0]
    found = []
    for l in sec.splitlines():
        m = re.match(r"^\s+(\S+(?:, \S+)*)(?:\s{2,}|$)", l)
        if m and (what == "help-keys" or len(l) - len(l.lstrip()) <= 8):
            found.append(m.group(1))
    bad += ["missing key: " + k for k in keys if k not in found]
    bad += ["key not in the table: " + k for k in found if k not in keys]
for b in bad:
    print("# " + b)
sys.exit(1 if bad else 0)
PY

python3 "$work/check.py" "$work/table" "$work/help" help-options
result $? "--help lists every option of the table, and only those"
python3 "$work/check.py" "$work/table" "$work/help" help-keys
result $? "--help lists every key of the table, and only those"
if [ $have_groff = 1 ]; then
	python3 "$work/check.py" "$work/table" "$work/man" man-options
	result $? "scales-top.1 documents every option of the table, and only those"
	python3 "$work/check.py" "$work/table" "$work/man" man-keys
	result $? "scales-top.1 documents every key of the table, and only those"
	[ ! -s "$work/groff-warn" ]
	result $? "scales-top.1 renders without groff warnings"
	sed 's/^/# /' "$work/groff-warn"
else
	for t in options keys warnings; do
		n=$((n + 1))
		echo "ok $n - scales-top.1 $t # SKIP no groff"
	done
fi
grep -q "^\.TH SCALES-TOP 1 .*scales $("$TOP" --version | awk '{print $2}')" "$MAN"
result $? "scales-top.1 names the version scales-top prints"
