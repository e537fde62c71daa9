#!/bin/bash
# SPDX-License-Identifier: MIT
# The OPTIONS section of scales-export.1 must be exactly what the option
# table generates (scales-export --help-man), and --help must list every
# option the man page documents. TAP.
set -u
exe=$1 man=$2
echo "1..3"
want=$("$exe" --help-man)
have=$(awk '/^\.\\" BEGIN OPTIONS/ { on = 1; next } /^\.\\" END OPTIONS/ { on = 0 } on' "$man")
if [ "$want" = "$have" ]; then
	echo "ok 1 - man page OPTIONS section matches the option table"
else
	echo "not ok 1 - man page OPTIONS section is out of date (run tools/scales-export/update-man.sh)"
	diff <(echo "$want") <(echo "$have") | sed 's/^/# /'
fi
help=$("$exe" --help)
missing=
for o in $(grep -o '\\fB\\-\\-[a-z-]*' "$man" | sed 's/\\fB\\-\\-//; s/\\-/-/g' | sort -u); do
	grep -q -- "--$o" <<<"$help" || missing="$missing $o"
done
if [ -z "$missing" ]; then
	echo "ok 2 - --help lists every option of the man page"
else
	echo "not ok 2 - --help lacks:$missing"
fi
if man -l "$man" >/dev/null 2>&1 || ! command -v man >/dev/null; then
	echo "ok 3 - the man page renders"
else
	echo "not ok 3 - man -l $man failed"
fi
